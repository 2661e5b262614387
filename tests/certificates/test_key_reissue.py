"""認証キーの再発行 (DESIGN.md §6): key_version + 1, so the old key stops verifying at once;
the contractor is told by mail (without the key) and fetches the new notice. Also the other
staff action on a guarantee: marking a 書面交付 certificate printed."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse

from certificates import keys
from certificates import services as registry
from certificates.models import Guarantee, KeyReissue
from tests.conftest import NOW, WORK_DATES, log_in, make_concluded, make_member

pytestmark = pytest.mark.usefixtures("frozen")
KEY_RE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


@pytest.fixture
def guarantee(clerk, tsukumi):
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    return guarantee


@pytest.fixture
def paper(clerk, tsukumi):
    [guarantee] = make_concluded(company=clerk.membership.company, delivery="paper", **WORK_DATES)
    return guarantee


@pytest.fixture
def staff_client(client, staff):
    return log_in(client, staff)


def forms_of(key):
    plain = key.replace("-", "")
    return {key, plain, key.lower(), plain.lower()}


def page_messages(response):
    return [str(m) for m in response.context["messages"]]


def test_reissue_kills_the_old_key_and_makes_a_new_one(
    clerk, staff, guarantee, django_capture_on_commit_callbacks
):
    colleague = make_member(clerk.membership.company)
    old = registry.current_key(guarantee)
    assert keys.verify_key(guarantee.number, 1, old, salt=guarantee.key_salt)

    with django_capture_on_commit_callbacks(execute=True):
        reissued = registry.reissue_key(guarantee=guarantee, by=staff, reason="お知らせの誤送信")

    guarantee.refresh_from_db()
    assert guarantee.key_version == reissued.key_version == 2
    new = registry.current_key(guarantee)
    assert new != old
    assert keys.verify_key(guarantee.number, 2, new, salt=guarantee.key_salt)
    assert not keys.verify_key(guarantee.number, 2, old, salt=guarantee.key_salt)
    record = KeyReissue.objects.get()
    assert (record.guarantee, record.new_version, record.by, record.reason) == (
        guarantee,
        2,
        staff,
        "お知らせの誤送信",
    )

    [message] = mail.outbox
    assert set(message.to) == {clerk.email, colleague.email}
    assert "認証キー再発行のお知らせ" in message.subject
    assert guarantee.number_display in message.subject + message.body
    assert "以前の認証キーは使えなくなりました" in message.body
    text = message.subject + message.body
    assert not any(form in text for form in forms_of(old) | forms_of(new))
    assert not KEY_RE.search(text.upper())

    registry.reissue_key(guarantee=guarantee, by=staff)
    guarantee.refresh_from_db()
    assert guarantee.key_version == 3
    assert not keys.verify_key(guarantee.number, 3, new, salt=guarantee.key_salt)
    assert KeyReissue.objects.count() == 2


def test_a_paper_guarantee_has_no_key_to_reissue(staff, paper, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(registry.KeyNotAvailable),
    ):
        registry.reissue_key(guarantee=paper, by=staff)

    paper.refresh_from_db()
    assert paper.key_version == 0
    assert not KeyReissue.objects.exists()
    assert mail.outbox == []


def test_the_contractor_sees_the_new_key_after_a_reissue(clerk_client, staff, guarantee):
    old = KEY_RE.search(
        clerk_client.post(reverse("certs:show_key", args=[guarantee.number])).content.decode()
    ).group()

    registry.reissue_key(guarantee=guarantee, by=staff)

    shown = KEY_RE.search(
        clerk_client.post(reverse("certs:show_key", args=[guarantee.number])).content.decode()
    ).group()
    assert shown != old
    assert keys.verify_key(guarantee.number, 2, shown, salt=guarantee.key_salt)


# --- Through the admin -----------------------------------------------------------------------


def reissue_url(g):
    return reverse("admin:certificates_guarantee_reissue_key", args=[g.pk])


def printed_url(g):
    return reverse("admin:certificates_guarantee_printed", args=[g.pk])


def change_url(g):
    return reverse("admin:certificates_guarantee_change", args=[g.pk])


def test_staff_reissue_the_key_with_the_button(
    staff_client, staff, guarantee, django_capture_on_commit_callbacks
):
    page = staff_client.get(change_url(guarantee)).content.decode()
    assert f'action="{reissue_url(guarantee)}"' in page
    assert printed_url(guarantee) not in page

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reissue_url(guarantee), {"reason": "FAXの誤送信"}, follow=True)

    assert response.redirect_chain == [(change_url(guarantee), 302)]
    assert page_messages(response) == [
        f"{guarantee.number_display} の認証キーを再発行しました。以前のキーは使えません。"
    ]
    guarantee.refresh_from_db()
    assert guarantee.key_version == 2
    assert KeyReissue.objects.get().reason == "FAXの誤送信"
    assert KeyReissue.objects.get().by == staff
    assert len(mail.outbox) == 1
    # The staff page never shows the key either.
    assert not KEY_RE.search(response.content.decode())


def test_the_reissue_button_needs_a_post(staff_client, guarantee):
    assert staff_client.get(reissue_url(guarantee)).status_code == 405
    guarantee.refresh_from_db()
    assert guarantee.key_version == 1


def test_a_contractor_cannot_reach_the_staff_actions(clerk_client, guarantee, paper):
    for url in (reissue_url(guarantee), printed_url(paper), change_url(guarantee)):
        response = clerk_client.post(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url

    guarantee.refresh_from_db()
    paper.refresh_from_db()
    assert guarantee.key_version == 1 and paper.printed_at is None
    assert not KeyReissue.objects.exists()


def test_reissuing_a_paper_guarantee_in_admin_says_there_is_no_key(staff_client, paper):
    page = staff_client.get(change_url(paper)).content.decode()
    assert reissue_url(paper) not in page

    response = staff_client.post(reissue_url(paper), follow=True)

    assert page_messages(response) == ["書面交付の保証には認証キーがありません。"]
    paper.refresh_from_db()
    assert paper.key_version == 0


def test_marking_a_paper_certificate_printed_sets_the_time_once(staff_client, paper, frozen):
    page = staff_client.get(change_url(paper)).content.decode()
    assert f'action="{printed_url(paper)}"' in page

    response = staff_client.post(printed_url(paper), follow=True)

    assert page_messages(response) == [f"{paper.number_display} を印刷済にしました。"]
    paper.refresh_from_db()
    assert paper.printed_at == NOW
    assert printed_url(paper) not in response.content.decode()  # the button is gone

    frozen.shift(datetime.timedelta(days=2))
    staff_client.post(printed_url(paper))
    registry.mark_printed(guarantee=paper)

    assert Guarantee.objects.get(pk=paper.pk).printed_at == NOW


def test_staff_find_a_guarantee_in_the_admin_list(staff_client, guarantee, paper):
    url = reverse("admin:certificates_guarantee_changelist")

    everything = staff_client.get(url).content.decode()
    found = staff_client.get(url, {"q": guarantee.number}).content.decode()

    assert guarantee.number_display in everything and paper.number_display in everything
    assert guarantee.number_display in found and paper.number_display not in found
    assert change_url(guarantee) in found
