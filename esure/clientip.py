"""The client's address, read one way everywhere (docs/decisions/0008-client-addresses.md).

Behind the documented deployment every request arrives from the proxy: REMOTE_ADDR is the
proxy (or docker's bridge gateway), so any limit counted by REMOTE_ADDR counts everyone
together. Each trusted proxy appends the address it received the request from to
X-Forwarded-For (nginx: `$proxy_add_x_forwarded_for`, or `$remote_addr` at the edge, which
overwrites whatever the client sent). With N = ESURE_TRUSTED_PROXY_COUNT proxies in front,
the client is therefore the N-th entry from the right; everything left of it was written by
the client and is never read. N = 0 (the default, nothing in front): REMOTE_ADDR.

Used by D-Sure's throttle and access log, the audit trail, allauth's rate limits
(accounts.adapter), Django's JSON log lines and gunicorn's access log. IPv6 clients are
counted per /64 (`counting_key`): one subscriber usually holds a whole /64, so counting
single addresses would let one client rotate through 2^64 of them.
"""

import functools
import ipaddress

from django.conf import settings
from django.http import HttpResponseForbidden
from django.views.decorators.cache import never_cache

# One IPv6 subscriber gets a /64 (RFC 6177, RFC 7421): limits count per /64, as allauth's
# own rate limits do (ALLAUTH_RATE_LIMIT_IPV6_PREFIX, default 64).
IPV6_COUNTING_PREFIX = 64
# When no address can be read at all (a WSGI server that sets no REMOTE_ADDR).
UNKNOWN = "0.0.0.0"  # noqa: S104 — a value, not a bind


def parse_address(text):
    """The address in one X-Forwarded-For entry or REMOTE_ADDR as a normal string, or None.

    Accepts the forms proxies write: `203.0.113.5`, `203.0.113.5:4711`, `2001:db8::1`,
    `[2001:db8::1]:443`; an IPv4-mapped IPv6 address is read as the IPv4 address; a zone
    (`%eth0`) is dropped. Anything else (`unknown`, a host name, garbage) is None.
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if len(text) > 64:  # no address is longer; do not parse garbage of any size
        return None
    if text.startswith("["):  # [v6] or [v6]:port
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    text = text.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def client_address(meta, trusted_proxies):
    """The client's address from a request's META (or a WSGI environ) behind
    `trusted_proxies` proxies: the trusted_proxies-th X-Forwarded-For entry from the right.

    With fewer entries than proxies (a request that did not pass every proxy), the leftmost
    entry, which the outermost proxy it did pass wrote. An entry that is not an address
    falls back to REMOTE_ADDR: never to an entry further left, which the client wrote.
    """
    remote = parse_address(meta.get("REMOTE_ADDR")) or UNKNOWN
    if trusted_proxies <= 0:
        return remote
    header = meta.get("HTTP_X_FORWARDED_FOR") or ""
    entries = [entry for entry in header.split(",") if entry.strip()]
    if not entries:
        return remote
    chosen = entries[-trusted_proxies] if len(entries) >= trusted_proxies else entries[0]
    return parse_address(chosen) or remote


def counting_key(address):
    """What limits count by: an IPv4 address itself, an IPv6 address's /64 network
    (`2001:db8:1:2::`). Stored as such in D-Sure's access log, which is what it counts."""
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network(f"{parsed}/{IPV6_COUNTING_PREFIX}", strict=False)
        return str(network.network_address)
    return str(parsed)


def client_ip(request):
    """The client's full address for this request (ESURE_TRUSTED_PROXY_COUNT proxies)."""
    return client_address(request.META, settings.ESURE_TRUSTED_PROXY_COUNT)


def client_key(request):
    """counting_key of the client's address: what per-address limits count by."""
    return counting_key(client_ip(request))


def is_internal(request):
    """Whether the client (as client_ip reads it) is in ESURE_READYZ_ALLOW: the addresses
    that may read /readyz and /metrics (docs/decisions/0013)."""
    address = ipaddress.ip_address(client_ip(request))
    return any(address in network for network in settings.ESURE_READYZ_ALLOW)


def internal_only(view):
    """Let only the ESURE_READYZ_ALLOW addresses reach `view`; everyone else gets a small 403
    before the view does any work (no query, no file write). Never cached either way."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_internal(request):
            return HttpResponseForbidden("forbidden", content_type="text/plain")
        return view(request, *args, **kwargs)

    return never_cache(wrapped)
