"""/readyz answers only ESURE_READYZ_ALLOW (decision 0013): the client address as
esure.clientip reads it, at the edges of each default range; /healthz stays public."""

import ipaddress

import pytest

from tests.test_settings import SECRETS, run_python

PROXY = "172.17.0.1"  # docker's bridge gateway: REMOTE_ADDR of every request behind nginx


def readyz(client, remote, forwarded=None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.get("/readyz", **headers)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.255.254",
        "::1",
        "10.0.0.0",
        "10.255.255.255",
        "172.16.0.0",
        "172.31.255.255",
        "192.168.0.1",
        "192.168.255.255",
        "fd00::1",
        "fc00::",
        "::ffff:10.1.2.3",  # IPv4-mapped: read as 10.1.2.3
    ],
)
def test_loopback_and_private_addresses_are_answered(client, db, address):
    response = readyz(client, address)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize(
    "address",
    [
        "9.255.255.255",  # just under 10/8
        "11.0.0.0",  # just over 10/8
        "172.15.255.255",  # just under 172.16/12
        "172.32.0.0",  # just over 172.16/12
        "192.167.255.255",
        "192.169.0.0",
        "128.0.0.1",
        "203.0.113.5",
        "::2",
        "fe80::1",  # link-local is not in the default list
        "2001:db8::1",
    ],
)
def test_public_addresses_are_refused_without_running_a_check(
    client, db, address, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = readyz(client, address)
    assert response.status_code == 403
    assert response.content == b"forbidden"
    assert "no-store" in response["Cache-Control"]
    assert "checks" not in response.content.decode()


def test_healthz_stays_public(client):
    response = client.get("/healthz", REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 200


def test_behind_the_proxy_the_client_counts_not_the_proxy(client, db, settings):
    settings.ESURE_TRUSTED_PROXY_COUNT = 1
    # The proxy's own address is private, but the client behind it is not.
    assert readyz(client, PROXY, "203.0.113.5").status_code == 403
    # A spoofed private address on the left changes nothing: the client wrote it.
    assert readyz(client, PROXY, "10.0.0.5, 203.0.113.5").status_code == 403
    # A monitor inside the private network, through the same proxy.
    assert readyz(client, PROXY, "10.0.0.5").status_code == 200
    # A probe straight to the container (no header): the last hop, here loopback.
    assert readyz(client, "127.0.0.1").status_code == 200


def test_without_a_proxy_counted_a_spoofed_header_is_ignored(client, db):
    assert readyz(client, "203.0.113.5", "127.0.0.1").status_code == 403


def test_a_configured_list_replaces_the_default(client, db, settings):
    settings.ESURE_READYZ_ALLOW = [ipaddress.ip_network("198.51.100.0/24")]
    assert readyz(client, "198.51.100.255").status_code == 200
    assert readyz(client, "198.51.101.0").status_code == 403
    assert readyz(client, "127.0.0.1").status_code == 403


def test_an_empty_list_refuses_everyone(client, db, settings):
    settings.ESURE_READYZ_ALLOW = []
    assert readyz(client, "127.0.0.1").status_code == 403


def test_post_from_an_allowed_address_is_405(client, db):
    assert client.post("/readyz").status_code == 405


PRINT_ALLOW = (
    "import django; from django.conf import settings; "
    "print(','.join(map(str, settings.ESURE_READYZ_ALLOW)))"
)


def test_the_variable_is_read_as_cidrs():
    result = run_python(PRINT_ALLOW, ESURE_READYZ_ALLOW="192.0.2.0/24, 2001:db8::/32", **SECRETS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "192.0.2.0/24,2001:db8::/32"


def test_the_default_is_loopback_and_private_ranges():
    result = run_python(PRINT_ALLOW, **SECRETS)
    assert result.stdout.strip() == (
        "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"
    )


@pytest.mark.parametrize("value", ["10.0.0.1/8", "not-a-network", "10.0.0.0/33"])
def test_a_malformed_entry_refuses_to_start(value):
    result = run_python(PRINT_ALLOW, ESURE_READYZ_ALLOW=value, **SECRETS)
    assert result.returncode != 0
    assert "ESURE_READYZ_ALLOW" in result.stderr
