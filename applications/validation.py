"""Is an application complete and within every rule? One function, used by the form (as the
clerk types), by submission and by approval, so the three can never disagree.

Returns {field name: [Japanese messages]}; the field names are the form's.
"""

from dataclasses import dataclass

from django.utils import timezone

from applications import rules, selectors
from applications.models import Application
from certificates import selectors as registry
from esure.choices import GuaranteeKind

MSG_REQUIRED = "入力してください。"
MSG_NO_GUARANTEE = "申し込む保証を1つ以上選んでください。"
MSG_TERMS = "電子交付には「{name}」の使用の確認が必要です。"
MSG_KIND_TAKEN = "この工事の{kind}はすでに申込済みです。申込一覧をご確認ください。"
MSG_OFFICE_ORDERER = "発注機関は選択した発注者のものを選んでください。"
MSG_PERIOD = rules.MSG_WORK_PERIOD_ORDER

WORK_REQUIRED = [
    "orderer",
    "office",
    "name",
    "location",
    "category",
    "contract_method",
    "price",
    "contract_date",
    "start_date",
    "end_date",
]
AMOUNT_FIELD = {
    GuaranteeKind.ADVANCE: "advance_amount",
    GuaranteeKind.CONTRACT: "contract_amount",
    GuaranteeKind.INTERMEDIATE: "intermediate_amount",
}


class Errors(dict):
    """{form field: [messages]}, as the forms show them next to each field."""

    def add(self, field, messages):
        """Add one message or a list of them (nothing for an empty list) to `field`."""
        if messages:
            self.setdefault(field, []).extend([messages] if isinstance(messages, str) else messages)

    def add_problems(self, problems, *, default, fields=None):
        """Add a rule's problems, each next to the form field of the fact it names
        (`fields`: the rule's field → the form's), else next to `default`."""
        for problem in problems:
            self.add((fields or {}).get(problem.field, default), problem)


@dataclass(frozen=True)
class Facts:
    """What the rules of menus 1–3 need from the database, read before any rule runs."""

    orderer: object  # the work's Orderer (its policy: the local limits), or None
    office_orderer_id: int | None  # the orderer of the chosen office
    taken: frozenset  # kinds another live application of the work already requests
    advance_guaranteed: int | None  # the 前払金 guaranteed for the work, if any


def gather_facts(application, kinds):
    """The Facts for checking `application` with the requested `kinds`: every database read
    of validation happens here."""
    work = application.work
    saved = work.pk is not None
    needs_advance = saved and (
        GuaranteeKind.CONTRACT in kinds or GuaranteeKind.INTERMEDIATE in kinds
    )
    return Facts(
        orderer=work.orderer if work.orderer_id else None,
        office_orderer_id=work.office.orderer_id if work.office_id else None,
        taken=frozenset(selectors.kinds_requested_elsewhere(application) if application.pk else ()),
        advance_guaranteed=(
            selectors.guaranteed_amount(work, GuaranteeKind.ADVANCE) if needs_advance else None
        ),
    )


def application_errors(application, *, amounts=None, today=None):
    """Every reason the application cannot be submitted yet (empty: it can).

    `application` may be unsaved (the form checks as the clerk types); `amounts` then gives
    the requested kinds and amounts, else they are read from its items. The facts the rules
    need are read first (gather_facts); the rules themselves read nothing.
    """
    today = today or timezone.localdate()
    if application.menu == Application.Menu.CHANGE:
        return change_errors(application, amounts=amounts, today=today)
    if amounts is None:
        amounts = {item.kind: item.amount for item in application.items.all()}
    return check_application(application, amounts, gather_facts(application, amounts), today)


