"""Throttling of D-Sure lookups (DESIGN.md §6, docs/decisions/0004 and 0008), counted from the
access log. Per number — existing or not — every wrong key counts, whatever answer it got; at
100 the number locks for ESURE_DSURE_LOCK_HOURS (or until staff clear it) and staff are alerted
at once. Per (number, client) a wait of 1, 2, 4 … s (at most an hour) after 10 failures, so a
stranger delays only the stranger. Office users of the guarantee's orderer are never delayed or
locked by others. Per address a soft limit that stops wrong keys but lets right keys in, and a
hard ceiling past which attempts are refused and counted without a row each. Alerts on one
address trying many numbers, a spike of failures, a lock.

The bulk of the failures is inserted with bulk_create (they are the throttle's memory); the
attempts at each boundary go through the entry page."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from certificates import services as registry
from certificates.numbering import format_number, make_number
from dsure import services, throttle
from dsure.models import AccessLog, Alert, LockClear, NumberLock
from esure.choices import GuaranteeKind
from tests.conftest import NOW, advance_office, dsure_lookup, make_office_user, make_orderer

WRONG_KEY = "ABCD-EFGH-JKMN-PQRS"
UNKNOWN = make_number(8, GuaranteeKind.ADVANCE, 9_999_999)  # valid check digit, never issued
CITY_IP = "203.0.113.5"  # a city's shared outbound address
OTHER_IP = "198.51.100.20"  # a stranger
SECOND = datetime.timedelta(seconds=1)
HOUR = datetime.timedelta(hours=1)
JUST_BEFORE = datetime.timedelta(microseconds=1)
Outcome = AccessLog.Outcome


@pytest.fixture(params=["existing number", "unknown number"])
def target(request):
    """(number, right key or None): the throttle treats a number that does not exist exactly
    like one that does, so that a lock or a wait reveals nothing."""
    if request.param == "unknown number":
        request.getfixturevalue("db")
        return UNKNOWN, None
    guarantee = request.getfixturevalue("guarantee")
    return guarantee.number, registry.current_key(guarantee)


def past_failures(number, count, *, last_at, ip=OTHER_IP, step=SECOND):
    """`count` failures of `number`, one per `step`, the last at `last_at` (as if typed)."""
    AccessLog.objects.bulk_create(
        AccessLog(
            at=last_at - step * (count - 1 - i), ip=ip, number=number, outcome=Outcome.FAILURE
        )
        for i in range(count)
    )


def attempt(number, key, ip=OTHER_IP, browser=None):
    """One attempt from a fresh browser (or `browser`): the message it reads, or "OK"."""
    response = dsure_lookup(browser or Client(), format_number(number), key, REMOTE_ADDR=ip)
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert response["Location"] == reverse("dsure:viewer", args=[number])
        return "OK"
    html = response.content.decode()
    assert key.replace("-", "") not in html.replace("-", "")  # never echoed, right or wrong
    said = [name for name, msg in services.MESSAGES.items() if msg in html]
    assert len(said) == 1, said
    return said[0]


def last_outcome(number):
    return AccessLog.objects.filter(number=number).order_by("-pk").first().outcome


def listed(response, number):
    """The number is a row of the throttled list (shown, with its clear button)."""
    html = response.content.decode()
    row = f"<td>{format_number(number)}</td>" in html
    button = f'name="number" value="{number}"' in html
    assert row == button
    return row


def lock_by_strangers(number):
    """99 strangers' failures an hour ago, then the 100th through the page: the number locks."""
    past_failures(number, throttle.LOCK_AT - 1, last_at=NOW - throttle.MAX_DELAY)
    assert attempt(number, WRONG_KEY) is NO_MATCH
    assert throttle.number_state(number).locked


NO_MATCH, WAIT, LOCKED = services.Result.NO_MATCH, services.Result.WAIT, services.Result.LOCKED


# --- Per (number, client): the growing delay ---------------------------------------------------


def test_failures_up_to_ten_are_answered_at_once_then_the_wait_doubles(target, frozen):
    number, right_key = target
    for n in range(1, throttle.DELAY_AFTER + 1):  # 1..10: no wait, all evaluated
        assert attempt(number, WRONG_KEY) is NO_MATCH, n
    assert throttle.number_state(number).failures == throttle.DELAY_AFTER

    # The 11th, at once: refused unchecked, logged as throttled and not counted.
    assert attempt(number, WRONG_KEY) is WAIT
    assert last_outcome(number) == Outcome.THROTTLED
    assert throttle.number_state(number).failures == throttle.DELAY_AFTER
    if right_key:  # during the wait even the right key waits — from this client
        assert attempt(number, right_key) is WAIT

    last = NOW
    for wait in (1, 2, 4, 8):
        frozen.move_to(last + wait * SECOND - JUST_BEFORE)
        assert attempt(number, WRONG_KEY) is WAIT, f"{wait} s"
        frozen.move_to(last + wait * SECOND)
        assert attempt(number, WRONG_KEY) is NO_MATCH, f"{wait} s"
        last += wait * SECOND
    assert throttle.number_state(number).failures == throttle.DELAY_AFTER + 4
    assert AccessLog.objects.filter(number=number, outcome=Outcome.THROTTLED).count() == (
        1 + 4 + (1 if right_key else 0)
    )


