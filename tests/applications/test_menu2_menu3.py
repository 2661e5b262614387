"""Menus 2 and 3: the clerk picks a work already guaranteed and applies on that same work.

Menu 2 (契約保証済の前払金保証): works with a 契約保証 approved or concluded and no 前払金 yet.
Menu 3 (中間前払金保証): works with a 前払金 approved or concluded and no 中間前払金 yet; the
conditions of DESIGN.md §5.2 are checked against a frozen "today".
"""

import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from applications import rules, views
from applications.models import Application, StatusChange
from certificates.models import Work
from esure.choices import GuaranteeKind
from tests.conftest import (
    MAX_ADVANCE,
    MIN_CONTRACT,
    error_summary_html,
    field_html,
    make_application,
    make_orderer,
    make_work,
)

S = Application.Status
D = datetime.date
JST = ZoneInfo("Asia/Tokyo")


def at(day):
    """Freeze "today" (Asia/Tokyo) at 10:00 on `day`."""
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(10), JST), tick=False)


def new_for_work(menu, work):
    return reverse("applications:new_for_work", args=[menu, work.pk])


def page_messages(response):
    return [str(m) for m in response.context["messages"]]


def listed_work_pks(response):
    return {work.pk for work in response.context["works"]}


# --- Menu 2: 契約保証済の前払金保証 ---------------------------------------------------------


def contract_guaranteed(company, *, status=S.APPROVED, **work_fields):
    work = make_work(company, **work_fields)
    make_application(
        work=work, status=status, items={GuaranteeKind.CONTRACT: MIN_CONTRACT}, advance_planned=True
    )
    return work


def menu2_post(work, **overrides):
    data = {
        "client_token": str(uuid.uuid4()),
        "work": str(work.pk),
        "advance_amount": "4,900,000",
        "delivery": "electronic",
        "terms_confirmed": "on",
        "contact_name": "大分 花子",
        "contact_phone": "0972-82-1234",
        "action": "submit",
        **overrides,
    }
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.usefixtures("during_the_work")
def test_menu2_lists_only_own_works_with_a_contract_guarantee_and_no_advance(
    clerk_client, clerk, other_clerk, tsukumi
):
    company = clerk.membership.company
    approved = contract_guaranteed(company, name="承認済の契約保証の工事")
    concluded = contract_guaranteed(company, status=S.CONCLUDED, name="締結済の契約保証の工事")
    only_submitted = contract_guaranteed(company, status=S.SUBMITTED, name="審査中の工事")
    advance_open = contract_guaranteed(company, name="前払金申込中の工事")
    make_application(work=advance_open, menu="2", status=S.SUBMITTED)
    advance_withdrawn = contract_guaranteed(company, name="前払金を取り下げた工事")
    make_application(work=advance_withdrawn, menu="2", status=S.WITHDRAWN)
    both = make_work(company, name="前払金と契約保証を同時に申し込んだ工事")
    make_application(
        work=both,
        status=S.APPROVED,
        items={GuaranteeKind.ADVANCE: MAX_ADVANCE, GuaranteeKind.CONTRACT: MIN_CONTRACT},
    )
    others = contract_guaranteed(other_clerk.membership.company, name="他社の工事")

    response = clerk_client.get(reverse("applications:choose_work", args=["2"]))

    assert response.status_code == 200
    assert listed_work_pks(response) == {approved.pk, concluded.pk, advance_withdrawn.pk}
    page = response.content.decode()
    assert "承認済の契約保証の工事" in page
    assert new_for_work("2", approved) in page
    for hidden in (only_submitted, advance_open, both, others):
        assert hidden.name not in page


def test_another_companys_eligible_work_is_404(clerk_client, other_clerk, tsukumi):
    others = contract_guaranteed(other_clerk.membership.company)

    assert clerk_client.get(new_for_work("2", others)).status_code == 404
    assert clerk_client.post(new_for_work("2", others), menu2_post(others)).status_code == 404
    assert not Application.objects.filter(menu="2").exists()


