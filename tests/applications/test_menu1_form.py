"""Menu 1 (前払金保証・契約保証): the clerk types the contract, saves (保存中) or submits."""

import re
import uuid

import pytest
from django.urls import reverse
from django.utils.html import escape

from accounts.decorators import MSG_NOT_VERIFIED
from applications import drafts, rules, validation, views
from applications.models import Application, StatusChange
from certificates.models import Work
from esure.choices import GuaranteeKind
from esure.forms import MSG_AMOUNT_FORMAT, MSG_AMOUNT_RANGE
from tests.conftest import (
    MAX_ADVANCE,
    MIN_CONTRACT,
    error_summary_html,
    field_html,
    make_orderer,
    menu1_post,
)

NEW = reverse("applications:new", args=["1"])
S = Application.Status


def only_application():
    """The one application the test created (fails if there are none or several)."""
    return Application.objects.get()


def page_messages(response):
    return [str(m) for m in response.context["messages"]]


# --- Who may open the form --------------------------------------------------------------


def test_verified_clerk_sees_the_form_in_japanese_with_tsukumi_to_choose(clerk_client, tsukumi):
    response = clerk_client.get(NEW)

    assert response.status_code == 200
    page = response.content.decode()
    for label in ("発注者", "工事名", "請負代金額（円）", "契約日", "前払金保証の保証金額（円）"):
        assert label in page
    assert f'<option value="{tsukumi.pk}">津久見市</option>' in page
    assert 'name="client_token"' in page


def test_clerk_of_an_unverified_company_is_sent_home(client, pending_clerk):
    client.force_login(pending_clerk)

    response = client.get(NEW, follow=True)

    assert response.redirect_chain == [(reverse("home"), 302)]
    assert MSG_NOT_VERIFIED in page_messages(response)


def test_anonymous_visitor_is_asked_to_log_in(client, db):
    response = client.get(NEW)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={NEW}"


# --- Saving a draft (保存中) ------------------------------------------------------------


def test_saving_almost_nothing_keeps_a_draft_and_opens_it_for_editing(clerk_client, clerk):
    response = clerk_client.post(
        NEW, {"client_token": str(uuid.uuid4()), "name": "市道改良工事", "action": "save"}
    )

    application = only_application()
    assert response.status_code == 302
    assert response["Location"] == reverse("applications:edit", args=[application.pk])
    assert application.status == S.DRAFT
    assert application.get_status_display() == "保存中"
    assert application.company == clerk.membership.company
    assert application.work.name == "市道改良工事"
    assert not StatusChange.objects.exists()
    edit_page = clerk_client.get(response["Location"])
    assert drafts.MSG_SAVED in page_messages(edit_page)
    assert 'value="市道改良工事"' in edit_page.content.decode()


def test_a_badly_typed_amount_is_shown_next_to_the_field_and_keeps_the_input(clerk_client, tsukumi):
    data = menu1_post(tsukumi, price="12,3a5", action="save", message="午前中に連絡ください")

    response = clerk_client.post(NEW, data)

    assert response.status_code == 400
    assert escape(MSG_AMOUNT_FORMAT) in field_html(response, "price")
    assert escape(MSG_AMOUNT_FORMAT) not in field_html(response, "advance_amount")
    page = response.content.decode()
    for typed in (
        "12,3a5",
        "津土第R6-101号",
        "市道堅徳線道路改良工事",
        "津久見市大字堅浦地内",
        "2024-10-01",
        "2025-03-14",
        "4,900,000",
        "大分 花子",
        "0972-82-1234",
    ):
        assert f'value="{typed}"' in page, typed
    assert "午前中に連絡ください" in page
    assert f'<option value="{tsukumi.pk}" selected>津久見市</option>' in page
    assert re.search(
        r'<input[^>]*value="construction"[^>]*checked', field_html(response, "category")
    )
    assert not Application.objects.exists()


@pytest.mark.parametrize("typed", ["１２，３４５，０００", "12345000", "12,345,000"])
def test_amounts_are_accepted_full_width_with_or_without_commas(clerk_client, tsukumi, typed):
    response = clerk_client.post(NEW, menu1_post(tsukumi, price=typed, action="save"))

    assert response.status_code == 302
    assert only_application().work.price == 12_345_000


