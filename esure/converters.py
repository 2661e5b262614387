"""Path converters for the segments our URLs carry, registered once (esure.apps).

A segment that is not the shape of what it names never reaches a view: the resolver answers
404 before any int() or query. `str` would let NUL (which PostgreSQL refuses in a text
parameter), 5,000 digits (past Python's int() limit and PostgreSQL's bigint) or `../` through.
"""

from django.urls import register_converter

from certificates import numbering

# Primary keys are PostgreSQL bigint (at most 9,223,372,036,854,775,807, 19 digits): 18
# digits are always in range, and no table here comes near 10**18 rows.
MAX_ID_DIGITS = 18


class IdConverter:
    """A database id (pk, version, sequence number): 1 to 18 ASCII digits, as an int."""

    regex = f"[0-9]{{1,{MAX_ID_DIGITS}}}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


class FingerprintConverter:
    """A content fingerprint (SHA-256) as certificates print it: 64 lower-case hex digits."""

    regex = "[0-9a-f]{64}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return str(value)


class GuaranteeNumberConverter:
    """A 保証契約番号 as the registry stores it: 11 ASCII digits (certificates.numbering)."""

    regex = numbering.NUMBER_REGEX

    def to_python(self, value):
        return value

    def to_url(self, value):
        return str(value)


def parse_id(value):
    """A database id posted in a form field (e.g. `office`), as an int; None when the text is
    not 1 to MAX_ID_DIGITS ASCII digits — callers answer that like a missing object (404)."""
    if isinstance(value, int):
        return value if 0 <= value < 10**MAX_ID_DIGITS else None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_DIGITS:
        return None
    if not (value.isascii() and value.isdigit()):
        return None
    return int(value)


def register():
    register_converter(IdConverter, "id")
    register_converter(GuaranteeNumberConverter, "number")
    register_converter(FingerprintConverter, "sha256")
