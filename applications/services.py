"""Every write of the application workflow. Views and admin actions call these."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from applications import fees, notifications, rules, selectors, validation
from applications.models import ALLOWED as ALLOWED  # the status table, checked by _lock
from applications.models import Application, ApplicationItem, FeeReceipt, StatusChange
from audit import services as audit
from certificates import services as registry
from certificates.models import Work
from esure.choices import GuaranteeKind
from esure.wareki import to_wareki, yen

S = Application.Status

MSG_NOT_EDITABLE = "この申込は現在編集できません（状態: {status}）。"
MSG_TRANSITION = "「{old}」の申込を「{new}」にすることはできません。"
MSG_REASON_REQUIRED = "理由を入力してください。"
MSG_FEE_MISMATCH = (
    "入金額 {received:,}円 が計算上の保証料 {expected:,}円 と一致しません。"
    "このまま締結する場合は「金額の相違を確認した」にチェックしてください。"
)
MSG_NO_FEE_TABLE = "{kind}の保証料率表がありません。管理画面で料率表を登録してください。"
MSG_ALREADY_OPEN = "この工事には手続き中の同じ申込があります。申込一覧からご確認ください。"


class TransitionError(ValidationError):
    """A move the status table does not allow (e.g. a second approval)."""


def _lock(application, to):
    """Lock the application's row and check the status table (models.ALLOWED): the move to
    `to` must be allowed from the status it has now, else TransitionError. In a transaction.
    A service that works before it moves (validation, conclusion) calls this first."""
    locked = (
        Application.objects.select_for_update(of=("self",))
        .select_related("company", "work", "work__orderer", "work__office")
        .get(pk=application.pk)
    )
    if not locked.can_move_to(to):
        raise TransitionError(
            MSG_TRANSITION.format(old=locked.get_status_display(), new=S(to).label),
            code="transition",
        )
    return locked


def _transition(*, application, to, by, note=""):
    """The one writer of a status: lock the row, check the table, stamp the time, write the
    history row and the audit event."""
    locked = _lock(application, to)
    now = timezone.now()
    old = locked.status
    locked.status = to
    locked.updated_at = now
    fields = ["status", "updated_at"]
    if to == S.SUBMITTED:
        locked.submitted_at = now
        fields.append("submitted_at")
    locked.save(update_fields=fields)
    StatusChange.objects.create(
        application=locked, old_status=old, new_status=to, by=by, at=now, note=note
    )
    audit.record(
        actor=by,
        action=f"application.{S(to).value}",
        obj=locked,
        data={"from": S(old).value, "to": S(to).value, "menu": locked.menu, "note": note[:200]},
    )
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

    Raises ValidationError with per-field messages otherwise; the draft stays saved.
    """
    with transaction.atomic():
        application = _lock(application, S.SUBMITTED)
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
        if application.menu == Application.Menu.CHANGE and not change_needs_fee(application):
            # A 減額, 保証期限変更 or 解約 takes effect on approval; an 増額 waits for its fee.
            with registry.discard_files_on_failure():
                conclude_change(application=application, by=by)
        else:
            notifications.application_approved(application)
    return application


def expected_fees(application, day):
    """Per item, the fee quote from the tables in force on `day` (保証料の計算)."""
    quotes = {}
    for item in application.items.all():
        quote = selectors.fee_quote(item.kind, item.amount, day)
        if quote is None:
            raise ValidationError(MSG_NO_FEE_TABLE.format(kind=item.get_kind_display()))
        quotes[item.kind] = quote
    return quotes


def _period(kind, work, day):
    """保証期間: the 工期 for 前払金 and 契約保証; for 中間前払金 from its conclusion."""
    start = day if kind == GuaranteeKind.INTERMEDIATE else work.start_date
    return start, rules.guarantee_end(kind, work.end_date)


def record_fee_receipt(*, application, received_on, amount, method, by, confirm_mismatch=False):
    """保証料入金 → 締結, in one transaction (DESIGN.md §4 "Conclusion").

    Records the receipt and concludes every guarantee of the application: each gets its
    保証契約番号, Certificate v1 and PDFs from the registry; the application becomes
    締結済 and the registration mail is queued. A received amount that differs from the
    computed fee needs `confirm_mismatch`. Any failure (a PDF that does not render, a lost
    database) rolls everything back: no number is used, no mail leaves.
    """
    # deferred(): the audit head is locked last, after every number counter and PDF.
    with registry.discard_files_on_failure(), transaction.atomic(), audit.deferred():
        application = _lock(application, S.CONCLUDED)
        if application.menu == Application.Menu.CHANGE:
            statement = change_fee_statement(application, received_on)
            expected = statement["fee"]
            _check_fee(amount, expected, confirm_mismatch)
            FeeReceipt.objects.create(
                application=application,
                received_on=received_on,
                amount=amount,
                expected_amount=expected,
                method=method,
                recorded_by=by,
            )
            statement.update(received_on=received_on.isoformat(), method=method)
            return [conclude_change(application=application, by=by, statement=statement)]
        quotes = expected_fees(application, received_on)
        expected = sum(q["fee"] for q in quotes.values())
        _check_fee(amount, expected, confirm_mismatch)
        FeeReceipt.objects.create(
            application=application,
            received_on=received_on,
            amount=amount,
            expected_amount=expected,
            method=method,
            recorded_by=by,
        )
        now = timezone.now()
        guarantees = []
        for item in application.items.order_by("kind"):
            starts_on, ends_on = _period(item.kind, application.work, timezone.localdate(now))
            fee = {
                **quotes[item.kind],
                "received_on": received_on.isoformat(),
                "method": method,
            }
            guarantees.append(
                registry.issue_guarantee(
                    company=application.company,
                    work=application.work,
                    kind=item.kind,
                    delivery=application.delivery,
                    amount=item.amount,
                    starts_on=starts_on,
                    ends_on=ends_on,
                    fee=fee,
                    issued_at=now,
                    by=by,
                )
            )
        application = _transition(
            application=application, to=S.CONCLUDED, by=by, note=f"保証料入金 {yen(amount)}"
        )
        notifications.guarantees_concluded(application, guarantees)
    return guarantees


