"""Is an application complete and within every rule? One function, used by the form (as the
clerk types), by submission and by approval, so the three can never disagree.

Returns {field name: [Japanese messages]}; the field names are the form's. The rules of
menus 1–3 are here; a change (menu 5) is checked by applications.changes.validation.
"""

from dataclasses import dataclass

from django.utils import timezone

from accounts.selectors import unverified_members
from applications import rules, selectors
from applications.changes.validation import change_errors
from applications.errors import MSG_REQUIRED, Errors
from applications.models import Application
from esure.choices import GuaranteeKind

MSG_NO_GUARANTEE = "申し込む保証を1つ以上選んでください。"
MSG_TERMS = "電子交付には「{name}」の使用の確認が必要です。"
MSG_KIND_TAKEN = "この工事の{kind}はすでに申込済みです。申込一覧をご確認ください。"
MSG_OFFICE_ORDERER = "発注機関は選択した発注者のものを選んでください。"
MSG_PERIOD = rules.MSG_WORK_PERIOD_ORDER
MSG_JV_UNVERIFIED = (
    "構成員の{names}は保証会社による会社情報の確認が済んでいない（または利用停止中の）ため、"
    "この共同企業体では申し込めません。"
)

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


@dataclass(frozen=True)
class Facts:
    """What the rules of menus 1–3 need from the database, read before any rule runs."""

    orderer: object  # the work's Orderer (its policy: the local limits), or None
    office_orderer_id: int | None  # the orderer of the chosen office
    taken: frozenset  # kinds another live application of the work already requests
    advance_guaranteed: int | None  # the 前払金 guaranteed for the work, if any
    jv_unverified: tuple = ()  # names of the JV's members not verified (now)


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
        jv_unverified=tuple(
            c.name
            for c in (unverified_members(work.joint_venture) if work.joint_venture_id else ())
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
    if facts.jv_unverified:
        field = (
            "joint_venture" if application.menu == Application.Menu.ADVANCE_CONTRACT else "__all__"
        )
        errors.add(field, MSG_JV_UNVERIFIED.format(names="、".join(facts.jv_unverified)))
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
