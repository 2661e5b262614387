"""The bank's statement of an account: 全銀協 入出金取引明細 (種別コード 03), as esure reads it.

Two shapes of the same records (issue 20):
- the fixed-length file: 200-byte records, Shift_JIS (half-width kana, JIS X 0201), with or
  without CR/LF after each record; numbers right-aligned with zeros, text left-aligned with
  spaces; dates in 和暦 YYMMDD (令和);
- its CSV variant: one record per line, the same items in the same order without the fillers
  (ダミー), the データ区分 first.

Records: one header (データ区分 1), data records (2), one trailer (8) whose counts and sums
must equal the data records', one end record (9), nothing after it. Any other shape is refused
with a message naming the record's line (its 1-based position in the file) — a bank file is
all or nothing: a half-read statement would conclude some credits and hide others.

The layout (項目, 桁数) is the 全銀協規定形式 as banks publish it for 入出金取引明細.
"""

import csv
import dataclasses
import datetime
import io
import unicodedata

RECORD_LENGTH = 200

# (name, width, numeric): the fields of each record type, in file order; None names a filler.
HEADER = (
    ("kind", 1, True),  # データ区分 "1"
    ("code", 2, True),  # 種別コード "03" 入出金取引明細
    ("charset", 1, True),  # コード区分 0 JIS
    ("created_on", 6, True),  # 作成日 (和暦 YYMMDD)
    ("period_from", 6, True),  # 勘定日（自）
    ("period_to", 6, True),  # 勘定日（至）
    ("bank_code", 4, True),  # 銀行コード
    ("bank_name", 15, False),  # 銀行名
    ("branch_code", 3, True),  # 支店コード
    ("branch_name", 15, False),  # 支店名
    (None, 3, False),  # ダミー
    ("account_type", 1, True),  # 預金種目 1 普通 2 当座
    ("account_number", 7, True),  # 口座番号
    ("account_name", 40, False),  # 口座名
    ("overdraft", 1, True),  # 貸越区分
    ("passbook", 1, True),  # 通帳・証書区分
    ("balance_before", 14, True),  # 取引前残高
    (None, 74, False),  # ダミー
)
DATA = (
    ("kind", 1, True),  # データ区分 "2"
    ("reference", 8, True),  # 照会番号 (the bank's number of the transaction)
    ("booked_on", 6, True),  # 勘定日 (和暦 YYMMDD)
    ("value_on", 6, True),  # 預入・払出日
    ("direction", 1, True),  # 入払区分 1 入金 2 出金
    ("transaction_type", 2, True),  # 取引区分 11 振込 …
    ("amount", 12, True),  # 取引金額
    ("other_bank_amount", 12, True),  # うち他店券金額
    ("presented_on", 6, True),  # 交換呈示日
    ("dishonoured_on", 6, True),  # 不渡返還日
    ("bill_type", 1, True),  # 手形・小切手区分
    ("bill_number", 7, True),  # 手形・小切手番号
    ("sister_branch", 3, True),  # 僚店番号
    ("sender_code", 10, True),  # 振込依頼人コード
    ("sender", 48, False),  # 振込依頼人名または契約者番号 (half-width kana)
    ("sending_bank", 15, False),  # 仕向銀行名
    ("sending_branch", 15, False),  # 仕向店名
    ("memo", 20, False),  # 摘要内容
    ("edi", 20, False),  # EDI情報
    (None, 1, False),  # ダミー
)
TRAILER = (
    ("kind", 1, True),  # データ区分 "8"
    ("credit_count", 6, True),  # 入金件数
    ("credit_total", 13, True),  # 入金額合計
    ("debit_count", 6, True),  # 出金件数
    ("debit_total", 13, True),  # 出金額合計
    ("overdraft", 1, True),  # 貸越区分
    ("balance_after", 14, True),  # 取引後残高
    (None, 146, False),  # ダミー
)
END = (
    ("kind", 1, True),  # データ区分 "9"
    (None, 199, False),  # ダミー
)
LAYOUTS = {"1": HEADER, "2": DATA, "8": TRAILER, "9": END}
if any(sum(width for _, width, _ in layout) != RECORD_LENGTH for layout in LAYOUTS.values()):
    raise ImportError("a 入出金取引明細 layout is not 200 bytes")  # a typo in the tables above
