"""The application page: its history (who, when, why), correction after a return, 取下げ,
and the access rules of every application URL."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from applications import services, views
from applications.models import Application, StatusChange
from tests.conftest import make_application, make_work, menu1_post

S = Application.Status
JST = ZoneInfo("Asia/Tokyo")
REASON = "契約書の工期と入力された工期が異なります。\n契約書の写しをご確認ください。"


def at(*args):
    return time_machine.travel(datetime.datetime(*args, tzinfo=JST), tick=False)


def url(name, application):
    return reverse(f"applications:{name}", args=[application.pk])


def page_messages(response):
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def draft(clerk, tsukumi):
    return make_application(company=clerk.membership.company)


# --- History -----------------------------------------------------------------------------


def test_detail_shows_the_history_with_who_when_and_why(clerk_client, clerk, staff, tsukumi):
    with at(2025, 1, 10, 9, 0):
        application = make_application(company=clerk.membership.company)
    with at(2025, 1, 10, 9, 5):
        clerk_client.post(url("submit", application))
    with at(2025, 1, 11, 14, 30):
        services.return_application(application=application, by=staff, reason=REASON)

    response = clerk_client.get(url("detail", application))

    page = re.sub(r">\s+<", "><", response.content.decode())
    assert response.status_code == 200
    assert '<span class="badge badge--returned">差戻し</span>' in page
    assert "<h2>差戻しの理由</h2><p>契約書の工期と入力された工期が異なります。<br>" in page
    assert (
        "<tr><td>2025/01/10 09:05</td><td>保存中 → 手続き中</td>"
        "<td>clerk@acme.example.jp</td><td></td></tr>"
    ) in page
    assert (
        "<tr><td>2025/01/11 14:30</td><td>手続き中 → 差戻し</td>"
        "<td>保証会社</td><td>契約書の工期と入力された工期が異なります。<br>"
    ) in page
    # Staff act as the surety company: their address is not shown to the contractor.
    assert staff.email not in page
    assert "2025/01/10 09:00" in page  # created (保存中)


def test_detail_shows_the_work_amounts_and_delivery(clerk_client, draft):
    page = clerk_client.get(url("detail", draft)).content.decode()

    assert draft.work.name in page
    assert "津久見市 土木課 工事担当" in page
    assert "金12,345,000円" in page
    assert "金4,900,000円" in page
    assert "電子交付" in page
    assert url("edit", draft) in page
    assert url("withdraw", draft) in page


# --- Correction after a return -------------------------------------------------------------


@pytest.mark.usefixtures("during_the_work")
def test_returned_application_is_corrected_and_submitted_again(clerk_client, clerk, staff, tsukumi):
    application = make_application(company=clerk.membership.company, status=S.SUBMITTED)
    services.return_application(application=application, by=staff, reason=REASON)

    edit_page = clerk_client.get(url("edit", application))

    assert edit_page.status_code == 200
    assert "差戻しの理由" in edit_page.content.decode()
    assert "契約書の写しをご確認ください。" in edit_page.content.decode()

    data = menu1_post(tsukumi, client_token="", end_date="2025-03-31")
    response = clerk_client.post(url("edit", application), data)

    assert response.status_code == 302
    assert response["Location"] == url("detail", application)
    application.refresh_from_db()
    assert application.status == S.SUBMITTED
    assert application.work.end_date == datetime.date(2025, 3, 31)
    last = application.status_changes.last()
    assert (last.old_status, last.new_status, last.by) == (S.RETURNED, S.SUBMITTED, clerk)
    assert Application.objects.count() == 1


def test_a_submitted_application_is_no_longer_editable(clerk_client, clerk, tsukumi):
    application = make_application(company=clerk.membership.company, status=S.SUBMITTED)

    response = clerk_client.get(url("edit", application), follow=True)

    assert response.redirect_chain == [(url("detail", application), 302)]
    assert views.MSG_ALREADY_SUBMITTED in page_messages(response)
    posted = clerk_client.post(url("edit", application), menu1_post(tsukumi, name="書き換え"))
    assert posted["Location"] == url("detail", application)
    application.work.refresh_from_db()
    assert application.work.name != "書き換え"


@pytest.mark.usefixtures("during_the_work")
def test_submit_button_url_submits_a_complete_draft(clerk_client, clerk, draft):
    response = clerk_client.post(url("submit", draft))

    assert response["Location"] == url("detail", draft)
    draft.refresh_from_db()
    assert draft.status == S.SUBMITTED
    assert StatusChange.objects.get(application=draft).by == clerk


def test_submit_button_url_sends_an_incomplete_draft_back_to_the_form(clerk_client, clerk, tsukumi):
    application = make_application(company=clerk.membership.company, contact_name="")

    response = clerk_client.post(url("submit", application), follow=True)

    assert response.redirect_chain == [(url("edit", application), 302)]
    assert views.MSG_SAVED_NOT_SUBMITTED in page_messages(response)
    application.refresh_from_db()
    assert application.status == S.DRAFT


# --- 取下げ ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.DRAFT, S.SUBMITTED, S.RETURNED])
def test_withdraw_before_approval(clerk_client, clerk, tsukumi, status):
    application = make_application(company=clerk.membership.company, status=status)

    response = clerk_client.post(url("withdraw", application), follow=True)

    assert response.redirect_chain == [(url("detail", application), 302)]
    assert views.MSG_WITHDRAWN in page_messages(response)
    application.refresh_from_db()
    assert application.status == S.WITHDRAWN
    change = StatusChange.objects.get(application=application)
    assert (change.old_status, change.new_status, change.by) == (status, S.WITHDRAWN, clerk)
    page = response.content.decode()
    assert '<span class="badge badge--withdrawn">取下げ</span>' in page
    assert url("withdraw", application) not in page


@pytest.mark.parametrize("status", [S.APPROVED, S.CONCLUDED, S.DECLINED, S.WITHDRAWN])
def test_withdraw_after_a_decision_is_refused(clerk_client, clerk, tsukumi, status):
    application = make_application(company=clerk.membership.company, status=status)
    detail = clerk_client.get(url("detail", application)).content.decode()
    assert url("withdraw", application) not in detail  # no button …

    response = clerk_client.post(url("withdraw", application), follow=True)  # … nor a way round

    message = services.MSG_TRANSITION.format(old=S(status).label, new="取下げ")
    assert message in page_messages(response)
    assert views.MSG_WITHDRAWN not in page_messages(response)
    application.refresh_from_db()
    assert application.status == status
    assert not StatusChange.objects.exists()


# --- Access ---------------------------------------------------------------------------------


@pytest.fixture
def others(other_clerk, tsukumi):
    """A draft of another company: the clerk must not learn that it exists."""
    return make_application(work=make_work(other_clerk.membership.company, name="他社の工事"))


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "detail"),
        ("get", "edit"),
        ("post", "edit"),
        ("post", "submit"),
        ("post", "withdraw"),
    ],
)
def test_another_companys_application_is_404_at_every_url(
    clerk_client, tsukumi, others, method, name
):
    data = menu1_post(tsukumi, name="乗っ取り") if method == "post" else None

    response = getattr(clerk_client, method)(url(name, others), data)

    assert response.status_code == 404
    assert "他社の工事" not in response.content.decode()
    others.refresh_from_db()
    assert (others.status, others.work.name) == (S.DRAFT, "他社の工事")
    assert not StatusChange.objects.exists()


def test_a_missing_application_is_the_same_404(clerk_client, others):
    missing = clerk_client.get(reverse("applications:detail", args=[others.pk + 1000]))
    foreign = clerk_client.get(url("detail", others))

    assert missing.status_code == foreign.status_code == 404
    assert missing.content == foreign.content


def test_live_check_with_another_companys_work_is_404(clerk_client, others):
    others.status = S.APPROVED  # a guaranteed advance: eligible for menu 3 at its company
    others.save()

    response = clerk_client.post(
        reverse("applications:check", args=["3"]), {"work": others.work_id}
    )

    assert response.status_code == 404


@pytest.mark.parametrize("name", ["submit", "withdraw"])
def test_submit_and_withdraw_only_by_post(clerk_client, draft, name):
    assert clerk_client.get(url(name, draft)).status_code == 405
    draft.refresh_from_db()
    assert draft.status == S.DRAFT


@pytest.mark.parametrize(
    ("method", "name"),
    [("get", "detail"), ("get", "edit"), ("post", "submit"), ("post", "withdraw")],
)
def test_anonymous_visitor_is_sent_to_log_in(client, draft, method, name):
    target = url(name, draft)

    response = getattr(client, method)(target)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={target}"
    draft.refresh_from_db()
    assert draft.status == S.DRAFT


def test_anonymous_visitor_is_sent_to_log_in_from_the_list(client, db):
    response = client.get(reverse("applications:index"))

    assert response["Location"].startswith(reverse("account_login"))
