"""Every write of the application workflow. Views and admin actions call these."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.selectors import require_approver
from applications import fees, notifications, rules, signals, validation
from applications.models import ALLOWED as ALLOWED  # the status table, checked by WORKFLOW
from applications.models import Application, ApplicationItem, FeeReceipt, StatusChange
from audit import services as audit
from certificates import services as registry
from certificates.models import Work
from esure.choices import GuaranteeKind
from esure.wareki import yen
from esure.workflow import TransitionError as TransitionError
from esure.workflow import Workflow

S = Application.Status

MSG_NOT_EDITABLE = "この申込は現在編集できません（状態: {status}）。"
MSG_TRANSITION = "「{old}」の申込を「{new}」にすることはできません。"
MSG_REASON_REQUIRED = "理由を入力してください。"
MSG_FEE_MISMATCH = (
    "入金額 {received:,}円 が計算上の保証料 {expected:,}円 と一致しません。"
    "このまま締結する場合は「金額の相違を確認した」にチェックしてください。"
)
MSG_ALREADY_OPEN = "この工事には手続き中の同じ申込があります。申込一覧からご確認ください。"


WORKFLOW = Workflow(table=ALLOWED, history=StatusChange, message=MSG_TRANSITION)
# What a service that works on an application reads while it holds the lock.
RELATED = ("company", "work", "work__orderer", "work__office")


def _lock(application, to):
    """Lock the application's row and check the status table (models.ALLOWED): the move to
    `to` must be allowed from the status it has now, else TransitionError. In a transaction.
    A service that works before it moves (validation, conclusion) calls this first."""
    return WORKFLOW.lock(application, to, related=RELATED)


def _transition(*, application, to, by, note=""):
    """The one writer of a status (esure.workflow): lock the row, check the table, stamp the
    time, write the history row; then the audit event."""
    stamp, values = ("updated_at",), {}
    if to == S.SUBMITTED:
        stamp, values = ("updated_at", "submitted_at"), {"submitted_by": by}
    locked, change = WORKFLOW.move(
        application, to=to, by=by, note=note, stamp=stamp, values=values, related=RELATED
    )
    old = change.old_status
    audit.record(
        actor=by,
        action=f"application.{S(to).value}",
        obj=locked,
        data={"from": S(old).value, "to": S(to).value, "menu": locked.menu, "note": note[:200]},
    )
    if to in (S.WITHDRAWN, S.DECLINED):
        # Ended without a guarantee: a reservation it used is given back (decision 0041).
        signals.closed.send(sender=Application, application=locked, by=by)
    return locked


def save_draft(
    *,
    company,
    menu,
    by,
    work_values,
    application_values,
    amounts,
    application=None,
    work=None,
    client_token=None,
):
    """Create or update an application as it stands (保存中), complete or not.

    `amounts` maps each requested GuaranteeKind to its amount (None while not yet typed);
    a kind left out is not requested. `work` is given for menus 2 and 3 (an existing Work,
    not edited); for menu 1 the Work is created from `work_values`. `client_token` makes a
    second POST of the same new-application form edit the application the first created.
    """
    with transaction.atomic():
        if application is None and client_token:
            application = Application.objects.filter(
                company=company, client_token=client_token
            ).first()
        if application is None:
            application = _create(
                company=company,
                menu=menu,
                by=by,
                work=work,
                work_values=work_values,
                application_values=application_values,
                client_token=client_token,
            )
        else:
            application = _edit(application, work_values, application_values)
        application.items.exclude(kind__in=list(amounts)).delete()
        for kind, amount in amounts.items():
            ApplicationItem.objects.update_or_create(
                application=application, kind=kind, defaults={"amount": amount}
            )
    return application


def _create(*, company, menu, by, work, work_values, application_values, client_token):
    """A new application (and, for menu 1, its Work) in a savepoint of its own."""
    try:
        with transaction.atomic():
            return Application.objects.create(
                company=company,
                work=work or Work.objects.create(company=company, **work_values),
                menu=menu,
                created_by=by,
                client_token=client_token,
                **application_values,
            )
    except IntegrityError as error:
        # The same form posted twice at once: the other request created it (the token is
        # taken), and this one edits it like any second POST. Otherwise another live
        # application of this menu exists for the work.
        existing = (
            Application.objects.filter(company=company, client_token=client_token).first()
            if client_token
            else None
        )
        if existing is None:
            raise ValidationError(MSG_ALREADY_OPEN, code="already_open") from error
        return _edit(existing, work_values, application_values)


def _edit(application, work_values, application_values):
    """Lock an application and write the typed values, if it may still be edited."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    if not application.is_editable:
        raise ValidationError(
            MSG_NOT_EDITABLE.format(status=application.get_status_display()),
            code="not_editable",
            params={"pk": application.pk},
        )
    if application.menu == Application.Menu.ADVANCE_CONTRACT:
        Work.objects.filter(pk=application.work_id).update(**work_values)
    for name, value in application_values.items():
        setattr(application, name, value)
    application.updated_at = timezone.now()
    application.save()
    return application