# Dates that may be all zeros or blank (no such date on this transaction).
OPTIONAL_DATES = {"created_on", "presented_on", "dishonoured_on", "value_on"}
DATES = {"period_from", "period_to", "booked_on", *OPTIONAL_DATES}
# What esure reads: never blank. Other numeric items may be blank (read as 0) — banks' CSV
# often leave the unused ones empty.
REQUIRED = {
    "code",
    "period_from",
    "period_to",
    "bank_code",
    "branch_code",
    "account_number",
    "reference",
    "booked_on",
    "direction",
    "amount",
    "credit_count",
    "credit_total",
    "debit_count",
    "debit_total",
}
# Identifiers: kept as text, zero-filled to their width (the CSV may drop leading zeros).
IDENTIFIERS = {"code", "bank_code", "branch_code", "account_number", "reference"}
CREDIT = "1"  # 入払区分: 入金
REIWA_START = 2018  # 令和N年 = 2018 + N (令和元年 = 2019)

MSG_ENCODING = "{line}行目: Shift_JIS として読めない文字があります。"
MSG_LENGTH = "{line}行目: レコードの長さが {length} バイトです（200 バイトのはずです）。"
MSG_TOTAL_LENGTH = (
    "ファイルの長さ {length} バイトは 200 バイトのレコードに分けられません"
    "（改行のない固定長ファイルのはずです）。"
)
MSG_KIND = "{line}行目: データ区分「{kind}」は入出金取引明細にありません（1, 2, 8, 9 のいずれか）。"
MSG_CODE = "{line}行目: 種別コード「{code}」は入出金取引明細（03）ではありません。"
MSG_FIRST = "{line}行目: 最初のレコードはヘッダ・レコード（データ区分 1）のはずです。"
MSG_ORDER = (
    "{line}行目: {kind}のレコードがこの位置にあります"
    "（ヘッダ → データ → トレーラ → エンドの順のはずです）。"
)
MSG_AFTER_END = "{line}行目: エンド・レコードの後にレコードがあります。"
MSG_NO_TRAILER = "トレーラ・レコード（データ区分 8）がありません。"
MSG_NO_END = "エンド・レコード（データ区分 9）がありません。"
MSG_BLANK = "{line}行目: {field}が空です。"
MSG_NUMBER = "{line}行目: {field}「{value}」が数字ではありません。"
MSG_DATE = "{line}行目: {field}「{value}」が日付（和暦 YYMMDD）ではありません。"
MSG_DIRECTION = "{line}行目: 入払区分「{value}」は 1（入金）か 2（出金）のはずです。"
MSG_TRAILER = (
    "{line}行目: トレーラ・レコードの{what}（{stated}）がデータ・レコードの合計（{actual}）と"
    "一致しません。"
)
MSG_COLUMNS = (
    "{line}行目: 項目の数が {count} です（{kind}のレコードは {expected} 項目のはずです）。"
)
MSG_EMPTY = "ファイルが空です。"

KIND_NAMES = {"1": "ヘッダ", "2": "データ", "8": "トレーラ", "9": "エンド"}
LABELS = {
    "kind": "データ区分",
    "code": "種別コード",
    "created_on": "作成日",
    "period_from": "勘定日（自）",
    "period_to": "勘定日（至）",
    "bank_code": "銀行コード",
    "branch_code": "支店コード",
    "account_type": "預金種目",
    "account_number": "口座番号",
    "balance_before": "取引前残高",
    "reference": "照会番号",
    "booked_on": "勘定日",
    "value_on": "預入・払出日",
    "direction": "入払区分",
    "transaction_type": "取引区分",
    "amount": "取引金額",
    "other_bank_amount": "うち他店券金額",
    "presented_on": "交換呈示日",
    "dishonoured_on": "不渡返還日",
    "sender_code": "振込依頼人コード",
    "credit_count": "入金件数",
    "credit_total": "入金額合計",
    "debit_count": "出金件数",
    "debit_total": "出金額合計",
    "balance_after": "取引後残高",
}


class StatementError(ValueError):
    """A file that is not a well-formed 入出金取引明細; the message names the line."""


@dataclasses.dataclass(frozen=True)
class Transaction:
    """One data record: a credit (入金) or debit (出金) of the account."""

    line: int
    reference: str
    booked_on: datetime.date
    is_credit: bool
    amount: int
    sender: str  # 振込依頼人名 as the bank sent it (half-width kana)


