"""Fee receipts from the bank's statement (入出金明細, issue 20; decision 0021).

Staff upload the statement of the surety's fee account (console.zengin reads it). Each
credit (入金) is matched to the applications waiting for their fee (承認済, 保証料入金待ち):
the amount must be the fee due on the credit's 勘定日 (fees.expected_fee), and the 振込依頼人名
must name the application — its 申込番号 among the digits, or else the company's フリガナ
(half-width kana as banks send them, zengin.name_key). One candidate is proposed (照合済);
none or several are listed and never concluded. Staff confirm the proposals, and each one is
concluded through services.record_fee_receipt — the same service as the 保証料入金 box.

The same file twice is refused (its SHA-256 is unique); a credit seen in an earlier file (its
identity: account, 勘定日, the bank's 照会番号) is kept as 取込済 and never concluded again.
"""

import hashlib
import logging
import re
import unicodedata
from collections import Counter

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from applications import fees, services
from applications.models import Application, FeeReceipt
from audit import services as audit
from console import zengin
from console.models import StatementCredit, StatementImport

Outcome = StatementCredit.Outcome
logger = logging.getLogger(__name__)

MSG_DUPLICATE_FILE = (
    "このファイルはすでに取り込まれています（{at}）。同じ入金を二重に締結しません。"
)
MSG_NO_CREDITS = "このファイルに入金の明細がありません。"
MSG_BY_NUMBER = "申込番号 {number} と金額が一致"
MSG_BY_NAME = "振込依頼人名（{name}）と金額が一致"
MSG_NONE = "金額と申込番号・振込依頼人名が一致する保証料入金待ちの申込がありません"
MSG_SEVERAL = "一致する申込が複数あります（申込番号 {numbers}）: 保証料入金の欄で記録してください"
MSG_SHARED = "同じ申込に一致する入金がこのファイルに複数あります"
MSG_REPEATED = "以前の取込（{name}）で読んだ入金です（二重に締結しません）"
MSG_NOT_MATCHED = "照合済の入金ではありません（{outcome}）"
MSG_FAILED = "締結できませんでした（すべて取り消しました）: {error}"


def _numbers_in(sender):
    """Digit runs of the 振込依頼人名 (full-width digits too): a 申込番号 written there."""
    return {int(n) for n in re.findall(r"\d+", unicodedata.normalize("NFKC", sender))}


def waiting_for_fee(day):
    """The applications waiting for their fee, each with the fee due on `day` and the key of
    its company's name: [(application, due, name_key)]."""
    waiting = (
        Application.objects.filter(status=Application.Status.APPROVED)
        .select_related("company")
        .prefetch_related("items")
    )
    result = []
    for application in waiting:
        expected = fees.expected_fee(application, day)
        if expected.problem is None:
            result.append(
                (application, expected.due, zengin.name_key(application.company.name_kana))
            )
    return result


def match(transaction_, waiting):
    """The applications a credit pays for, and why: a 申込番号 in the 振込依頼人名 decides
    among those of the right amount; without one, the company's name does."""
    same_amount = [(a, key) for a, due, key in waiting if due == transaction_.amount]
    numbers = _numbers_in(transaction_.sender)
    by_number = [a for a, _ in same_amount if a.pk in numbers]
    if by_number:
        return by_number, MSG_BY_NUMBER.format(number=by_number[0].pk)
    sender = zengin.name_key(transaction_.sender)
    by_name = [a for a, key in same_amount if key and key == sender]
    return by_name, MSG_BY_NAME.format(name=transaction_.sender)


