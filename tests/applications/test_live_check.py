"""The live check (/applications/check/<menu>/): the form asks the server as the clerk types."""

import pytest
from django.urls import reverse

from applications import fees, rules
from applications.models import Application
from esure.choices import GuaranteeKind
from esure.forms import MSG_AMOUNT_FORMAT
from tests.conftest import (
    MAX_ADVANCE,
    MIN_CONTRACT,
    make_application,
    make_fee_tables,
    make_work,
    menu1_post,
)

CHECK_1 = reverse("applications:check", args=["1"])


def check_url(menu):
    return reverse("applications:check", args=[menu])


def contract_guaranteed_work(company):
    """A work whose 契約保証 is approved (advance planned): eligible for menu 2."""
    work = make_work(company)
    make_application(
        work=work,
        status=Application.Status.APPROVED,
        items={GuaranteeKind.CONTRACT: MIN_CONTRACT},
        advance_planned=True,
    )
    return work


def advance_guaranteed_work(company):
    """A work whose 前払金保証 is approved: eligible for menu 3."""
    work = make_work(company)
    make_application(work=work, status=Application.Status.APPROVED)
    return work


@pytest.mark.usefixtures("during_the_work")
def test_limits_for_a_price_of_12_345_000(clerk_client, tsukumi):
    response = clerk_client.post(CHECK_1, menu1_post(tsukumi))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert set(data) == {"errors", "limits", "fees", "delivery_refusal"}
    assert data["limits"]["max_advance"] == 4_900_000
    assert data["limits"]["min_contract"] == 1_234_500
    assert data["limits"]["max_intermediate"] == 2_400_000
    assert data["errors"] == {}
    assert data["delivery_refusal"] is None


@pytest.mark.usefixtures("during_the_work")
def test_rule_messages_per_field_as_the_clerk_types(clerk_client, tsukumi):
    data = menu1_post(tsukumi, advance_amount="5,000,000", terms_confirmed=None)

    errors = clerk_client.post(CHECK_1, data).json()["errors"]

    assert errors["advance_amount"] == [
        rules.MSG_ADVANCE_OVER_MAX.format(ratio=40, max="4,900,000円")
    ]
    assert list(errors) == ["advance_amount", "terms_confirmed"]


def test_fee_estimates_are_flagged_as_demo_rates(clerk_client, tsukumi):
    make_fee_tables()
    data = menu1_post(tsukumi, want_contract="on", contract_amount="1,234,500")

    fee_data = clerk_client.post(CHECK_1, data).json()["fees"]

    advance = fees.compute_fee(MAX_ADVANCE, fees.DEMO_TABLES[GuaranteeKind.ADVANCE])
    contract = fees.compute_fee(MIN_CONTRACT, fees.DEMO_TABLES[GuaranteeKind.CONTRACT])
    assert fee_data == {
        "advance": {"fee": advance, "is_demo": True},
        "contract": {"fee": contract, "is_demo": True},
    }
    assert (advance, contract) == (19_600, 3_000)  # 0.40%; the demo minimum fee


def test_no_fee_estimate_without_a_fee_table(clerk_client, tsukumi):
    assert clerk_client.post(CHECK_1, menu1_post(tsukumi)).json()["fees"] == {}


def test_delivery_refusal_for_a_contract_before_tsukumi_went_electronic(clerk_client, tsukumi):
    data = menu1_post(tsukumi, contract_date="2024-09-30")

    result = clerk_client.post(CHECK_1, data).json()

    refusal = rules.REFUSAL_BEFORE_START.format(date="2024年10月1日")
    assert result["delivery_refusal"] == refusal
    assert result["errors"]["delivery"] == [refusal]


def test_a_format_error_is_returned_for_its_field(clerk_client, tsukumi):
    result = clerk_client.post(CHECK_1, menu1_post(tsukumi, price="12,3a5")).json()

    assert result["errors"] == {"price": [MSG_AMOUNT_FORMAT]}
    assert result["limits"] == {}


def test_get_is_not_allowed(clerk_client, db):
    assert clerk_client.get(CHECK_1).status_code == 405


def test_anonymous_visitor_is_sent_to_log_in_not_given_json(client, tsukumi):
    response = client.post(CHECK_1, menu1_post(tsukumi))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "json" not in response.get("Content-Type", "")


def test_an_unknown_menu_is_404(clerk_client, db):
    assert clerk_client.post(check_url("9"), {}).status_code == 404


@pytest.mark.parametrize(
    ("menu", "eligible_work"), [("2", contract_guaranteed_work), ("3", advance_guaranteed_work)]
)
def test_own_eligible_work_is_checked_another_companys_is_404(
    clerk_client, clerk, other_clerk, tsukumi, menu, eligible_work
):
    own = eligible_work(clerk.membership.company)
    others = eligible_work(other_clerk.membership.company)
    data = {"work": own.pk, "delivery": "electronic", "terms_confirmed": "on"}

    response = clerk_client.post(check_url(menu), data)

    assert response.status_code == 200
    assert response.json()["limits"]["max_advance"] == MAX_ADVANCE  # figures of the own work
    assert clerk_client.post(check_url(menu), {**data, "work": others.pk}).status_code == 404


def test_menu2_check_still_works_once_the_draft_is_saved(clerk_client, clerk, tsukumi):
    """The edit page of a saved menu-2 draft posts its work to the live check too."""
    work = contract_guaranteed_work(clerk.membership.company)
    draft = make_application(work=work, menu="2", items={GuaranteeKind.ADVANCE: MAX_ADVANCE})
    edit_page = clerk_client.get(reverse("applications:edit", args=[draft.pk]))
    assert f'name="work" value="{work.pk}"' in edit_page.content.decode()

    response = clerk_client.post(
        check_url("2"), {"work": work.pk, "advance_amount": "4,900,000", "delivery": "paper"}
    )

    assert response.status_code == 200
    assert response.json()["limits"]["max_advance"] == MAX_ADVANCE