@dataclasses.dataclass(frozen=True)
class Statement:
    bank_code: str
    branch_code: str
    account_number: str
    account_name: str
    period_from: datetime.date
    period_to: datetime.date
    transactions: tuple

    @property
    def credits(self):
        return [t for t in self.transactions if t.is_credit]

    def identity(self, transaction):
        """What names a transaction across files: the account and the bank's 照会番号 on
        its 勘定日 (a later statement repeats it with the same identity)."""
        return (
            f"{self.bank_code}-{self.branch_code}-{self.account_number}"
            f"-{transaction.booked_on:%Y%m%d}-{transaction.reference}"
        )


def wareki_date(text):
    """和暦 (令和) YYMMDD → date; ValueError if it is not one."""
    if len(text) != 6 or not text.isdigit():
        raise ValueError(text)
    return datetime.date(REIWA_START + int(text[:2]), int(text[2:4]), int(text[4:]))


def _fixed_records(data):
    """(line, bytes) per 200-byte record: split at line breaks when the file has them, else
    every 200 bytes."""
    if b"\n" in data or b"\r" in data:
        lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        while lines and not lines[-1].strip(b" \x1a"):  # a trailing newline or EOF mark
            lines.pop()
        for line, record in enumerate(lines, 1):
            if len(record) != RECORD_LENGTH:
                raise StatementError(MSG_LENGTH.format(line=line, length=len(record)))
        return list(enumerate(lines, 1))
    data = data.rstrip(b"\x1a")
    if len(data) % RECORD_LENGTH:
        raise StatementError(MSG_TOTAL_LENGTH.format(length=len(data)))
    return [
        (n + 1, data[i : i + RECORD_LENGTH])
        for n, i in enumerate(range(0, len(data), RECORD_LENGTH))
    ]


def _decode(line, raw):
    try:
        return raw.decode("cp932")
    except UnicodeDecodeError as error:
        raise StatementError(MSG_ENCODING.format(line=line)) from error


def _split_fixed(line, raw):
    """One fixed-length record → {field: text}, cut by bytes (a Shift_JIS half-width kana is
    one byte; a full-width character would shift every field after it and is refused)."""
    kind = _decode(line, raw[:1])
    layout = LAYOUTS.get(kind)
    if layout is None:
        raise StatementError(MSG_KIND.format(line=line, kind=kind))
    fields, at = {}, 0
    for name, width, _ in layout:
        if name is not None:
            fields[name] = _decode(line, raw[at : at + width])
        at += width
    return kind, fields


def _split_csv(line, row):
    kind = row[0].strip() if row else ""
    layout = LAYOUTS.get(kind)
    if layout is None:
        raise StatementError(MSG_KIND.format(line=line, kind=kind))
    names = [name for name, _, _ in layout if name is not None]
    if len(row) != len(names):
        raise StatementError(
            MSG_COLUMNS.format(
                line=line, count=len(row), kind=KIND_NAMES[kind], expected=len(names)
            )
        )
    return kind, dict(zip(names, row, strict=True))


def _values(line, kind, fields):
    """Typed values of one record: numbers as int, dates as date (None when all zeros)."""
    numeric = {name: width for name, width, is_number in LAYOUTS[kind] if is_number and name}
    values = {}
    for name, text in fields.items():
        text = text.strip() if name in numeric or name in DATES else text.rstrip()
        if name == "kind":
            continue
        if text == "" and name in REQUIRED:
            raise StatementError(MSG_BLANK.format(line=line, field=LABELS.get(name, name)))
        if name in DATES:
            if name in OPTIONAL_DATES and text.strip("0") == "":
                values[name] = None
                continue
            try:
                values[name] = wareki_date(text)
            except ValueError as error:
                raise StatementError(
                    MSG_DATE.format(line=line, field=LABELS[name], value=text)
                ) from error
        elif name in numeric:
            text = text or "0"
            if not (text.isascii() and text.isdigit()):
                raise StatementError(
                    MSG_NUMBER.format(line=line, field=LABELS.get(name, name), value=text)
                )
            values[name] = text.zfill(numeric[name]) if name in IDENTIFIERS else int(text)
        else:
            values[name] = text
    return values


