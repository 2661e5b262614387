"""Every write of the money flow (前払金の使途管理). Views, admin and commands call these.

Each runs in one transaction: it locks the account row first (so two withdrawals, or a
withdrawal and a 使途変更, are checked one after the other against the same totals), then
the plan or withdrawal through its status table's one helper (`_move`), which writes the
history row and the audit event. Mail is queued in the same transaction.
"""

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from advances import notifications, pdf, rules, selectors
from advances.models import (
    AdvanceAccount,
    Deposit,
    Evidence,
    Inspection,
    PlanLine,
    PlanStatusChange,
    UseCategory,
    UsePlan,
    Withdrawal,
    WithdrawalLine,
    WithdrawalStatusChange,
)
from audit import services as audit
from esure.choices import GuaranteeKind
from esure.wareki import to_wareki, yen
from esure.workflow import MSG_TRANSITION as MSG_TRANSITION
from esure.workflow import TransitionError as TransitionError
from esure.workflow import Workflow

P = UsePlan.Status
W = Withdrawal.Status

# The status tables (STYLE.md): one per workflow, checked by `_move` only.
PLAN_ALLOWED = {
    P.DRAFT: {P.SUBMITTED, P.WITHDRAWN},
    P.SUBMITTED: {P.ACCEPTED, P.RETURNED},
    P.ACCEPTED: {P.SUPERSEDED},
}
WITHDRAWAL_ALLOWED = {
    W.DRAFT: {W.SUBMITTED, W.CASH_REVIEW, W.CANCELLED},
    W.CASH_REVIEW: {W.SUBMITTED, W.REJECTED, W.CANCELLED, W.VOIDED},
    W.SUBMITTED: {W.CONFIRMED, W.REJECTED, W.CANCELLED, W.VOIDED},
    W.CONFIRMED: {W.EXECUTED, W.REJECTED},
}

MSG_REASON_REQUIRED = "理由を入力してください。"
MSG_NOT_DESIGNATED = "この口座は前払金専用口座として指定されていません。"
MSG_NOT_ENTRUSTED = "この金融機関は保証会社と委託契約がないため、前払金専用口座に指定できません。"
MSG_ALREADY_DESIGNATED = "この工事の前払金専用口座はすでに登録されています。"
MSG_NUMBER_TAKEN = "この支店の同じ口座番号がすでに前払金専用口座として登録されています。"
MSG_WORK_KIND = "この工事には「{kind}」を選べません。"
MSG_CANCELLED = "解約された保証契約の前払金専用口座は登録できません。"
MSG_COMPLETED = "完成が記録された保証契約の前払金専用口座は登録できません。"
MSG_ALREADY_RELEASED = "この前払金専用口座はすでに指定解除されています。"
# The history note of a withdrawal closed by the release (shown to the contractor and bank).
NOTE_VOIDED_BY_RELEASE = "前払金専用口座の指定解除（工事の完成、{day}）により取消"
MSG_NO_ADVANCE_GUARANTEE = "前払金保証が締結されていないため、前払金専用口座を登録できません。"
MSG_PLAN_OPEN = "作成中または確認待ちの明細書があります。"
MSG_NOT_DRAFT = "提出済みの明細書・払出依頼は変更できません（新しい版を作成してください）。"
MSG_LINE_KEY = "明細番号が正しくありません。"
MSG_PLAN_LINE_CHOICE = "適用中の明細書の明細から選んでください。"
MSG_EXECUTED_AMOUNT = "払出額 {amount} が依頼額 {total} と一致しません。"
MSG_FUTURE_DATE = "未来の日付は入力できません。"
MSG_REFERENCE_TAKEN = "この取引番号はすでにこの口座で記録されています。"
MSG_EVIDENCE_TOO_LARGE = "ファイルが大きすぎます（{limit_mb}MBまで）。"
MSG_EVIDENCE_TYPE = "PDF、JPEG、PNGのファイルを添付してください（内容から判定しています）。"
MSG_EVIDENCE_EMPTY = "ファイルが空です。"
MSG_EVIDENCE_KIND = "この明細に必要な証憑の種類から選んでください。"
MSG_COPY_STATUS = "不承認または取下げの払出依頼だけを修正して再作成できます。"
MSG_INSPECTION_CLOSED = "この監査はすでに完了しています。"
MSG_FINDINGS_REQUIRED = "所見を入力してください。"

# File types accepted as evidence, by their first bytes (never by the name alone).
MAGIC = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)


# --- The status helper ------------------------------------------------------------------


