"""The dates beside the amounts (applications.rules; DESIGN.md §4 menu 5, §5.2, §5.4):

1. no 前払金保証 (menus 1, 2) or 中間前払金保証 (menu 3) for a work whose 工期 has ended;
2. a 保証期限変更 sets a new 工期 end that is neither past nor before the start;
3. the 変更契約日 of an 増額, 減額 or 保証期限変更 lies between the original 契約日 and today.

Each rule at its boundary (just under, at, just over), then through the HTTP form: the clerk
reads the message next to the field (menus 2 and 3 show the work instead of asking for it:
there the message is at the top), the input stays, and nothing is submitted.
"""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from applications import services, validation
from applications.models import Application, StatusChange
from applications.rules import (
    MSG_ADVANCE_OVER_MAX,
    MSG_ADVANCE_WORK_ENDED,
    MSG_CHANGE_DATE_BEFORE_CONTRACT,
    MSG_CHANGE_DATE_FUTURE,
    MSG_INTERMEDIATE_WORK_ENDED,
    MSG_NEW_END_BEFORE_START,
    MSG_NEW_END_PAST,
    check_change_contract_date,
    check_new_work_end,
    check_work_not_ended,
    date_ja,
)
from esure.choices import GuaranteeKind
from tests.applications.test_change_views import change_post
from tests.applications.test_menu2_menu3 import (
    END,
    advance_guaranteed,
    at,
    contract_guaranteed,
    menu2_post,
    menu3_post,
    new_for_work,
)
from tests.conftest import (
    MAX_ADVANCE,
    MIN_CONTRACT,
    error_summary_html,
    field_html,
    make_application,
    make_concluded,
    make_staff,
    make_work,
    menu1_post,
)

D = datetime.date
DAY = datetime.timedelta(days=1)
JST = ZoneInfo("Asia/Tokyo")
S = Application.Status
C = Application.ChangeKind
TODAY = D(2026, 11, 30)


def not_submitted(application):
    """Kept as a draft (保存中) with the input, never moved to 手続き中."""
    application.refresh_from_db()
    assert application.status == S.DRAFT
    assert not StatusChange.objects.filter(application=application).exists()


# --- 1. 前払金 / 中間前払金 only while the 工期 runs --------------------------------------------


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (GuaranteeKind.ADVANCE, MSG_ADVANCE_WORK_ENDED),
        (GuaranteeKind.INTERMEDIATE, MSG_INTERMEDIATE_WORK_ENDED),
    ],
)
@pytest.mark.parametrize(
    ("end", "refused"),
    [
        (TODAY - DAY, True),  # ended yesterday
        (TODAY, False),  # the last day of the 工期 still counts
        (TODAY + DAY, False),
    ],
)
def test_an_advance_only_while_the_work_runs(kind, message, end, refused):
    assert check_work_not_ended(kind=kind, end=end, today=TODAY) == ([message] if refused else [])


def test_the_messages_read_as_the_clerk_should_read_them():
    assert MSG_ADVANCE_WORK_ENDED == "工期が終了した工事には前払金保証を申し込めません。"
    assert MSG_INTERMEDIATE_WORK_ENDED == "工期が終了した工事には中間前払金保証を申し込めません。"


def test_a_contract_guarantee_is_not_concerned_by_the_end_of_the_work():
    assert check_work_not_ended(kind=GuaranteeKind.CONTRACT, end=TODAY - DAY, today=TODAY) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("menu", "items", "field", "message"),
    [
        ("1", {GuaranteeKind.ADVANCE: MAX_ADVANCE}, "end_date", MSG_ADVANCE_WORK_ENDED),
        (
            "1",
            {GuaranteeKind.ADVANCE: MAX_ADVANCE, GuaranteeKind.CONTRACT: MIN_CONTRACT},
            "end_date",
            MSG_ADVANCE_WORK_ENDED,
        ),
        ("2", {GuaranteeKind.ADVANCE: MAX_ADVANCE}, "__all__", MSG_ADVANCE_WORK_ENDED),
        ("3", {GuaranteeKind.INTERMEDIATE: 2_000_000}, "__all__", MSG_INTERMEDIATE_WORK_ENDED),
    ],
)
def test_validation_puts_the_message_by_the_end_field_or_at_the_top(
    tsukumi, menu, items, field, message
):
    work = make_work(end_date=TODAY - DAY)
    application = make_application(work=work, menu=menu, items=items)

    assert message in validation.application_errors(application, today=TODAY).get(field, [])
    # The day the 工期 ends, the same application has no message about it.
    errors = validation.application_errors(application, today=TODAY - DAY)
    assert not any(message in messages for messages in errors.values())