def test_menu2_form_shows_the_work_instead_of_asking_for_it_again(clerk_client, clerk, tsukumi):
    work = contract_guaranteed(clerk.membership.company, name="市道宮本線舗装工事")

    response = clerk_client.get(new_for_work("2", work))

    page = response.content.decode()
    assert response.status_code == 200
    assert "市道宮本線舗装工事" in page
    assert "金12,345,000円" in page
    assert 'name="advance_amount"' in page
    assert 'name="price"' not in page
    assert 'name="name"' not in page
    assert "前払金の上限：4,900,000円" in page


@pytest.mark.usefixtures("during_the_work")
def test_applying_through_menu2_uses_the_same_work(clerk_client, clerk, tsukumi):
    work = contract_guaranteed(clerk.membership.company)
    works_before = Work.objects.count()

    response = clerk_client.post(new_for_work("2", work), menu2_post(work))

    application = Application.objects.get(menu="2")
    assert response.status_code == 302
    assert response["Location"] == reverse("applications:detail", args=[application.pk])
    assert Work.objects.count() == works_before
    assert application.work == work
    assert application.status == S.SUBMITTED
    assert dict(application.items.values_list("kind", "amount")) == {
        GuaranteeKind.ADVANCE: MAX_ADVANCE
    }
    # Applied for: the work leaves the menu-2 list.
    listing = clerk_client.get(reverse("applications:choose_work", args=["2"]))
    assert work.pk not in listed_work_pks(listing)


@pytest.mark.usefixtures("during_the_work")
def test_menu2_refused_submission_can_be_corrected_on_the_same_page(clerk_client, clerk, tsukumi):
    work = contract_guaranteed(clerk.membership.company)
    data = menu2_post(work, advance_amount="5,000,000")

    refused = clerk_client.post(new_for_work("2", work), data)

    assert refused.status_code == 400
    message = rules.MSG_ADVANCE_OVER_MAX.format(ratio=40, max="4,900,000円")
    assert escape(message) in field_html(refused, "advance_amount")
    draft = Application.objects.get(menu="2")
    assert draft.status == S.DRAFT

    # The page the clerk is on posts back to the same URL, with the same token.
    corrected = clerk_client.post(new_for_work("2", work), {**data, "advance_amount": "4,900,000"})

    assert corrected.status_code == 302
    draft.refresh_from_db()
    assert draft.status == S.SUBMITTED
    assert Application.objects.filter(menu="2").count() == 1


@pytest.mark.usefixtures("during_the_work")
def test_menu2_form_submitted_twice_answers_already_submitted(clerk_client, clerk, tsukumi):
    work = contract_guaranteed(clerk.membership.company)
    data = menu2_post(work)

    clerk_client.post(new_for_work("2", work), data)
    second = clerk_client.post(new_for_work("2", work), data, follow=True)

    application = Application.objects.get(menu="2")
    assert second.redirect_chain == [(reverse("applications:detail", args=[application.pk]), 302)]
    assert views.MSG_ALREADY_SUBMITTED in page_messages(second)


# --- Menu 3: 中間前払金保証 ---------------------------------------------------------------

# A work of 10,000,000円 for 2025-04-01〜2025-09-30: half the 工期 has passed on 2025-07-01.
START, END = D(2025, 4, 1), D(2025, 9, 30)
HALFWAY = D(2025, 7, 1)


def advance_guaranteed(company, *, advance=4_000_000, status=S.APPROVED, **work_fields):
    values = {
        "price": 10_000_000,
        "contract_date": D(2025, 3, 25),
        "start_date": START,
        "end_date": END,
        **work_fields,
    }
    work = make_work(company, **values)
    make_application(work=work, status=status, items={GuaranteeKind.ADVANCE: advance})
    return work


