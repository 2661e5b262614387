"""The bank's statement (全銀協 入出金取引明細) as esure reads it: the fixed-length file and its
CSV variant, half-width kana in Shift_JIS, and every malformed record named by its line."""

import datetime

import pytest

from console import zengin
from tests.console.statement_files import (
    BOOKED_ON,
    credit,
    csv_file,
    fixed_file,
    record,
    records,
)

TRANSACTIONS = [
    credit(123_456, "1001 ｶ)ﾂｸﾐｹﾝｾﾂ"),
    credit(50_000, "ﾃｽﾄｺｳｷﾞﾖｳ(ｶ", reference=77),
    credit(9_999, "ﾋｷﾀﾞｼ", direction=2),
]


def _raw_records(**options):
    return [record(zengin.LAYOUTS[k], v) for k, v in records(TRANSACTIONS, **options)]


def _join(raw):
    return b"\r\n".join(raw) + b"\r\n"


def test_a_well_formed_file_gives_its_account_and_transactions():
    statement = zengin.parse(fixed_file(TRANSACTIONS))

    assert (statement.bank_code, statement.branch_code, statement.account_number) == (
        "0177",
        "123",
        "1234567",
    )
    assert statement.period_to == BOOKED_ON
    assert [(t.line, t.amount, t.is_credit) for t in statement.transactions] == [
        (2, 123_456, True),
        (3, 50_000, True),
        (4, 9_999, False),
    ]
    assert [t.amount for t in statement.credits] == [123_456, 50_000]


def test_half_width_kana_in_shift_jis_is_read_as_the_bank_sent_it():
    statement = zengin.parse(fixed_file(TRANSACTIONS))

    assert statement.credits[0].sender == "1001 ｶ)ﾂｸﾐｹﾝｾﾂ"
    # ｶﾞ is two bytes in the file (ｶ + ﾞ) and one letter once compared.
    assert zengin.name_key("ｶ)ﾃｽﾄｹﾝｾﾂｶﾞｲﾄﾞ") == zengin.name_key(
        "カブシキガイシャテストケンセツガイド"
    )


def test_a_file_without_line_breaks_reads_the_same():
    assert zengin.parse(fixed_file(TRANSACTIONS, newline=False)) == zengin.parse(
        fixed_file(TRANSACTIONS)
    )


def test_the_csv_variant_reads_the_same_transactions():
    from_csv = zengin.parse(csv_file(TRANSACTIONS))
    fixed = zengin.parse(fixed_file(TRANSACTIONS))

    assert from_csv.transactions == fixed.transactions
    assert [from_csv.identity(t) for t in from_csv.credits] == [
        fixed.identity(t) for t in fixed.credits
    ]


def test_a_wareki_date_is_a_reiwa_date():
    assert zengin.wareki_date("081130") == datetime.date(2026, 11, 30)
    assert zengin.wareki_date("010501") == datetime.date(2019, 5, 1)  # 令和元年
    with pytest.raises(ValueError):
        zengin.wareki_date("081331")


def _replace(raw, line, start, text):
    """The records with `text` written at byte `start` of record `line` (1-based)."""
    changed = list(raw)
    rec = changed[line - 1]
    changed[line - 1] = rec[:start] + text + rec[start + len(text) :]
    return changed


def _malformed():
    raw = _raw_records()
    return {
        "short record": (
            _join([*raw[:2], raw[2][:199], *raw[3:]]),
            "3行目: レコードの長さが 199 バイト",
        ),
        "unknown kind": (_join(_replace(raw, 2, 0, b"5")), "2行目: データ区分「5」"),
        "no header first": (_join(raw[1:]), "1行目: 最初のレコードはヘッダ"),
        "not 入出金取引明細": (_join(_replace(raw, 1, 1, b"01")), "1行目: 種別コード「01」"),
        "amount not a number": (
            _join(_replace(raw, 2, 24, b"00000001234X")),
            "2行目: 取引金額「00000001234X」が数字ではありません",
        ),
        "date not a date": (_join(_replace(raw, 3, 9, b"081340")), "3行目: 勘定日「081340」"),
        "direction": (_join(_replace(raw, 2, 21, b"3")), "2行目: 入払区分「3」"),
        "blank amount": (_join(_replace(raw, 2, 24, b" " * 12)), "2行目: 取引金額が空です"),
        "trailer count": (
            _join(_replace(raw, 5, 1, b"000009")),
            "5行目: トレーラ・レコードの入金件数（9）",
        ),
        "trailer total": (
            _join(_replace(raw, 5, 7, b"0000000000001")),
            "5行目: トレーラ・レコードの入金額合計（1）",
        ),
        "no trailer": (_join([*raw[:4], raw[5]]), "5行目: エンドのレコードがこの位置"),
        "no end": (_join(raw[:5]), "エンド・レコード（データ区分 9）がありません"),
        "data after trailer": (_join([*raw[:5], raw[1], raw[5]]), "6行目: データのレコード"),
        "after end": (_join([*raw, raw[5]]), "7行目: エンド・レコードの後"),
        "not shift_jis": (_join(_replace(raw, 2, 81, b"\x82\x20")), "2行目: Shift_JIS"),
        "cut stream": (b"".join(raw)[:-7], "ファイルの長さ 1193 バイト"),
        "empty": (b"\r\n", "ファイルが空です"),
    }


@pytest.mark.parametrize("case", list(_malformed()))
def test_a_malformed_file_is_refused_with_the_line_named(case):
    data, message = _malformed()[case]

    with pytest.raises(zengin.StatementError) as error:
        zengin.parse(data)

    assert message in str(error.value)


def test_a_csv_record_with_missing_items_names_its_line():
    lines = csv_file(TRANSACTIONS).decode("cp932").split("\r\n")
    lines[2] = lines[2].rsplit(",", 3)[0]

    with pytest.raises(zengin.StatementError) as error:
        zengin.parse("\r\n".join(lines).encode("cp932"))

    assert "3行目: 項目の数が" in str(error.value)
