"""A concluded 減額 opens the refund of the advance received above 5/10 of the new price
(decision 0026): created by the change's conclusion, with the working frozen, the due day
30 days after the 変更契約日, and the contractor and the offices holding it mailed."""

import datetime

import pytest
import time_machine
from django.core import mail

from applications import services
from applications.models import Application, ApplicationItem
from audit.models import AuditEvent
from certificates import selectors as registry
from certificates import services as registry_services
from certificates.models import Certificate, Refund
from esure.choices import GuaranteeKind
from tests.conftest import (
    advance_office,
    make_concluded,
    make_office_user,
    make_registered_guarantee,
    make_staff,
)

TODAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.UTC)
C = Application.ChangeKind
PERIOD = {
    "contract_date": datetime.date(2026, 11, 1),
    "start_date": datetime.date(2026, 11, 10),
    "end_date": datetime.date(2027, 3, 19),
}
REDUCED = datetime.date(2026, 11, 25)


@pytest.fixture(autouse=True)
def travel():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def staff(db):
    return make_staff()


@pytest.fixture
def advance(clerk, tsukumi, staff):
    (guarantee,) = make_concluded(
        company=clerk.membership.company,
        items={GuaranteeKind.ADVANCE: 4_900_000},
        by=staff,
        **PERIOD,
    )
    return guarantee


def decrease(guarantee, clerk, staff, *, new_price, amount):
    application = Application.objects.create(
        company=guarantee.company,
        work=guarantee.work,
        menu=Application.Menu.CHANGE,
        guarantee=guarantee,
        change_kind=C.DECREASE,
        new_price=new_price,
        change_contract_date=REDUCED,
        contact_name="大分 花子",
        contact_phone="0972-82-1234",
        created_by=clerk,
    )
    ApplicationItem.objects.create(application=application, kind=guarantee.kind, amount=amount)
    services.submit_application(application=application, by=clerk)
    return services.approve_application(application=application, by=staff)


def test_one_yen_above_five_tenths_is_refunded_with_its_working(
    advance, clerk, staff, tsukumi, django_capture_on_commit_callbacks
):
    official = make_office_user(advance_office(tsukumi), email="doboku@city.tsukumi.example.jp")
    registry_services.record_key_opening(
        guarantee=advance, office=advance_office(tsukumi), by=official
    )
    mail.outbox.clear()
    # 5/10 of 9,799,998 is 4,899,999: the 4,900,000 received is one yen above it.
    with django_capture_on_commit_callbacks(execute=True):
        decrease(advance, clerk, staff, new_price=9_799_998, amount=3_900_000)

    refund = Refund.objects.get()
    assert refund.certificate == Certificate.objects.get(guarantee=advance, version=2)
    assert (refund.received, refund.new_price, refund.rate_tenths) == (4_900_000, 9_799_998, 5)
    assert refund.amount == 1
    assert (refund.reduced_on, refund.due_on) == (REDUCED, datetime.date(2026, 12, 25))
    assert AuditEvent.objects.get(action="refund.due").data["amount"] == 1
    subjects = {m.to[0]: m.subject for m in mail.outbox if "返還" in m.subject}
    assert "前払金の返還のお知らせ" in subjects[clerk.email]
    assert "減額による前払金の返還" in subjects[official.email]
    assert "1円" in next(
        m.body for m in mail.outbox if m.to == [clerk.email] and "返還" in m.subject
    )


def test_exactly_five_tenths_opens_no_refund(advance, clerk, staff):
    decrease(advance, clerk, staff, new_price=9_800_000, amount=3_900_000)
    assert Certificate.objects.filter(guarantee=advance, version=2).exists()
    assert not Refund.objects.exists()


def test_the_contractor_reads_the_working_and_the_due_day(advance, clerk, staff, clerk_client):
    decrease(advance, clerk, staff, new_price=6_000_000, amount=2_400_000)
    from django.urls import reverse

    html = clerk_client.get(reverse("certs:detail", args=[advance.number])).content.decode()
    assert "前払金の返還（請負代金額の減額による）" in html
    assert "受領前払金 4,900,000円 − 減額後の請負代金額 6,000,000円 × 5/10" in html
    assert "<strong>1,900,000円</strong>" in html and "令和8年12月25日" in html
    assert "未返還" in html


def test_with_an_intermediate_advance_six_tenths_are_kept(clerk, tsukumi):
    """The registry's figure: the 前払金保証's amount before the 減額 plus the work's
    中間前払金保証 (then 6/10, ESURE_REFUND_RATE_TENTHS_INTERMEDIATE)."""
    advance = make_registered_guarantee(clerk.membership.company, amount=4_000_000, **PERIOD)
    make_registered_guarantee(work=advance.work, kind=GuaranteeKind.INTERMEDIATE, amount=2_000_000)
    v1 = advance.certificates.get()
    v2 = Certificate.objects.create(
        guarantee=advance,
        version=2,
        content={"work": {"price": 9_999_998}},
        fingerprint="1" * 64,
        amount=3_900_000,
        starts_on=v1.starts_on,
        ends_on=v1.ends_on,
        issued_at=TODAY,
    )
    refund = registry_services.open_refund(certificate=v2, reduced_on=REDUCED)
    # 6,000,000 received − 9,999,998 × 6/10 (5,999,998.8) = 1.2 → 1 yen
    assert (refund.received, refund.rate_tenths, refund.amount) == (6_000_000, 6, 1)


def test_a_contract_guarantee_decrease_opens_no_refund(clerk, tsukumi):
    contract = make_registered_guarantee(
        clerk.membership.company, kind=GuaranteeKind.CONTRACT, amount=1_234_500, **PERIOD
    )
    v1 = contract.certificates.get()
    v2 = Certificate.objects.create(
        guarantee=contract,
        version=2,
        content={"work": {"price": 1_000_000}},
        fingerprint="2" * 64,
        amount=100_000,
        starts_on=v1.starts_on,
        ends_on=v1.ends_on,
        issued_at=TODAY,
    )
    assert registry_services.open_refund(certificate=v2, reduced_on=REDUCED) is None
    assert registry.refunds_in(registry.versions_of(contract)) == []
