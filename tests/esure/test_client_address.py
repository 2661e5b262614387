"""The client's address behind the documented proxy (esure/clientip.py, decision 0008): the
N-th X-Forwarded-For entry from the right, N = ESURE_TRUSTED_PROXY_COUNT; the client's own
left part is never read; IPv6 counted per /64. D-Sure's limits, allauth's login limit and
the audit trail all see the client, not the proxy."""

import json
import logging

import pytest
from allauth.account.adapter import DefaultAccountAdapter
from django.test import Client
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEvent
from certificates.numbering import make_number
from dsure import services, throttle
from dsure.models import AccessLog
from esure.choices import GuaranteeKind
from esure.clientip import UNKNOWN, client_address, counting_key, parse_address
from esure.logging import JsonFormatter
from tests.conftest import PASSWORD, dsure_lookup

PROXY = "172.17.0.1"  # docker's bridge gateway: REMOTE_ADDR of every request behind nginx
CITY = "203.0.113.5"
ATTACKER = "198.51.100.66"
WRONG_KEY = "ABCD-EFGH-JKMN-PQRS"
NUMBER = make_number(8, GuaranteeKind.ADVANCE, 9_999_999)  # valid check digit, never issued


def behind_proxy(client_ip, spoofed=""):
    """The META a request has after nginx appended the client's address (`spoofed` is what
    the client itself put into the header)."""
    header = f"{spoofed}, {client_ip}" if spoofed else client_ip
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": header}


@pytest.fixture
def one_proxy(settings):
    settings.ESURE_TRUSTED_PROXY_COUNT = 1


# --- The helper -------------------------------------------------------------------------------


def test_with_no_proxy_counted_the_header_is_ignored():
    meta = {"REMOTE_ADDR": CITY, "HTTP_X_FORWARDED_FOR": ATTACKER}
    assert client_address(meta, 0) == CITY


@pytest.mark.parametrize(
    ("header", "proxies", "client"),
    [
        (CITY, 1, CITY),
        (f"{ATTACKER}, {CITY}", 1, CITY),  # the client wrote the left part: never read
        (f"1.1.1.1,2.2.2.2, {ATTACKER} ,{CITY}", 1, CITY),
        (f"{ATTACKER}, {CITY}, 10.0.0.2", 2, CITY),  # load balancer, then nginx
        (CITY, 2, CITY),  # fewer entries than proxies: the outermost one that was passed
        ("", 1, PROXY),  # no header at all: the last hop
        (f"{ATTACKER}, unknown", 1, PROXY),  # garbage where the client should be: not left
        (f"{ATTACKER}, {'9' * 5000}", 1, PROXY),
        ("203.0.113.5:4711", 1, CITY),  # proxies that add the port
        ("[2001:db8::1]:443", 1, "2001:db8::1"),
        ("::ffff:203.0.113.5", 1, CITY),  # IPv4-mapped: the IPv4 client
    ],
)
def test_the_client_is_counted_from_the_right(header, proxies, client):
    assert client_address({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": header}, proxies) == client


def test_an_unreadable_remote_addr_is_the_unknown_address():
    assert client_address({}, 0) == UNKNOWN
    assert parse_address("not an address") is None


def test_ipv6_clients_are_counted_per_64_and_ipv4_per_address():
    assert counting_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::"
    assert counting_key("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::"
    assert counting_key("2001:db8:1:3::1") == "2001:db8:1:3::"
    assert counting_key(CITY) == CITY


# --- D-Sure -----------------------------------------------------------------------------------


def attempt(ip, spoofed="", number=NUMBER):
    response = dsure_lookup(Client(), number, WRONG_KEY, **behind_proxy(ip, spoofed))
    html = response.content.decode()
    return next(result for result, message in services.MESSAGES.items() if message in html)


def past_failures(ip, count):
    AccessLog.objects.bulk_create(
        AccessLog(ip=ip, number=f"0819999{i:03d}0", outcome=AccessLog.Outcome.FAILURE)
        for i in range(count)
    )


def test_two_clients_behind_one_proxy_are_counted_apart(db, one_proxy):
    past_failures(ATTACKER, throttle.IP_SOFT_LIMIT)  # the attacker is over its soft limit

    assert attempt(ATTACKER) is services.Result.WAIT
    assert attempt(CITY) is services.Result.NO_MATCH  # the city behind the same proxy is not
    logged = AccessLog.objects.filter(number=NUMBER).order_by("pk").values_list("ip", flat=True)
    assert list(logged) == [ATTACKER, CITY]  # never the proxy


def test_a_spoofed_leftmost_entry_changes_nothing(db, one_proxy):
    past_failures(ATTACKER, throttle.IP_SOFT_LIMIT)

    assert attempt(ATTACKER, spoofed=CITY) is services.Result.WAIT
    assert AccessLog.objects.get(number=NUMBER).ip == ATTACKER


def test_ipv6_clients_of_one_64_share_a_count(db, one_proxy):
    past_failures("2001:db8:1:2::", throttle.IP_SOFT_LIMIT)

    assert attempt("2001:db8:1:2:dead:beef:0:1") is services.Result.WAIT  # same /64
    assert attempt("2001:db8:1:3::1") is services.Result.NO_MATCH  # the next /64
    logged = AccessLog.objects.filter(number=NUMBER).order_by("pk").values_list("ip", flat=True)
    assert list(logged) == ["2001:db8:1:2::", "2001:db8:1:3::"]  # stored as counted


# --- Logins (allauth's limit of 10 failures a minute per address) -----------------------------


def login(browser, email, password, ip):
    return browser.post(
        reverse("account_login"), {"login": email, "password": password}, **behind_proxy(ip)
    )


with translation.override("ja"):
    TOO_MANY = str(DefaultAccountAdapter.error_messages["too_many_login_attempts"])


def test_failed_logins_lock_out_only_the_attackers_address(clerk, one_proxy):
    attacker = Client()
    for n in range(10):  # allauth: login_failed 10/m/ip
        response = login(attacker, f"guess{n}@example.jp", "wrong-password-0123", ATTACKER)
        assert response.status_code == 200, n
    refused = login(attacker, clerk.email, PASSWORD, ATTACKER)  # even the right password
    assert TOO_MANY in refused.content.decode()
    assert "_auth_user_id" not in attacker.session

    city = Client()  # the clerk behind the same proxy logs in
    response = login(city, clerk.email, PASSWORD, CITY)
    assert response.status_code == 302
    assert city.session["_auth_user_id"] == str(clerk.pk)


# --- The audit trail ---------------------------------------------------------------------------


def test_a_failed_staff_login_records_the_clients_address(client, staff, one_proxy):
    login(client, staff.email, "wrong-password-0123", ATTACKER)
    row = AuditEvent.objects.filter(action="staff.login_failed").get()
    assert row.data == {"ip": ATTACKER}


# --- Django's JSON log lines --------------------------------------------------------------------


def test_a_request_error_line_names_the_client(rf, one_proxy):
    request = rf.get("/dsure/", **behind_proxy(CITY, spoofed=ATTACKER))
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "boom", (), None)
    record.status_code = 500
    record.request = request
    line = json.loads(JsonFormatter().format(record))
    assert (line["status"], line["client"]) == (500, CITY)
    assert ATTACKER not in json.dumps(line)