# model → (its workflow, audit prefix)
WORKFLOWS = {
    UsePlan: (Workflow(table=PLAN_ALLOWED, history=PlanStatusChange, what="明細書"), "use_plan"),
    Withdrawal: (
        Workflow(table=WITHDRAWAL_ALLOWED, history=WithdrawalStatusChange, what="払出依頼"),
        "withdrawal",
    ),
}


def _move(obj, *, to, by, note="", stamp=(), values=None):
    """Lock the plan or withdrawal, check its status table, set the status with the time
    fields named in `stamp` and the `values` that go with the move (one UPDATE), write the
    history row (esure.workflow); then the audit event (`values` included)."""
    model = type(obj)
    workflow, prefix = WORKFLOWS[model]
    locked, change = workflow.move(obj, to=to, by=by, note=note, stamp=stamp, values=values)
    old = change.old_status
    data = {"from": old, "to": to, "account": locked.account_id, "note": note[:200]}
    if model is UsePlan:
        data["version"] = locked.version
    else:
        data["number"] = locked.number
    audit.record(actor=by, action=f"{prefix}.{to}", obj=locked, data={**data, **(values or {})})
    return locked


def _lock_account(account):
    return AdvanceAccount.objects.select_for_update().get(pk=account.pk)


def _require_reason(reason):
    if not (reason or "").strip():
        raise ValidationError({"reason": MSG_REASON_REQUIRED})


def _not_future(day, field):
    if day > timezone.localdate():
        raise ValidationError({field: MSG_FUTURE_DATE})


def store_file(fieldfile, name, data, stored):
    """Save bytes through the storage API; remember the name to delete it on rollback."""
    fieldfile.save(name, ContentFile(data), save=False)
    stored.append(fieldfile.name)
    return hashlib.sha256(data).hexdigest()


def _store_pdf(document, data, name, stored):
    """Keep a submitted plan's or withdrawal's printed form: the bytes, SHA-256 and size."""
    document.pdf_sha256 = store_file(document.pdf, f"{name}.pdf", data, stored)
    document.pdf_size = len(data)
    document.save(update_fields=["pdf", "pdf_sha256", "pdf_size"])


def discard_files(stored):
    """After a failed transaction: delete the files it stored (nothing refers to them)."""
    for name in stored:
        default_storage.delete(name)


# --- The designated account ---------------------------------------------------------------


def register_account(
    *,
    guarantee,
    by,
    branch,
    account_number,
    holder,
    work_kind,
    overhead_clause,
    own_bank,
    own_branch,
    own_account_type,
    own_account_number,
    own_holder,
    member=None,
):
    """The contractor designates the account its work's advances are paid into (前払金専用
    口座), at a branch of a bank with a 委託契約, and its own account for the uses paid to it.

    A JV that deposits split by 出資比率 (decision 0035) gets one account per member: the
    representative's clerk registers each, naming the `member` company; the account holds
    that member's share (selectors.account_terms). Otherwise `member` must be None."""
    work = guarantee.work
    members = {m.company_id for m in selectors.split_members(work)}
    if members and (member is None or member.pk not in members):
        raise ValidationError({"member": rules.MSG_JV_MEMBER_REQUIRED})
    if not members and member is not None:
        raise ValidationError({"member": rules.MSG_JV_MEMBER_NOT_SPLIT})
    if guarantee.cancelled_at is not None:
        raise ValidationError(MSG_CANCELLED)
    if guarantee.completed_on is not None:
        raise ValidationError(MSG_COMPLETED)
    if work_kind not in selectors.work_kinds_for(work):
        raise ValidationError({"work_kind": MSG_WORK_KIND.format(kind=work_kind)})
    if not branch.bank.entrusted:
        raise ValidationError({"branch": MSG_NOT_ENTRUSTED})
    advance = selectors.advance_terms(work).advance
    if guarantee.kind == GuaranteeKind.ADVANCE:
        advance = guarantee
    if advance is None:
        raise ValidationError(MSG_NO_ADVANCE_GUARANTEE)
    with transaction.atomic():
        designated = AdvanceAccount.objects.filter(work=work, state=AdvanceAccount.State.DESIGNATED)
        if member is None and designated.exists():
            raise ValidationError(MSG_ALREADY_DESIGNATED)
        if member is not None and designated.filter(member=member).exists():
            raise ValidationError({"member": rules.MSG_JV_MEMBER_TAKEN})
        try:
            with transaction.atomic():
                account = AdvanceAccount.objects.create(
                    work=work,
                    company=guarantee.company,
                    guarantee=advance,
                    branch=branch,
                    account_number=account_number,
                    holder=holder,
                    work_kind=work_kind,
                    overhead_clause=overhead_clause,
                    own_bank=own_bank,
                    own_branch=own_branch,
                    own_account_type=own_account_type,
                    own_account_number=own_account_number,
                    own_holder=own_holder,
                    member=member,
                    registered_by=by,
                )
        except IntegrityError as error:
            if designated.filter(member=member).exists():
                raise ValidationError(MSG_ALREADY_DESIGNATED) from error
            raise ValidationError({"account_number": MSG_NUMBER_TAKEN}) from error
        audit.record(
            actor=by,
            action="advance_account.registered",
            obj=account,
            data={
                "work": work.pk,
                "guarantee": advance.number,
                "branch": str(branch),
                "account_number": account_number,
                "overhead_clause": overhead_clause,
                "work_kind": work_kind,
                "member": member.name if member else "",
            },
        )
    return account


