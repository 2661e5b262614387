"""Office accounts (decisions 0004, 0018): an orderer's official with an account keeps the
office's list (受信箱), their key lookups are attributed to them and put the guarantee in that
list, and they record 受領 of a version — which the contractor then sees on its page."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import OrdererOffice
from certificates import services as registry
from certificates.models import Submission
from dsure.models import AccessLog
from esure.choices import GuaranteeKind
from tests.conftest import (
    MAX_ADVANCE,
    MIN_CONTRACT,
    WORK_DATES,
    advance_office,
    dsure_lookup,
    make_concluded,
    make_office_user,
    make_orderer,
    make_user,
)


@pytest.fixture
def office(tsukumi):
    return advance_office(tsukumi)  # 津久見市 土木課 工事担当


@pytest.fixture
def official(office):
    return make_office_user(office, email="doboku@city.tsukumi.example.jp")


@pytest.fixture
def official_client(official):
    browser = Client()
    browser.force_login(official)
    return browser


def inbox_row(response, guarantee):
    """The office list's table row of the guarantee (its HTML), or None."""
    html = response.content.decode()
    marker = f">{guarantee.number_display}</a>"
    if marker not in html:
        return None
    start = html.rindex("<tr>", 0, html.index(marker))
    return html[start : html.index("</tr>", start)]


def test_an_office_user_sees_the_inbox(official_client, office):
    response = official_client.get(reverse("dsure:inbox"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "受信箱" in html
    assert str(office) in html
    assert "該当する保証はありません" in html


def test_a_user_without_an_office_account_gets_403(db):
    browser = Client()
    browser.force_login(make_user())
    assert browser.get(reverse("dsure:inbox")).status_code == 403


def test_a_contractor_clerk_gets_403(clerk_client):
    assert clerk_client.get(reverse("dsure:inbox")).status_code == 403


def test_anonymous_is_sent_to_the_login(db):
    response = Client().get(reverse("dsure:inbox"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "next=/dsure/office/" in response["Location"]


def test_lookups_are_attributed_and_the_receipt_reaches_the_contractor(
    guarantee, official, official_client, office, clerk_client
):
    key = registry.current_key(guarantee)
    dsure_lookup(official_client, guarantee.number_display, "ABCD-EFGH-JKMN-PQRS")
    response = dsure_lookup(official_client, guarantee.number_display, key)
    assert response.status_code == 302
    failure, success = AccessLog.objects.order_by("pk")
    assert (failure.outcome, failure.office_user) == (AccessLog.Outcome.FAILURE, official)
    assert (success.outcome, success.office_user) == (AccessLog.Outcome.SUCCESS, official)
    # An anonymous lookup is attributed to no one.
    dsure_lookup(Client(), guarantee.number_display, key)
    assert AccessLog.objects.order_by("pk").last().office_user is None

    # Still logged in after the session id changed, with the guarantee in the inbox.
    row = inbox_row(official_client.get(reverse("dsure:inbox")), guarantee)
    assert row is not None
    assert "未受領" in row
    assert guarantee.work.name in row
    opened = Submission.objects.get()
    assert (opened.channel, opened.office, opened.viewed_at) == (
        Submission.Channel.KEY,
        office,
        success.at,
    )

    viewer = official_client.get(reverse("dsure:viewer", args=[guarantee.number]))
    assert "第1版を受領する" in viewer.content.decode()

    response = official_client.post(
        reverse("dsure:receive", args=[guarantee.number, 1]), {"note": "原本確認済"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("dsure:version", args=[guarantee.number, 1])
    receipt = Submission.objects.get()
    assert (receipt.guarantee, receipt.certificate.version) == (guarantee, 1)
    assert (receipt.office, receipt.decided_by, receipt.reason) == (office, official, "原本確認済")
    assert receipt.status == Submission.Status.RECEIVED

    viewer = official_client.get(response["Location"]).content.decode()
    assert "第1版を受領しました" in viewer
    assert "第1版は 2026/11/30 10:00 に受領済みです" in viewer
    assert "第1版を受領する" not in viewer

    row = inbox_row(official_client.get(reverse("dsure:inbox")), guarantee)
    assert "受領済（第1版）" in row
    assert "未受領" not in row

    page = clerk_client.get(reverse("certs:detail", args=[guarantee.number])).content.decode()
    assert f"受領：{office}（第1版・2026/11/30 10:00）" in page
    assert "閲覧済：2026/11/30 10:00" in page

    # Receiving twice keeps one receipt, and says so.
    again = official_client.post(reverse("dsure:receive", args=[guarantee.number, 1]), follow=True)
    assert "この版はすでに受領しています。" in again.content.decode()
    assert Submission.objects.get().decided_by == official


def test_receiving_what_the_office_may_not_view_is_404(clerk, guarantee, official_client, official):
    # Not granted: no receipt, whatever the number.
    for number, version in ((guarantee.number, 1), ("08199999993", 1)):
        response = official_client.post(reverse("dsure:receive", args=[number, version]))
        assert response.status_code == 404
    # Granted, but a version that does not exist.
    dsure_lookup(official_client, guarantee.number_display, registry.current_key(guarantee))
    response = official_client.post(reverse("dsure:receive", args=[guarantee.number, 2]))
    assert response.status_code == 404
    # The grant is the session's, not the office's: a colleague's browser has none.
    colleague = Client()
    colleague.force_login(make_office_user(official.office_membership.office))
    response = colleague.post(reverse("dsure:receive", args=[guarantee.number, 1]))
    assert response.status_code == 404
    assert not Submission.objects.exclude(status=Submission.Status.DELIVERED).exists()


def test_receive_needs_a_post_and_an_office_account(guarantee):
    key = registry.current_key(guarantee)
    browser = Client()
    dsure_lookup(browser, guarantee.number_display, key)
    url = reverse("dsure:receive", args=[guarantee.number, 1])
    assert browser.get(url).status_code == 405
    response = browser.post(url)  # granted, but anonymous: to the login
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not Submission.objects.exists()


def test_the_inbox_lists_only_the_offices_own(clerk, tsukumi, official_client, office):
    """A guarantee another office opened, or one of another orderer, is not in this inbox."""
    items = {GuaranteeKind.ADVANCE: MAX_ADVANCE, GuaranteeKind.CONTRACT: MIN_CONTRACT}
    mine, theirs = make_concluded(company=clerk.membership.company, items=items, **WORK_DATES)
    contract_office = OrdererOffice.objects.get(orderer=tsukumi, name="総務課 契約担当")
    colleague = Client()
    colleague.force_login(make_office_user(contract_office))
    dsure_lookup(colleague, theirs.number_display, registry.current_key(theirs))
    dsure_lookup(official_client, mine.number_display, registry.current_key(mine))
    elsewhere = make_office_user(advance_office(make_orderer("国東市", prefecture="大分県")))
    stranger = Client()
    stranger.force_login(elsewhere)
    dsure_lookup(stranger, mine.number_display, registry.current_key(mine))

    response = official_client.get(reverse("dsure:inbox"))
    assert inbox_row(response, mine) is not None
    assert inbox_row(response, theirs) is None
    other = colleague.get(reverse("dsure:inbox"))
    assert inbox_row(other, theirs) is not None
    assert inbox_row(other, mine) is None

