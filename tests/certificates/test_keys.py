"""認証キー: derived with HMAC, never stored, verified as city staff type it (DESIGN.md §6)."""

import base64
import hashlib
import hmac
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certificates.keys import CROCKFORD_ALPHABET, derive_key, format_key, verify_key
from certificates.numbering import KIND_DIGITS, make_number
from esure.identifiers import DASHES, normalize_key

SECRET = "esure-test-secret-not-for-production"
NUMBER = "06100012349"  # make_number(6, GuaranteeKind.ADVANCE, 1234), printed 06-1-0001234-9
# Computed once from SECRET, NUMBER and key version 1; must never change, or every key
# already printed on a key notice stops working.
EXPECTED_V1 = "R3G6EDNJ0YQDF9SR"
EXPECTED_V2 = "101Q80FSE9QT4HMJ"  # contains 0 and 1, for the O/I/L look-alikes

SEPARATORS = [" ", "\u3000", "\t", *DASHES]


def independent_key(secret, number, version):
    """The same rule written with base64: RFC 4648 Base32 mapped onto Crockford's alphabet."""
    digest = hmac.new(secret.encode(), f"{number}:{version}".encode(), hashlib.sha256).digest()
    rfc4648 = base64.b32encode(digest[:10]).decode()  # 80 bits: 16 symbols, no padding
    return rfc4648.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", CROCKFORD_ALPHABET))


def fullwidth(text):
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def test_key_is_stable():
    assert derive_key(NUMBER, 1, SECRET) == EXPECTED_V1
    assert derive_key(NUMBER, 2, SECRET) == EXPECTED_V2
    assert independent_key(SECRET, NUMBER, 1) == EXPECTED_V1
    assert independent_key(SECRET, NUMBER, 2) == EXPECTED_V2


def test_key_defaults_to_the_settings_secret(settings):
    settings.ESURE_AUTH_KEY_SECRET = SECRET
    assert derive_key(NUMBER, 1) == EXPECTED_V1
    assert verify_key(NUMBER, 1, EXPECTED_V1)
    settings.ESURE_AUTH_KEY_SECRET = SECRET + "-rotated"
    assert derive_key(NUMBER, 1) != EXPECTED_V1
    assert not verify_key(NUMBER, 1, EXPECTED_V1)


def test_key_changes_with_version_number_and_secret():
    other_number = make_number(6, "advance", 1235)
    keys = {
        derive_key(NUMBER, 1, SECRET),
        derive_key(NUMBER, 2, SECRET),
        derive_key(other_number, 1, SECRET),
        derive_key(NUMBER, 1, SECRET + "x"),
    }
    assert len(keys) == 4


def test_key_is_16_crockford_symbols():
    for serial in range(1, 200):
        key = derive_key(make_number(6, "contract", serial), 1, SECRET)
        assert len(key) == 16
        assert set(key) <= set(CROCKFORD_ALPHABET)
        assert not set(key) & set("ILOU")


@pytest.mark.parametrize(
    ("number", "version", "secret"),
    [
        ("06-1-0001234-9", 1, SECRET),  # the printed form is not the number
        ("0610001234", 1, SECRET),
        (6100012349, 1, SECRET),
        (NUMBER, 0, SECRET),
        (NUMBER, True, SECRET),
        (NUMBER, "1", SECRET),
        (NUMBER, 1, ""),
    ],
)
def test_derive_key_refuses_bad_arguments(number, version, secret):
    with pytest.raises(ValueError):
        derive_key(number, version, secret)


def test_format_key():
    assert format_key(EXPECTED_V1) == "R3G6-EDNJ-0YQD-F9SR"
    for bad in ["R3G6EDNJ0YQDF9S", "R3G6EDNJ0YQDF9SRX", "r3g6ednj0yqdf9sr", "R3G6EDNJ0YQDF9SU"]:
        with pytest.raises(ValueError):
            format_key(bad)


