"""Shared setup of the claim tests (保証金の請求): the clock frozen at tests.conftest.NOW, a
registered 前払金保証 (4,900,000円) and 契約保証 (1,234,500円) of one work whose 保証期間 holds
NOW, each delivered to the office that handles its kind, and that office's user."""

import datetime
import itertools

import pytest
from django.utils import timezone

from certificates.models import Submission
from claims import services
from claims.models import Claim
from esure.choices import GuaranteeKind
from tests.conftest import (
    MIN_CONTRACT,
    WORK_DATES,
    evidence_file,
    make_office_user,
    make_orderer,
    make_registered_guarantee,
    make_staff,
    make_work,
)

TERMINATED_ON = datetime.date(2026, 11, 27)  # inside WORK_DATES, before NOW (2026-11-30)
# A 前払金保証 claim: 4,900,000 + 1,000,000 − 3,000,000 = 2,900,000 (under the 前払金).
ADVANCE_FIGURES = {
    "advance_paid": 4_900_000,
    "progress_paid": 1_000_000,
    "completed_value": 3_000_000,
}
ADVANCE_CLAIMABLE = 2_900_000
_orderers = itertools.count(1)


def office_of(orderer, kind):
    """The office of `orderer` that handles `kind` (make_orderer: 契約担当 / 工事担当)."""
    return next(o for o in orderer.offices.order_by("pk") if kind in o.handles_kinds)


def deliver(guarantee, office, channel=Submission.Channel.INBOX):
    """The guarantee's first version reached `office` (its inbox's scope)."""
    return Submission.objects.create(
        guarantee=guarantee,
        certificate=guarantee.certificates.get(version=1),
        office=office,
        channel=channel,
    )


def make_claimable(company=None, *, orderer=None, kind=GuaranteeKind.ADVANCE, work=None):
    """A registered guarantee of `kind` delivered to the office that handles it."""
    orderer = orderer or make_orderer(name=f"他市{next(_orderers)}")
    work = work or make_work(company, orderer=orderer, **WORK_DATES)
    amount = MIN_CONTRACT if kind == GuaranteeKind.CONTRACT else 4_900_000
    guarantee = make_registered_guarantee(work=work, kind=kind, amount=amount)
    deliver(guarantee, office_of(work.orderer, kind))
    return guarantee


def file(guarantee, by, **overrides):
    """A claim filed through the service with the default figures of its kind."""
    office = by.office_membership.office
    values = {
        "terminated_on": TERMINATED_ON,
        "termination_cause": "受注者の履行遅滞により契約を解除した。",
        "termination_notice": evidence_file("pdf", name="kaijo.pdf"),
    }
    if guarantee.kind == GuaranteeKind.CONTRACT:
        values["penalty"] = 1_234_500
    else:
        values.update(ADVANCE_FIGURES, inspection_record=evidence_file("jpeg", name="kensa.jpg"))
    values.update(overrides)
    return services.file_claim(guarantee=guarantee, office=office, by=by, **values)


def move_to(claim, status, staff):
    """Take a filed claim along the table to `status`, as staff and the office would."""
    S = Claim.Status
    office_user = claim.filed_by
    paths = {
        S.FILED: [],
        S.MORE_DOCUMENTS_REQUESTED: ["request"],
        S.RESUBMITTED: ["request", "resubmit"],
        S.APPROVED: ["approve"],
        S.PAID: ["approve", "pay"],
        S.REFUSED: ["refuse"],
    }
    for step in paths[status]:
        if step == "request":
            claim = services.request_documents(claim=claim, by=staff, message="登記事項証明書を")
        elif step == "resubmit":
            claim = services.resubmit(claim=claim, by=office_user, files=[evidence_file()])
        elif step == "approve":
            claim = services.approve(claim=claim, by=staff, amount=claim.claimable)
        elif step == "pay":
            claim = services.record_payment(
                claim=claim, by=staff, paid_on=timezone.localdate(), amount=claim.claimable
            )
        elif step == "refuse":
            claim = services.refuse(claim=claim, by=staff, reason="解除の原因が保証の対象外です。")
    return claim


@pytest.fixture(autouse=True)
def _frozen_for_every_test(frozen):
    return frozen


@pytest.fixture
def orderer(db):
    return make_orderer()


@pytest.fixture
def guarantee(clerk, orderer):
    return make_claimable(clerk.membership.company, orderer=orderer)


@pytest.fixture
def contract_guarantee(guarantee):
    return make_claimable(kind=GuaranteeKind.CONTRACT, work=guarantee.work)


@pytest.fixture
def office_user(orderer):
    """A city official of 土木課 工事担当 (the office 前払金保証 reach)."""
    return make_office_user(
        office_of(orderer, GuaranteeKind.ADVANCE), email="doboku@city.tsukumi.example.jp"
    )


@pytest.fixture
def contract_office_user(orderer):
    """A city official of 総務課 契約担当 (the office 契約保証 reach)."""
    return make_office_user(
        office_of(orderer, GuaranteeKind.CONTRACT), email="keiyaku@city.tsukumi.example.jp"
    )


@pytest.fixture
def reviewer(db):
    """Surety staff who review claims (a superuser with TOTP)."""
    return make_staff(email="shinsa@surety.example.jp")
