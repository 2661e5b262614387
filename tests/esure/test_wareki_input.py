"""Dates typed from paper (esure.wareki.parse_date and esure.forms.DayField): 和暦 in 平成
and 令和, abbreviated (R8.4.1), full width, and Gregorian; each era's first and last day."""

import datetime

import pytest
from django import forms

from esure.forms import HELP_DAY, DayField
from esure.wareki import (
    MSG_DATE_FORMAT,
    MSG_DATE_NO_SUCH_DAY,
    MSG_ERA_ENDED,
    MSG_ERA_NOT_STARTED,
    MSG_ERA_UNSUPPORTED,
    MSG_ERA_YEAR_ZERO,
    DateTextError,
    parse_date,
)

D = datetime.date
ACCEPTED = sorted(
    {
        "令和8年4月1日": D(2026, 4, 1),
        "R8.4.1": D(2026, 4, 1),
        "Ｒ８．４．１": D(2026, 4, 1),
        "令和８年４月１日": D(2026, 4, 1),
        "r8.4.1": D(2026, 4, 1),
        "R08/04/01": D(2026, 4, 1),
        "R8-4-1": D(2026, 4, 1),
        "R8年4月1日": D(2026, 4, 1),
        " 令和 8 年 4 月 1 日 ": D(2026, 4, 1),
        "㋿8年4月1日": D(2026, 4, 1),
        "2026-04-01": D(2026, 4, 1),
        "2026/4/1": D(2026, 4, 1),
        "２０２６／４／１": D(2026, 4, 1),
        "２０２６－０４－０１": D(2026, 4, 1),
        "2026.4.1": D(2026, 4, 1),
        "2026年4月1日": D(2026, 4, 1),
        "20260401": D(2026, 4, 1),
        # 元年 and each era's first and last day.
        "令和元年5月1日": D(2019, 5, 1),
        "令和1年5月1日": D(2019, 5, 1),
        "R元.5.1": D(2019, 5, 1),
        "平成31年4月30日": D(2019, 4, 30),
        "H31.4.30": D(2019, 4, 30),
        "平成元年1月8日": D(1989, 1, 8),
        "㍻元年1月8日": D(1989, 1, 8),
        # Leap day.
        "令和8年2月28日": D(2026, 2, 28),
        "令和6年2月29日": D(2024, 2, 29),
    }.items()
)


@pytest.mark.parametrize("text, day", ACCEPTED)
def test_a_date_typed_from_paper_is_read(text, day):
    assert parse_date(text) == day


REFUSED = sorted(
    {
        # The era ended on 平成31年4月30日: the next day is 令和元年5月1日.
        "平成31年5月1日": MSG_ERA_ENDED.format(
            era="平成", last="平成31年4月30日", next_first="令和元年5月1日", next="令和"
        ),
        "H32.1.1": MSG_ERA_ENDED.format(
            era="平成", last="平成31年4月30日", next_first="令和元年5月1日", next="令和"
        ),
        # 令和 began on 令和元年5月1日.
        "令和元年4月30日": MSG_ERA_NOT_STARTED.format(era="令和", first="令和元年5月1日"),
        "平成元年1月7日": MSG_ERA_NOT_STARTED.format(era="平成", first="平成元年1月8日"),
        "令和0年5月1日": MSG_ERA_YEAR_ZERO.format(era="令和"),
        "R0.5.1": MSG_ERA_YEAR_ZERO.format(era="令和"),
        "令和8年2月30日": MSG_DATE_NO_SUCH_DAY.format(text="令和8年2月30日"),
        "令和7年2月29日": MSG_DATE_NO_SUCH_DAY.format(text="令和7年2月29日"),
        "2026-04-31": MSG_DATE_NO_SUCH_DAY.format(text="2026-04-31"),
        "2026/13/1": MSG_DATE_NO_SUCH_DAY.format(text="2026/13/1"),
        "昭和64年1月7日": MSG_ERA_UNSUPPORTED,
        "S60.1.1": MSG_ERA_UNSUPPORTED,
        "明治45年7月29日": MSG_ERA_UNSUPPORTED,
        "令和8年4月": MSG_DATE_FORMAT,
        "4/1": MSG_DATE_FORMAT,
        "26/4/1": MSG_DATE_FORMAT,
        "令和八年四月一日": MSG_DATE_FORMAT,
        "きのう": MSG_DATE_FORMAT,
        "2026-04-01T00:00": MSG_DATE_FORMAT,
        "9" * 5000: MSG_DATE_FORMAT,
    }.items()
)


@pytest.mark.parametrize("text, message", REFUSED, ids=[text[:20] for text, _ in REFUSED])
def test_a_date_that_is_not_one_is_refused_with_why(text, message):
    with pytest.raises(DateTextError) as raised:
        parse_date(text)

    assert str(raised.value) == message


def test_the_messages_read_as_a_clerk_reads_them():
    with pytest.raises(DateTextError) as raised:
        parse_date("平成31年5月1日")
    assert str(raised.value) == (
        "平成は平成31年4月30日までです。令和元年5月1日からは令和で入力してください。"
    )
    with pytest.raises(DateTextError) as raised:
        parse_date("令和0年1月1日")
    assert str(raised.value) == "令和0年はありません（最初の年は令和元年です）。"


class DayForm(forms.Form):
    day = DayField(label="完成日")
    later = DayField(label="予定日", required=False)


def test_the_field_reads_wareki_and_says_which_forms_it_takes():
    form = DayForm(data={"day": "Ｒ８．４．１"})

    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"day": D(2026, 4, 1), "later": None}
    assert DayForm().fields["day"].help_text == HELP_DAY
    for example in ("令和8年4月1日", "R8.4.1", "2026-04-01", "2026/4/1"):
        assert example in HELP_DAY


def test_the_field_shows_the_value_back_as_typed_on_error():
    form = DayForm(data={"day": "平成31年5月1日"})

    assert not form.is_valid()
    assert form.errors["day"] == [
        MSG_ERA_ENDED.format(
            era="平成", last="平成31年4月30日", next_first="令和元年5月1日", next="令和"
        )
    ]
    html = str(form["day"])
    assert 'value="平成31年5月1日"' in html
    assert 'type="text"' in html


def test_the_field_shows_a_saved_date_in_a_form_it_reads_back():
    form = DayForm(initial={"day": D(2026, 4, 1)})

    assert 'value="2026-04-01"' in str(form["day"])
    assert DayForm(data={"day": "2026-04-01"}).is_valid()


def test_an_empty_required_date_says_it_is_required():
    form = DayForm(data={"day": "  "})

    assert not form.is_valid()
    assert form.errors["day"] == [str(forms.Field.default_error_messages["required"])]