def _check_fee(amount, expected, confirm_mismatch):
    if amount != expected and not confirm_mismatch:
        raise ValidationError(
            MSG_FEE_MISMATCH.format(received=amount, expected=expected), code="fee_mismatch"
        )


# --- 保証契約締結後の変更 (menu 5) ----------------------------------------------------------

C = Application.ChangeKind


def change_needs_fee(application):
    """An 増額 that raises the guaranteed amount is issued only once its fee is received."""
    return application.change_kind == C.INCREASE and change_fee_statement(application)["fee"] > 0


def _days(current, today):
    total = (current.ends_on - current.starts_on).days + 1
    remaining = min(total, max(0, (current.ends_on - today).days + 1))
    return total, remaining


def change_fee_statement(application, day=None):
    """What the change costs or returns (追加保証料 / 保証料返還), as plain values for the
    registry's 保証料計算書 / 保証料返還計算書 (DESIGN.md §5.6; demo refund rule)."""
    day = day or timezone.localdate()
    guarantee = application.guarantee
    current = selectors.current_certificate(guarantee)
    old_amount = current.amount
    item = application.items.first()
    new_amount = item.amount if item else old_amount
    brackets, table = selectors.fee_brackets(guarantee.kind, day)
    total, remaining = _days(current, day)
    paid = sum(
        (c.content.get("fee") or {}).get("fee", 0)
        for c in guarantee.certificates.all()
        if (c.content.get("fee") or {}).get("kind", "initial") in ("initial", "additional")
    )
    statement = {
        "kind": "none",
        "fee": 0,
        "old_amount": old_amount,
        "new_amount": new_amount,
        "paid_fee": paid,
        "days_total": total,
        "days_remaining": remaining,
        "table_name": table.name if table else "",
        "is_demo": bool(table and table.is_demo),
        "reason_label": C(application.change_kind).label if application.change_kind else "",
    }
    if application.change_kind == C.CANCEL:
        minimum = fees.find_bracket(old_amount, brackets).minimum_fee if brackets else paid
        statement.update(
            kind="refund",
            new_amount=None,
            fee=fees.compute_refund(
                paid_fee=paid,
                old_amount=old_amount,
                new_amount=None,
                brackets=brackets,
                days_total=total,
                days_remaining=remaining,
                minimum_retained=minimum,
            ),
        )
    elif new_amount > old_amount and brackets:
        statement.update(
            kind="additional",
            fee=fees.compute_additional_fee(
                old_amount=old_amount,
                new_amount=new_amount,
                brackets=brackets,
                days_total=total,
                days_remaining=remaining,
            ),
        )
    elif new_amount < old_amount and brackets:
        minimum = fees.find_bracket(old_amount, brackets).minimum_fee
        statement.update(
            kind="refund",
            fee=fees.compute_refund(
                paid_fee=paid,
                old_amount=old_amount,
                new_amount=new_amount,
                brackets=brackets,
                days_total=total,
                days_remaining=remaining,
                minimum_retained=minimum,
            ),
        )
    return statement


def _change_values(application, current):
    kind = application.change_kind
    item = application.items.first()
    if kind in (C.INCREASE, C.DECREASE):
        return {"work.price": application.new_price, "guarantee.amount": item.amount}
    if kind == C.PERIOD:
        end = application.new_end_date
        ends_on = rules.guarantee_end(application.guarantee.kind, end)
        return {"work.end_date": end.isoformat(), "guarantee.ends_on": ends_on.isoformat()}
    return {}


def _shown(value):
    """A changed value as people read it: 金額 with commas, dates in 和暦."""
    if isinstance(value, int):
        return yen(value)
    return to_wareki(datetime.date.fromisoformat(value))


def _summary(application, current, values):
    label = C(application.change_kind).label.split("（")[0]
    parts = [label]
    for path, new in values.items():
        old = current.content[path.split(".")[0]][path.split(".")[1]]
        if old != new:
            parts.append(f"{registry.CHANGE_LABELS[path]} {_shown(old)}→{_shown(new)}")
    return "、".join(parts)


def conclude_change(*, application, by, statement=None):
    """Issue Certificate v(n+1) for an approved change; the number and key stay the same.

    Runs in the caller's transaction: the new version, its PDFs, the application's move to
    締結済 and the mail to the company happen together or not at all.
    """
    guarantee = application.guarantee
    current = selectors.current_certificate(guarantee)
    statement = statement or change_fee_statement(application)
    values = _change_values(application, current)
    today = timezone.localdate()
    certificate = registry.issue_change(
        guarantee=guarantee,
        values=values,
        fee=statement,
        summary=_summary(application, current, values),
        cancelled_on=today if application.change_kind == C.CANCEL else None,
        reason=application.cancel_reason,
        by=by,
    )
    application = _transition(
        application=application, to=S.CONCLUDED, by=by, note=f"第{certificate.version}版を発行"
    )
    notifications.change_concluded(application, certificate)
    return certificate
