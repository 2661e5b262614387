"""D-Sure in admin (dsure/admin.py): the access log (number, IP, outcome — never a key), the
numbers under throttling with their clear button, the alerts and their 確認済にする action.
Surety staff only."""

import datetime

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.admin import helpers
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certificates import services as registry
from certificates.numbering import format_number
from dsure import throttle
from dsure.models import AccessLog, Alert, LockClear
from tests.conftest import (
    NOW,
    advance_office,
    dsure_lookup,
    make_office_user,
    make_user,
)

CITY_IP = "203.0.113.5"
WRONG_KEY = "ABCD-EFGH-JKMN-PQRS"


@pytest.fixture
def staff_client(staff, client_for):
    return client_for(staff)


def key_forms(key):
    plain = key.replace("-", "")
    return {key, plain, key.lower(), plain.lower(), " ".join(key.split("-"))}


def test_the_access_log_shows_number_ip_and_outcome_never_a_key(guarantee, staff_client, tsukumi):
    key = registry.current_key(guarantee)
    official = make_office_user(advance_office(tsukumi), email="doboku@city.tsukumi.example.jp")
    city = Client()
    city.force_login(official)
    dsure_lookup(city, guarantee.number_display, WRONG_KEY, REMOTE_ADDR=CITY_IP)
    dsure_lookup(city, guarantee.number_display, key, REMOTE_ADDR=CITY_IP)

    response = staff_client.get(reverse("admin:dsure_accesslog_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert format_number(guarantee.number) in html
    assert CITY_IP in html
    assert "不一致" in html and "成功" in html
    assert official.email in html
    for form in key_forms(key) | key_forms(WRONG_KEY):
        assert html.count(form) == 0, form
        assert html.upper().count(form.upper()) == 0, form

    # Searching by number or IP finds the rows (exact match on the indexed columns).
    found = staff_client.get(reverse("admin:dsure_accesslog_changelist"), {"q": CITY_IP})
    assert format_number(guarantee.number) in found.content.decode()
    row = AccessLog.objects.first()
    detail = staff_client.get(reverse("admin:dsure_accesslog_change", args=[row.pk]))
    assert detail.status_code == 200
    for form in key_forms(key) | key_forms(WRONG_KEY):
        assert form.upper() not in detail.content.decode().upper()


def test_the_access_log_is_read_only(guarantee, staff_client):
    dsure_lookup(Client(), guarantee.number_display, WRONG_KEY)
    row = AccessLog.objects.get()
    assert staff_client.get(reverse("admin:dsure_accesslog_add")).status_code == 403
    assert (
        staff_client.get(reverse("admin:dsure_accesslog_delete", args=[row.pk])).status_code == 403
    )
    response = staff_client.post(
        reverse("admin:dsure_accesslog_change", args=[row.pk]), {"outcome": "success"}
    )
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.outcome == AccessLog.Outcome.FAILURE


def test_the_throttled_list_links_from_the_log_and_clears(db, staff, staff_client):
    number = "08199999993"
    AccessLog.objects.bulk_create(
        AccessLog(
            at=NOW - datetime.timedelta(seconds=i),
            ip=CITY_IP,
            number=number,
            outcome=AccessLog.Outcome.FAILURE,
        )
        for i in range(throttle.DELAY_AFTER)
    )
    log = staff_client.get(reverse("admin:dsure_accesslog_changelist")).content.decode()
    assert reverse("admin:dsure_accesslog_throttled") in log

    listing = staff_client.get(reverse("admin:dsure_accesslog_throttled"))
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "入力制限中の保証契約番号" in html
    assert f"<td>{format_number(number)}</td>" in html
    assert f"<td>{throttle.DELAY_AFTER}</td>" in html

    assert staff_client.get(reverse("admin:dsure_accesslog_clear")).status_code == 405
    # A value that is not a number clears nothing.
    staff_client.post(reverse("admin:dsure_accesslog_clear"), {"number": "' OR 1=1 --"})
    assert not LockClear.objects.exists()
    staff_client.post(reverse("admin:dsure_accesslog_clear"), {"number": number})
    assert LockClear.objects.get().by == staff
    listing = staff_client.get(reverse("admin:dsure_accesslog_throttled"))
    assert "入力制限中の番号はありません" in listing.content.decode()


def test_alerts_are_listed_and_acknowledged(db, staff_client):
    one = Alert.objects.create(
        kind=Alert.Kind.IP_MANY_NUMBERS, subject=CITY_IP, detail=f"{CITY_IP} から 10 分間に 20 件"
    )
    two = Alert.objects.create(
        kind=Alert.Kind.NUMBER_LOCKED, subject="08199999993", detail="ロックされました"
    )
    url = reverse("admin:dsure_alert_changelist")
    html = staff_client.get(url).content.decode()
    assert CITY_IP in html and "08199999993" in html
    assert "1つのIPから多数の番号" in html and "番号のロック" in html
    assert "確認済にする" in html

    response = staff_client.post(
        url, {"action": "acknowledge", helpers.ACTION_CHECKBOX_NAME: [one.pk]}, follow=True
    )
    assert "1件を確認済にしました" in response.content.decode()
    one.refresh_from_db()
    two.refresh_from_db()
    assert one.acknowledged_at == NOW
    assert two.acknowledged_at is None

    # Acknowledging again keeps the first time.
    later = staff_client.post(
        url, {"action": "acknowledge", helpers.ACTION_CHECKBOX_NAME: [one.pk, two.pk]}
    )
    assert later.status_code == 302
    one.refresh_from_db()
    two.refresh_from_db()
    assert one.acknowledged_at == NOW and two.acknowledged_at == NOW

    # Fields stay read-only: a change POST does not rewrite the alert.
    staff_client.post(
        reverse("admin:dsure_alert_change", args=[one.pk]), {"subject": "x", "detail": "y"}
    )
    one.refresh_from_db()
    assert one.subject == CITY_IP


def staff_without_permissions():
    """A staff member (TOTP set up) with no model permissions at all, e.g. a new 審査担当
    before their group is assigned."""
    user = make_user(is_staff=True)
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    return user


def assert_nothing_changed(alert):
    assert not LockClear.objects.exists()
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


@pytest.mark.parametrize("who", ["anonymous", "clerk", "office user"])
def test_non_staff_cannot_reach_these(db, tsukumi, clerk, who):
    browser = Client()
    if who != "anonymous":
        user = clerk if who == "clerk" else make_office_user(advance_office(tsukumi))
        browser.force_login(user)
    alert = Alert.objects.create(kind=Alert.Kind.FAILURE_SPIKE, subject="all", detail="spike")
    urls = [
        reverse("admin:dsure_accesslog_changelist"),
        reverse("admin:dsure_accesslog_throttled"),
        reverse("admin:dsure_alert_changelist"),
        reverse("admin:dsure_lockclear_changelist"),
    ]
    for url in urls:
        response = browser.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url
    response = browser.post(reverse("admin:dsure_accesslog_clear"), {"number": "08199999993"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    browser.post(
        reverse("admin:dsure_alert_changelist"),
        {"action": "acknowledge", helpers.ACTION_CHECKBOX_NAME: [alert.pk]},
    )
    assert_nothing_changed(alert)


def test_staff_without_dsure_permissions_see_and_clear_nothing(db):
    """Admin's rule: each page needs its model permission. The throttled list, its clear
    button and the alerts are admin views like the others."""
    browser = Client()
    browser.force_login(staff_without_permissions())
    alert = Alert.objects.create(kind=Alert.Kind.FAILURE_SPIKE, subject="all", detail="spike")
    answers = {
        url: browser.get(url).status_code
        for url in (
            reverse("admin:dsure_accesslog_changelist"),
            reverse("admin:dsure_alert_changelist"),
            reverse("admin:dsure_accesslog_throttled"),
        )
    }
    clear = reverse("admin:dsure_accesslog_clear")
    answers[clear] = browser.post(clear, {"number": "08199999993"}).status_code
    browser.post(
        reverse("admin:dsure_alert_changelist"),
        {"action": "acknowledge", helpers.ACTION_CHECKBOX_NAME: [alert.pk]},
    )
    alert.refresh_from_db()
    assert {url: status for url, status in answers.items() if status != 403} == {}
    assert not LockClear.objects.exists()
    assert alert.acknowledged_at is None


def _failures(number, count, *, last_at):
    AccessLog.objects.bulk_create(
        AccessLog(
            at=last_at - datetime.timedelta(seconds=i),
            ip=CITY_IP,
            number=number,
            outcome=AccessLog.Outcome.FAILURE,
        )
        for i in range(count)
    )


def test_many_numbers_are_read_in_one_query_with_number_states_rule(db, staff):
    """number_states (the throttled list) gives each number what number_state gives it:
    failures after the later of its last success and its last clearance."""
    plain, after_success, after_clear, cleared = (
        "08100000010",
        "08100000028",
        "08100000036",
        "08100000044",
    )
    _failures(plain, 12, last_at=NOW)
    _failures(after_success, 5, last_at=NOW - datetime.timedelta(hours=2))
    AccessLog.objects.create(
        at=NOW - datetime.timedelta(hours=1),
        ip=CITY_IP,
        number=after_success,
        outcome=AccessLog.Outcome.SUCCESS,
    )
    _failures(after_success, 11, last_at=NOW)
    _failures(after_clear, 100, last_at=NOW - datetime.timedelta(hours=2))
    LockClear.objects.create(number=after_clear, at=NOW - datetime.timedelta(hours=1), by=staff)
    _failures(after_clear, 3, last_at=NOW)
    _failures(cleared, 50, last_at=NOW - datetime.timedelta(hours=2))
    LockClear.objects.create(number=cleared, at=NOW - datetime.timedelta(hours=1), by=staff)
    numbers = [plain, after_success, after_clear, cleared]

    with CaptureQueriesContext(connection) as queries:
        states = throttle.number_states(numbers)

    assert len(queries) == 1
    assert {n: s.failures for n, s in states.items()} == {
        plain: 12,
        after_success: 11,
        after_clear: 3,
    }
    for number in numbers:
        alone = throttle.number_state(number)
        assert states.get(number, throttle.NumberState(0, None)) == alone, number


@pytest.mark.parametrize("count", [2, 12])
def test_the_throttled_list_costs_the_same_queries_for_2_and_12_numbers(
    db, staff_client, django_assert_max_num_queries, count
):
    for i in range(count):
        _failures(f"0819{i:06d}0", throttle.DELAY_AFTER + i, last_at=NOW)

    # Measured: 7 — session, user, the MFA check, the locks in force, the candidates, their
    # states (one query, number_states) and admin's own read; the same for 2 and 12 numbers.
    with django_assert_max_num_queries(7):
        response = staff_client.get(reverse("admin:dsure_accesslog_throttled"))

    assert response.status_code == 200
    assert response.content.decode().count('name="number" value="0819') == count