def submit_application(*, application, by):
    """保存中/差戻し → 手続き中, only when complete and every rule holds.

    Raises ValidationError with per-field messages otherwise; the draft stays saved. Only a
    承認者 of the company submits (PermissionDenied otherwise); the history and
    `submitted_by` record who.
    """
    with transaction.atomic():
        application = _lock(application, S.SUBMITTED)
        require_approver(by, application.company)
        errors = validation.application_errors(application)
        if errors:
            raise ValidationError(errors)
        return _transition(application=application, to=S.SUBMITTED, by=by)


def withdraw_application(*, application, by):
    """The clerk withdraws (取下げ) before approval."""
    with transaction.atomic():
        return _transition(application=application, to=S.WITHDRAWN, by=by)


def _with_reason(*, application, by, reason, to, notify):
    if not reason.strip():
        raise ValidationError(MSG_REASON_REQUIRED, code="reason")
    with transaction.atomic():
        application = _transition(application=application, to=to, by=by, note=reason)
        notify(application, reason)
    return application


def return_application(*, application, by, reason):
    """Staff return the application for correction (差戻し), with a reason the clerk reads."""
    return _with_reason(
        application=application,
        by=by,
        reason=reason,
        to=S.RETURNED,
        notify=notifications.application_returned,
    )


def decline_application(*, application, by, reason):
    """Staff decline (謝絶) the guarantee, with a reason."""
    return _with_reason(
        application=application,
        by=by,
        reason=reason,
        to=S.DECLINED,
        notify=notifications.application_declined,
    )


def approve_application(*, application, by, note=""):
    """Staff approve (承認): the guarantee is concluded once the fee is received."""
    # deferred(): a change issued on approval renders PDFs after the approval's audit event.
    with transaction.atomic(), audit.deferred():
        errors = validation.application_errors(_lock(application, S.APPROVED))
        if errors:
            raise ValidationError(errors)
        application = _transition(application=application, to=S.APPROVED, by=by, note=note)
        if application.menu == Application.Menu.CHANGE and not fees.expected_fee(application).due:
            # A 減額, 保証期限変更 or 解約 takes effect on approval; an 増額 waits for its fee.
            with registry.discard_files_on_failure():
                conclude_change(application=application, by=by)
        else:
            notifications.application_approved(application)
    return application


def _period(kind, work, day):
    """保証期間: the 工期 for 前払金 and 契約保証; for 中間前払金 from its conclusion."""
    start = day if kind == GuaranteeKind.INTERMEDIATE else work.start_date
    return start, rules.guarantee_end(kind, work.end_date)


