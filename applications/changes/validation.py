"""Is a change (menu 5) complete and within every rule? The change's kind decides which
rules apply; the new values meet the same limits as at application (DESIGN.md §5.1, §5.3,
§5.4). Called through validation.application_errors, like every application.
"""

from django.utils import timezone

from applications import rules
from applications.errors import MSG_REQUIRED, Errors
from applications.models import Application
from certificates import selectors as registry
from esure.choices import GuaranteeKind

MSG_CHANGE_KIND = "変更の内容を選んでください。"
MSG_CHANGE_CANCELLED = "この保証契約は解約済みのため、変更できません。"
MSG_CHANGE_EXPIRED = "この保証契約は保証期限を過ぎているため、変更できません。"
MSG_INCREASE_PRICE = "増額の場合は、現在の請負代金額（{price}）より大きい金額を入力してください。"
MSG_DECREASE_PRICE = "減額の場合は、現在の請負代金額（{price}）より小さい金額を入力してください。"
MSG_INCREASE_AMOUNT = "増額の場合、保証金額は現在の保証金額（{amount}）以上としてください。"
MSG_DECREASE_AMOUNT = "減額の場合、保証金額は現在の保証金額（{amount}）以下としてください。"
MSG_PERIOD_SAME = "変更後の工期（至）が現在と同じです（{date}）。"
MSG_CANCEL_REASON = "解約の理由（例: 工事中止、契約解除）を入力してください。"
CHANGE_AMOUNT_FIELD = "change_amount"
# The change kinds that amend the 工事請負契約 by a 変更契約 (and so carry its date).
DATED_CHANGES = (
    Application.ChangeKind.INCREASE,
    Application.ChangeKind.DECREASE,
    Application.ChangeKind.PERIOD,
)


def change_errors(application, *, amounts=None, today=None):
    """Every reason the change cannot be submitted yet (empty: it can); `amounts` as in
    validation.application_errors.

    The facts come first — the guarantee's current terms (the registry's typed values), its
    work as first contracted and its orderer — then the rules, which read nothing else."""
    today = today or timezone.localdate()
    guarantee = application.guarantee
    if guarantee is None:
        return {"__all__": [MSG_REQUIRED]}
    if guarantee.cancelled_at is not None:
        return {"__all__": [MSG_CHANGE_CANCELLED]}
    terms = registry.current_terms(guarantee)
    work, orderer = guarantee.work, guarantee.orderer
    if amounts is None:
        amounts = {item.kind: item.amount for item in application.items.all()}
    if terms.ends_on < today:
        return {"__all__": [MSG_CHANGE_EXPIRED]}
    errors = Errors()
    kind = application.change_kind
    for field in ("change_kind", "contact_name", "contact_phone"):
        if not getattr(application, field):
            errors.add(field, MSG_CHANGE_KIND if field == "change_kind" else MSG_REQUIRED)
    new_amount = amounts.get(guarantee.kind)
    price, amount = terms.price, terms.amount
    C = Application.ChangeKind
    # The dates are checked as soon as they are typed: they need no other value.
    if kind in DATED_CHANGES and application.change_contract_date:
        problems = rules.check_change_contract_date(
            changed_on=application.change_contract_date,
            contract_date=work.contract_date,
            today=today,
        )
        errors.add_problems(problems, default="change_contract_date")
    if kind == C.PERIOD and application.new_end_date:
        if application.new_end_date == terms.work_end:
            errors.add("new_end_date", MSG_PERIOD_SAME.format(date=rules.date_ja(terms.work_end)))
        else:
            problems = rules.check_new_work_end(
                new_end=application.new_end_date, start=terms.work_start, today=today
            )
            errors.add_problems(problems, default="new_end_date")
    if kind in (C.INCREASE, C.DECREASE):
        missing = [f for f in ("new_price", "change_contract_date") if not getattr(application, f)]
        for field in missing:
            errors.add(field, MSG_REQUIRED)
        if not new_amount:
            errors.add(CHANGE_AMOUNT_FIELD, MSG_REQUIRED)
        if missing or not new_amount:
            return errors  # the rules below need both the new price and the new amount
        new_price = application.new_price
        if kind == C.INCREASE:
            if new_price <= price:
                errors.add("new_price", MSG_INCREASE_PRICE.format(price=rules.yen(price)))
            if new_amount < amount:
                message = MSG_INCREASE_AMOUNT.format(amount=rules.yen(amount))
                errors.add(CHANGE_AMOUNT_FIELD, message)
        else:
            if new_price >= price:
                errors.add("new_price", MSG_DECREASE_PRICE.format(price=rules.yen(price)))
            if new_amount > amount:
                message = MSG_DECREASE_AMOUNT.format(amount=rules.yen(amount))
                errors.add(CHANGE_AMOUNT_FIELD, message)
        problems = rules.check_price_change(
            new_price=new_price,
            original_price=work.price,
            category=work.category,
            advance_amount=new_amount if guarantee.kind == GuaranteeKind.ADVANCE else None,
            contract_amount=new_amount if guarantee.kind == GuaranteeKind.CONTRACT else None,
            low_bid=work.low_bid,
            orderer=orderer,
        )
        errors.add_problems(problems, default=CHANGE_AMOUNT_FIELD)
    elif kind == C.PERIOD:
        for field in ("new_end_date", "change_contract_date"):
            if not getattr(application, field):
                errors.add(field, MSG_REQUIRED)
    elif kind == C.CANCEL and not application.cancel_reason.strip():
        errors.add("cancel_reason", MSG_CANCEL_REASON)
    return errors
