"""Normalisation of typed 保証契約番号 and 認証キー (DESIGN.md §6 Input normalisation)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from esure.identifiers import DASHES, normalize_identifier, normalize_key, normalize_number


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("１２３４−ＡＢＣＤ", "1234ABCD"),  # STYLE.md's example
        ("06-1-0001234-9", "06100012349"),
        ("０６ー１ー０００１２３４ー９", "06100012349"),  # long-vowel mark typed as a dash
        ("06ｰ1ｰ0001234ｰ9", "06100012349"),  # half-width ｰ, which NFKC turns into ー
        ("06−1−0001234−9", "06100012349"),  # U+2212 minus, which NFKC leaves alone
        ("06\u30001\u30000001234 9\t\n", "06100012349"),  # ideographic space, tab, newline
        ("06\u200b1\u00ad0001234\ufeff9", "06100012349"),  # zero-width space, soft hyphen, BOM
        ("abcd efgh", "ABCDEFGH"),
        ("ａｂｃｄ", "ABCD"),
        ("", ""),
    ],
)
def test_normalize_identifier(typed, expected):
    assert normalize_identifier(typed) == expected


@pytest.mark.parametrize("dash", list("-‐‑‒–—―−ー－ｰ﹣"))
def test_every_dash_variant_is_dropped(dash):
    assert normalize_identifier(f"12{dash}34{dash}{dash}5") == "12345"


def test_numbers_keep_letters_as_typed():
    # 保証契約番号 are digits only: a typed O stays O, so the number is rejected, not guessed.
    assert normalize_number("O6-1-OOO1234-9") == "O61OOO12349"


def test_keys_read_crockford_lookalikes():
    assert normalize_key("oIlL-ABCD") == "0111ABCD"
    assert normalize_key("ＯＩＬ") == "011"  # full-width letters too
    assert normalize_key("U") == "U"  # not a Crockford symbol, left for the caller to reject


def test_free_text_compatibility_characters_are_not_its_business():
    # NFKC is for identifiers only; here it is expected (and why free text must never go here).
    assert normalize_identifier("㍻") == "平成"


@pytest.mark.parametrize("bad", [None, 123, b"1234"])
def test_non_text_is_a_type_error(bad):
    with pytest.raises(TypeError, match="str"):
        normalize_identifier(bad)


@given(st.text())
def test_normalisation_is_idempotent(text):
    once = normalize_identifier(text)
    assert normalize_identifier(once) == once
    key = normalize_key(text)
    assert normalize_key(key) == key
    assert not any(ch.isspace() or ch in DASHES for ch in key)
