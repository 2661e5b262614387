"""Normalisation of identifiers typed by city staff: 保証契約番号 and 認証キー (DESIGN.md §6).

For these identifiers only. Never NFKC free text: it rewrites ㍻ as 平成 and ① as 1.
"""

import unicodedata

# Every dash-like character seen in typed or pasted numbers. Stripped *after* NFKC, which
# leaves U+2212 (−) alone and turns the half-width ｰ into the long-vowel mark ー (DESIGN.md §10).
# ─ (U+2500, a box-drawing line) is what some IMEs offer for "けいせん" and looks like a dash.
DASHES = "-‐‑‒–—―−ー－ｰ﹣﹘⁃─"
_DROP = frozenset(DASHES)

# Crockford Base32 reads the look-alikes O as 0 and I, L as 1 (https://www.crockford.com/base32.html).
_CROCKFORD_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def normalize_identifier(text: str) -> str:
    """NFKC, upper-case, drop whitespace (incl. U+3000), dashes and invisible characters.

    Invisible format characters (category Cf: zero-width space, soft hyphen, BOM) come with
    text pasted from PDFs and mails; they are dropped like spaces. A last NFKC recomposes
    what upper-casing or dropping left decomposed (E, a dash, a combining accent), so that
    normalising twice changes nothing.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    text = unicodedata.normalize("NFKC", text).upper()
    text = "".join(
        ch
        for ch in text
        if not ch.isspace() and ch not in _DROP and unicodedata.category(ch) != "Cf"
    )
    return unicodedata.normalize("NFKC", text)


def normalize_number(text: str) -> str:
    """A typed 保証契約番号: normalize_identifier, without Crockford mapping (digits only)."""
    return normalize_identifier(text)


def normalize_key(text: str) -> str:
    """A typed 認証キー: normalize_identifier, then Crockford's O→0, I→1, L→1."""
    return normalize_identifier(text).translate(_CROCKFORD_LOOKALIKES)
