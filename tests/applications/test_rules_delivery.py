"""電子交付 or not, and the 保証期限 (DESIGN.md §5.4–5.5)."""

import datetime
from types import SimpleNamespace

import pytest

from accounts.models import Orderer
from applications.rules import (
    CONTRACT_RESERVATION,
    REFUSAL_BEFORE_START,
    REFUSAL_KIND,
    REFUSAL_METHOD_EXCLUDED,
    REFUSAL_NOT_ELECTRONIC,
    electronic_delivery_refusal,
    guarantee_end,
)
from esure.choices import ContractMethod, GuaranteeKind

D = datetime.date
START = D(2024, 10, 1)
TSUKUMI = Orderer(name="津久見市", prefecture="大分県", electronic_since=START)


def refusal(*, orderer=TSUKUMI, contract_date=START, method=None, kind=None):
    return electronic_delivery_refusal(
        orderer=orderer,
        contract_date=contract_date,
        contract_method=method or ContractMethod.GENERAL,
        kind=kind or GuaranteeKind.ADVANCE,
    )


@pytest.mark.parametrize("kind", GuaranteeKind.values)
def test_tsukumi_from_2024_10_01_is_electronic_for_the_three_kinds(kind):
    assert refusal(kind=kind) is None


@pytest.mark.parametrize("method", ContractMethod.values)
def test_every_method_is_electronic_where_none_is_excluded(method):
    assert refusal(method=method, contract_date=D(2025, 4, 1)) is None


def test_a_contract_of_2024_09_30_is_refused_with_the_start_date():
    reason = refusal(contract_date=D(2024, 9, 30))
    assert reason == REFUSAL_BEFORE_START.format(date="2024年10月1日")
    assert "2024年10月1日以降に契約する工事が対象です" in reason


def test_an_orderer_that_is_not_electronic():
    paper_only = Orderer(name="戊村", prefecture="大分県", electronic_since=None)
    assert refusal(orderer=paper_only) == REFUSAL_NOT_ELECTRONIC


def test_an_excluded_contract_method():
    orderer = SimpleNamespace(
        electronic_since=D(2024, 10, 1), excluded_contract_methods=[ContractMethod.NEGOTIATED]
    )
    assert refusal(orderer=orderer, method=ContractMethod.NEGOTIATED) == (
        REFUSAL_METHOD_EXCLUDED.format(method="随意契約")
    )
    assert refusal(orderer=orderer, method=ContractMethod.DESIGNATED) is None


def test_a_contract_guarantee_reservation_is_never_electronic():
    assert refusal(kind=CONTRACT_RESERVATION) == REFUSAL_KIND.format(kind="契約保証予約")


def test_an_unknown_kind_is_refused():
    assert refusal(kind="bid_bond") == REFUSAL_KIND.format(kind="bid_bond")


def test_the_kind_is_reported_before_the_orderer():
    paper_only = Orderer(name="戊村", electronic_since=None)
    assert refusal(orderer=paper_only, kind=CONTRACT_RESERVATION) == REFUSAL_KIND.format(
        kind="契約保証予約"
    )


@pytest.mark.parametrize("kind", GuaranteeKind.values)
def test_guarantee_end_is_the_end_of_the_work_period(kind):
    assert guarantee_end(kind, D(2025, 3, 19)) == D(2025, 3, 19)


def test_guarantee_end_refuses_an_unknown_kind():
    with pytest.raises(ValueError):
        guarantee_end(CONTRACT_RESERVATION, D(2025, 3, 19))