def test_a_strangers_failures_never_delay_the_city(target):
    number, right_key = target
    past_failures(number, throttle.LOCK_AT - 2, last_at=NOW)  # 98, the last just now
    assert attempt(number, WRONG_KEY, ip=OTHER_IP) is WAIT  # the stranger waits

    if right_key:  # the city, from its own address, opens at once
        assert attempt(number, right_key, ip=CITY_IP) == "OK"
    else:  # and its typo is answered at once, as any first failure
        assert attempt(number, WRONG_KEY, ip=CITY_IP) is NO_MATCH


def test_the_wait_is_at_most_an_hour(target, frozen):
    number, _ = target
    past_failures(number, 50, last_at=NOW)  # 2^40 s uncapped
    frozen.move_to(NOW + HOUR - JUST_BEFORE)  # docs/decisions/0004: capped at 1 h
    assert attempt(number, WRONG_KEY) is WAIT
    frozen.move_to(NOW + HOUR)
    assert attempt(number, WRONG_KEY) is NO_MATCH


def test_a_success_resets_the_count(guarantee, frozen):
    number, key = guarantee.number, registry.current_key(guarantee)
    past_failures(number, 9, last_at=NOW - 10 * SECOND)
    assert attempt(number, key) == "OK"

    frozen.move_to(NOW + SECOND)
    for _ in range(9):
        assert attempt(number, WRONG_KEY) is NO_MATCH
    # 18 failures in all, but only 9 since the success: the 10th is answered at once.
    assert attempt(number, WRONG_KEY) is NO_MATCH
    assert attempt(number, WRONG_KEY) is WAIT


# --- Per number: the lock ------------------------------------------------------------------------


def test_at_one_hundred_failures_the_number_locks_and_staff_are_alerted_at_once(target):
    number, right_key = target
    past_failures(number, throttle.LOCK_AT - 1, last_at=NOW - throttle.MAX_DELAY)
    assert not Alert.objects.exists()

    assert attempt(number, WRONG_KEY) is NO_MATCH  # the 100th failure: evaluated, then locked
    [alert] = Alert.objects.all()
    assert (alert.kind, alert.subject, alert.at) == (Alert.Kind.NUMBER_LOCKED, number, NOW)
    [lock] = NumberLock.objects.all()
    assert (lock.number, lock.at, lock.until) == (number, NOW, NOW + 24 * HOUR)

    # Locked for everyone: a wrong key and the right key, from any address.
    assert attempt(number, WRONG_KEY, ip=CITY_IP) is LOCKED
    if right_key:
        assert attempt(number, right_key, ip=CITY_IP) is LOCKED
    assert last_outcome(number) == Outcome.LOCKED
    assert throttle.number_state(number).failures == throttle.LOCK_AT  # refusals not counted
    assert Alert.objects.count() == 1  # refused attempts raise no further alert


def test_the_lock_ends_by_itself_after_the_set_hours(target, frozen, settings):
    settings.ESURE_DSURE_LOCK_HOURS = 6
    number, right_key = target
    lock_by_strangers(number)

    frozen.move_to(NOW + 6 * HOUR - JUST_BEFORE)
    assert attempt(number, WRONG_KEY, ip=CITY_IP) is LOCKED
    frozen.move_to(NOW + 6 * HOUR)
    if right_key:
        assert attempt(number, right_key, ip=CITY_IP) == "OK"
    else:
        assert attempt(number, WRONG_KEY, ip=CITY_IP) is NO_MATCH
    # The count starts again after the lock: 100 more before the next one.
    frozen.shift(SECOND)  # (the clock is frozen: a later attempt)
    assert attempt(number, WRONG_KEY, ip=CITY_IP) is NO_MATCH
    assert throttle.number_state(number).failures == 1
    assert not throttle.number_state(number).locked


def test_every_wrong_key_counts_against_its_number_whatever_the_answer(guarantee):
    """An address over its soft limit is answered "wait" for a wrong key — and the key still
    counts against the number: 500 of them must lock it like any others."""
    number = guarantee.number
    failures_on_many_numbers(throttle.IP_SOFT_LIMIT, ip=CITY_IP, at=NOW - 60 * SECOND)
    past_failures(number, throttle.LOCK_AT - 1, last_at=NOW - throttle.MAX_DELAY)

    assert attempt(number, WRONG_KEY, ip=CITY_IP) is WAIT  # the answer of the soft limit…
    assert last_outcome(number) == Outcome.FAILURE  # …but counted: the 100th locks
    assert throttle.number_state(number).locked
    assert Alert.objects.filter(kind=Alert.Kind.NUMBER_LOCKED, subject=number).exists()


