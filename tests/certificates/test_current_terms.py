"""The registry's typed current terms (certificates.selectors.current_terms) and the change
summary that issue_change builds once from the values it changes."""

import datetime

import pytest

from certificates import selectors as registry
from certificates import services
from tests.conftest import MAX_ADVANCE, PRICE, WORK_DATES, make_concluded

pytestmark = pytest.mark.usefixtures("frozen")
NEW_END = datetime.date(2027, 6, 30)


@pytest.fixture
def guarantee(clerk, tsukumi):
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    return guarantee


def no_fee(kind="none", fee=0):
    return {"kind": kind, "fee": fee, "old_amount": MAX_ADVANCE, "new_amount": MAX_ADVANCE}


def test_a_new_guarantee_has_the_terms_of_its_first_version(guarantee):
    first = guarantee.certificates.get()

    assert registry.current_terms(guarantee) == registry.Terms(
        number=guarantee.number,
        kind="advance",
        version=1,
        amount=MAX_ADVANCE,
        starts_on=WORK_DATES["start_date"],
        ends_on=WORK_DATES["end_date"],
        price=PRICE,
        work_start=WORK_DATES["start_date"],
        work_end=WORK_DATES["end_date"],
        paid_fee=first.content["fee"]["fee"],
        cancelled=False,
    )


def test_a_change_moves_the_terms_and_lists_only_what_changed(guarantee):
    paid = registry.current_terms(guarantee).paid_fee

    v2 = services.issue_change(
        guarantee=guarantee, label="保証期限変更", fee=no_fee(), work_end=NEW_END, ends_on=NEW_END
    )
    # The price is given but unchanged: not listed.
    v3 = services.issue_change(
        guarantee=guarantee,
        label="増額",
        fee=no_fee("additional", 1_000),
        price=14_000_000,
        amount=MAX_ADVANCE + 700_000,
    )
    v4 = services.issue_change(
        guarantee=guarantee,
        label="減額",
        fee=no_fee("refund", 300),
        price=14_000_000,
        amount=5_000_000,
    )

    assert v2.change_summary == (
        "保証期限変更、工期（至） 令和9年3月19日→令和9年6月30日、"
        "保証期限 令和9年3月19日→令和9年6月30日"
    )
    assert [c["field"] for c in v2.content["changes"]] == ["work.end_date", "guarantee.ends_on"]
    assert (
        v3.change_summary
        == "増額、請負代金額 12,345,000円→14,000,000円、保証金額 4,900,000円→5,600,000円"
    )
    assert v4.change_summary == "減額、保証金額 5,600,000円→5,000,000円"
    terms = registry.current_terms(guarantee)
    assert (terms.version, terms.price, terms.amount) == (4, 14_000_000, 5_000_000)
    assert (terms.work_end, terms.ends_on, terms.work_start) == (
        NEW_END,
        NEW_END,
        WORK_DATES["start_date"],
    )
    # An additional fee was paid in; a refund was not.
    assert terms.paid_fee == paid + 1_000


def test_a_cancelled_guarantee_says_so(guarantee):
    services.issue_change(
        guarantee=guarantee,
        label="解約",
        fee=no_fee("refund"),
        cancelled_on=datetime.date(2026, 11, 30),
        reason="工事中止",
    )
    guarantee.refresh_from_db()

    terms = registry.current_terms(guarantee)
    assert terms.cancelled and terms.version == 2