def release_account(*, account, by, on):
    """指定解除: the designation of the account ends on `on` (the 完成日). From then on the
    account takes no deposit and no withdrawal (rules.withdrawal_problems refuses even one
    already sent to the bank); what it still holds stays visible with its balance to the
    contractor, the bank and staff.

    Requests not yet confirmed by the bank (送信済, or waiting for staff's cash approval)
    could never be confirmed now: they are closed in the same transaction as VOIDED
    (取消（指定解除）), each with its history row and audit event, so they no longer hold
    money and nobody waits for them. A request the bank already confirmed stays: the bank
    may have paid before it knew, and reports the execution. The bank's users are mailed
    (naming the closed requests), and so is the contractor when a request was closed."""
    with transaction.atomic():
        account = _lock_account(account)
        if account.state != AdvanceAccount.State.DESIGNATED:
            raise ValidationError(MSG_ALREADY_RELEASED)
        account.state = AdvanceAccount.State.RELEASED
        account.released_on = on
        account.released_at = timezone.now()
        account.released_by = by
        account.save(update_fields=["state", "released_on", "released_at", "released_by"])
        note = NOTE_VOIDED_BY_RELEASE.format(day=to_wareki(on))
        voided = [
            _move(withdrawal, to=W.VOIDED, by=by, note=note)
            for withdrawal in account.withdrawals.filter(
                status__in=[W.SUBMITTED, W.CASH_REVIEW]
            ).order_by("number")
        ]
        position = selectors.position_of(account)
        audit.record(
            actor=by,
            action="advance_account.released",
            obj=account,
            data={
                "work": account.work_id,
                "guarantee": account.guarantee.number,
                "released_on": on.isoformat(),
                "balance": position.balance,
                "voided": [withdrawal.number for withdrawal in voided],
            },
        )
        notifications.account_released(account, voided=voided)
    return account


def release_on_completion(sender, *, guarantee, completed_on, by, **kwargs):
    """The registry's `completed` signal (certificates.signals, connected in advances.apps):
    a completed 前払金保証 releases its designated account, in the completion's transaction."""
    if guarantee.kind != GuaranteeKind.ADVANCE:
        return
    for account in AdvanceAccount.objects.filter(
        guarantee=guarantee, state=AdvanceAccount.State.DESIGNATED
    ):
        release_account(account=account, by=by, on=completed_on)


# --- Use plans (前払金使途内訳明細書) ---------------------------------------------------------


def plan_context(account):
    """The values every plan check needs: the advances today, the kind of work, the
    clause, the orderer's policy (keyword arguments of rules.plan_problems)."""
    terms = selectors.account_terms(account)
    orderer = account.work.orderer
    return {
        "amounts": terms.amounts,
        "work_kind": account.work_kind,
        "work_kind_label": account.get_work_kind_display(),
        "overhead_clause": account.overhead_clause,
        "overhead_from_intermediate": bool(orderer and orderer.advance_overhead_from_intermediate),
    }


def plan_problems_of(account, lines, *, complete):
    """rules.plan_problems for these lines of `account` (the one call the live check,
    submission and acceptance make)."""
    committed = (
        selectors.committed_by_key(account)
        if account.plans.filter(status__in=[P.ACCEPTED, P.SUPERSEDED]).exists()
        else {}
    )
    return rules.plan_problems(
        lines=lines, committed=committed, complete=complete, **plan_context(account)
    )