# --- Submitting (手続き中) ----------------------------------------------------------------


@pytest.mark.usefixtures("during_the_work")
def test_an_advance_over_the_maximum_is_refused_next_to_its_field_and_the_draft_is_kept(
    clerk_client, clerk, tsukumi
):
    data = menu1_post(tsukumi, advance_amount="5,000,000")

    response = clerk_client.post(NEW, data)

    assert response.status_code == 400
    message = rules.MSG_ADVANCE_OVER_MAX.format(ratio=40, max="4,900,000円")
    assert escape(message) in field_html(response, "advance_amount")
    assert views.MSG_SAVED_NOT_SUBMITTED in page_messages(response)
    application = only_application()
    assert application.status == S.DRAFT
    assert application.items.get().amount == 5_000_000

    # The clerk corrects the amount on the same page (same form, same token) and submits.
    response = clerk_client.post(NEW, {**data, "advance_amount": "4,900,000"})

    application.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse("applications:detail", args=[application.pk])
    assert Application.objects.count() == 1
    assert application.status == S.SUBMITTED
    assert application.get_status_display() == "手続き中"
    assert application.submitted_at is not None
    assert application.items.get().amount == MAX_ADVANCE
    change = StatusChange.objects.get()
    assert (change.application, change.old_status, change.new_status, change.by) == (
        application,
        S.DRAFT,
        S.SUBMITTED,
        clerk,
    )


@pytest.mark.usefixtures("during_the_work")
def test_the_same_form_submitted_twice_makes_one_application(clerk_client, tsukumi):
    data = menu1_post(tsukumi)

    first = clerk_client.post(NEW, data)
    second = clerk_client.post(NEW, data, follow=True)

    application = only_application()
    detail = reverse("applications:detail", args=[application.pk])
    assert first["Location"] == detail
    assert second.redirect_chain == [(detail, 302)]
    assert views.MSG_ALREADY_SUBMITTED in page_messages(second)
    assert Work.objects.count() == 1
    assert StatusChange.objects.count() == 1
    assert application.status == S.SUBMITTED


# --- 契約保証 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "accepted"), [("1,234,499", False), ("1,234,500", True), ("12,345,000", True)]
)
@pytest.mark.usefixtures("during_the_work")
def test_contract_guarantee_must_reach_ten_percent_of_the_price(
    clerk_client, tsukumi, typed, accepted
):
    data = menu1_post(tsukumi, want_contract="on", contract_amount=typed)

    response = clerk_client.post(NEW, data)

    message = rules.MSG_CONTRACT_UNDER_MIN.format(ratio=10, min="1,234,500円")
    if accepted:
        assert response.status_code == 302
        application = only_application()
        assert application.status == S.SUBMITTED
        amounts = dict(application.items.values_list("kind", "amount"))
        assert amounts == {
            GuaranteeKind.ADVANCE: MAX_ADVANCE,
            GuaranteeKind.CONTRACT: int(typed.replace(",", "")),
        }
    else:
        assert response.status_code == 400
        assert escape(message) in field_html(response, "contract_amount")
        assert only_application().status == S.DRAFT


def test_contract_guarantee_alone_needs_an_advance_planned(clerk_client, tsukumi):
    alone = menu1_post(
        tsukumi,
        want_advance=None,
        advance_amount="",
        want_contract="on",
        contract_amount="1,234,500",
    )

    response = clerk_client.post(NEW, alone)

    assert response.status_code == 400
    assert escape(rules.MSG_CONTRACT_NEEDS_ADVANCE) in field_html(response, "contract_amount")
    assert only_application().status == S.DRAFT

    response = clerk_client.post(NEW, {**alone, "advance_planned": "on"})

    assert response.status_code == 302
    application = only_application()
    assert application.status == S.SUBMITTED
    assert application.advance_planned is True
    assert dict(application.items.values_list("kind", "amount")) == {
        GuaranteeKind.CONTRACT: MIN_CONTRACT
    }


# --- 受取方法 (電子交付 / 書面交付) and the 電子保証用約款 ----------------------------------------