# --- Office users of the guarantee's orderer -----------------------------------------------------


@pytest.fixture
def official(tsukumi):
    """An official with an account at 津久見市 (the guarantee's orderer)."""
    browser = Client()
    browser.force_login(make_office_user(advance_office(tsukumi)))
    return browser


def test_the_orderers_office_users_are_never_locked_or_delayed_by_others(guarantee, official):
    number, key = guarantee.number, registry.current_key(guarantee)
    lock_by_strangers(number)
    assert attempt(number, key, ip=CITY_IP) is LOCKED  # a colleague without an account

    assert attempt(number, key, ip=CITY_IP, browser=official) == "OK"
    assert attempt(number, WRONG_KEY, ip=CITY_IP, browser=official) is NO_MATCH  # a typo


def test_another_orderers_office_user_is_locked_out_like_anyone(guarantee, db):
    other = Client()
    other.force_login(make_office_user(advance_office(make_orderer("佐伯市"))))
    lock_by_strangers(guarantee.number)
    assert attempt(guarantee.number, registry.current_key(guarantee), browser=other) is LOCKED


def test_an_office_user_waits_for_their_own_failures_only(guarantee, official, frozen):
    number, key = guarantee.number, registry.current_key(guarantee)
    for _ in range(throttle.DELAY_AFTER):
        assert attempt(number, WRONG_KEY, ip=CITY_IP, browser=official) is NO_MATCH
    assert attempt(number, key, ip=CITY_IP, browser=official) is WAIT  # their own limit
    assert last_outcome(number) == Outcome.THROTTLED
    frozen.shift(SECOND)
    assert attempt(number, key, ip=CITY_IP, browser=official) == "OK"


# --- Staff's list ---------------------------------------------------------------------------------