def normalise_line(line, account):
    """What the clerk does not choose on a line: the overhead line is 「一式」 paid by
    transfer to the own account; lines paid to the own account name the contractor; a
    「未定」 line has no payee."""
    category = line.category
    if category is not None and category.paid_to_own_account:
        line.undecided = False
        line.payee_name = account.company.name
        line.payee_bank = line.payee_branch = line.payee_account_number = line.payee_holder = ""
        line.payee_account_type = ""
        if category.is_overhead:
            line.description = rules.OVERHEAD_DESCRIPTION
            line.method = rules.OVERHEAD_METHOD
        else:
            line.method = "自社口座へ振替"
    elif line.undecided:
        line.payee_name = rules.UNDECIDED_PAYEE
        line.payee_bank = line.payee_branch = line.payee_account_number = line.payee_holder = ""
        line.payee_account_type = ""
        line.method = line.method or "振込"
    else:
        line.method = line.method or "振込"
    return line


def _known_keys(account):
    return set(PlanLine.objects.filter(plan__account=account).values_list("key", flat=True))


def build_lines(account, rows):
    """Unsaved, normalised PlanLine objects from typed rows (dicts of PlanLine fields and
    an optional `key`): the live check and `save_plan_draft` read them alike. A row's key
    must be one this account's plans already use (a 使途変更 keeps it); new rows get the
    next free keys."""
    known = _known_keys(account)
    next_key = max(known | {row["key"] for row in rows if row.get("key")} | {0}) + 1
    lines = []
    for row in rows:
        values = dict(row)
        key = values.pop("key", None)
        if key and key not in known:
            raise ValidationError(MSG_LINE_KEY)
        if not key:
            key, next_key = next_key, next_key + 1
        lines.append(normalise_line(PlanLine(key=key, **values), account))
    if len({line.key for line in lines}) != len(lines):
        raise ValidationError(MSG_LINE_KEY)
    return lines


def start_plan(*, account, by, reason=""):
    """A new DRAFT version: v1, a correction of a returned version, or a 使途変更 of the
    plan in force (copied from the latest returned version or the accepted one)."""
    with transaction.atomic():
        account = _lock_account(account)
        if account.state != AdvanceAccount.State.DESIGNATED:
            raise ValidationError(MSG_NOT_DESIGNATED)
        if account.plans.filter(status__in=UsePlan.OPEN).exists():
            raise ValidationError(MSG_PLAN_OPEN)
        latest = account.plans.order_by("-version").first()
        accepted = account.plans.filter(status=P.ACCEPTED).first()
        base = latest if latest is not None and latest.status == P.RETURNED else accepted
        plan = UsePlan.objects.create(
            account=account,
            version=(latest.version + 1) if latest else 1,
            is_change=accepted is not None,
            based_on=base,
            reason=reason if accepted is not None else "",
            created_by=by,
        )
        if base is not None:
            PlanLine.objects.bulk_create(
                PlanLine(
                    plan=plan,
                    **{
                        f.name: getattr(line, f.name)
                        for f in PlanLine._meta.concrete_fields
                        if f.name not in ("id", "plan")
                    },
                )
                for line in base.lines.all()
            )
    return plan


def save_plan_draft(*, plan, by, rows, reason=None):
    """Replace a DRAFT version's lines with the typed rows (complete or not: the draft
    keeps what was typed; rules are checked at submission). Returns the lines."""
    with transaction.atomic():
        plan = (
            UsePlan.objects.select_for_update().select_related("account__company").get(pk=plan.pk)
        )
        if plan.status != P.DRAFT:
            raise ValidationError(MSG_NOT_DRAFT)
        lines = build_lines(plan.account, rows)
        for line in lines:
            if line.amount is None:
                line.amount = 0
        plan.lines.all().delete()
        for line in lines:
            line.plan = plan
        # amount 0 is refused by the constraint: a row without an amount is not kept.
        PlanLine.objects.bulk_create([line for line in lines if line.amount > 0])
        if reason is not None and plan.is_change:
            plan.reason = reason
            plan.save(update_fields=["reason"])
    return lines


def submit_plan(*, plan, by):
    """DRAFT → SUBMITTED when every rule holds with the totals complete; the 明細書 PDF is
    rendered and stored, and surety staff are told."""
    stored = []
    try:
        with transaction.atomic():
            account = _lock_account(plan.account)
            plan = UsePlan.objects.select_related("account__work__orderer").get(pk=plan.pk)
            if plan.status != P.DRAFT:
                raise TransitionError(
                    MSG_TRANSITION.format(
                        old=plan.get_status_display(), what="明細書", new=P.SUBMITTED.label
                    )
                )
            if plan.is_change:
                _require_reason(plan.reason)
            lines = list(plan.lines.select_related("category"))
            problems = plan_problems_of(account, lines, complete=True)
            if problems:
                raise ValidationError(problems.messages())
            plan = _move(plan, to=P.SUBMITTED, by=by, stamp=("submitted_at",))
            _store_pdf(plan, pdf.render_plan(plan), f"plan-{account.pk}-v{plan.version}", stored)
            notifications.plan_submitted(plan)
    except BaseException:
        discard_files(stored)
        raise
    return plan


