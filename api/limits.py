"""The API's own limits, beside D-Sure's (which `POST /verify` goes through unchanged).

- Failed token checks per client address (esure.clientip.client_key): past
  AUTH_FAILURES_PER_WINDOW within AUTH_WINDOW, every further invalid token from the address
  is answered 429 until the window ends (a valid one still works: a stranger behind the
  city's shared address must not lock the city out). A token has 256 bits, so this is not
  what keeps tokens safe; it keeps a flood of made-up tokens cheap (a cache counter, no row
  per attempt) and visible. Counted in the cache (the database cache: shared by every
  process), in fixed windows.
- `POST /verify` failures per token: past TOKEN_VERIFY_FAILURES wrong pairs within
  dsure.throttle.IP_WINDOW, the token's verify calls are answered 429 (the same soft limit
  D-Sure applies per address, dsure.throttle.IP_SOFT_LIMIT), counted from the API's access
  log. D-Sure's own per-number and per-address rules apply to every call as well.
"""

import datetime
import time

from django.core.cache import cache
from django.utils import timezone

from api.models import ApiRequest
from dsure import throttle
from dsure.throttle import IP_SOFT_LIMIT, IP_WINDOW

AUTH_WINDOW_SECONDS = 600
AUTH_FAILURES_PER_WINDOW = 100
TOKEN_VERIFY_FAILURES = IP_SOFT_LIMIT  # 50 wrong pairs per token within IP_WINDOW (10 min)
VERIFY_OPERATION = "verify"
VERIFY_FAILED_STATUS = 404


def _auth_key(ip, now):
    return f"api:auth-failures:{ip}:{int(now // AUTH_WINDOW_SECONDS)}"


def auth_retry_after(ip):
    """Seconds until the address may try tokens again, or None when it may now."""
    now = time.time()
    if cache.get(_auth_key(ip, now), 0) < AUTH_FAILURES_PER_WINDOW:
        return None
    return AUTH_WINDOW_SECONDS - int(now % AUTH_WINDOW_SECONDS)


def count_auth_failure(ip):
    now = time.time()
    key = _auth_key(ip, now)
    cache.set(key, cache.get(key, 0) + 1, AUTH_WINDOW_SECONDS)


def verify_retry_after(token, now=None):
    """Seconds until the token's oldest counted verify failure leaves the window, when it
    has TOKEN_VERIFY_FAILURES of them within IP_WINDOW; else None. One query, reading at
    most TOKEN_VERIFY_FAILURES rows."""
    now = now or timezone.now()
    recent = list(
        ApiRequest.objects.filter(
            token=token,
            operation=VERIFY_OPERATION,
            status=VERIFY_FAILED_STATUS,
            at__gt=now - IP_WINDOW,
        )
        .order_by("-at")
        .values_list("at", flat=True)[:TOKEN_VERIFY_FAILURES]
    )
    if len(recent) < TOKEN_VERIFY_FAILURES:
        return None
    oldest = recent[-1]
    return max(1, int((oldest + IP_WINDOW - now) / datetime.timedelta(seconds=1)) + 1)


def dsure_retry_after(number, ip, now=None):
    """Seconds until D-Sure would judge another attempt from `ip` on `number`: the end of the
    number's lock, else the end of this address's delay, else the end of the per-address
    window (the soft limit)."""
    now = now or timezone.now()
    state = throttle.lookup_state(number, ip=ip, now=now)
    until = state.number.locked_until or state.by_address.refused_until()
    if until is None or until <= now:
        return int(IP_WINDOW.total_seconds())
    return max(1, int((until - now).total_seconds()) + 1)