def import_statement(*, name, data, by):
    """Read a statement file, store its credits with what each matches, and return the
    StatementImport. Concludes nothing: staff confirm the proposals (conclude_credits).
    Raises ValidationError({"file": …}) for a malformed file (naming the line), a file
    imported before, or a file without credits."""
    try:
        statement = zengin.parse(data)
    except zengin.StatementError as error:
        raise ValidationError({"file": str(error)}) from error
    digest = hashlib.sha256(data).hexdigest()
    earlier = StatementImport.objects.filter(sha256=digest).first()
    if earlier is not None:
        at = timezone.localtime(earlier.imported_at).strftime("%Y/%m/%d %H:%M")
        raise ValidationError({"file": MSG_DUPLICATE_FILE.format(at=at)})
    if not statement.credits:
        raise ValidationError({"file": MSG_NO_CREDITS})
    with transaction.atomic():
        record = StatementImport(
            name=name[-200:],
            sha256=digest,
            account=f"{statement.bank_code}-{statement.branch_code}-{statement.account_number}",
            period_from=statement.period_from,
            period_to=statement.period_to,
            imported_by=by,
        )
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError as error:  # the same file, imported a moment ago
            raise ValidationError({"file": MSG_DUPLICATE_FILE.format(at="直前")}) from error
        credits = _credits(record, statement)
        StatementCredit.objects.bulk_create(credits)
        counts = Counter(c.outcome for c in credits)
        audit.record(
            actor=by,
            action="statement.imported",
            obj=record,
            data={"sha256": digest, "account": record.account, **counts},
        )
    return record


def _credits(record, statement):
    identities = {statement.identity(t): t for t in statement.credits}
    seen = dict(
        StatementCredit.objects.filter(identity__in=identities)
        .exclude(outcome=Outcome.REPEATED)
        .values_list("identity", "statement__name")
    )
    waiting = {}
    credits = []
    for transaction_ in statement.credits:
        identity = statement.identity(transaction_)
        credit = StatementCredit(
            statement=record,
            line=transaction_.line,
            identity=identity,
            booked_on=transaction_.booked_on,
            amount=transaction_.amount,
            sender=transaction_.sender[:48],
        )
        if identity in seen:
            credit.outcome, credit.note = Outcome.REPEATED, MSG_REPEATED.format(name=seen[identity])
        else:
            seen[identity] = record.name
            day = transaction_.booked_on
            if day not in waiting:
                waiting[day] = waiting_for_fee(day)
            found, reason = match(transaction_, waiting[day])
            credit.candidates = [a.pk for a in found]
            if len(found) == 1:
                credit.outcome, credit.note, credit.application = Outcome.MATCHED, reason, found[0]
            elif found:
                numbers = "、".join(str(a.pk) for a in found)
                credit.outcome, credit.note = Outcome.AMBIGUOUS, MSG_SEVERAL.format(numbers=numbers)
            else:
                credit.outcome, credit.note = Outcome.UNMATCHED, MSG_NONE
        credits.append(credit)
    # Two credits for one application: neither is proposed (one of them is not its fee).
    shared = Counter(c.application_id for c in credits if c.outcome == Outcome.MATCHED)
    for credit in credits:
        if credit.outcome == Outcome.MATCHED and shared[credit.application_id] > 1:
            credit.outcome, credit.note, credit.application = Outcome.AMBIGUOUS, MSG_SHARED, None
    return credits


def conclude_credits(*, credit_ids, by):
    """Conclude the confirmed credits, each through services.record_fee_receipt (保証料入金
    → 締結), each in its own transaction with the credit's row locked: a credit is concluded
    once, whatever is clicked twice. Only a 照合済 credit is concluded. Returns
    (concluded [(credit, guarantees)], refused [(credit, message)])."""
    concluded, refused = [], []
    for pk in credit_ids:
        credit = None
        try:
            with transaction.atomic():
                credit = StatementCredit.objects.select_for_update().get(pk=pk)
                if credit.outcome != Outcome.MATCHED:
                    raise ValidationError(
                        MSG_NOT_MATCHED.format(outcome=credit.get_outcome_display())
                    )
                guarantees = services.record_fee_receipt(
                    application=credit.application,
                    received_on=credit.booked_on,
                    amount=credit.amount,
                    method=FeeReceipt.Method.TRANSFER,
                    by=by,
                )
                credit.outcome = Outcome.CONCLUDED
                credit.fee_receipt = FeeReceipt.objects.get(application=credit.application)
                credit.save(update_fields=["outcome", "fee_receipt"])
        except StatementCredit.DoesNotExist:
            continue
        except ValidationError as error:
            refused.append((credit, " ".join(error.messages)))
        except Exception as error:  # e.g. a PDF that did not render: that credit kept nothing
            if credit is None:
                raise
            logger.exception("conclusion of statement credit %s failed", pk)
            refused.append((credit, MSG_FAILED.format(error=type(error).__name__)))
        else:
            concluded.append((credit, guarantees))
    return concluded, refused
