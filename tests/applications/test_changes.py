"""Menu 5 — 保証契約締結後の変更: each change kind end to end through the services, its
rules at the boundary, and the versioned certificate it issues (append-only)."""

import datetime
import hashlib

import pytest
import time_machine
from django.core import mail

from applications import fees, rules, services, validation
from applications.changes import validation as change_rules
from applications.models import Application, ApplicationItem
from certificates import keys
from certificates import selectors as registry
from certificates.models import Certificate
from esure.choices import GuaranteeKind
from tests.conftest import make_concluded, make_staff

TODAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.UTC)
C = Application.ChangeKind
S = Application.Status
# make_work's price is 12,345,000: the advance maximum 4,900,000 (40%, rounded down).
PERIOD = {
    "contract_date": datetime.date(2026, 11, 1),
    "start_date": datetime.date(2026, 11, 10),
    "end_date": datetime.date(2027, 3, 19),
}


@pytest.fixture
def travel():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def staff(db):
    return make_staff()


@pytest.fixture
def advance(db, clerk, tsukumi, travel, staff):
    (guarantee,) = make_concluded(
        company=clerk.membership.company,
        items={GuaranteeKind.ADVANCE: 4_900_000},
        by=staff,
        **PERIOD,
    )
    return guarantee


def change(guarantee, clerk, kind, amount=None, **fields):
    application = Application.objects.create(
        company=guarantee.company,
        work=guarantee.work,
        menu=Application.Menu.CHANGE,
        guarantee=guarantee,
        change_kind=kind,
        contact_name="大分 花子",
        contact_phone="0972-82-1234",
        created_by=clerk,
        **fields,
    )
    current = registry.versions_of(guarantee)[-1].amount
    ApplicationItem.objects.create(
        application=application, kind=guarantee.kind, amount=amount or current
    )
    return application


def submit_and_approve(application, clerk, staff):
    services.submit_application(application=application, by=clerk)
    return services.approve_application(application=application, by=staff)


def test_a_period_extension_issues_v2_and_keeps_v1_byte_identical(
    advance, clerk, staff, django_capture_on_commit_callbacks
):
    v1 = Certificate.objects.get(guarantee=advance, version=1)
    v1_pdf = v1.documents.get(kind="certificate")
    v1_bytes = v1_pdf.file.open("rb").read()
    key_before = keys.derive_key(advance.number, advance.key_version, salt=advance.key_salt)
    application = change(
        advance,
        clerk,
        C.PERIOD,
        new_end_date=datetime.date(2027, 6, 30),
        change_contract_date=datetime.date(2026, 11, 25),
    )
    with django_capture_on_commit_callbacks(execute=True):
        submit_and_approve(application, clerk, staff)

    application.refresh_from_db()
    assert application.status == S.CONCLUDED
    v2 = Certificate.objects.get(guarantee=advance, version=2)
    assert v2.ends_on == datetime.date(2027, 6, 30)
    assert v2.content["title"] == "変更前払金保証証書"
    assert {c["field"] for c in v2.content["changes"]} == {"work.end_date", "guarantee.ends_on"}
    assert v2.content["fee"]["kind"] == "none"
    # v1 is untouched and still downloadable byte for byte
    v1.refresh_from_db()
    assert v1.ends_on == datetime.date(2027, 3, 19)
    assert hashlib.sha256(v1_pdf.file.open("rb").read()).hexdigest() == v1_pdf.sha256
    assert v1_pdf.file.open("rb").read() == v1_bytes
    # same number, same key; the contractor is told (without the key)
    advance.refresh_from_db()
    assert keys.derive_key(advance.number, advance.key_version, salt=advance.key_salt) == key_before
    assert registry.status_of_guarantee(advance, v2) == registry.Status.CHANGED
    (sent,) = [m for m in mail.outbox if "第2版" in m.subject]
    assert advance.number_display in sent.body
    assert key_before not in sent.body and keys.format_key(key_before) not in sent.body


def test_an_increase_waits_for_its_additional_fee(advance, clerk, staff, tsukumi):
    application = change(
        advance,
        clerk,
        C.INCREASE,
        amount=5_600_000,
        new_price=14_000_000,
        change_contract_date=datetime.date(2026, 11, 25),
    )
    submit_and_approve(application, clerk, staff)
    application.refresh_from_db()
    assert application.status == S.APPROVED  # not concluded before the fee
    assert not Certificate.objects.filter(guarantee=advance, version=2).exists()

    statement = fees.expected_fee(application).change
    assert statement.kind == "additional" and statement.fee > 0
    services.record_fee_receipt(
        application=application,
        received_on=TODAY.date(),
        amount=statement.fee,
        method="transfer",
        by=staff,
    )
    v2 = Certificate.objects.get(guarantee=advance, version=2)
    assert v2.amount == 5_600_000
    assert v2.content["work"]["price"] == 14_000_000
    assert v2.content["fee"]["kind"] == "additional"
    assert "増額" in v2.change_summary


def test_a_decrease_issues_a_refund_statement(advance, clerk, staff):
    application = change(
        advance,
        clerk,
        C.DECREASE,
        amount=4_000_000,
        new_price=10_000_000,
        change_contract_date=datetime.date(2026, 11, 25),
    )
    submit_and_approve(application, clerk, staff)
    v2 = Certificate.objects.get(guarantee=advance, version=2)
    assert v2.amount == 4_000_000
    assert v2.content["fee"]["kind"] == "refund"
    assert v2.content["title"] == "変更前払金保証証書"
    statement = v2.documents.get(kind="fee_statement")
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(statement.file.open("rb")).pages)
    assert "保証料返還計算書" in text.replace(" ", "")


