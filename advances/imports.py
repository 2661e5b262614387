"""The bank's CSV of executed transfers (払出報告 in bulk, decision 0015).

One header row with the columns CSV_COLUMNS, then one executed withdrawal per row, UTF-8
(with or without BOM) or Shift_JIS as banks export it; amounts may carry commas and 円,
dates 2026-04-01 or 2026/4/1, full-width digits are read as digits. Each row is matched to a
confirmed withdrawal of an account at the importing branch (account number, 払出依頼番号
as printed on the 払出依頼書, amount) and recorded through services.record_execution. The
same file twice is refused (its SHA-256 is kept per branch); a row whose transaction was
recorded before is reported and not counted again; a row that matches nothing is reported
with the reason and changes nothing.
"""

import csv
import datetime
import hashlib
import io
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from advances import services
from advances.models import AdvanceAccount, BankImport, Withdrawal
from audit import services as audit

W = Withdrawal.Status
CSV_COLUMNS = ("口座番号", "払出依頼番号", "払出日", "金額", "取引番号")
# How each row is kept in BankImport.result (with its line number, outcome and message).
RESULT_KEYS = {
    "口座番号": "account",
    "払出依頼番号": "request",
    "払出日": "day",
    "金額": "amount",
    "取引番号": "reference",
}
OUTCOMES = ("recorded", "already", "unmatched")

MSG_IMPORT_DUPLICATE = (
    "このファイルはすでに取り込まれています（{at}）。同じ払出を二重に記録しません。"
)
MSG_IMPORT_ENCODING = (
    "ファイルの文字コードを判別できません（UTF-8 または Shift_JIS の CSV にしてください）。"
)
MSG_IMPORT_HEADER = "1行目の見出しが正しくありません。次の列が必要です: {columns}"
MSG_IMPORT_EMPTY = "取り込む行がありません。"
MSG_ROW_ACCOUNT = "この支店の前払金専用口座にこの口座番号はありません"
MSG_ROW_REQUEST = "払出依頼番号がこの口座のものではありません"
MSG_ROW_NO_REQUEST = "この払出依頼番号の依頼はありません"
MSG_ROW_ALREADY = "記録済みの払出です（二重に記録しません）"
MSG_ROW_OTHER_TRANSACTION = "この払出依頼はすでに別の取引として記録されています"
MSG_ROW_STATUS = "この払出依頼は「{status}」です（確認済のものだけを記録できます）"
MSG_ROW_RECORDED = "払出依頼 第{number}号 を払出済として記録しました"
MSG_ROW_AMOUNT = "金額が数字ではありません"
MSG_ROW_DATE = "払出日が日付ではありません"


def _decode(data):
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError({"file": MSG_IMPORT_ENCODING})


def _parse_amount(text):
    text = text.replace(",", "").replace("円", "")
    if not re.fullmatch(r"[0-9]+", text):
        raise ValueError(MSG_ROW_AMOUNT)
    return int(text)


def _parse_date(text):
    parts = text.replace("/", "-").split("-")
    try:
        if len(parts) == 3:
            return datetime.date(*(int(part) for part in parts))
        return datetime.date.fromisoformat(text)
    except ValueError as error:
        raise ValueError(MSG_ROW_DATE) from error


def _clean(row):
    """The row's columns as text: NFKC (full-width digits), stripped, "" when missing."""
    return {
        column: unicodedata.normalize("NFKC", row.get(column) or "").strip()
        for column in CSV_COLUMNS
    }