def test_staff_see_a_lock_whatever_its_age_and_clear_it_by_typing_the_number(
    target, frozen, settings, staff, client_for
):
    settings.ESURE_DSURE_LOCK_HOURS = 24 * 60  # an operator's long lock: 60 days
    number, right_key = target
    lock_by_strangers(number)
    frozen.move_to(NOW + datetime.timedelta(days=40))  # long past the list's 30-day look-back

    admin = client_for(staff)
    listing = admin.get(reverse("admin:dsure_accesslog_throttled"))
    assert listed(listing, number)
    assert "ロック中" in listing.content.decode()

    typed = format_number(number).translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    response = admin.post(
        reverse("admin:dsure_accesslog_clear"), {"number": typed, "note": "津久見市に確認済"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:dsure_accesslog_throttled")
    clearance = LockClear.objects.get(number=number)
    assert (clearance.by, clearance.note) == (staff, "津久見市に確認済")
    listing = admin.get(reverse("admin:dsure_accesslog_throttled"), follow=True)
    assert not listed(listing, number)
    assert "の入力制限を解除しました" in listing.content.decode()

    frozen.shift(SECOND)  # the clock is frozen: the next attempt comes after the clearance
    if right_key:
        assert attempt(number, right_key) == "OK"
    else:
        assert attempt(number, WRONG_KEY) is NO_MATCH
        assert throttle.number_state(number).failures == 1


def test_a_mistyped_number_clears_nothing(db, client_for, staff):
    response = client_for(staff).post(
        reverse("admin:dsure_accesslog_clear"), {"number": "08-1-9999999-0"}, follow=True
    )
    assert "保証契約番号を確認してください" in response.content.decode()
    assert not LockClear.objects.exists()


def test_numbers_with_many_failures_are_listed_before_any_lock(target, client_for, staff):
    number, _ = target
    past_failures(number, throttle.DELAY_AFTER - 1, last_at=NOW)
    listing = client_for(staff).get(reverse("admin:dsure_accesslog_throttled"))
    assert not listed(listing, number)  # 9: not yet
    past_failures(number, 1, last_at=NOW)
    listing = client_for(staff).get(reverse("admin:dsure_accesslog_throttled"))
    assert listed(listing, number)
    assert "送信元ごとに待機" in listing.content.decode()


# --- Per address ----------------------------------------------------------------------------------


def failures_on_many_numbers(count, *, ip, at):
    """`count` failures from `ip`, each on another (valid, unknown) number."""
    AccessLog.objects.bulk_create(
        AccessLog(
            at=at,
            ip=ip,
            number=make_number(7, GuaranteeKind.CONTRACT, 1_000_000 + i),
            outcome=Outcome.FAILURE,
        )
        for i in range(count)
    )


def test_past_the_soft_limit_wrong_keys_wait_but_right_keys_open(guarantee, frozen):
    number, key = guarantee.number, registry.current_key(guarantee)
    failures_on_many_numbers(throttle.IP_SOFT_LIMIT - 1, ip=CITY_IP, at=NOW - 5 * 60 * SECOND)

    assert attempt(number, WRONG_KEY, ip=CITY_IP) is NO_MATCH  # the 50th failure
    assert attempt(number, WRONG_KEY, ip=CITY_IP) is WAIT
    assert last_outcome(number) == Outcome.FAILURE  # answered "wait", counted all the same
    assert attempt(number, key, ip=CITY_IP) == "OK"  # a colleague with the right key
    assert attempt(number, WRONG_KEY, ip=OTHER_IP) is NO_MATCH  # another city: unaffected

    # The window is ten minutes: once the bulk is older, wrong keys are answered again.
    frozen.move_to(NOW + 5 * 60 * SECOND - JUST_BEFORE)
    assert attempt(number, WRONG_KEY, ip=CITY_IP) is WAIT
    frozen.move_to(NOW + 5 * 60 * SECOND)
    assert attempt(number, WRONG_KEY, ip=CITY_IP) is NO_MATCH


def test_past_the_hard_ceiling_attempts_are_refused_and_counted_in_one_row(guarantee):
    number, key = guarantee.number, registry.current_key(guarantee)
    failures_on_many_numbers(throttle.IP_HARD_LIMIT, ip=OTHER_IP, at=NOW - 60 * SECOND)
    rows_before = AccessLog.objects.count()

    for _ in range(5):
        assert attempt(number, WRONG_KEY, ip=OTHER_IP) is WAIT
    assert attempt(number, key, ip=OTHER_IP) is WAIT  # refused unchecked: even a right key

    assert AccessLog.objects.count() == rows_before + 1  # one row, not six
    [row] = AccessLog.objects.filter(number=number)
    assert (row.ip, row.outcome, row.attempts, row.at) == (OTHER_IP, Outcome.REFUSED, 6, NOW)
    assert throttle.number_state(number).failures == 6  # counted against the number
    assert attempt(number, key, ip=CITY_IP) == "OK"  # another address: unaffected


def test_refusals_past_the_ceiling_lock_the_number_at_one_hundred(guarantee):
    number = guarantee.number
    failures_on_many_numbers(throttle.IP_HARD_LIMIT, ip=OTHER_IP, at=NOW - 60 * SECOND)
    past_failures(number, throttle.LOCK_AT - 1, last_at=NOW - throttle.MAX_DELAY, ip=CITY_IP)

    assert attempt(number, WRONG_KEY, ip=OTHER_IP) is WAIT
    assert throttle.number_state(number).locked
    assert attempt(number, registry.current_key(guarantee), ip=CITY_IP) is LOCKED


# --- Alerts ---------------------------------------------------------------------------------------


def test_one_ip_failing_on_many_numbers_raises_one_alert(db):
    failures_on_many_numbers(throttle.IP_ALERT_NUMBERS - 2, ip=CITY_IP, at=NOW - 60 * SECOND)
    assert attempt(UNKNOWN, WRONG_KEY, ip=CITY_IP) is NO_MATCH  # 19 numbers
    assert not Alert.objects.exists()

    other = make_number(8, GuaranteeKind.INTERMEDIATE, 9_999_999)
    assert attempt(other, WRONG_KEY, ip=CITY_IP) is NO_MATCH  # 20 numbers
    third = make_number(8, GuaranteeKind.CONTRACT, 9_999_999)
    assert attempt(third, WRONG_KEY, ip=CITY_IP) is NO_MATCH  # 21: still one alert

    [alert] = Alert.objects.all()
    assert (alert.kind, alert.subject) == (Alert.Kind.IP_MANY_NUMBERS, CITY_IP)
    assert alert.acknowledged_at is None


def test_a_spike_of_failures_raises_one_alert(db):
    AccessLog.objects.bulk_create(
        AccessLog(
            at=NOW - 60 * SECOND,
            ip=f"198.51.100.{i % 250}",
            number=UNKNOWN,
            outcome=Outcome.FAILURE,
        )
        for i in range(throttle.SPIKE_FAILURES - 2)
    )
    other = make_number(8, GuaranteeKind.INTERMEDIATE, 9_999_999)
    assert attempt(other, WRONG_KEY, ip=CITY_IP) is NO_MATCH  # 499
    assert not Alert.objects.filter(kind=Alert.Kind.FAILURE_SPIKE).exists()
    assert attempt(other, WRONG_KEY, ip=CITY_IP) is NO_MATCH  # 500
    assert attempt(other, WRONG_KEY, ip=CITY_IP) is NO_MATCH  # 501
    assert Alert.objects.filter(kind=Alert.Kind.FAILURE_SPIKE).count() == 1