@pytest.mark.parametrize(
    "typed",
    [
        "R3G6EDNJ0YQDF9SR",
        "R3G6-EDNJ-0YQD-F9SR",
        "r3g6-ednj-0yqd-f9sr",
        " R3G6 EDNJ 0YQD F9SR ",
        "R3G6\u3000EDNJ\u30000YQD\u3000F9SR",
        "Ｒ３Ｇ６－ＥＤＮＪ－０ＹＱＤ－Ｆ９ＳＲ",
        # full-width lower case, long-vowel marks for dashes, O for 0
        "ｒ３ｇ６ーｅｄｎｊーｏｙｑｄーｆ９ｓｒ",
        "R3G6EDNJOYQDF9SR",
    ],
)
def test_verify_accepts_what_city_staff_type(typed):
    assert verify_key(NUMBER, 1, typed, SECRET)


@pytest.mark.parametrize("dash", DASHES)
def test_verify_accepts_every_dash_variant(dash):
    assert verify_key(NUMBER, 1, dash.join(["R3G6", "EDNJ", "0YQD", "F9SR"]), SECRET)


@pytest.mark.parametrize("typed", ["IOIQ8OFSE9QT4HMJ", "LOLQ80FSE9QT4HMJ", "loiq-8ofs-e9qt-4hmj"])
def test_verify_reads_o_i_l_as_0_and_1(typed):
    assert verify_key(NUMBER, 2, typed, SECRET)


def test_reissue_kills_the_old_key():
    assert verify_key(NUMBER, 2, EXPECTED_V2, SECRET)
    assert not verify_key(NUMBER, 2, EXPECTED_V1, SECRET)
    assert not verify_key(NUMBER, 1, EXPECTED_V2, SECRET)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "R3G6EDNJ0YQDF9S",  # 15 symbols
        "R3G6EDNJ0YQDF9SRR",  # 17 symbols
        "R3G6EDNJ0YQDF9SU",  # U is not a Crockford symbol
        "R3G6EDNJ0YQDF9SÄ",
        "R3G6EDNJ0YQDF9SQ",  # one symbol wrong
        "3RG6EDNJ0YQDF9SR",  # adjacent symbols swapped
    ],
)
def test_verify_rejects(typed):
    assert not verify_key(NUMBER, 1, typed, SECRET)


def test_verify_compares_in_constant_time():
    with mock.patch("hmac.compare_digest", wraps=hmac.compare_digest) as compare:
        assert verify_key(NUMBER, 1, "r3g6-ednj-0yqd-f9sr", SECRET)
        compare.assert_called_once_with(EXPECTED_V1, EXPECTED_V1)
        assert not verify_key(NUMBER, 1, "R3G6-EDNJ-0YQD-F9SQ", SECRET)
        assert compare.call_count == 2
        assert not verify_key(NUMBER, 1, "not a key", SECRET)  # malformed: refused before
        assert compare.call_count == 2


numbers = st.builds(
    make_number,
    st.integers(1, 99),
    st.sampled_from(list(KIND_DIGITS)),
    st.integers(1, 9_999_999),
)


@st.composite
def typed_like_staff(draw, key):
    """The key as it might arrive: mixed case, full-width, O/I/L, spaces and dashes anywhere."""
    out = []
    for ch in key:
        if ch == "0":
            ch = draw(st.sampled_from("0O"))
        elif ch == "1":
            ch = draw(st.sampled_from("1IL"))
        if draw(st.booleans()):
            ch = ch.lower()
        if draw(st.booleans()):
            ch = fullwidth(ch)
        out.append(ch + draw(st.text(st.sampled_from(SEPARATORS), max_size=2)))
    return draw(st.text(st.sampled_from(SEPARATORS), max_size=2)) + "".join(out)


@given(numbers, st.integers(1, 1_000), st.data())
def test_derived_key_verifies_in_every_variant(number, version, data):
    key = derive_key(number, version, SECRET)
    assert key == independent_key(SECRET, number, version)
    typed = data.draw(typed_like_staff(key))
    assert normalize_key(typed) == key
    assert verify_key(number, version, typed, SECRET)
    assert verify_key(number, version, format_key(key), SECRET)
    assert not verify_key(number, version + 1, typed, SECRET)


@given(st.text())
def test_normalize_key_is_idempotent(text):
    assert normalize_key(normalize_key(text)) == normalize_key(text)


@given(st.one_of(st.text(), st.text(CROCKFORD_ALPHABET + "oil -ー", min_size=16, max_size=24)))
def test_arbitrary_text_never_raises(text):
    assert verify_key(NUMBER, 1, text, SECRET) is False
