"""発注者へ電子で提出 (decisions 0004, 0018): where the orderer accepts esure's hand-over
channel and the office has an account, the clerk hands the guarantee over; the office's users
open it without the key, and the clerk follows 提出済 → 閲覧済 → 受領. Nowhere else."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import OrdererOffice
from certificates import services as registry
from certificates.models import Submission
from certificates.numbering import format_number
from dsure import services, throttle
from dsure.models import AccessLog
from tests.conftest import (
    NOW,
    WORK_DATES,
    accept_handover,
    advance_office,
    dsure_lookup,
    make_concluded,
    make_office_user,
    make_orderer,
)

FORM_BUTTON = "発注者へ電子で提出"


@pytest.fixture
def office(tsukumi):
    return advance_office(tsukumi)  # 津久見市 土木課 工事担当, the 前払金 office


@pytest.fixture
def official(office):
    return make_office_user(office, email="doboku@city.tsukumi.example.jp")


@pytest.fixture
def official_client(official):
    browser = Client()
    browser.force_login(official)
    return browser


@pytest.fixture
def accepting(tsukumi):
    """津久見市 accepts the esure hand-over for 前払金保証."""
    return accept_handover(tsukumi)


def certificate_page(browser, guarantee):
    response = browser.get(reverse("certs:detail", args=[guarantee.number]))
    assert response.status_code == 200
    return response.content.decode()


def hand_over(browser, guarantee, office, note=""):
    return browser.post(
        reverse("certs:hand_over", args=[guarantee.number]),
        {"office": office.pk, "note": note},
        follow=True,
    )


def progress(page):
    """The 発注者の確認状況 list as the clerk reads it."""
    start = page.index('<ol class="progress">')
    return page[start : page.index("</ol>", start)]


def inbox_row(browser, guarantee):
    html = browser.get(reverse("dsure:inbox")).content.decode()
    marker = f">{guarantee.number_display}</a>"
    if marker not in html:
        return None
    start = html.rindex("<tr>", 0, html.index(marker))
    return html[start : html.index("</tr>", start)]


def test_the_hand_over_from_submission_to_receipt(
    guarantee, accepting, office, official, official_client, clerk, clerk_client, frozen
):
    page = certificate_page(clerk_client, guarantee)
    assert FORM_BUTTON in page
    assert f'<option value="{office.pk}" selected>{office}</option>' in page
    assert "未閲覧" in progress(page)

    response = hand_over(clerk_client, guarantee, office, note="よろしくお願いします")
    assert f"{office} へ電子で提出しました" in response.content.decode()
    handover = Submission.objects.get()
    assert (handover.guarantee, handover.office, handover.delivered_by) == (
        guarantee,
        office,
        clerk,
    )
    assert (handover.note, handover.channel) == ("よろしくお願いします", "handover")
    steps = progress(certificate_page(clerk_client, guarantee))
    assert f"提出済：{office}（第1版・受注者が電子提出・2026/11/30 10:00）" in steps
    assert "未閲覧" in steps

    # At once in the office's list, not yet received.
    row = inbox_row(official_client, guarantee)
    assert row is not None
    assert "未受領" in row

    # The official opens it without typing the key: logged as a view, so 閲覧済.
    frozen.shift(datetime.timedelta(hours=1))
    viewer = official_client.get(reverse("dsure:viewer", args=[guarantee.number]))
    assert viewer.status_code == 200
    assert guarantee.number_display in viewer.content.decode()
    assert (
        official_client.get(reverse("dsure:version", args=[guarantee.number, 1])).status_code == 200
    )
    pdf = official_client.get(reverse("dsure:document", args=[guarantee.number, 1]))
    assert pdf.status_code == 200
    view = AccessLog.objects.get(guarantee=guarantee)  # no key typed: no failure either
    assert (view.office_user, view.at) == (official, NOW + datetime.timedelta(hours=1))
    guarantee.refresh_from_db()
    assert guarantee.first_viewed_at == view.at == Submission.objects.get().viewed_at
    steps = progress(certificate_page(clerk_client, guarantee))
    assert f"閲覧済：{office}（2026/11/30 11:00）" in steps

    frozen.shift(datetime.timedelta(hours=1))
    response = official_client.post(reverse("dsure:receive", args=[guarantee.number, 1]))
    assert response.status_code == 302
    assert Submission.objects.get().status == Submission.Status.RECEIVED
    assert "受領済（第1版）" in inbox_row(official_client, guarantee)
    steps = progress(certificate_page(clerk_client, guarantee))
    assert steps.index("提出済") < steps.index("閲覧済") < steps.index("受領：")
    assert f"受領：{office}（第1版・2026/11/30 12:00）" in steps


def test_another_office_of_the_same_orderer_cannot_open_it(
    guarantee, accepting, office, clerk_client, tsukumi
):
    hand_over(clerk_client, guarantee, office)
    other_office = OrdererOffice.objects.get(orderer=tsukumi, name="総務課 契約担当")
    browser = Client()
    browser.force_login(make_office_user(other_office))
    for url in (
        reverse("dsure:viewer", args=[guarantee.number]),
        reverse("dsure:version", args=[guarantee.number, 1]),
        reverse("dsure:document", args=[guarantee.number, 1]),
    ):
        assert browser.get(url).status_code == 404, url
    assert browser.post(reverse("dsure:receive", args=[guarantee.number, 1])).status_code == 404
    assert inbox_row(browser, guarantee) is None
    assert not AccessLog.objects.exists()


def test_without_the_hand_over_channel_there_is_no_form_and_no_hand_over(
    guarantee, office, official, clerk_client
):
    assert FORM_BUTTON not in certificate_page(clerk_client, guarantee)
    response = hand_over(clerk_client, guarantee, office)
    assert registry.MSG_HANDOVER_NOT_ACCEPTED in response.content.decode()
    assert not Submission.objects.exists()


def test_an_office_without_accounts_cannot_receive_a_hand_over(
    guarantee, accepting, office, clerk_client
):
    assert not office.members.exists()
    assert FORM_BUTTON not in certificate_page(clerk_client, guarantee)
    response = hand_over(clerk_client, guarantee, office)
    assert registry.MSG_HANDOVER_NOT_ACCEPTED in response.content.decode()
    assert not Submission.objects.exists()


def test_an_office_of_another_orderer_is_refused(guarantee, accepting, official, clerk_client):
    kunisaki = make_orderer("国東市")
    accept_handover(kunisaki)
    elsewhere = advance_office(kunisaki)
    make_office_user(elsewhere)
    page = certificate_page(clerk_client, guarantee)
    assert f'<option value="{elsewhere.pk}"' not in page
    response = hand_over(clerk_client, guarantee, elsewhere)
    assert registry.MSG_SUBMISSION_OFFICE in response.content.decode()
    assert not Submission.objects.exists()


def test_a_paper_guarantee_cannot_be_handed_over(clerk, tsukumi, accepting, office, official):
    [paper] = make_concluded(company=clerk.membership.company, delivery="paper", **WORK_DATES)
    browser = Client()
    browser.force_login(clerk)
    assert FORM_BUTTON not in certificate_page(browser, paper)
    response = hand_over(browser, paper, office)
    assert registry.MSG_HANDOVER_NOT_ACCEPTED in response.content.decode()
    assert not Submission.objects.exists()


def test_a_second_hand_over_to_the_same_office_is_refused(
    guarantee, accepting, office, official, clerk_client
):
    hand_over(clerk_client, guarantee, office)
    response = hand_over(clerk_client, guarantee, office)
    assert "すでに提出済み" in response.content.decode()
    assert Submission.objects.count() == 1


def test_only_the_companys_own_guarantees_by_post_and_login(
    guarantee, accepting, office, official, client, client_for, other_clerk
):
    url = reverse("certs:hand_over", args=[guarantee.number])
    assert client_for(other_clerk).post(url, {"office": office.pk}).status_code == 404
    clerk_browser = client_for(guarantee.company.memberships.get().user)
    assert clerk_browser.get(url).status_code == 405
    response = client.post(url, {"office": office.pk})  # anonymous
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    # An office account is not a contractor's: it cannot hand over either.
    office_browser = Client()
    office_browser.force_login(official)
    response = office_browser.post(url, {"office": office.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:register")  # not a company member
    assert not Submission.objects.exists()


def test_viewing_a_hand_over_does_not_lift_a_lock(
    guarantee, accepting, office, official_client, clerk_client, frozen
):
    """A lock holds until it ends or staff clear it (DESIGN.md §6). The office may still read
    what was handed to it, but its view is no proof of the key: a stranger's lock must stay."""
    hand_over(clerk_client, guarantee, office)
    stranger = {"REMOTE_ADDR": "198.51.100.20"}
    AccessLog.objects.bulk_create(
        AccessLog(
            at=NOW - datetime.timedelta(hours=2, seconds=i),
            ip=stranger["REMOTE_ADDR"],
            number=guarantee.number,
            outcome=AccessLog.Outcome.FAILURE,
        )
        for i in range(throttle.LOCK_AT - 1)
    )
    dsure_lookup(Client(), guarantee.number_display, "ABCD-EFGH-JKMN-PQRS", **stranger)  # 100th
    key = registry.current_key(guarantee)
    assert (
        services.MSG_LOCKED
        in dsure_lookup(Client(), format_number(guarantee.number), key).content.decode()
    )

    frozen.shift(datetime.timedelta(minutes=1))
    assert official_client.get(reverse("dsure:viewer", args=[guarantee.number])).status_code == 200

    frozen.shift(datetime.timedelta(minutes=1))
    assert throttle.number_state(guarantee.number).locked
    response = dsure_lookup(Client(), guarantee.number_display, key)
    assert response.status_code == 200
    assert services.MSG_LOCKED in response.content.decode()