@pytest.mark.django_db
def test_validation_leaves_a_contract_guarantee_alone_on_an_ended_work(tsukumi):
    work = make_work(end_date=TODAY - DAY)
    application = make_application(
        work=work, items={GuaranteeKind.CONTRACT: MIN_CONTRACT}, advance_planned=True
    )

    assert validation.application_errors(application, today=TODAY) == {}


@pytest.mark.django_db
def test_an_ended_work_does_not_hide_the_other_rules(tsukumi):
    work = make_work(end_date=TODAY - DAY)
    application = make_application(work=work, items={GuaranteeKind.ADVANCE: 5_000_000})

    errors = validation.application_errors(application, today=TODAY)

    assert errors["end_date"] == [MSG_ADVANCE_WORK_ENDED]
    assert errors["advance_amount"] == [MSG_ADVANCE_OVER_MAX.format(ratio=40, max="4,900,000円")]


# make_work's and menu1_post's default 工期: 2024-10-02〜2025-03-14.
WORK_END = D(2025, 3, 14)


@pytest.mark.parametrize(
    ("today", "refused"),
    [
        (WORK_END + DAY, True),  # the 工期 ended yesterday
        (WORK_END, False),  # its last day
        (WORK_END - DAY, False),
    ],
)
def test_menu1_an_advance_for_an_ended_work_is_refused_next_to_the_end_field(
    clerk_client, tsukumi, today, refused
):
    with at(today):
        response = clerk_client.post(reverse("applications:new", args=["1"]), menu1_post(tsukumi))

    application = Application.objects.get()
    if not refused:
        assert response.status_code == 302
        assert application.status == S.SUBMITTED
        return
    assert response.status_code == 400
    shown = field_html(response, "end_date")
    assert escape(MSG_ADVANCE_WORK_ENDED) in shown
    assert f'value="{WORK_END.isoformat()}"' in shown  # the typed end stays
    assert escape(MSG_ADVANCE_WORK_ENDED) not in field_html(response, "advance_amount")
    not_submitted(application)


def test_menu1_the_live_check_tells_the_ended_work_next_to_the_end_field(clerk_client, tsukumi):
    with at(WORK_END + DAY):
        response = clerk_client.post(reverse("applications:check", args=["1"]), menu1_post(tsukumi))

    assert response.status_code == 200
    assert response.json()["errors"] == {"end_date": [MSG_ADVANCE_WORK_ENDED]}
    assert not Application.objects.exists()


def test_menu2_an_advance_for_an_ended_work_is_refused_at_the_top_of_the_form(
    clerk_client, clerk, tsukumi
):
    work = contract_guaranteed(clerk.membership.company)

    with at(WORK_END + DAY):
        response = clerk_client.post(new_for_work("2", work), menu2_post(work))

    assert response.status_code == 400
    assert escape(MSG_ADVANCE_WORK_ENDED) in error_summary_html(response)
    assert 'value="4,900,000"' in field_html(response, "advance_amount")
    not_submitted(Application.objects.get(menu="2"))