@pytest.mark.parametrize(
    ("contract_date", "accepted"), [("2024-09-30", False), ("2024-10-01", True)]
)
@pytest.mark.usefixtures("during_the_work")
def test_electronic_delivery_only_for_tsukumi_contracts_from_2024_10_01(
    clerk_client, tsukumi, contract_date, accepted
):
    data = menu1_post(tsukumi, contract_date=contract_date, start_date="2024-10-02")

    response = clerk_client.post(NEW, data)

    refusal = rules.REFUSAL_BEFORE_START.format(date="2024年10月1日")
    if accepted:
        assert response.status_code == 302
        assert only_application().status == S.SUBMITTED
    else:
        assert response.status_code == 400
        assert escape(refusal) in field_html(response, "delivery")
        assert only_application().status == S.DRAFT


@pytest.mark.usefixtures("during_the_work")
def test_a_contract_before_2024_10_01_may_still_be_delivered_on_paper(clerk_client, tsukumi):
    data = menu1_post(tsukumi, contract_date="2024-09-30", delivery="paper", terms_confirmed=None)

    response = clerk_client.post(NEW, data)

    assert response.status_code == 302
    application = only_application()
    assert (application.status, application.delivery) == (S.SUBMITTED, "paper")


@pytest.mark.usefixtures("during_the_work")
def test_paper_delivery_for_an_orderer_that_is_not_electronic(clerk_client, db):
    usuki = make_orderer("臼杵市", electronic_since=None, electronic_terms_name="")
    paper = menu1_post(usuki, delivery="paper", terms_confirmed=None)

    response = clerk_client.post(NEW, menu1_post(usuki, terms_confirmed=None))

    assert response.status_code == 400
    assert escape(rules.REFUSAL_NOT_ELECTRONIC) in field_html(response, "delivery")

    response = clerk_client.post(NEW, paper)

    assert response.status_code == 302
    application = Application.objects.get(client_token=paper["client_token"])
    assert (application.status, application.delivery) == (S.SUBMITTED, "paper")
    assert application.work.orderer == usuki


@pytest.mark.usefixtures("during_the_work")
def test_electronic_delivery_to_tsukumi_needs_its_terms_confirmed(clerk_client, tsukumi):
    data = menu1_post(tsukumi, terms_confirmed=None)

    response = clerk_client.post(NEW, data)

    assert response.status_code == 400
    message = validation.MSG_TERMS.format(name=tsukumi.electronic_terms_name)
    assert escape(message) in field_html(response, "terms_confirmed")
    assert only_application().status == S.DRAFT

    response = clerk_client.post(NEW, {**data, "terms_confirmed": "on"})

    assert response.status_code == 302
    application = only_application()
    assert (application.status, application.terms_confirmed) == (S.SUBMITTED, True)


# --- Input the database would refuse: a message, never a server error ----------------------


@pytest.mark.parametrize(
    ("field", "typed"),
    [("price", "0"), ("advance_amount", "0"), ("price", "99999999999999999999")],
)
def test_impossible_amounts_are_refused_with_a_message_even_when_only_saving(
    clerk_client, tsukumi, field, typed
):
    response = clerk_client.post(NEW, menu1_post(tsukumi, action="save", **{field: typed}))

    assert response.status_code == 400
    assert escape(MSG_AMOUNT_RANGE) in field_html(response, field)
    assert not Application.objects.exists()


def test_a_period_that_ends_before_it_starts_is_refused_even_when_only_saving(
    clerk_client, tsukumi
):
    data = menu1_post(tsukumi, action="save", start_date="2025-03-14", end_date="2024-10-02")

    response = clerk_client.post(NEW, data)

    assert response.status_code == 400
    assert escape(validation.MSG_PERIOD) in field_html(response, "end_date")


def test_everything_missing_on_submit_is_listed_and_the_draft_kept(clerk_client, db):
    response = clerk_client.post(NEW, {"client_token": str(uuid.uuid4()), "action": "submit"})

    assert response.status_code == 400
    for field in ("orderer", "name", "price", "contract_date", "contact_name", "delivery"):
        assert escape(validation.MSG_REQUIRED) in field_html(response, field), field
    assert escape(validation.MSG_NO_GUARANTEE) in error_summary_html(response)
    assert only_application().status == S.DRAFT
