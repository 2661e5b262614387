"""Throttling of D-Sure lookups (DESIGN.md §6, docs/decisions/0004), counted from the access
log: per number — existing or not — a wait of 1, 2, 4 … s (at most an hour) after 10
consecutive failures and a lock at 100 until staff clear it; a success or a clearance resets
the count. Per IP a soft limit that stops wrong keys but lets right keys in. Alerts on one IP
trying many numbers, a spike of failures, a lock.

The bulk of the failures is inserted with bulk_create (they are the throttle's memory); the
attempts at each boundary go through the entry page."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from certificates import services as registry
from certificates.numbering import format_number, make_number
from dsure import services, throttle
from dsure.models import AccessLog, Alert, LockClear
from esure.choices import GuaranteeKind
from tests.conftest import NOW, dsure_lookup

WRONG_KEY = "ABCD-EFGH-JKMN-PQRS"
UNKNOWN = make_number(8, GuaranteeKind.ADVANCE, 9_999_999)  # valid check digit, never issued
CITY_IP = "203.0.113.5"  # a city's shared outbound address
OTHER_IP = "198.51.100.20"
SECOND = datetime.timedelta(seconds=1)
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


def attempt(number, key, ip=OTHER_IP):
    """One attempt from a fresh browser: the message it reads (or "OK" for the viewer)."""
    response = dsure_lookup(Client(), format_number(number), key, REMOTE_ADDR=ip)
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


def outcomes(number):
    return list(AccessLog.objects.filter(number=number).order_by("pk").values_list("outcome"))


def listed(response, number):
    """The number is a row of the throttled list (shown, with its clear button)."""
    html = response.content.decode()
    row = f"<td>{format_number(number)}</td>" in html
    button = f'name="number" value="{number}"' in html
    assert row == button
    return row


NO_MATCH, WAIT, LOCKED = services.Result.NO_MATCH, services.Result.WAIT, services.Result.LOCKED


def test_failures_up_to_ten_are_answered_at_once_then_the_wait_doubles(target, frozen):
    number, right_key = target
    for n in range(1, throttle.DELAY_AFTER + 1):  # 1..10: no wait, all evaluated
        assert attempt(number, WRONG_KEY) is NO_MATCH, n
    assert throttle.number_state(number).failures == throttle.DELAY_AFTER

    # The 11th, at once: refused, logged as throttled and not counted as a failure.
    assert attempt(number, WRONG_KEY) is WAIT
    assert last_outcome(number) == Outcome.THROTTLED
    assert throttle.number_state(number).failures == throttle.DELAY_AFTER
    if right_key:  # during the wait even the right key waits
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


def test_the_wait_is_at_most_an_hour(target, frozen):
    number, _ = target
    past_failures(number, 50, last_at=NOW)  # 2^40 s uncapped
    hour = datetime.timedelta(hours=1)  # docs/decisions/0004: capped at 1 h
    frozen.move_to(NOW + hour - JUST_BEFORE)
    assert attempt(number, WRONG_KEY) is WAIT
    frozen.move_to(NOW + hour)
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


def test_at_one_hundred_failures_the_number_locks_until_staff_clear_it(
    target, frozen, staff, client_for
):
    number, right_key = target
    past_failures(number, throttle.LOCK_AT - 1, last_at=NOW - throttle.MAX_DELAY)
    assert not Alert.objects.exists()

    assert attempt(number, WRONG_KEY) is NO_MATCH  # the 100th failure: evaluated, then locked
    [alert] = Alert.objects.all()
    assert (alert.kind, alert.subject) == (Alert.Kind.NUMBER_LOCKED, number)

    frozen.move_to(NOW + datetime.timedelta(days=3))  # no wait ends a lock
    assert attempt(number, WRONG_KEY) is LOCKED
    if right_key:
        assert attempt(number, right_key) is LOCKED
    assert last_outcome(number) == Outcome.LOCKED
    assert throttle.number_state(number).failures == throttle.LOCK_AT
    assert Alert.objects.count() == 1  # refused attempts raise no further alert

    # Staff see the number in the throttled list and clear it.
    admin = client_for(staff)
    listing = admin.get(reverse("admin:dsure_accesslog_throttled"))
    assert listing.status_code == 200
    assert listed(listing, number)
    assert "ロック中" in listing.content.decode()
    response = admin.post(
        reverse("admin:dsure_accesslog_clear"), {"number": number, "note": "津久見市に確認済"}
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


def test_the_wait_shows_in_the_throttled_list(target, client_for, staff):
    number, _ = target
    past_failures(number, throttle.DELAY_AFTER - 1, last_at=NOW)
    listing = client_for(staff).get(reverse("admin:dsure_accesslog_throttled"))
    assert not listed(listing, number)  # 9: not throttled yet
    past_failures(number, 1, last_at=NOW)
    listing = client_for(staff).get(reverse("admin:dsure_accesslog_throttled"))
    assert listed(listing, number)
    assert "まで待機" in listing.content.decode()


# --- Per IP -------------------------------------------------------------------------------------


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


def test_past_the_ip_soft_limit_wrong_keys_wait_but_right_keys_open(guarantee, frozen):
    number, key = guarantee.number, registry.current_key(guarantee)
    failures_on_many_numbers(throttle.IP_SOFT_LIMIT - 1, ip=CITY_IP, at=NOW - 5 * 60 * SECOND)

    assert attempt(number, WRONG_KEY, ip=CITY_IP) is NO_MATCH  # the 50th failure
    assert attempt(number, WRONG_KEY, ip=CITY_IP) is WAIT
    assert last_outcome(number) == Outcome.THROTTLED
    assert attempt(number, key, ip=CITY_IP) == "OK"  # a colleague with the right key
    assert attempt(number, WRONG_KEY, ip=OTHER_IP) is NO_MATCH  # another city: unaffected

    # The window is ten minutes: once the bulk is older, wrong keys are evaluated again.
    frozen.move_to(NOW + 5 * 60 * SECOND - JUST_BEFORE)
    assert attempt(number, WRONG_KEY, ip=CITY_IP) is WAIT
    frozen.move_to(NOW + 5 * 60 * SECOND)
    assert attempt(number, WRONG_KEY, ip=CITY_IP) is NO_MATCH


# --- Alerts -------------------------------------------------------------------------------------


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