@pytest.mark.parametrize(("today", "refused"), [(END + DAY, True), (END, False)])
def test_menu3_an_intermediate_advance_for_an_ended_work_is_refused(
    clerk_client, clerk, tsukumi, today, refused
):
    # 10,000,000円 for 2025-04-01〜2025-09-30, its 前払金 guaranteed: past half the 工期.
    work = advance_guaranteed(clerk.membership.company)

    with at(today):
        response = clerk_client.post(new_for_work("3", work), menu3_post(work))

    application = Application.objects.get(menu="3")
    if not refused:
        assert response.status_code == 302
        assert application.status == S.SUBMITTED
        return
    assert response.status_code == 400
    assert escape(MSG_INTERMEDIATE_WORK_ENDED) in error_summary_html(response)
    assert 'value="2,000,000"' in field_html(response, "intermediate_amount")
    not_submitted(application)


@pytest.mark.django_db
def test_approval_is_refused_once_the_work_has_ended(clerk, tsukumi):
    """Submitted during the 工期, looked at by staff the day after it ended: the same rule."""
    application = make_application(company=clerk.membership.company, status=S.SUBMITTED)

    with at(WORK_END + DAY), pytest.raises(ValidationError) as refused:
        services.approve_application(application=application, by=make_staff())

    assert refused.value.message_dict == {"end_date": [MSG_ADVANCE_WORK_ENDED]}
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


# --- 2. 保証期限変更: the new 工期 end ------------------------------------------------------


@pytest.mark.parametrize(
    ("new_end", "expected"),
    [
        (TODAY - DAY, [MSG_NEW_END_PAST.format(date="2026年11月30日")]),
        (TODAY, []),  # shortened to end today: still in force today
        (TODAY + DAY, []),
    ],
)
def test_the_new_end_is_not_in_the_past(new_end, expected):
    assert check_new_work_end(new_end=new_end, start=D(2026, 11, 10), today=TODAY) == expected


# A work that has not begun yet: only its start can bite.
LATER_START = D(2026, 12, 10)


@pytest.mark.parametrize(
    ("new_end", "expected"),
    [
        (LATER_START - DAY, [MSG_NEW_END_BEFORE_START.format(date="2026年12月10日")]),
        (LATER_START, []),  # a one-day 工期
        (LATER_START + DAY, []),
    ],
)
def test_the_new_end_is_not_before_the_start(new_end, expected):
    assert check_new_work_end(new_end=new_end, start=LATER_START, today=TODAY) == expected


def test_a_new_end_before_the_start_and_past_gets_one_message():
    start = D(2026, 11, 10)
    assert check_new_work_end(new_end=start - DAY, start=start, today=TODAY) == [
        MSG_NEW_END_BEFORE_START.format(date=date_ja(start))
    ]


# --- 3. 変更契約日 -----------------------------------------------------------------------------

CONTRACT_DATE = D(2026, 11, 1)


@pytest.mark.parametrize(
    ("changed_on", "expected"),
    [
        (CONTRACT_DATE - DAY, [MSG_CHANGE_DATE_BEFORE_CONTRACT.format(date="2026年11月1日")]),
        (CONTRACT_DATE, []),  # amended the day it was concluded
        (CONTRACT_DATE + DAY, []),
        (TODAY - DAY, []),
        (TODAY, []),
        (TODAY + DAY, [MSG_CHANGE_DATE_FUTURE]),
    ],
)
def test_the_change_contract_date_lies_between_the_contract_date_and_today(changed_on, expected):
    assert (
        check_change_contract_date(changed_on=changed_on, contract_date=CONTRACT_DATE, today=TODAY)
        == expected
    )


# --- 2 and 3 through menu 5 -------------------------------------------------------------------

# make_concluded's work, 有効 on TODAY (as in test_change_views.py).
PERIOD = {"contract_date": CONTRACT_DATE, "start_date": D(2026, 11, 10), "end_date": D(2027, 3, 19)}


@pytest.fixture
def advance(clerk, tsukumi):
    """The clerk's company's concluded 前払金保証 of 4,900,000円, concluded on TODAY."""
    with at(TODAY):
        (guarantee,) = make_concluded(company=clerk.membership.company, **PERIOD)
    return guarantee


