"""Every write of 契約保証予約 (decision 0034). Views, admin buttons and the daily command call
these; each runs in one transaction with its history row and audit event."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.selectors import require_approver, unverified_members
from applications import services as applications
from applications.models import Application
from applications.validation import MSG_JV_UNVERIFIED
from audit import services as audit
from esure.choices import GuaranteeKind
from esure.workflow import TransitionError as TransitionError
from esure.workflow import Workflow
from reservations import notifications, rules
from reservations.models import ALLOWED, Reservation, ReservationStatusChange

S = Reservation.Status

MSG_TRANSITION = "「{old}」の契約保証予約を「{new}」にすることはできません。"
MSG_NOT_EDITABLE = "この契約保証予約は提出済みのため編集できません。"
MSG_REASON_REQUIRED = "謝絶の理由を入力してください。"
NOTE_LAPSED = "有効期限の経過"

# What the clerk's form writes (the rest is staff's or the workflow's).
FIELDS = [
    "joint_venture",
    "branch",
    "orderer",
    "work_name",
    "bid_date",
    "estimated_price",
    "amount",
    "advance_planned",
    "contact_name",
    "contact_phone",
]


WORKFLOW = Workflow(table=ALLOWED, history=ReservationStatusChange, message=MSG_TRANSITION)
# What a service reads while it holds the lock.
RELATED = ("company", "orderer", "joint_venture")


def _lock(reservation, to, *, only_from=None):
    """Lock the row and check the status table: the move to `to` must be allowed now (and,
    for a service that is one particular move, be made from `only_from`)."""
    locked = WORKFLOW.lock(reservation, to, related=RELATED)
    if only_from not in (None, locked.status):
        WORKFLOW.refuse(locked, to)
    return locked


def _transition(*, reservation, to, by, note="", fields=(), action=None):
    """The one writer of a status (esure.workflow): lock, check the table, stamp, history
    row; then the audit event (`reservation.<status>` unless `action` names another).
    `reservation` may carry other changed `fields` to save with the move."""
    locked = _lock(reservation, to)
    old = locked.status
    stamp = ["updated_at"]
    values = {name: getattr(reservation, name) for name in fields}
    if to == S.SUBMITTED:
        stamp.append("submitted_at")
        values["submitted_by"] = by
    if to == S.APPROVED and old == S.SUBMITTED:  # not when given back: approved once
        stamp.append("approved_at")
    WORKFLOW.apply(locked, to=to, by=by, note=note, stamp=stamp, values=values)
    audit.record(
        actor=by,
        # reservation.submitted / approved / declined / used / lapsed (AuditEvent.Action).
        action=action or f"reservation.{S(to).value}",
        obj=locked,
        data={"from": S(old).value, "to": S(to).value, "note": note[:200]},
    )
    return locked


def save_draft(*, company, by, values, reservation=None):
    """Create or update a reservation as typed (保存中), complete or not."""
    values = {name: values.get(name) for name in FIELDS}
    for name in ("work_name", "contact_name", "contact_phone"):
        values[name] = values[name] or ""
    values["advance_planned"] = bool(values["advance_planned"])
    with transaction.atomic():
        if reservation is None:
            return Reservation.objects.create(company=company, created_by=by, **values)
        reservation = Reservation.objects.select_for_update().get(pk=reservation.pk)
        if not reservation.is_editable:
            raise ValidationError(MSG_NOT_EDITABLE, code="not_editable")
        for name, value in values.items():
            setattr(reservation, name, value)
        reservation.updated_at = timezone.now()
        reservation.save()
        return reservation


def problems_of(reservation, today=None):
    """{field: [messages]} that stop submitting or approving it (empty: none)."""
    today = today or timezone.localdate()
    values = {name: getattr(reservation, name) for name in FIELDS}
    errors = {}
    for problem in rules.reservation_problems(
        values=values, orderer=reservation.orderer, today=today
    ):
        errors.setdefault(problem.field or "__all__", []).append(str(problem))
    if reservation.joint_venture_id:
        names = [c.name for c in unverified_members(reservation.joint_venture)]
        if names:
            errors.setdefault("joint_venture", []).append(
                MSG_JV_UNVERIFIED.format(names="、".join(names))
            )
    return errors


def submit_reservation(*, reservation, by):
    """保存中 → 手続き中, when complete and within the 契約保証 rules; a 承認者 only
    (PermissionDenied otherwise, decision 0022). The draft stays saved on refusal."""
    with transaction.atomic():
        reservation = _lock(reservation, S.SUBMITTED)
        require_approver(by, reservation.company)
        errors = problems_of(reservation)
        if errors:
            raise ValidationError(errors)
        return _transition(reservation=reservation, to=S.SUBMITTED, by=by)


def approve_reservation(*, reservation, by, fee, valid_until=None, note=""):
    """Staff approve (承認) and record the 予約手数料 they set; the reservation is usable
    through `valid_until` (default: 入札日 + ESURE_RESERVATION_VALID_DAYS). Its 手数料通知書
    is then downloadable by the company; its 予約証書 waits in the print queue (書面交付)."""
    with transaction.atomic():
        # Staff's approval is the move from 手続き中 (a given-back one is approved already).
        locked = _lock(reservation, S.APPROVED, only_from=S.SUBMITTED)
        errors = problems_of(locked)
        if errors:
            raise ValidationError(errors)
        if fee is None or fee < 0:
            raise ValidationError({"fee": [rules.MSG_REQUIRED]})
        if valid_until is None:
            valid_until = rules.default_valid_until(
                locked.bid_date, settings.ESURE_RESERVATION_VALID_DAYS
            )
        problem = rules.valid_until_problem(valid_until=valid_until, bid_date=locked.bid_date)
        if problem:
            raise ValidationError({"valid_until": [problem]})
        locked.fee, locked.valid_until = fee, valid_until
        approved = _transition(
            reservation=locked,
            to=S.APPROVED,
            by=by,
            note=note or f"予約手数料 {fee:,}円、有効期限 {valid_until.isoformat()}",
            fields=("fee", "valid_until"),
        )
        notifications.reservation_approved(approved)
        return approved


def decline_reservation(*, reservation, by, reason):
    """Staff decline (謝絶) with a reason the clerk reads."""
    if not reason.strip():
        raise ValidationError(MSG_REASON_REQUIRED, code="reason")
    with transaction.atomic():
        locked = _lock(reservation, S.DECLINED)
        locked.decline_reason = reason
        declined = _transition(
            reservation=locked, to=S.DECLINED, by=by, note=reason, fields=("decline_reason",)
        )
        notifications.reservation_declined(declined, reason)
        return declined


def mark_printed(*, reservation, by):
    """Staff printed the paper 契約保証予約証書 (書面交付 only). Once; later calls do nothing."""
    with transaction.atomic():
        updated = Reservation.objects.filter(
            pk=reservation.pk, status=S.APPROVED, printed_at=None
        ).update(printed_at=timezone.now())
        if updated:
            audit.record(actor=by, action="reservation.printed", obj=reservation)
    return bool(updated)


def use_reservation(*, reservation, by, today=None):
    """After the award: the reservation becomes a menu-1 application (保存中) with its data as
    defaults the clerk may change — the orderer, 工事名, office/JV, the estimated price as
    請負代金額, a 前払金保証 to fill in and the 契約保証 at the reserved amount — and is
    使用済 from then on. A used one (MSG_USED), a lapsed one (MSG_LAPSED, from the day after
    valid_until) or one not approved is refused. Returns the application."""
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = (
            Reservation.objects.select_for_update(of=("self",))
            .select_related("application")
            .get(pk=reservation.pk)
        )
        if locked.status == S.USED:
            raise ValidationError(
                rules.MSG_USED.format(application=locked.application_id), code="used"
            )
        if locked.status == S.LAPSED or locked.has_expired_on(today):
            raise ValidationError(
                rules.MSG_LAPSED.format(date=rules.date_ja(locked.valid_until)), code="lapsed"
            )
        if locked.status != S.APPROVED:
            raise ValidationError(rules.MSG_NOT_APPROVED, code="not_approved")
        application = applications.save_draft(
            company=locked.company,
            menu=Application.Menu.ADVANCE_CONTRACT,
            by=by,
            work_values={
                "orderer": locked.orderer,
                "name": locked.work_name,
                "price": locked.estimated_price,
                "branch": locked.branch,
                "joint_venture": locked.joint_venture,
            },
            application_values={
                "contact_name": locked.contact_name,
                "contact_phone": locked.contact_phone,
                "advance_planned": locked.advance_planned,
            },
            amounts={GuaranteeKind.ADVANCE: None, GuaranteeKind.CONTRACT: locked.amount},
        )
        locked.application = application
        return _transition(
            reservation=locked,
            to=S.USED,
            by=by,
            note=f"申込番号 {application.pk}",
            fields=("application",),
        )


def give_back(*, application, by, today=None):
    """The application a reservation became was withdrawn (取下げ) or declined (謝絶): the
    bid's reservation is given back — 予約済（有効） again, usable through its valid_until
    as before — and no longer names the application (the history row keeps its number).
    Past its valid_until it then lapses at once (期限切れ, a second history row), as the
    daily command would record it. The approval, the fee and valid_until stay as staff set
    them. Audit `reservation.returned` (and `reservation.lapsed`). Returns the reservation,
    or None when the application used none. In the caller's transaction
    (applications.signals.closed)."""
    today = today or timezone.localdate()
    reservation = Reservation.objects.filter(application=application).first()
    if reservation is None:
        return None
    why = "取下げ" if application.status == Application.Status.WITHDRAWN else "謝絶"
    reservation.application = None
    reservation = _transition(
        reservation=reservation,
        to=S.APPROVED,
        by=by,
        note=f"申込番号 {application.pk} の{why}により返却",
        fields=("application",),
        action="reservation.returned",
    )
    if reservation.has_expired_on(today):
        reservation = _transition(reservation=reservation, to=S.LAPSED, by=by, note=NOTE_LAPSED)
    return reservation


def give_back_on_close(sender, *, application, by, **kwargs):
    """applications.signals.closed (connected in reservations.apps)."""
    give_back(application=application, by=by)


def lapse_reservations(*, today=None):
    """The daily command: every approved reservation past its last day becomes 期限切れ in the
    table, the history and the audit trail (the pages show it at once anyway). Returns how
    many lapsed."""
    today = today or timezone.localdate()
    due = Reservation.objects.filter(status=S.APPROVED, valid_until__lt=today).values_list(
        "pk", flat=True
    )
    count = 0
    for pk in list(due):
        with transaction.atomic():
            try:
                _transition(reservation=Reservation(pk=pk), to=S.LAPSED, by=None, note=NOTE_LAPSED)
            except TransitionError:
                continue  # used meanwhile
            count += 1
    return count