def check_application(application, amounts, facts, today):
    """The rules of menus 1–3 on the typed values and the gathered facts (no database)."""
    work = application.work
    errors = Errors()
    for field in WORK_REQUIRED:
        if getattr(work, field if field not in ("orderer", "office") else f"{field}_id") in (
            None,
            "",
        ):
            errors.add(field, MSG_REQUIRED)
    for field in ("delivery", "contact_name", "contact_phone"):
        if not getattr(application, field):
            errors.add(field, MSG_REQUIRED)
    if not amounts:
        errors.add("__all__", MSG_NO_GUARANTEE)
    for kind, amount in amounts.items():
        if not amount:
            errors.add(AMOUNT_FIELD[kind], MSG_REQUIRED)
    if work.start_date and work.end_date and work.start_date > work.end_date:
        errors.add("end_date", MSG_PERIOD)
    if work.office_id and work.orderer_id and facts.office_orderer_id != work.orderer_id:
        errors.add("office", MSG_OFFICE_ORDERER)
    complete = not errors
    if work.end_date and "end_date" not in errors:
        # Checked as soon as the end is typed (it needs no other value), without hiding the
        # other rules. Menus 2 and 3 show the work instead of asking for it: their message
        # goes to the top of the form.
        end_field = (
            "end_date" if application.menu == Application.Menu.ADVANCE_CONTRACT else "__all__"
        )
        for kind in (GuaranteeKind.ADVANCE, GuaranteeKind.INTERMEDIATE):
            if kind in amounts:
                ended = rules.check_work_not_ended(kind=kind, end=work.end_date, today=today)
                errors.add_problems(ended, default=end_field)
    if not complete:
        return errors  # the rules below need complete values

    orderer = facts.orderer
    price = work.price
    for kind in amounts:
        if kind in facts.taken:
            errors.add(AMOUNT_FIELD[kind], MSG_KIND_TAKEN.format(kind=GuaranteeKind(kind).label))

    if GuaranteeKind.ADVANCE in amounts:
        problems = rules.check_advance(
            amount=amounts[GuaranteeKind.ADVANCE],
            price=price,
            category=work.category,
            period_days=rules.work_period_days(work.start_date, work.end_date),
            orderer=orderer,
        )
        errors.add_problems(problems, default="advance_amount")
    if GuaranteeKind.CONTRACT in amounts:
        advance = (
            GuaranteeKind.ADVANCE in amounts
            or application.advance_planned
            or facts.advance_guaranteed is not None
        )
        problems = rules.check_contract_guarantee(
            amount=amounts[GuaranteeKind.CONTRACT],
            price=price,
            low_bid=work.low_bid,
            advance_planned_or_guaranteed=bool(advance),
            orderer=orderer,
        )
        errors.add_problems(problems, default="contract_amount")
    if GuaranteeKind.INTERMEDIATE in amounts:
        if application.progress_percent is None:
            errors.add("progress_percent", MSG_REQUIRED)
        else:
            problems = rules.check_intermediate(
                amount=amounts[GuaranteeKind.INTERMEDIATE],
                advance_amount=facts.advance_guaranteed or 0,
                price=price,
                start=work.start_date,
                end=work.end_date,
                today=today,
                progress_percent=application.progress_percent,
                certified_on=application.certified_on,
                certification_number=application.certification_number,
                partial_payment_requested=application.partial_payment_requested,
                advance_guaranteed=facts.advance_guaranteed is not None,
                orderer=orderer,
            )
            errors.add_problems(problems, default="intermediate_amount", fields=INTERMEDIATE_FIELDS)

    if application.delivery == Application.Delivery.ELECTRONIC:
        for kind in amounts:
            refusal = rules.electronic_delivery_refusal(
                orderer=orderer,
                contract_date=work.contract_date,
                contract_method=work.contract_method,
                kind=kind,
            )
            if refusal:
                errors.add("delivery", refusal)
                break
        if orderer.electronic_terms_name and not application.terms_confirmed:
            errors.add("terms_confirmed", MSG_TERMS.format(name=orderer.electronic_terms_name))
    return errors


# Where a 中間前払金 problem is shown: the rule's field → the form's (menu 3 shows the work
# instead of asking for it, so the situation's problems go to the top of the form); any
# other problem (the amount, the price, the period) goes next to the amount.
INTERMEDIATE_FIELDS = {
    None: "__all__",
    "progress_percent": "progress_percent",
    "certified_on": "certified_on",
    "partial_payment_requested": "partial_payment_requested",
}


def delivery_refusal(work, kinds):
    """Why only 書面交付 is possible for this work (None: 電子交付 can be chosen)."""
    if not (work.orderer_id and work.contract_date and work.contract_method):
        return None
    for kind in kinds or [GuaranteeKind.ADVANCE]:
        refusal = rules.electronic_delivery_refusal(
            orderer=work.orderer,
            contract_date=work.contract_date,
            contract_method=work.contract_method,
            kind=kind,
        )
        if refusal:
            return refusal
    return None


def limits(work, application=None):
    """The figures shown beside the amount fields: max advance, min 契約保証, max 中間前払金."""
    if not (work.orderer_id and work.price and work.category):
        return {}
    orderer = work.orderer
    return {
        "max_advance": rules.max_advance(work.price, work.category, orderer),
        "min_contract": rules.min_contract_guarantee(work.price, work.low_bid, orderer),
        "max_intermediate": rules.max_intermediate(work.price),
    }


MSG_CHANGE_KIND = "変更の内容を選んでください。"
MSG_CHANGE_CANCELLED = "この保証契約は解約済みのため、変更できません。"
MSG_CHANGE_EXPIRED = "この保証契約は保証期限を過ぎているため、変更できません。"
MSG_INCREASE_PRICE = "増額の場合は、現在の請負代金額（{price}）より大きい金額を入力してください。"
MSG_DECREASE_PRICE = "減額の場合は、現在の請負代金額（{price}）より小さい金額を入力してください。"
MSG_INCREASE_AMOUNT = "増額の場合、保証金額は現在の保証金額（{amount}）以上としてください。"
MSG_DECREASE_AMOUNT = "減額の場合、保証金額は現在の保証金額（{amount}）以下としてください。"
MSG_PERIOD_SAME = "変更後の工期（至）が現在と同じです（{date}）。"
MSG_PERIOD_BEFORE_START = rules.MSG_NEW_END_BEFORE_START
MSG_CANCEL_REASON = "解約の理由（例: 工事中止、契約解除）を入力してください。"
CHANGE_AMOUNT_FIELD = "change_amount"
# The change kinds that amend the 工事請負契約 by a 変更契約 (and so carry its date).
DATED_CHANGES = (
    Application.ChangeKind.INCREASE,
    Application.ChangeKind.DECREASE,
    Application.ChangeKind.PERIOD,
)


def change_errors(application, *, amounts=None, today=None):
    """Menu 5 (保証契約締結後の変更): the change's kind decides which rules apply; the new
    values must meet the same limits as at application (DESIGN.md §5.1, §5.3, §5.4).

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