def discard_plan_draft(*, plan, by):
    """The clerk drops a draft version (取下げ): it stays in the history, empty of effect."""
    with transaction.atomic():
        return _move(plan, to=P.WITHDRAWN, by=by)


def accept_plan(*, plan, by, note=""):
    """Staff accept (承認) a submitted version: it comes into force and the previous one is
    superseded. The rules are checked again: the guarantee may have changed meanwhile."""
    with transaction.atomic():
        account = _lock_account(plan.account)
        plan = UsePlan.objects.get(pk=plan.pk)
        if plan.status == P.SUBMITTED:
            problems = plan_problems_of(
                account, list(plan.lines.select_related("category")), complete=True
            )
            if problems:
                raise ValidationError(problems.messages())
        previous = account.plans.filter(status=P.ACCEPTED).exclude(pk=plan.pk).first()
        if plan.status == P.SUBMITTED and previous is not None:
            _move(previous, to=P.SUPERSEDED, by=by, note=f"第{plan.version}版の承認による")
        plan = _move(plan, to=P.ACCEPTED, by=by, note=note, stamp=("decided_at",))
        notifications.plan_decided(plan, accepted=True, reason=note)
    return plan


def return_plan(*, plan, by, reason):
    """Staff return (差戻し) a submitted version with a reason the clerk reads; the clerk
    corrects it in a new version."""
    _require_reason(reason)
    with transaction.atomic():
        plan = _move(plan, to=P.RETURNED, by=by, note=reason, stamp=("decided_at",))
        notifications.plan_decided(plan, accepted=False, reason=reason)
    return plan


# --- Withdrawals (払出依頼) -----------------------------------------------------------------


def _payee_of(plan_line, account):
    """Where a line's money goes (rule 6): the plan line's payee and account, or the
    contractor's own account for 直用労務費, 保証料 and the 25% line."""
    if plan_line is None or plan_line.category.paid_to_own_account:
        return {
            "payee_name": account.company.name,
            "payee_bank": account.own_bank,
            "payee_branch": account.own_branch,
            "payee_account_type": account.own_account_type,
            "payee_account_number": account.own_account_number,
            "payee_holder": account.own_holder,
        }
    return {
        "payee_name": plan_line.payee_name,
        "payee_bank": plan_line.payee_bank,
        "payee_branch": plan_line.payee_branch,
        "payee_account_type": plan_line.payee_account_type,
        "payee_account_number": plan_line.payee_account_number,
        "payee_holder": plan_line.payee_holder,
    }


def save_withdrawal_draft(*, account, by, rows, cash=False, requested_on=None, withdrawal=None):
    """Create or edit a DRAFT withdrawal. `rows`: [{"plan_line": PlanLine or None (interest),
    "amount": yen}]. A plan line must be one of the plan in force; the payee is copied from
    it (or the own account), never typed. Lines kept keep their evidence."""
    with transaction.atomic():
        account = _lock_account(account)
        if account.state != AdvanceAccount.State.DESIGNATED:
            raise ValidationError(MSG_NOT_DESIGNATED)
        plan = selectors.plan_in_force(account)
        in_force = {line.pk for line in plan.lines.all()} if plan else set()
        for row in rows:
            if row["plan_line"] is not None and row["plan_line"].pk not in in_force:
                raise ValidationError(MSG_PLAN_LINE_CHOICE)
            if not isinstance(row["amount"], int) or row["amount"] <= 0:
                raise ValidationError(rules.MSG_AMOUNT_REQUIRED)
        if withdrawal is None:
            number = (account.withdrawals.aggregate(n=Max("number"))["n"] or 0) + 1
            withdrawal = Withdrawal.objects.create(
                account=account, number=number, created_by=by, cash=cash, requested_on=requested_on
            )
        else:
            withdrawal = Withdrawal.objects.select_for_update().get(pk=withdrawal.pk)
            if withdrawal.status != W.DRAFT:
                raise ValidationError(MSG_NOT_DRAFT)
            withdrawal.cash, withdrawal.requested_on = cash, requested_on
            withdrawal.save(update_fields=["cash", "requested_on"])
        existing = {line.plan_line_id: line for line in withdrawal.lines.all()}
        kept = set()
        for row in rows:
            plan_line = row["plan_line"]
            key = plan_line.pk if plan_line else None
            line = existing.get(key)
            if line is not None and key not in kept:
                line.amount = row["amount"]
                line.save(update_fields=["amount"])
            else:
                line = WithdrawalLine.objects.create(
                    withdrawal=withdrawal,
                    plan_line=plan_line,
                    amount=row["amount"],
                    **_payee_of(plan_line, account),
                )
            kept.add(key)
        for key, line in existing.items():
            if key not in kept:
                _delete_line(line)
    return withdrawal