def menu3_post(work, **overrides):
    data = {
        "client_token": str(uuid.uuid4()),
        "work": str(work.pk),
        "intermediate_amount": "2,000,000",
        "certified_on": "2025-06-25",
        "certification_number": "津土中第12号",
        "progress_percent": "55",
        "delivery": "electronic",
        "terms_confirmed": "on",
        "contact_name": "大分 花子",
        "contact_phone": "0972-82-1234",
        "action": "submit",
        **overrides,
    }
    return {k: v for k, v in data.items() if v is not None}


def apply_menu3(client, work, **overrides):
    return client.post(new_for_work("3", work), menu3_post(work, **overrides))


def intermediate_application():
    return Application.objects.get(menu="3")


@pytest.mark.usefixtures("during_the_work")
def test_menu3_lists_own_works_whose_advance_is_guaranteed(
    clerk_client, clerk, other_clerk, tsukumi
):
    company = clerk.membership.company
    approved = advance_guaranteed(company, name="前払金承認済の工事")
    concluded = advance_guaranteed(company, status=S.CONCLUDED, name="前払金締結済の工事")
    submitted = advance_guaranteed(company, status=S.SUBMITTED, name="前払金審査中の工事")
    intermediate_open = advance_guaranteed(company, name="中間前払金申込中の工事")
    make_application(
        work=intermediate_open, menu="3", items={GuaranteeKind.INTERMEDIATE: 2_000_000}
    )
    contract_only = contract_guaranteed(company, name="契約保証のみの工事")
    others = advance_guaranteed(other_clerk.membership.company, name="他社の工事")

    response = clerk_client.get(reverse("applications:choose_work", args=["3"]))

    assert listed_work_pks(response) == {approved.pk, concluded.pk}
    page = response.content.decode()
    assert "前払金承認済の工事" in page
    for hidden in (submitted, intermediate_open, contract_only, others):
        assert hidden.name not in page
    assert clerk_client.get(new_for_work("3", others)).status_code == 404
    assert clerk_client.get(new_for_work("3", submitted)).status_code == 404


def test_halfway_is_2025_07_01_for_this_work():
    assert rules.halfway(START, END) == HALFWAY


def test_menu3_the_day_before_halfway_is_refused_with_the_first_possible_day(
    clerk_client, clerk, tsukumi
):
    work = advance_guaranteed(clerk.membership.company)

    with at(HALFWAY - datetime.timedelta(days=1)):
        response = apply_menu3(clerk_client, work)

    assert response.status_code == 400
    message = rules.MSG_INTERMEDIATE_TOO_EARLY.format(date="2025年7月1日")
    assert escape(message) in error_summary_html(response)
    assert intermediate_application().status == S.DRAFT


def test_menu3_on_the_halfway_day_is_accepted(clerk_client, clerk, tsukumi):
    work = advance_guaranteed(clerk.membership.company)

    with at(HALFWAY):
        response = apply_menu3(clerk_client, work)

    assert response.status_code == 302
    application = intermediate_application()
    assert (application.work, application.status) == (work, S.SUBMITTED)
    assert StatusChange.objects.filter(application=application, new_status=S.SUBMITTED).exists()


@pytest.mark.parametrize(
    ("advance", "intermediate", "accepted"),
    [
        (4_000_000, "2,000,000", True),  # 40% + 20% = 60%
        # An advance above today's 4割 (guaranteed under an earlier policy of the orderer):
        # only the 6割 total can bite.
        (4_100_000, "1,900,000", True),  # = 6,000,000 = 60%
        (4_100_000, "2,000,000", False),  # = 6,100,000 > 60%, though 2,000,000 ≤ 20%
    ],
)
def test_menu3_advance_plus_intermediate_at_most_60_percent(
    clerk_client, clerk, tsukumi, advance, intermediate, accepted
):
    work = advance_guaranteed(clerk.membership.company, advance=advance)

    with at(HALFWAY):
        response = apply_menu3(clerk_client, work, intermediate_amount=intermediate)

    if accepted:
        assert response.status_code == 302
        assert intermediate_application().status == S.SUBMITTED
    else:
        assert response.status_code == 400
        message = rules.MSG_INTERMEDIATE_TOTAL_OVER.format(
            max="6,000,000円", advance="4,100,000円", amount="2,000,000円", total="6,100,000円"
        )
        shown = field_html(response, "intermediate_amount")
        assert escape(message) in shown
        assert "2割（10万円未満切捨て）" not in shown  # the 2割 limit itself holds
        assert intermediate_application().status == S.DRAFT