def test_cancellation_sets_the_status_and_issues_a_final_version(advance, clerk, staff):
    application = change(advance, clerk, C.CANCEL, cancel_reason="工事中止")
    submit_and_approve(application, clerk, staff)
    advance.refresh_from_db()
    assert advance.cancelled_at is not None
    v2 = Certificate.objects.get(guarantee=advance, version=2)
    assert v2.content["cancellation"]["reason"] == "工事中止"
    assert v2.content["title"] == "解約前払金保証証書"
    assert registry.status_of_guarantee(advance, v2) == registry.Status.CANCELLED
    # a cancelled guarantee cannot be changed again
    assert not registry.Guarantee.objects.filter(pk=advance.pk, cancelled_at=None).exists()


# --- the limits on the new values, at the boundary ------------------------------------------


@pytest.mark.parametrize(
    ("new_price", "amount", "ok"),
    [
        (12_500_000, 5_000_000, True),  # exactly 40% of the new price
        (12_499_999, 5_000_000, False),  # 40% is 4,999,999.6 → max 4,900,000
        (12_500_001, 5_000_000, True),
    ],
)
def test_an_increased_advance_stays_within_40_percent_of_the_new_price(
    advance, clerk, new_price, amount, ok
):
    application = change(
        advance,
        clerk,
        C.INCREASE,
        amount=amount,
        new_price=new_price,
        change_contract_date=datetime.date(2026, 11, 25),
    )
    errors = validation.application_errors(application)
    assert (change_rules.CHANGE_AMOUNT_FIELD not in errors) is ok, errors


def test_a_decrease_below_the_paid_advance_is_refused_with_a_clear_message(advance, clerk):
    # 4,900,000 is paid; a price of 12,000,000 allows at most 4,800,000
    application = change(
        advance,
        clerk,
        C.DECREASE,
        amount=4_900_000,
        new_price=12_000_000,
        change_contract_date=datetime.date(2026, 11, 25),
    )
    errors = validation.application_errors(application)
    assert any(
        "前払金の上限" in m or "下回ります" in m for m in errors[change_rules.CHANGE_AMOUNT_FIELD]
    )


def test_the_change_kind_and_its_values_are_required(advance, clerk):
    application = change(advance, clerk, "")
    assert change_rules.MSG_CHANGE_KIND in validation.application_errors(application)["change_kind"]
    application.delete()
    application = change(advance, clerk, C.CANCEL, cancel_reason=" ")
    assert (
        change_rules.MSG_CANCEL_REASON
        in validation.application_errors(application)["cancel_reason"]
    )


def _prefix(template):
    return template.split("{", 1)[0]


@pytest.mark.django_db
def test_the_125_percent_rule_requires_a_higher_contract_guarantee(clerk, tsukumi, travel):
    (contract,) = make_concluded(
        company=clerk.membership.company, items={GuaranteeKind.CONTRACT: 1_234_500}, **PERIOD
    )
    threshold = tsukumi.price_increase_threshold_percent  # 125 (local)
    original = contract.work.price
    reaching = -(-original * threshold // 100)  # the first whole yen at 125%
    increase_required = _prefix(rules.MSG_CHANGE_CONTRACT_INCREASE_REQUIRED)
    for new_price, told_to_increase in ((reaching - 1, False), (reaching, True)):
        # the contractor keeps the original 契約保証 amount
        application = change(
            contract,
            clerk,
            C.INCREASE,
            amount=1_234_500,
            new_price=new_price,
            change_contract_date=datetime.date(2026, 11, 25),
        )
        messages = validation.application_errors(application).get(
            change_rules.CHANGE_AMOUNT_FIELD, []
        )
        application.delete()
        assert messages, new_price  # 10% of the new price is above 1,234,500 either way
        assert any(m.startswith(increase_required) for m in messages) is told_to_increase
    # at 125% with the new 10% minimum the change passes
    minimum = rules.min_contract_guarantee(reaching, False, tsukumi)
    application = change(
        contract,
        clerk,
        C.INCREASE,
        amount=minimum,
        new_price=reaching,
        change_contract_date=datetime.date(2026, 11, 25),
    )
    assert change_rules.CHANGE_AMOUNT_FIELD not in validation.application_errors(application)


def test_dsure_shows_a_cancellation_only_after_a_right_key(advance, clerk, staff, client):
    application = change(advance, clerk, C.CANCEL, cancel_reason="契約解除")
    submit_and_approve(application, clerk, staff)
    advance.refresh_from_db()
    key = keys.format_key(
        keys.derive_key(advance.number, advance.key_version, salt=advance.key_salt)
    )

    wrong = client.post("/dsure/", {"number": advance.number_display, "key": "0000-0000-0000-0000"})
    assert wrong.status_code == 200
    assert "解約" not in wrong.content.decode()  # a wrong key learns nothing, not even 解約

    right = client.post("/dsure/", {"number": advance.number_display, "key": key})
    page = client.get(right["Location"]).content.decode()
    assert registry.Status.CANCELLED in page
    assert "契約解除" in page  # the final version states the cancellation and its reason
