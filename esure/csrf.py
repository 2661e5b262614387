"""The CSRF token a page carries, masked as Django masks it, the mask drawn in one call.

Django's get_token masks the cookie's secret anew for every response (so that a compressed
page does not leak it: BREACH) with a mask of 32 characters, each drawn by `secrets.choice`:
32 reads of the system's random source, ~0.1 ms — a tenth of the D-Sure viewer's CPU (issue
22, bench/README.md). Here the same mask (32 characters, each uniform over the same 62, from
the same source: os.urandom through `secrets`) comes from one read, and the secret is masked
by Django's arithmetic, so Django's CsrfViewMiddleware unmasks and checks it unchanged
(decision 0054)."""

import secrets

from django.middleware import csrf

_CHARS = csrf.CSRF_ALLOWED_CHARS
_INDEX = {char: i for i, char in enumerate(_CHARS)}
_N = len(_CHARS)
# Bytes below this map onto the characters uniformly (248 = 4 × 62); the rest are dropped.
_UNBIASED = 256 - 256 % _N


def _mask_indices(n):
    indices = []
    while len(indices) < n:
        indices += [b % _N for b in secrets.token_bytes(n + 8) if b < _UNBIASED]
    return indices[:n]


def get_token(request):
    """As django.middleware.csrf.get_token: the request's CSRF secret, masked anew, and the
    cookie renewed with the response. A request without a secret yet gets Django's own."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        return csrf.get_token(request)
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True  # what Django's get_token sets
    mask = _mask_indices(csrf.CSRF_SECRET_LENGTH)
    cipher = [_CHARS[(_INDEX[char] + m) % _N] for char, m in zip(secret, mask, strict=True)]
    return "".join([_CHARS[m] for m in mask] + cipher)