def parse(data):
    """The statement in `data` (bytes: the fixed-length file or its CSV variant) → Statement.
    Raises StatementError naming the line of the first bad record."""
    if not data.strip():
        raise StatementError(MSG_EMPTY)
    first = data.split(b"\n", 1)[0].rstrip(b"\r")
    if len(first) != RECORD_LENGTH and b"\n" in data and b"," in first:
        text = _decode(1, data)
        rows = [row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]
        records = [(line, *_split_csv(line, row)) for line, row in enumerate(rows, 1)]
    else:
        records = [(line, *_split_fixed(line, raw)) for line, raw in _fixed_records(data)]
    return _read(records)


def _read(records):
    header = trailer = None
    ended = False
    transactions = []
    for line, kind, fields in records:
        if ended:
            raise StatementError(MSG_AFTER_END.format(line=line))
        values = _values(line, kind, fields)
        if header is None:
            if kind != "1":
                raise StatementError(MSG_FIRST.format(line=line))
            if values["code"] != "03":
                raise StatementError(MSG_CODE.format(line=line, code=fields["code"]))
            header = values
        elif kind == "2" and trailer is None:
            if values["direction"] not in (1, 2):
                raise StatementError(MSG_DIRECTION.format(line=line, value=fields["direction"]))
            transactions.append(
                Transaction(
                    line=line,
                    reference=values["reference"],
                    booked_on=values["booked_on"],
                    is_credit=values["direction"] == int(CREDIT),
                    amount=values["amount"],
                    sender=values["sender"].strip(),
                )
            )
        elif kind == "8" and trailer is None:
            _check_trailer(line, values, transactions)
            trailer = values
        elif kind == "9" and trailer is not None:
            ended = True
        else:
            raise StatementError(MSG_ORDER.format(line=line, kind=KIND_NAMES[kind]))
    if trailer is None:
        raise StatementError(MSG_NO_TRAILER)
    if not ended:
        raise StatementError(MSG_NO_END)
    return Statement(
        bank_code=header["bank_code"],
        branch_code=header["branch_code"],
        account_number=header["account_number"],
        account_name=header["account_name"].strip(),
        period_from=header["period_from"],
        period_to=header["period_to"],
        transactions=tuple(transactions),
    )


def _check_trailer(line, values, transactions):
    credits = [t.amount for t in transactions if t.is_credit]
    debits = [t.amount for t in transactions if not t.is_credit]
    for what, stated, actual in (
        ("入金件数", values["credit_count"], len(credits)),
        ("入金額合計", values["credit_total"], sum(credits)),
        ("出金件数", values["debit_count"], len(debits)),
        ("出金額合計", values["debit_total"], sum(debits)),
    ):
        if stated != actual:
            raise StatementError(
                MSG_TRAILER.format(line=line, what=what, stated=stated, actual=actual)
            )


# --- Names as banks send them ----------------------------------------------------------------

# Legal forms as banks abbreviate them in 振込依頼人名 (全銀協の略語), and as they are spelled
# out in a company's フリガナ: both are dropped before names are compared.
LEGAL_FORMS = (
    "カブシキガイシャ",
    "カブシキカイシャ",
    "ユウゲンガイシャ",
    "ユウゲンカイシャ",
    "ゴウドウガイシャ",
    "ゴウドウカイシャ",
    "ゴウメイガイシャ",
    "ゴウシガイシャ",
)
ABBREVIATIONS = (
    "(カ)",
    "カ)",
    "(カ",
    "(ユ)",
    "ユ)",
    "(ユ",
    "(ド)",
    "ド)",
    "(ド",
    "(メ)",
    "メ)",
    "(メ",
)
SMALL_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")


def name_key(text):
    """A company name in katakana as comparable text: NFKC (half-width ｶﾌﾞｼｷ → カブシキ,
    full-width letters and digits → ASCII), small kana as banks write them (ッ → ツ), no
    spaces, dots, long-vowel marks or digits (a 申込番号 written beside the name), and no
    legal form (株式会社 spelt out or as カ))."""
    text = unicodedata.normalize("NFKC", text or "").upper()
    for form in ABBREVIATIONS:
        text = text.replace(form, "")
    for form in LEGAL_FORMS:  # spelt as in フリガナ or as banks write them (ャ → ヤ)
        text = text.replace(form, "").replace(form.translate(SMALL_KANA), "")
    text = text.translate(SMALL_KANA)
    return "".join(ch for ch in text if ch not in " 　.・-ー()" and not ch.isdigit())
