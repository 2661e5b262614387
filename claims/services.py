"""Every write of a claim (保証金の請求). Views and the admin call these.

Each runs in one transaction: the claim row is locked and moved along ALLOWED by the one
helper (`_move`), which writes the history row and the audit event; the mails to the office,
the contractor (and staff, when a decision waits for them) are queued in the same
transaction. Files are stored as the advances' evidence is (advances.services: checked by
their bytes, SHA-256 kept) and deleted again when the transaction fails.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from advances.services import discard_files, evidence_type, store_file
from audit import services as audit
from claims import notifications, rules, selectors
from claims.models import Attachment, Claim, ClaimStatusChange
from claims.selectors import CLAIMABLE_KINDS
from esure.choices import GuaranteeKind
from esure.wareki import to_wareki, yen
from esure.workflow import TransitionError as TransitionError
from esure.workflow import Workflow

S = Claim.Status

# The one status table of a claim (STYLE.md), checked by `_move` only. An approved claim is
# a decision to pay, told to the orderer: it is not refused afterwards (decision 0027).
ALLOWED = {
    S.FILED: {S.MORE_DOCUMENTS_REQUESTED, S.APPROVED, S.REFUSED},
    S.MORE_DOCUMENTS_REQUESTED: {S.RESUBMITTED},
    S.RESUBMITTED: {S.MORE_DOCUMENTS_REQUESTED, S.APPROVED, S.REFUSED},
    S.APPROVED: {S.PAID},
    S.PAID: set(),
    S.REFUSED: set(),
}

MSG_TRANSITION = "「{old}」の請求を「{new}」にすることはできません。"
MSG_KIND = "保証金の請求は、前払金保証と契約保証について受け付けています。"
MSG_CANCELLED = "解約された保証契約には請求できません。"
MSG_COMPLETED = "完成（{day}）により終了した保証契約には請求できません。"
MSG_ALREADY_CLAIMED = "この保証契約にはすでに請求があります（請求の一覧をご覧ください）。"
MSG_REQUIRED = "入力してください。"
MSG_MESSAGE_REQUIRED = "依頼する内容を入力してください。"
MSG_REASON_REQUIRED = "理由を入力してください。"
MSG_NOTE_REQUIRED = "算定額と異なる額で決定するときは、その理由を入力してください。"
MSG_APPROVED_AMOUNT = "支払決定額は1円以上、保証金額 {limit} 以下で入力してください。"
MSG_PAID_AMOUNT = "支払額が支払決定額 {amount} と一致しません。"
MSG_FUTURE_DATE = "未来の日付は入力できません。"
MSG_PAID_BEFORE_FILING = "支払日が請求の受付日より前です。"
MSG_FILE_TOO_LARGE = "ファイルが大きすぎます（{limit_mb}MBまで）。"
MSG_FILE_TYPE = "PDFまたはJPEGのファイルを添付してください（内容から判定しています）。"
MSG_FILE_EMPTY = "ファイルが空です。"
MSG_FILES_REQUIRED = "追加の書類を添付してください。"
MSG_TOO_MANY_FILES = "一度に添付できるファイルは{limit}個までです。"

# Claim documents: PDF (scans, the 通知書) and JPEG (photographs of the site) only.
ACCEPTED_TYPES = ("application/pdf", "image/jpeg")
MAX_FILES_AT_ONCE = 5


WORKFLOW = Workflow(table=ALLOWED, history=ClaimStatusChange, message=MSG_TRANSITION)


def _move(claim, *, to, by, note="", values=None):
    """Lock the claim, check ALLOWED, set the status with the `values` that go with the move
    (one UPDATE), write the history row (esure.workflow); then the audit event."""
    locked, change = WORKFLOW.move(claim, to=to, by=by, note=note, values=values)
    old = change.old_status
    audit.record(
        actor=by,
        action=f"claim.{to}",
        obj=locked,
        data={
            "from": old,
            "to": to,
            "guarantee": locked.guarantee.number,
            "note": note[:200],
            **(values or {}),
        },
    )
    return locked


# --- Amounts -----------------------------------------------------------------------------


def compute(
    *,
    kind,
    guaranteed_amount,
    advance_paid=None,
    progress_paid=None,
    completed_value=None,
    penalty=None,
):
    """The claimable amount and its working for a guarantee of `kind` (claims.rules)."""
    if kind == GuaranteeKind.CONTRACT:
        return rules.contract_claimable(penalty=penalty, guaranteed_amount=guaranteed_amount)
    return rules.advance_claimable(
        advance=advance_paid, progress_paid=progress_paid, completed_value=completed_value
    )


def claim_problems(*, guarantee, terms, terminated_on, advance_paid=None, penalty=None, today=None):
    """What stops this guarantee being claimed with these figures, by field (empty: none)."""
    errors = {}
    if guarantee.kind not in CLAIMABLE_KINDS:
        errors["__all__"] = [MSG_KIND]
        return errors
    if terms.cancelled:
        errors["__all__"] = [MSG_CANCELLED]
        return errors
    if guarantee.completed_on is not None:  # 完成 ended it (decision 0026)
        errors["__all__"] = [MSG_COMPLETED.format(day=to_wareki(guarantee.completed_on))]
        return errors
    if terminated_on is not None:
        problems = rules.check_termination_date(
            terminated_on,
            today=today or timezone.localdate(),
            starts_on=terms.starts_on,
            ends_on=terms.ends_on,
        )
        if problems:
            errors["terminated_on"] = problems
    if guarantee.kind == GuaranteeKind.ADVANCE and advance_paid and advance_paid > terms.amount:
        errors["advance_paid"] = [rules.MSG_ADVANCE_OVER_GUARANTEE.format(amount=yen(terms.amount))]
    return errors


# --- Files -------------------------------------------------------------------------------


def read_upload(upload, field):
    """The bytes and (content type, extension) of an uploaded claim document: at most
    ESURE_CLAIM_ATTACHMENT_MAX_BYTES, PDF or JPEG by its first bytes (never its name)."""
    limit = settings.ESURE_CLAIM_ATTACHMENT_MAX_BYTES
    too_large = ValidationError({field: MSG_FILE_TOO_LARGE.format(limit_mb=limit // 2**20)})
    if upload.size > limit:
        raise too_large
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise too_large
    if not data:
        raise ValidationError({field: MSG_FILE_EMPTY})
    found = evidence_type(data)
    if found is None or found[0] not in ACCEPTED_TYPES:
        raise ValidationError({field: MSG_FILE_TYPE})
    return data, found


def _attach(claim, kind, upload, data, found, by, stored):
    content_type, extension = found
    attachment = Attachment(
        claim=claim,
        kind=kind,
        name=(upload.name or "file")[-200:],
        content_type=content_type,
        size=len(data),
        uploaded_by=by,
    )
    name = f"claim-{claim.pk}-{kind}{extension}"
    attachment.sha256 = store_file(attachment.file, name, data, stored)
    attachment.save()
    return attachment


# --- The office's side ---------------------------------------------------------------------


def file_claim(
    *,
    guarantee,
    office,
    by,
    terminated_on,
    termination_cause,
    termination_notice,
    inspection_record=None,
    advance_paid=None,
    progress_paid=None,
    completed_value=None,
    penalty=None,
):
    """An office user claims on a guarantee after 契約解除 (保証金の請求): the figures of its
    kind, the 解除通知 (and, for a 前払金保証, the 出来形検査調書). The claimable amount and its
    working are computed and stored with the figures; the due date is the day of receipt
    plus ESURE_CLAIM_DUE_DAYS (法第13条). The office, the contractor and staff are mailed."""
    terms = selectors.cover_of(guarantee)
    errors = claim_problems(
        guarantee=guarantee,
        terms=terms,
        terminated_on=terminated_on,
        advance_paid=advance_paid,
        penalty=penalty,
    )
    if not (termination_cause or "").strip():
        errors["termination_cause"] = [MSG_REQUIRED]
    advance = guarantee.kind == GuaranteeKind.ADVANCE
    figures = (
        {
            "advance_paid": advance_paid,
            "progress_paid": progress_paid,
            "completed_value": completed_value,
        }
        if advance
        else {"penalty": penalty}
    )
    for field, value in figures.items():
        if value is None:
            errors.setdefault(field, [MSG_REQUIRED])
    if advance and inspection_record is None:
        errors["inspection_record"] = [MSG_REQUIRED]
    if errors:
        raise ValidationError(errors)
    computation = compute(kind=guarantee.kind, guaranteed_amount=terms.amount, **figures)
    if computation.amount <= 0:
        raise ValidationError(
            rules.MSG_NOTHING_TO_CLAIM.format(working=" ".join(computation.working))
        )
    files = [(Attachment.Kind.TERMINATION_NOTICE, termination_notice, "termination_notice")]
    if inspection_record is not None:
        files.append((Attachment.Kind.INSPECTION_RECORD, inspection_record, "inspection_record"))
    read = [(kind, upload, *read_upload(upload, field)) for kind, upload, field in files]
    now = timezone.now()
    stored = []
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    claim = Claim.objects.create(
                        guarantee=guarantee,
                        office=office,
                        terminated_on=terminated_on,
                        termination_cause=termination_cause.strip(),
                        guaranteed_amount=terms.amount,
                        claimable=computation.amount,
                        working=list(computation.working),
                        filed_by=by,
                        filed_at=now,
                        due_on=rules.due_on(timezone.localdate(now), settings.ESURE_CLAIM_DUE_DAYS),
                        **figures,
                    )
            except IntegrityError:
                raise ValidationError(MSG_ALREADY_CLAIMED) from None
            for kind, upload, data, found in read:
                _attach(claim, kind, upload, data, found, by, stored)
            ClaimStatusChange.objects.create(
                claim=claim, old_status="", new_status=S.FILED, by=by, at=now
            )
            audit.record(
                actor=by,
                action="claim.filed",
                obj=claim,
                data={
                    "guarantee": guarantee.number,
                    "office": office.pk,
                    "claimable": claim.claimable,
                    "due_on": claim.due_on,
                    **figures,
                },
            )
            notifications.step(claim, note="")
            notifications.to_staff(claim)
    except BaseException:
        discard_files(stored)
        raise
    return claim


def resubmit(*, claim, by, files, note=""):
    """The office answers a request for more documents: new files (and a note), back to
    staff for review."""
    if not files:
        raise ValidationError({"files": MSG_FILES_REQUIRED})
    if len(files) > MAX_FILES_AT_ONCE:
        raise ValidationError({"files": MSG_TOO_MANY_FILES.format(limit=MAX_FILES_AT_ONCE)})
    read = [(upload, *read_upload(upload, "files")) for upload in files]
    stored = []
    try:
        with transaction.atomic():
            claim = _move(claim, to=S.RESUBMITTED, by=by, note=note.strip())
            for upload, data, found in read:
                _attach(claim, Attachment.Kind.ADDITIONAL, upload, data, found, by, stored)
            notifications.step(claim, note=note.strip())
            notifications.to_staff(claim)
    except BaseException:
        discard_files(stored)
        raise
    return claim


# --- Surety staff's side -------------------------------------------------------------------


def request_documents(*, claim, by, message):
    """Staff ask the office for more documents, saying which (the office and the contractor
    read the message)."""
    if not (message or "").strip():
        raise ValidationError({"message": MSG_MESSAGE_REQUIRED})
    with transaction.atomic():
        claim = _move(claim, to=S.MORE_DOCUMENTS_REQUESTED, by=by, note=message.strip())
        notifications.step(claim, note=message.strip())
    return claim


def approve(*, claim, by, amount, note=""):
    """Staff decide to pay `amount`: by default the computed one; another amount (at most
    the 保証金額 at filing) needs a note saying why."""
    note = (note or "").strip()
    if amount is None or not 0 < amount <= claim.guaranteed_amount:
        raise ValidationError(
            {"amount": MSG_APPROVED_AMOUNT.format(limit=yen(claim.guaranteed_amount))}
        )
    if amount != claim.claimable and not note:
        raise ValidationError({"note": MSG_NOTE_REQUIRED})
    with transaction.atomic():
        claim = _move(claim, to=S.APPROVED, by=by, note=note, values={"approved_amount": amount})
        notifications.step(claim, note=note)
    return claim


def refuse(*, claim, by, reason):
    """Staff refuse the claim, with the reason the office and the contractor read."""
    if not (reason or "").strip():
        raise ValidationError({"reason": MSG_REASON_REQUIRED})
    with transaction.atomic():
        claim = _move(claim, to=S.REFUSED, by=by, note=reason.strip())
        notifications.step(claim, note=reason.strip())
    return claim


def record_payment(*, claim, by, paid_on, amount, note=""):
    """Staff record the payment of the approved amount (date, amount)."""
    errors = {}
    if paid_on is None:
        errors["paid_on"] = [MSG_REQUIRED]
    elif paid_on > timezone.localdate():
        errors["paid_on"] = [MSG_FUTURE_DATE]
    elif paid_on < timezone.localdate(claim.filed_at):
        errors["paid_on"] = [MSG_PAID_BEFORE_FILING]
    if claim.approved_amount is not None and amount != claim.approved_amount:
        errors["amount"] = [MSG_PAID_AMOUNT.format(amount=yen(claim.approved_amount))]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        claim = _move(
            claim,
            to=S.PAID,
            by=by,
            note=(note or "").strip(),
            values={"paid_on": paid_on, "paid_amount": amount},
        )
        notifications.step(claim, note="")
    return claim