@pytest.mark.parametrize(("progress", "accepted"), [("49", False), ("50", True)])
def test_menu3_needs_half_the_work_done(clerk_client, clerk, tsukumi, progress, accepted):
    work = advance_guaranteed(clerk.membership.company)

    with at(HALFWAY):
        response = apply_menu3(clerk_client, work, progress_percent=progress)

    if accepted:
        assert response.status_code == 302
        assert intermediate_application().progress_percent == 50
    else:
        assert response.status_code == 400
        message = rules.MSG_INTERMEDIATE_PROGRESS_LOW.format(progress=49)
        assert escape(message) in field_html(response, "progress_percent")


def test_menu3_refused_where_the_orderer_has_no_intermediate_advance(clerk_client, clerk, db):
    saiki = make_orderer("佐伯市", intermediate_allowed=False, electronic_terms_name="")
    work = advance_guaranteed(clerk.membership.company, orderer=saiki)

    with at(HALFWAY):
        response = apply_menu3(clerk_client, work, terms_confirmed=None)

    assert response.status_code == 400
    assert escape(rules.MSG_INTERMEDIATE_NOT_ALLOWED) in error_summary_html(response)
    assert intermediate_application().status == S.DRAFT


def test_menu3_refused_after_a_partial_payment(clerk_client, clerk, tsukumi):
    work = advance_guaranteed(clerk.membership.company)

    with at(HALFWAY):
        response = apply_menu3(clerk_client, work, partial_payment_requested="on")

    assert response.status_code == 400
    shown = field_html(response, "partial_payment_requested")
    assert escape(rules.MSG_INTERMEDIATE_PARTIAL_PAYMENT) in shown
    assert intermediate_application().status == S.DRAFT


def test_menu3_certification_date_may_not_be_in_the_future(clerk_client, clerk, tsukumi):
    work = advance_guaranteed(clerk.membership.company)

    with at(HALFWAY):
        response = apply_menu3(clerk_client, work, certified_on="2025-07-02")

    assert response.status_code == 400
    message = rules.MSG_INTERMEDIATE_CERTIFICATION_FUTURE
    assert escape(message) in field_html(response, "certified_on")


def test_menu3_refused_submission_can_be_corrected_on_the_same_page(clerk_client, clerk, tsukumi):
    work = advance_guaranteed(clerk.membership.company)
    data = menu3_post(work, progress_percent="49")

    with at(HALFWAY):
        refused = clerk_client.post(new_for_work("3", work), data)
        corrected = clerk_client.post(new_for_work("3", work), {**data, "progress_percent": "50"})

    assert refused.status_code == 400
    assert corrected.status_code == 302
    assert intermediate_application().status == S.SUBMITTED


@pytest.mark.parametrize(("menu", "make"), [("2", "contract"), ("3", "advance")])
@pytest.mark.parametrize(("ends", "listed"), [(-1, False), (0, True), (1, True)])
def test_a_work_whose_term_has_ended_is_not_offered(
    clerk_client, clerk, tsukumi, menu, make, ends, listed
):
    """工期 ended yesterday: not offered (rules.check_work_not_ended would refuse it); ending
    today or tomorrow: offered."""
    company = clerk.membership.company
    guaranteed = contract_guaranteed if make == "contract" else advance_guaranteed
    work = guaranteed(company, name="工期の境目の工事")
    today = timezone.localdate()
    Work.objects.filter(pk=work.pk).update(
        start_date=today - datetime.timedelta(days=200),
        end_date=today + datetime.timedelta(days=ends),
    )

    response = clerk_client.get(reverse("applications:choose_work", args=[menu]))

    assert (work.pk in listed_work_pks(response)) is listed