def record_fee_receipt(*, application, received_on, amount, method, by, confirm_mismatch=False):
    """保証料入金 → 締結, in one transaction (DESIGN.md §4 "Conclusion").

    Records the receipt and concludes every guarantee of the application: each gets its
    保証契約番号, Certificate v1 and PDFs from the registry (a change, menu 5: the guarantee
    gets its next version); the application becomes 締結済 and the mail is queued. A
    received amount that differs from fees.expected_fee needs `confirm_mismatch`. Any
    failure (a PDF that does not render, a lost database) rolls everything back: no number
    is used, no mail leaves. Returns the guarantees concluded (or changed), by kind.
    """
    # deferred(): the audit head is locked last, after every number counter and PDF.
    with registry.discard_files_on_failure(), transaction.atomic(), audit.deferred():
        application = _lock(application, S.CONCLUDED)
        expected = fees.expected_fee(application, received_on)
        if expected.problem:
            raise ValidationError(expected.problem, code="no_fee_table")
        if amount != expected.due and not confirm_mismatch:
            raise ValidationError(
                MSG_FEE_MISMATCH.format(received=amount, expected=expected.due),
                code="fee_mismatch",
            )
        FeeReceipt.objects.create(
            application=application,
            received_on=received_on,
            amount=amount,
            expected_amount=expected.due,
            method=method,
            recorded_by=by,
        )
        if application.menu == Application.Menu.CHANGE:
            statement = expected.change.for_certificate(received_on=received_on, method=method)
            conclude_change(application=application, by=by, statement=statement)
            return [application.guarantee]
        now = timezone.now()
        terms = []
        for item in application.items.order_by("kind"):
            starts_on, ends_on = _period(item.kind, application.work, timezone.localdate(now))
            fee = expected.quotes[item.kind].for_certificate(received_on=received_on, method=method)
            terms.append(registry.Terms(item.kind, item.amount, starts_on, ends_on, fee))
        guarantees = registry.issue_guarantees(
            company=application.company,
            work=application.work,
            delivery=application.delivery,
            terms=terms,
            issued_at=now,
            by=by,
        )
        application = _transition(
            application=application, to=S.CONCLUDED, by=by, note=f"保証料入金 {yen(amount)}"
        )
        notifications.guarantees_concluded(application, guarantees)
    return guarantees


# --- 保証契約締結後の変更 (menu 5) ----------------------------------------------------------

C = Application.ChangeKind


def _new_terms(application):
    """The terms the change gives the guarantee, as issue_change takes them."""
    kind = application.change_kind
    if kind in (C.INCREASE, C.DECREASE):
        return {"price": application.new_price, "amount": application.items.first().amount}
    if kind == C.PERIOD:
        end = application.new_end_date
        return {"work_end": end, "ends_on": rules.guarantee_end(application.guarantee.kind, end)}
    return {}


def conclude_change(*, application, by, statement=None):
    """Issue Certificate v(n+1) for an approved change; the number and key stay the same.

    Runs in the caller's transaction: the new version, its PDFs, a 減額's refund of the
    advance received above the new price's share (certificates.services.open_refund), the
    application's move to 締結済 and the mail to the company happen together or not at all.
    """
    guarantee = application.guarantee
    today = timezone.localdate()
    statement = statement or fees.change_fee(application, today).for_certificate()
    certificate = registry.issue_change(
        guarantee=guarantee,
        label=C(application.change_kind).label.split("（")[0],
        fee=statement,
        **_new_terms(application),
        cancelled_on=today if application.change_kind == C.CANCEL else None,
        reason=application.cancel_reason,
        by=by,
    )
    if application.change_kind == C.DECREASE:
        # 受領前払金 above the share the new price allows is returned (decision 0026).
        registry.open_refund(
            certificate=certificate,
            reduced_on=application.change_contract_date or today,
            by=by,
        )
    application = _transition(
        application=application, to=S.CONCLUDED, by=by, note=f"第{certificate.version}版を発行"
    )
    notifications.change_concluded(application, certificate)
    return certificate