def post_change(client, guarantee, **overrides):
    with at(TODAY):
        return client.post(
            reverse("applications:new_change", args=[guarantee.number]),
            change_post(
                guarantee,
                **{
                    "change_contract_date": "2026-11-25",
                    "new_end_date": "2027-06-30",
                    **overrides,
                },
            ),
        )


@pytest.mark.parametrize(("new_end", "refused"), [("2026-11-29", True), ("2026-11-30", False)])
def test_menu5_a_new_end_in_the_past_is_refused_next_to_the_field(
    clerk_client, advance, new_end, refused
):
    response = post_change(clerk_client, advance, new_end_date=new_end)

    application = Application.objects.get(guarantee=advance)
    if not refused:
        assert response.status_code == 302
        assert application.status == S.SUBMITTED
        return
    assert response.status_code == 400
    shown = field_html(response, "new_end_date")
    assert escape(MSG_NEW_END_PAST.format(date="2026年11月30日")) in shown
    assert f'value="{new_end}"' in shown
    not_submitted(application)


@pytest.mark.parametrize(
    ("changed_on", "message"),
    [
        ("2026-10-31", MSG_CHANGE_DATE_BEFORE_CONTRACT.format(date="2026年11月1日")),
        ("2026-11-01", None),
        ("2026-11-30", None),
        ("2026-12-01", MSG_CHANGE_DATE_FUTURE),
    ],
)
def test_menu5_the_change_contract_date_is_refused_next_to_the_field(
    clerk_client, advance, changed_on, message
):
    response = post_change(clerk_client, advance, change_contract_date=changed_on)

    application = Application.objects.get(guarantee=advance)
    if message is None:
        assert response.status_code == 302
        assert application.status == S.SUBMITTED
        return
    assert response.status_code == 400
    shown = field_html(response, "change_contract_date")
    assert escape(message) in shown
    assert f'value="{changed_on}"' in shown
    not_submitted(application)


def test_menu5_the_live_check_tells_both_dates_as_they_are_typed(clerk_client, advance):
    data = change_post(
        advance,
        change_contract_date="2026-12-01",
        new_end_date="2026-11-29",
        contact_name="",  # not typed yet: the dates are told all the same
    )

    with at(TODAY):
        response = clerk_client.post(reverse("applications:check", args=["5"]), data)

    errors = response.json()["errors"]
    assert errors["change_contract_date"] == [MSG_CHANGE_DATE_FUTURE]
    assert errors["new_end_date"] == [MSG_NEW_END_PAST.format(date="2026年11月30日")]
    assert not Application.objects.filter(guarantee=advance).exists()


@pytest.mark.parametrize(
    ("kind", "values", "dated"),
    [
        (C.INCREASE, {"new_price": 14_000_000, "amount": 5_600_000}, True),
        (C.DECREASE, {"new_price": 10_000_000, "amount": 4_000_000}, True),
        (C.PERIOD, {"new_end_date": D(2027, 6, 30)}, True),
        # A 解約 carries no 変更契約日: a stray value is not looked at.
        (C.CANCEL, {"cancel_reason": "工事中止"}, False),
    ],
)
def test_every_change_with_a_change_contract_date_has_it_checked(
    clerk, advance, kind, values, dated
):
    values = dict(values)
    amount = values.pop("amount", MAX_ADVANCE)
    application = Application(
        company=advance.company,
        work=advance.work,
        menu=Application.Menu.CHANGE,
        guarantee=advance,
        change_kind=kind,
        change_contract_date=TODAY + DAY,
        contact_name="大分 花子",
        contact_phone="0972-82-1234",
        created_by=clerk,
        **values,
    )

    errors = validation.change_errors(
        application, amounts={GuaranteeKind.ADVANCE: amount}, today=TODAY
    )

    assert errors == ({"change_contract_date": [MSG_CHANGE_DATE_FUTURE]} if dated else {})
