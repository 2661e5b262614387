"""Staff review claims in admin: the list with the nearest due date first, the documents,
each decision through its service and permission, and the console's work queue."""

import datetime

import pytest
from django.urls import reverse

from claims.models import Claim
from console.queue import work_queue
from tests.claims.conftest import file, make_claimable, move_to
from tests.conftest import make_staff

S = Claim.Status
pytestmark = pytest.mark.django_db


def act(browser, claim, action, **data):
    return browser.post(reverse("admin:claims_claim_act", args=[claim.pk, action]), data)


def test_the_list_shows_open_claims_nearest_their_due_date_first(
    client_for, clerk, orderer, office_user, reviewer, frozen
):
    company = clerk.membership.company
    first = file(make_claimable(company, orderer=orderer), office_user)
    frozen.shift(datetime.timedelta(days=1))
    paid = move_to(file(make_claimable(company, orderer=orderer), office_user), S.PAID, reviewer)
    frozen.shift(datetime.timedelta(days=1))
    later = file(make_claimable(company, orderer=orderer), office_user)
    response = client_for(reviewer).get(reverse("admin:claims_claim_changelist"))
    shown = [c.pk for c in response.context["cl"].result_list]
    assert shown == [first.pk, later.pk, paid.pk]
    assert "30日" in response.content.decode() or "29日" in response.content.decode()


def test_staff_approve_the_computed_amount_and_record_the_payment(
    client_for, guarantee, office_user, reviewer
):
    claim = file(guarantee, office_user)
    browser = client_for(reviewer)
    page = browser.get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    assert "請求できる額 2,900,000円" in page and 'value="2,900,000"' in page
    assert act(browser, claim, "approve", amount="2,900,000").status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.approved_amount) == (S.APPROVED, 2_900_000)
    act(browser, claim, "record_payment", paid_on="2026-11-30", amount="２９０００００")
    claim.refresh_from_db()
    assert (claim.status, claim.paid_on, claim.paid_amount) == (
        S.PAID,
        datetime.date(2026, 11, 30),
        2_900_000,
    )


def test_another_amount_without_a_note_is_refused_with_the_reason(
    client_for, guarantee, office_user, reviewer
):
    claim = file(guarantee, office_user)
    browser = client_for(reviewer)
    response = act(browser, claim, "approve", amount="2,000,000")
    claim.refresh_from_db()
    assert claim.status == S.FILED
    page = browser.get(response["Location"]).content.decode()
    assert "算定額と異なる額で決定するときは、その理由を入力してください。" in page


def test_staff_request_documents_and_refuse(client_for, guarantee, office_user, reviewer):
    claim = file(guarantee, office_user)
    browser = client_for(reviewer)
    act(browser, claim, "request_documents", message="出来形検査調書の全頁")
    claim.refresh_from_db()
    assert claim.status == S.MORE_DOCUMENTS_REQUESTED
    assert claim.status_changes.last().note == "出来形検査調書の全頁"
    act(browser, claim, "refuse", reason="理由")  # not from this status
    claim.refresh_from_db()
    assert claim.status == S.MORE_DOCUMENTS_REQUESTED


def test_staff_download_the_documents_with_the_view_permission(client_for, guarantee, office_user):
    claim = file(guarantee, office_user)
    attachment = claim.attachments.first()
    url = reverse("admin:claims_claim_attachment", args=[claim.pk, attachment.pk])
    viewer = make_staff(perms=["claims.view_claim"])
    assert client_for(viewer).get(url).status_code == 200
    nobody = make_staff(perms=[])
    assert client_for(nobody).get(url).status_code == 403


def test_decisions_need_the_change_permission(client_for, guarantee, office_user):
    claim = file(guarantee, office_user)
    viewer = make_staff(perms=["claims.view_claim"])
    browser = client_for(viewer)
    page = browser.get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    assert "支払を決定する" not in page
    assert act(browser, claim, "approve", amount="2,900,000").status_code == 403
    claim.refresh_from_db()
    assert claim.status == S.FILED


def test_an_unknown_action_is_refused(client_for, guarantee, office_user, reviewer):
    claim = file(guarantee, office_user)
    assert act(client_for(reviewer), claim, "delete").status_code == 403


def test_the_work_queue_counts_claims_waiting_for_review_and_payment(
    rf, guarantee, contract_guarantee, office_user, contract_office_user, reviewer
):
    from django.contrib import admin

    file(guarantee, office_user)
    move_to(file(contract_guarantee, contract_office_user), S.APPROVED, reviewer)
    request = rf.get("/")
    request.user = reviewer
    counts = {w.entry.slug: w.count for w in work_queue(request, admin.site)}
    assert counts["claims"] == 1
    assert counts["claims_payment"] == 1