def _import_row(branch, row, by):
    """One cleaned CSV row → (outcome, message): "recorded", "already" (this transaction
    was recorded before: not counted again) or "unmatched" (nothing to record it against)."""
    number, request, reference = row["口座番号"], row["払出依頼番号"], row["取引番号"]
    try:
        amount = _parse_amount(row["金額"])
        day = _parse_date(row["払出日"])
    except ValueError as error:
        return "unmatched", str(error)
    account = AdvanceAccount.objects.filter(
        branch=branch, account_number=number, state=AdvanceAccount.State.DESIGNATED
    ).first()
    if account is None:
        return "unmatched", MSG_ROW_ACCOUNT
    match = re.fullmatch(r"(?:(\d+)-)?(\d+)", request)
    if match is None or (match.group(1) and int(match.group(1)) != account.pk):
        return "unmatched", MSG_ROW_REQUEST
    withdrawal = account.withdrawals.filter(number=int(match.group(2))).first()
    if withdrawal is None:
        return "unmatched", MSG_ROW_NO_REQUEST
    if withdrawal.status == W.EXECUTED:
        if reference and withdrawal.bank_reference == reference:
            return "already", MSG_ROW_ALREADY
        return "unmatched", MSG_ROW_OTHER_TRANSACTION
    if withdrawal.status != W.CONFIRMED:
        return "unmatched", MSG_ROW_STATUS.format(status=withdrawal.get_status_display())
    try:
        with transaction.atomic():  # a savepoint: a refused row leaves nothing behind
            services.record_execution(
                withdrawal=withdrawal,
                by=by,
                executed_on=day,
                amount=amount,
                reference=reference,
                note="CSV取込",
            )
    except ValidationError as error:
        return "unmatched", " ".join(error.messages)
    return "recorded", MSG_ROW_RECORDED.format(number=withdrawal.number)


def import_bank_csv(*, branch, by, name, data):
    """The branch's CSV of executed transfers (払出報告 in bulk): each row is matched to a
    confirmed withdrawal of an account at the branch (account number, 払出依頼番号, amount)
    and recorded as its execution. The same file twice is refused; a row recorded before
    is reported and not counted again. Returns the BankImport with the outcome per row."""
    digest = hashlib.sha256(data).hexdigest()
    earlier = BankImport.objects.filter(branch=branch, sha256=digest).first()
    if earlier is not None:
        at = timezone.localtime(earlier.imported_at).strftime("%Y/%m/%d %H:%M")
        raise ValidationError({"file": MSG_IMPORT_DUPLICATE.format(at=at)})
    reader = csv.DictReader(io.StringIO(_decode(data)))
    header = [unicodedata.normalize("NFKC", h or "").strip() for h in reader.fieldnames or []]
    if not set(CSV_COLUMNS) <= set(header):
        raise ValidationError({"file": MSG_IMPORT_HEADER.format(columns="、".join(CSV_COLUMNS))})
    reader.fieldnames = header
    # Numbered as the bank's staff see the file (the header is line 1); blank lines skipped.
    rows = [(line_no, _clean(row)) for line_no, row in enumerate(reader, 2)]
    rows = [(line_no, row) for line_no, row in rows if any(row.values())]
    if not rows:
        raise ValidationError({"file": MSG_IMPORT_EMPTY})
    stored = []
    try:
        with transaction.atomic():
            result = []
            for line_no, row in rows:
                outcome, message = _import_row(branch, row, by)
                values = {RESULT_KEYS[column]: text for column, text in row.items()}
                result.append({"line": line_no, "outcome": outcome, "message": message, **values})
            record = BankImport(branch=branch, name=name[-200:], imported_by=by, result=result)
            record.sha256 = services.store_file(
                record.file, f"import-{branch.pk}.csv", data, stored
            )
            try:
                with transaction.atomic():
                    record.save()
            except IntegrityError as error:  # the same file, imported a moment ago
                raise ValidationError({"file": MSG_IMPORT_DUPLICATE.format(at="直前")}) from error
            counts = {o: sum(1 for r in result if r["outcome"] == o) for o in OUTCOMES}
            audit.record(
                actor=by,
                action="bank_import.imported",
                obj=record,
                data={"branch": str(branch), "sha256": digest, **counts},
            )
    except BaseException:
        services.discard_files(stored)
        raise
    return record
