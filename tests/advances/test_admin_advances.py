"""Surety staff in admin: accept or return a 明細書 with the buttons (the services), approve
or refuse a cash withdrawal, read the stored PDFs and evidence — and keep the lists of
uses and evidence, which are data."""

import pytest
from django.core import mail
from django.urls import reverse

from advances.models import UseCategory, UsePlan, Withdrawal
from tests.conftest import (
    line_of,
    make_advance_account,
    make_deposit,
    make_plan,
    make_withdrawal,
    use_category,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client_for, staff):
    return client_for(staff)


@pytest.fixture
def submitted(db):
    return make_plan(make_advance_account(), status="submitted")


def test_staff_see_the_checks_and_accept(
    staff_client, submitted, django_capture_on_commit_callbacks
):
    url = reverse("admin:advances_useplan_change", args=[submitted.pk])
    page = staff_client.get(url).content.decode()
    assert "規則（使途の区分・25%・合計・支払先）をすべて満たしています。" in page
    assert reverse("admin:advances_useplan_pdf", args=[submitted.pk]) in page
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:advances_useplan_decide", args=[submitted.pk]),
            {"decision": "accept", "reason": ""},
        )
    assert response["Location"] == url
    assert UsePlan.objects.get().status == UsePlan.Status.ACCEPTED
    assert mail.outbox[-1].to == [submitted.account.registered_by.email]


def test_a_return_needs_its_reason(staff_client, submitted):
    decide = reverse("admin:advances_useplan_decide", args=[submitted.pk])
    response = staff_client.post(decide, {"decision": "return", "reason": ""}, follow=True)
    assert "理由を入力してください。" in response.content.decode()
    assert UsePlan.objects.get().status == UsePlan.Status.SUBMITTED
    staff_client.post(decide, {"decision": "return", "reason": "下請代金の根拠を添付してください"})
    assert UsePlan.objects.get().status == UsePlan.Status.RETURNED


def test_a_second_decision_is_refused(staff_client, submitted):
    decide = reverse("admin:advances_useplan_decide", args=[submitted.pk])
    staff_client.post(decide, {"decision": "accept"})
    response = staff_client.post(decide, {"decision": "return", "reason": "x"}, follow=True)
    assert "にすることはできません" in response.content.decode()
    assert UsePlan.objects.get().status == UsePlan.Status.ACCEPTED


def test_the_stored_pdf_is_served_to_staff(staff_client, submitted):
    response = staff_client.get(reverse("admin:advances_useplan_pdf", args=[submitted.pk]))
    assert b"".join(response.streaming_content) == submitted.pdf.open("rb").read()


def test_staff_approve_a_cash_withdrawal(settings, staff_client):
    settings.ESURE_ADVANCE_CASH_LIMIT = 100_000
    account = make_advance_account()
    make_deposit(account)
    plan = make_plan(account)
    withdrawal = make_withdrawal(account, [(line_of(plan, "labor"), 100_000)], cash=True)
    assert withdrawal.status == Withdrawal.Status.CASH_REVIEW
    page = staff_client.get(reverse("admin:advances_withdrawal_change", args=[withdrawal.pk]))
    assert "現金での払出の承認（1回 金100,000円 まで）" in page.content.decode()
    staff_client.post(
        reverse("admin:advances_withdrawal_cash", args=[withdrawal.pk]), {"decision": "accept"}
    )
    assert Withdrawal.objects.get().status == Withdrawal.Status.SUBMITTED


def test_staff_refuse_a_cash_withdrawal_with_a_reason(settings, staff_client):
    settings.ESURE_ADVANCE_CASH_LIMIT = 100_000
    account = make_advance_account()
    make_deposit(account)
    withdrawal = make_withdrawal(account, [(line_of(make_plan(account), "labor"), 1)], cash=True)
    cash = reverse("admin:advances_withdrawal_cash", args=[withdrawal.pk])
    staff_client.post(cash, {"decision": "return", "reason": ""})
    assert Withdrawal.objects.get().status == Withdrawal.Status.CASH_REVIEW
    staff_client.post(cash, {"decision": "return", "reason": "振込で可能なため"})
    assert Withdrawal.objects.get().status == Withdrawal.Status.REJECTED


def test_staff_read_the_evidence_in_admin(staff_client):
    account = make_advance_account()
    make_deposit(account)
    withdrawal = make_withdrawal(account, [(line_of(make_plan(account), "subcontract"), 1)])
    evidence = withdrawal.lines.get().evidence.first()
    page = staff_client.get(reverse("admin:advances_withdrawal_change", args=[withdrawal.pk]))
    url = reverse("admin:advances_withdrawal_evidence", args=[withdrawal.pk, evidence.pk])
    assert url in page.content.decode()
    assert b"".join(staff_client.get(url).streaming_content).startswith(b"%PDF")


def test_the_account_page_in_admin_shows_the_position(staff_client):
    account = make_advance_account()
    make_deposit(account)
    make_plan(account)
    page = staff_client.get(reverse("admin:advances_advanceaccount_change", args=[account.pk]))
    assert "入金 金4,900,000円" in page.content.decode()
    changelist = staff_client.get(reverse("admin:advances_advanceaccount_changelist"))
    assert "4,900,000円" in changelist.content.decode()


def test_staff_keep_the_evidence_a_category_needs(staff_client):
    material = use_category("material")
    url = reverse("admin:advances_usecategory_change", args=[material.pk])
    invoice = material.evidence_kinds.model.objects.get(name="請求書")
    response = staff_client.post(
        url,
        {
            "code": "material",
            "name": "材料費",
            "work_kinds": ["construction", "design", "survey"],
            "payment": "payee",
            "evidence_kinds": [invoice.pk],
            "sort_order": "10",
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert [k.name for k in UseCategory.objects.get(code="material").evidence_kinds.all()] == [
        "請求書"
    ]


@pytest.mark.parametrize(
    "name",
    [
        "admin:advances_useplan_decide",
        "admin:advances_withdrawal_cash",
        "admin:advances_inspection_close",
        "admin:advances_advanceaccount_inspect",
    ],
)
def test_the_decisions_are_posts(staff_client, name):
    assert staff_client.get(reverse(name, args=[1])).status_code == 405
