"""認証キー: the D-Sure viewer secret of one guarantee, derived and never stored (DESIGN.md §6).

key = the first 80 bits of HMAC-SHA256(ESURE_AUTH_KEY_SECRET, f"{number}:{key_version}:{salt}"),
written as 16 symbols of Crockford Base32 and printed XXXX-XXXX-XXXX-XXXX, where salt is the
guarantee's random key_salt (guarantees concluded before salts existed have an empty one and
keep their keys: f"{number}:{key_version}"). Why:
- the key is a bearer secret that leaks by design (emailed, faxed, carried to the city):
  its protection is 80 bits of entropy, throttling, scope (one guarantee) and revocation;
- derived, so the contractor can display it again and a database dump reveals nothing
  (the secret is backed up apart from the database);
- re-issue is key_version + 1: the old key stops verifying at once, with nothing to delete;
- the salt: a number given again after a restore lost its conclusion (certificates.integrity)
  must not get the key of the old key notice, which would open the new certificate
  (decision 0009);
- HMAC, not a password hasher: the input already has 80 bits of entropy, and Django's PBKDF2
  per lookup measured 7 req/s against ~1,600 with HMAC (DESIGN.md §10).
"""

import hashlib
import hmac
import re
import secrets

from django.conf import settings

from esure.identifiers import normalize_key

# https://www.crockford.com/base32.html — no I, L, O (read as 1, 1, 0) and no U.
CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
KEY_LENGTH = 16  # symbols of 5 bits: 80 bits
_KEY_RE = re.compile(f"[{CROCKFORD_ALPHABET}]{{{KEY_LENGTH}}}")
SALT_BYTES = 16  # stored as 32 hex digits on the guarantee
_SALT_RE = re.compile(f"[0-9a-f]{{{2 * SALT_BYTES}}}")


def new_salt() -> str:
    """A random per-guarantee salt for its keys (32 hex digits)."""
    return secrets.token_hex(SALT_BYTES)


def derive_key(
    number: str, key_version: int, secret: str | None = None, *, salt: str = ""
) -> str:
    """The 16-symbol key of an 11-digit number at a key version (see the module docstring).

    HMAC-SHA256(secret, f"{number}:{key_version}:{salt}") — without the salt part for a
    guarantee whose salt is empty — first 10 bytes read big-endian, 5 bits per symbol. secret
    defaults to settings.ESURE_AUTH_KEY_SECRET.
    """
    if not isinstance(number, str) or not re.fullmatch(r"[0-9]{11}", number):
        raise ValueError(f"expected an 11-digit number, got {number!r}")
    if isinstance(key_version, bool) or not isinstance(key_version, int) or key_version < 1:
        raise ValueError(f"key_version must be a positive int, got {key_version!r}")
    if not isinstance(salt, str) or (salt and not _SALT_RE.fullmatch(salt)):
        raise ValueError("a key salt is empty or 32 lower-case hex digits")
    secret = settings.ESURE_AUTH_KEY_SECRET if secret is None else secret
    if not secret:
        raise ValueError("the auth-key secret is empty")
    message = f"{number}:{key_version}:{salt}" if salt else f"{number}:{key_version}"
    mac = hmac.new(secret.encode(), message.encode(), hashlib.sha256)
    bits = int.from_bytes(mac.digest()[:10], "big")
    return "".join(CROCKFORD_ALPHABET[(bits >> shift) & 0b11111] for shift in range(75, -1, -5))


def format_key(key: str) -> str:
    """The printed form XXXX-XXXX-XXXX-XXXX of a 16-symbol key."""
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
        raise ValueError("expected 16 Crockford Base32 symbols")
    return "-".join(key[i : i + 4] for i in range(0, KEY_LENGTH, 4))


def parse_key(typed: str) -> str | None:
    """A typed key as its 16 Crockford symbols, or None when it cannot be a key at all.

    typed is normalised (esure.identifiers.normalize_key: full-width, lower-case, spaces,
    any dash, O/I/L for 0/1). D-Sure answers None with a typing hint before any lookup.
    """
    candidate = normalize_key(typed) if isinstance(typed, str) else ""
    return candidate if _KEY_RE.fullmatch(candidate) else None


def verify_key(
    number: str,
    key_version: int,
    typed: str,
    secret: str | None = None,
    *,
    salt: str = "",
) -> bool:
    """True when typed is the key of number at key_version (and the guarantee's salt), as
    city staff may type it.

    typed is read by parse_key; anything that is not a key is False at once. The comparison
    is constant-time (hmac.compare_digest). An old key_version's key is False: re-issue
    revokes. D-Sure's lookup and the tests both call this one function.
    """
    candidate = parse_key(typed)
    if candidate is None:
        return False
    return hmac.compare_digest(candidate, derive_key(number, key_version, secret, salt=salt))