def _delete_line(line):
    for evidence in line.evidence.all():
        evidence.file.delete(save=False)
        evidence.delete()
    line.delete()


def evidence_type(data):
    """(content type, extension) of the bytes, or None when they are not PDF/JPEG/PNG."""
    for magic, content_type, extension in MAGIC:
        if data.startswith(magic):
            return content_type, extension
    return None


def add_evidence(*, line, kind, upload, by):
    """Attach a supporting document to a DRAFT withdrawal's line: at most
    ESURE_EVIDENCE_MAX_BYTES, a PDF, JPEG or PNG by its bytes, stored with its SHA-256."""
    limit = settings.ESURE_EVIDENCE_MAX_BYTES
    if upload.size > limit:
        raise ValidationError({"file": MSG_EVIDENCE_TOO_LARGE.format(limit_mb=limit // 2**20)})
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError({"file": MSG_EVIDENCE_TOO_LARGE.format(limit_mb=limit // 2**20)})
    if not data:
        raise ValidationError({"file": MSG_EVIDENCE_EMPTY})
    found = evidence_type(data)
    if found is None:
        raise ValidationError({"file": MSG_EVIDENCE_TYPE})
    content_type, extension = found
    stored = []
    try:
        with transaction.atomic():
            withdrawal = Withdrawal.objects.select_for_update().get(pk=line.withdrawal_id)
            if withdrawal.status != W.DRAFT:
                raise ValidationError(MSG_NOT_DRAFT)
            if line.plan_line is None or kind not in line.plan_line.category.evidence_kinds.all():
                raise ValidationError({"kind": MSG_EVIDENCE_KIND})
            evidence = Evidence(
                line=line,
                kind=kind,
                name=(upload.name or "file")[-200:],
                content_type=content_type,
                size=len(data),
                uploaded_by=by,
            )
            name = f"{withdrawal.account_id}-{withdrawal.number}-{line.pk}{extension}"
            evidence.sha256 = store_file(evidence.file, name, data, stored)
            evidence.save()
    except BaseException:
        discard_files(stored)
        raise
    return evidence


def remove_evidence(*, evidence, by):
    with transaction.atomic():
        withdrawal = Withdrawal.objects.select_for_update().get(pk=evidence.line.withdrawal_id)
        if withdrawal.status != W.DRAFT:
            raise ValidationError(MSG_NOT_DRAFT)
        evidence.delete()
    # After commit: a rolled-back removal must not lose the file.
    transaction.on_commit(lambda: evidence.file.storage.delete(evidence.file.name))


def withdrawal_problems_of(withdrawal, *, account=None):
    """rules.withdrawal_problems for a withdrawal as it stands (the checks the clerk sees
    before sending, the bank sees before confirming, and both services make)."""
    account = account or withdrawal.account
    lines = list(
        withdrawal.lines.select_related("plan_line__category").prefetch_related(
            "plan_line__category__evidence_kinds", "evidence"
        )
    )
    plan = selectors.plan_in_force(account)
    position = selectors.position_of(account, plan=plan, exclude=withdrawal)
    in_force = {line.key: line for line in plan.lines.all()} if plan else {}
    # Judge each line by the plan in force (a 使途変更 accepted since keeps the keys).
    for line in lines:
        if line.plan_line is not None and line.plan_line.key in in_force:
            line.plan_line = in_force[line.plan_line.key]
    return rules.withdrawal_problems(
        plan_in_force=plan,
        lines=lines,
        committed=selectors.committed_by_key(account, exclude=withdrawal),
        interest_available=position.interest_available,
        available_balance=position.available,
        evidence_kinds={
            i: {e.kind_id for e in line.evidence.all()} for i, line in enumerate(lines)
        },
        cash=withdrawal.cash,
        cash_limit=settings.ESURE_ADVANCE_CASH_LIMIT,
        released=account.state == AdvanceAccount.State.RELEASED,
    )


def submit_withdrawal(*, withdrawal, by):
    """DRAFT → SUBMITTED (to the bank) when rules 5–8 hold; a cash withdrawal goes to
    CASH_REVIEW first (staff approve). The 払出依頼書 PDF is rendered and stored."""
    stored = []
    try:
        with transaction.atomic():
            account = _lock_account(withdrawal.account)
            withdrawal = Withdrawal.objects.get(pk=withdrawal.pk)
            if withdrawal.status != W.DRAFT:
                raise TransitionError(
                    MSG_TRANSITION.format(
                        old=withdrawal.get_status_display(), what="払出依頼", new=W.SUBMITTED.label
                    )
                )
            problems = withdrawal_problems_of(withdrawal, account=account)
            if problems:
                raise ValidationError(problems.messages())
            to = W.CASH_REVIEW if withdrawal.cash else W.SUBMITTED
            withdrawal = _move(withdrawal, to=to, by=by, stamp=("submitted_at",))
            name = f"withdrawal-{account.pk}-{withdrawal.number}"
            _store_pdf(withdrawal, pdf.render_withdrawal(withdrawal), name, stored)
            if to == W.CASH_REVIEW:
                notifications.cash_review_requested(withdrawal)
            else:
                notifications.withdrawal_submitted(withdrawal)
    except BaseException:
        discard_files(stored)
        raise
    return withdrawal


def cancel_withdrawal(*, withdrawal, by):
    """The clerk withdraws a request (取下げ) before the bank has confirmed it."""
    with transaction.atomic():
        return _move(withdrawal, to=W.CANCELLED, by=by)


def approve_cash(*, withdrawal, by, note=""):
    """Staff approve a cash withdrawal (rule 8); it then goes to the bank."""
    with transaction.atomic():
        account = _lock_account(withdrawal.account)
        problems = withdrawal_problems_of(Withdrawal.objects.get(pk=withdrawal.pk), account=account)
        if problems:
            raise ValidationError(problems.messages())
        withdrawal = _move(withdrawal, to=W.SUBMITTED, by=by, note=note)
        notifications.withdrawal_submitted(withdrawal)
    return withdrawal


def refuse_cash(*, withdrawal, by, reason):
    _require_reason(reason)
    with transaction.atomic():
        withdrawal = _move(withdrawal, to=W.REJECTED, by=by, note=reason)
        notifications.withdrawal_rejected(withdrawal, reason)
    return withdrawal


def confirm_withdrawal(*, withdrawal, by, note=""):
    """The bank confirms the request against the plan (rules 6–8 checked again, now)."""
    with transaction.atomic():
        account = _lock_account(withdrawal.account)
        problems = withdrawal_problems_of(Withdrawal.objects.get(pk=withdrawal.pk), account=account)
        if problems:
            raise ValidationError(problems.messages())
        withdrawal = _move(withdrawal, to=W.CONFIRMED, by=by, note=note, stamp=("confirmed_at",))
        notifications.withdrawal_confirmed(withdrawal)
    return withdrawal


def reject_withdrawal(*, withdrawal, by, reason):
    """The bank refuses the request (不承認) with a reason the clerk reads."""
    _require_reason(reason)
    with transaction.atomic():
        withdrawal = _move(withdrawal, to=W.REJECTED, by=by, note=reason)
        notifications.withdrawal_rejected(withdrawal, reason)
    return withdrawal


def withdrawal_total(withdrawal):
    return sum(line.amount for line in withdrawal.lines.all())


def record_execution(*, withdrawal, by, executed_on, amount, reference, note=""):
    """The bank paid out a confirmed request (払出報告): the day, the amount (the confirmed
    total) and its own transaction number (once per account). Also each matched row of the
    bank's CSV (advances.imports)."""
    with transaction.atomic():
        _lock_account(withdrawal.account)
        return _execute(
            withdrawal=withdrawal,
            by=by,
            executed_on=executed_on,
            amount=amount,
            reference=reference,
            note=note,
        )


def _execute(*, withdrawal, by, executed_on, amount, reference, note):
    _not_future(executed_on, "executed_on")
    withdrawal = Withdrawal.objects.get(pk=withdrawal.pk)
    total = withdrawal_total(withdrawal)
    if amount != total:
        raise ValidationError(
            {"amount": MSG_EXECUTED_AMOUNT.format(amount=yen(amount), total=yen(total))}
        )
    reference = reference.strip()
    if reference and withdrawal.account.withdrawals.filter(bank_reference=reference).exists():
        raise ValidationError({"reference": MSG_REFERENCE_TAKEN})
    withdrawal = _move(
        withdrawal,
        to=W.EXECUTED,
        by=by,
        note=note,
        values={"executed_on": executed_on, "executed_amount": amount, "bank_reference": reference},
    )
    notifications.withdrawal_executed(withdrawal)
    return withdrawal


def copy_withdrawal(*, withdrawal, by):
    """A new DRAFT from a refused or withdrawn request (its correction): the lines still in
    the plan in force, their amounts and their evidence (copied, not shared)."""
    stored = []
    try:
        with transaction.atomic():
            account = _lock_account(withdrawal.account)
            withdrawal = Withdrawal.objects.get(pk=withdrawal.pk)
            if withdrawal.status not in (W.REJECTED, W.CANCELLED):
                raise ValidationError(MSG_COPY_STATUS)
            plan = selectors.plan_in_force(account)
            in_force = {line.key: line for line in plan.lines.all()} if plan else {}
            number = (account.withdrawals.aggregate(n=Max("number"))["n"] or 0) + 1
            copy = Withdrawal.objects.create(
                account=account,
                number=number,
                created_by=by,
                cash=withdrawal.cash,
                requested_on=withdrawal.requested_on,
                replaces=withdrawal,
            )
            for line in withdrawal.lines.select_related("plan_line").prefetch_related("evidence"):
                plan_line = None
                if line.plan_line is not None:
                    plan_line = in_force.get(line.plan_line.key)
                    if plan_line is None:
                        continue
                new = WithdrawalLine.objects.create(
                    withdrawal=copy,
                    plan_line=plan_line,
                    amount=line.amount,
                    **_payee_of(plan_line, account),
                )
                for evidence in line.evidence.all():
                    with evidence.file.open("rb") as handle:
                        data = handle.read()
                    clone = Evidence(
                        line=new,
                        kind_id=evidence.kind_id,
                        name=evidence.name,
                        content_type=evidence.content_type,
                        size=evidence.size,
                        uploaded_by=by,
                    )
                    extension = "." + evidence.file.name.rsplit(".", 1)[-1]
                    clone.sha256 = store_file(
                        clone.file, f"{account.pk}-{number}-{new.pk}{extension}", data, stored
                    )
                    clone.save()
    except BaseException:
        discard_files(stored)
        raise
    return copy


# --- Deposits ------------------------------------------------------------------------


def record_deposit(*, account, by, kind, received_on, amount, reference=""):
    """The bank records money paid into the account: the 前払金 or 中間前払金 from the
    orderer, or interest."""
    _not_future(received_on, "received_on")
    reference = reference.strip()
    with transaction.atomic():
        account = _lock_account(account)
        if account.state != AdvanceAccount.State.DESIGNATED:
            raise ValidationError(MSG_NOT_DESIGNATED)
        if reference and account.deposits.filter(reference=reference).exists():
            raise ValidationError({"reference": MSG_REFERENCE_TAKEN})
        deposit = Deposit.objects.create(
            account=account,
            kind=kind,
            received_on=received_on,
            amount=amount,
            reference=reference,
            recorded_by=by,
        )
        audit.record(
            actor=by,
            action="deposit.recorded",
            obj=deposit,
            data={
                "account": account.pk,
                "kind": kind,
                "received_on": received_on.isoformat(),
                "amount": amount,
                "reference": reference,
            },
        )
    return deposit


# --- The surety's audits (監査) ------------------------------------------------------------


def open_inspection(*, account, by, kind, reason="", from_monitoring=False):
    """Staff open a desk or on-site audit of an account's use of the advance."""
    with transaction.atomic():
        inspection = Inspection.objects.create(
            account=account,
            kind=kind,
            reason=reason,
            from_monitoring=from_monitoring,
            opened_by=by,
        )
        audit.record(
            actor=by,
            action="inspection.opened",
            obj=inspection,
            data={"account": account.pk, "kind": kind, "from_monitoring": from_monitoring},
        )
    return inspection


def close_inspection(*, inspection, by, findings):
    """Staff close an audit with its findings (所見)."""
    if not (findings or "").strip():
        raise ValidationError({"findings": MSG_FINDINGS_REQUIRED})
    with transaction.atomic():
        inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
        if inspection.status != Inspection.Status.OPEN:
            raise ValidationError(MSG_INSPECTION_CLOSED)
        inspection.status = Inspection.Status.CLOSED
        inspection.findings = findings
        inspection.closed_by, inspection.closed_at = by, timezone.now()
        inspection.save(update_fields=["status", "findings", "closed_by", "closed_at"])
        audit.record(
            actor=by,
            action="inspection.closed",
            obj=inspection,
            data={"account": inspection.account_id, "findings": findings[:200]},
        )
    return inspection


def use_categories_for(account):
    """The categories a line of this account's plan may take (rule 1), in display order."""
    return [
        c
        for c in UseCategory.objects.filter(active=True).prefetch_related("evidence_kinds")
        if account.work_kind in c.work_kinds
    ]
