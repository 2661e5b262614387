"""The limits a guarantee application must respect (DESIGN.md §5, "Rules with numbers").

Pure functions on plain values: amounts are whole yen (`int`), percentages whole numbers
(40 means 40%), dates `datetime.date`. Every computation is integer arithmetic; nothing here
touches the database. `orderer` is any object with the policy attributes of
`accounts.models.Orderer` (the model itself, saved or not, or a `SimpleNamespace` in tests);
the numbers marked (local) below come from there, so they are data, not code.

Each `check_*` function returns a list of `Problem`: a Japanese message that names the fact
it is about (the check's argument, e.g. "progress_percent"), so the caller shows it next to
the right field without reading its text; an empty list means the input is acceptable. The
messages are module-level constants so that tests import them instead of copying the text.

Sources of the numbers:
- 地方自治法施行令附則第7条 / 地方自治法施行規則附則第3条: 前金払 up to 4割 of the price for
  工事 (3割 for 設計・調査・測量), 中間前金払 up to 2割, 前金払 + 中間前金払 up to 6割, and the
  conditions of the 中間前金払 (half the 工期 elapsed, work worth half the price done).
- 公共工事の前払金保証事業に関する法律: the 前払金保証 (and the 中間前払金保証) by a 保証事業会社.
- 公共工事標準請負契約約款 第4条 (契約の保証, 10分の1以上; changes of the price) and
  第34条 (前金払及び中間前金払).
- DESIGN.md §5 for the rest; "(local)" marks a value read from the orderer's policy.
"""

import datetime

from esure.choices import ContractMethod, GuaranteeKind, WorkCategory
from esure.wareki import yen  # amounts inside messages: 12,345,000円

# 前払金 and 中間前払金 are rounded down to whole 10万円 (DESIGN.md §5.1–2; the usual wording
# of municipal 前金払 rules: 10万円未満の端数は切り捨てる).
ADVANCE_ROUNDING_UNIT = 100_000
# 中間前払金 ≤ 2割 of the price; 前払金 + 中間前払金 ≤ 6割 (地方自治法施行規則附則第3条).
INTERMEDIATE_RATIO = 20
ADVANCE_PLUS_INTERMEDIATE_RATIO = 60
# 中間前払金 needs work worth ≥ 5割 of the price done (既済出来高; 地方自治法施行規則附則第3条).
INTERMEDIATE_MIN_PROGRESS_PERCENT = 50

# 契約保証予約 is a guarantee kind of the surety business but never delivered electronically
# (DESIGN.md §1, §5.5); it is not a GuaranteeKind, only a value a caller may pass.
CONTRACT_RESERVATION = "contract_reservation"
_KIND_LABELS = {**dict(GuaranteeKind.choices), CONTRACT_RESERVATION: "契約保証予約"}

# --- Messages (imported by tests; {placeholders} are filled by the check functions) --------

MSG_AMOUNT_NOT_POSITIVE = "保証金額は1円以上で入力してください。"
MSG_PRICE_NOT_POSITIVE = "請負代金額は1円以上で入力してください。"
MSG_WORK_PERIOD_ORDER = "工期の終了日は開始日以降の日付を入力してください。"

MSG_ADVANCE_OVER_MAX = (
    "前払金の保証金額は、請負代金額の{ratio}%（10万円未満切捨て）の{max}以内で入力してください。"
)
MSG_ADVANCE_PRICE_TOO_LOW = "請負代金額が{min}未満の契約は、前払金の対象外です。"
MSG_ADVANCE_PERIOD_TOO_SHORT = (
    "工期が{min_days}日未満の契約は、前払金の対象外です（この契約の工期: {days}日）。"
)

MSG_INTERMEDIATE_NOT_ALLOWED = "この発注者には中間前払金の制度がありません。"
MSG_INTERMEDIATE_OVER_MAX = (
    "中間前払金の保証金額は、請負代金額の2割（10万円未満切捨て）の{max}以内で入力してください。"
)
MSG_INTERMEDIATE_TOTAL_OVER = (
    "前払金と中間前払金の合計は、請負代金額の6割（{max}）以内としてください"
    "（前払金 {advance} + 中間前払金 {amount} = {total}）。"
)
MSG_INTERMEDIATE_NO_ADVANCE = (
    "中間前払金保証は、前払金保証を締結済みの工事に限りお申し込みいただけます。"
)
MSG_INTERMEDIATE_TOO_EARLY = (
    "工期の2分の1を経過していません。中間前払金は{date}からお申し込みいただけます。"
)
MSG_INTERMEDIATE_PROGRESS_LOW = (
    "既済出来高が請負代金額の5割に達していません（入力された出来高: {progress}%）。"
)
MSG_INTERMEDIATE_NO_CERTIFICATION = "発注者の中間前金払認定の日付と番号を入力してください。"
MSG_INTERMEDIATE_CERTIFICATION_FUTURE = "中間前金払認定の日付に将来の日付は入力できません。"
MSG_INTERMEDIATE_PARTIAL_PAYMENT = "部分払を請求した工事は、この発注者では中間前払金の対象外です。"

MSG_CONTRACT_NEEDS_ADVANCE = (
    "保証事業会社の契約保証は、前払金保証とあわせて（前払金を受ける工事に限り）"
    "お申し込みいただけます。"
)
MSG_CONTRACT_UNDER_MIN = (
    "契約保証の保証金額は、請負代金額の{ratio}%（円未満切上げ）の{min}以上で入力してください。"
)
MSG_CONTRACT_UNDER_MIN_LOW_BID = (
    "低入札価格調査を経た契約のため、契約保証の保証金額は請負代金額の{ratio}%"
    "（円未満切上げ）の{min}以上で入力してください。"
)
MSG_CONTRACT_OVER_PRICE = "契約保証の保証金額は、請負代金額（{price}）以下で入力してください。"

MSG_CHANGE_ADVANCE_OVER_NEW_MAX = (
    "変更後の請負代金額（{price}）では前払金の上限は{max}となり、保証済みの前払金"
    "（{advance}）を下回ります。この変更はお受けできません。前払金の返還と前払金保証の"
    "減額について、先に発注者とご相談ください。"
)
MSG_CHANGE_CONTRACT_UNDER_MIN = (
    "変更後の請負代金額（{price}）に対し、契約保証の保証金額は{ratio}%の{min}以上が必要です"
    "（現在 {amount}）。契約保証の増額をお申し込みください。"
)
MSG_CHANGE_CONTRACT_INCREASE_REQUIRED = (
    "請負代金額が当初（{original}）の{threshold}%以上に増額されたため、契約保証の保証金額を"
    "{required}以上に増額してください（現在 {amount}）。"
)

MSG_ADVANCE_WORK_ENDED = "工期が終了した工事には前払金保証を申し込めません。"
MSG_INTERMEDIATE_WORK_ENDED = "工期が終了した工事には中間前払金保証を申し込めません。"

MSG_NEW_END_BEFORE_START = "変更後の工期（至）は工期の開始日（{date}）以降としてください。"
MSG_NEW_END_PAST = "変更後の工期（至）に過去の日付は指定できません（本日: {date}）。"
MSG_CHANGE_DATE_BEFORE_CONTRACT = "変更契約日は当初の契約日（{date}）以降の日付を入力してください。"
MSG_CHANGE_DATE_FUTURE = "変更契約日に将来の日付は入力できません。"

REFUSAL_NOT_ELECTRONIC = "この発注者は電子保証に対応していません。書面交付をお選びください。"
REFUSAL_BEFORE_START = "電子交付は{date}以降に契約する工事が対象です。書面交付をお選びください。"
REFUSAL_METHOD_EXCLUDED = (
    "この発注者では、{method}による契約は電子交付の対象外です。書面交付をお選びください。"
)
REFUSAL_KIND = "{kind}は電子交付の対象外です。書面交付をお選びください。"


# --- Problems and the formatting helpers of their messages --------------------------------


class Problem(str):
    """One message of a rule, with the fact it is about.

    `field` is the name of the check's argument whose value is wrong (e.g. "amount",
    "progress_percent"), or None when the problem is the situation as a whole (no advance
    guaranteed yet, half the 工期 not yet elapsed). A Problem is its message — a str equal
    to the text — so whoever only reads messages (pages, JSON, tests) needs nothing else.
    """

    field: str | None

    def __new__(cls, message: str, field: str | None = None):
        problem = super().__new__(cls, message)
        problem.field = field
        return problem


def date_ja(day: datetime.date) -> str:
    """2024-10-01 → "2024年10月1日" (西暦; 和暦 belongs to the documents' own helper)."""
    return f"{day.year}年{day.month}月{day.day}日"


# --- Periods ------------------------------------------------------------------------------


def work_period_days(start: datetime.date, end: datetime.date) -> int:
    """The 工期 in days, counting both the first and the last day (4/1–4/30 is 30 days).

    The minimum 工期 for a 前払金 (DESIGN.md §5.1, local) is compared with this count.
    Raises ValueError when the end is before the start.
    """
    if end < start:
        raise ValueError("work period ends before it starts")
    return (end - start).days + 1


def halfway(start: datetime.date, end: datetime.date) -> datetime.date:
    """The first day on which "工期の2分の1を経過" holds (地方自治法施行規則附則第3条).

    halfway = start + ceil((end − start).days / 2) days: the midpoint of the period, rounded
    to the later day when it falls between two days. Examples: 4/1–4/30 (29 days apart) →
    4/16; 4/1–4/29 (28 days apart) → 4/15. Rounding later never lets a contractor apply
    before half the 工期 has passed; a day early would be refused by the orderer.
    """
    if end < start:
        raise ValueError("work period ends before it starts")
    span = (end - start).days
    return start + datetime.timedelta(days=-(-span // 2))


# --- 前払金 (menu 1, 2) -----------------------------------------------------------------


def round_down_to_100k(amount: int) -> int:
    """Round down to whole 10万円 (10万円未満切捨て; DESIGN.md §5.1)."""
    return amount // ADVANCE_ROUNDING_UNIT * ADVANCE_ROUNDING_UNIT


def advance_ratio(category: str, orderer) -> int:
    """The 前払金 limit in % of the price: 4割 for 工事, 3割 for 設計・調査・測量.

    The ceiling is set by 地方自治法施行令附則第7条 with 同施行規則附則第3条
    (4割 for 土木建築の工事, 3割 for 設計・調査・測量); an orderer may set less
    (local: orderer.advance_ratio_construction / _consulting).
    """
    if category == WorkCategory.CONSTRUCTION:
        return orderer.advance_ratio_construction
    if category == WorkCategory.CONSULTING:
        return orderer.advance_ratio_consulting
    raise ValueError(f"unknown work category: {category!r}")


def max_advance(price: int, category: str, orderer) -> int:
    """The largest 前払金 for a price: price × ratio / 100, rounded down to 10万円.

    DESIGN.md §5.1; ratio from `advance_ratio` (4割 工事 / 3割 設計・調査・測量, local).
    Example: 12,345,000 on 工事 → 4,938,000 → 4,900,000.
    """
    return round_down_to_100k(price * advance_ratio(category, orderer) // 100)


def check_advance(
    *, amount: int, price: int, category: str, period_days: int, orderer
) -> list[Problem]:
    """The 前払金保証 amount and the contract's eligibility for a 前払金 (DESIGN.md §5.1).

    - amount > 0 and amount ≤ max_advance(price) (4割/3割, 10万円切捨て; see `max_advance`);
    - price ≥ orderer.min_advance_contract_amount (local, e.g. 130万円);
    - period_days ≥ orderer.min_advance_period_days (local, e.g. 60日), with period_days from
      `work_period_days` (both ends counted).
    """
    if price <= 0:
        return [Problem(MSG_PRICE_NOT_POSITIVE, "price")]
    errors = []
    if amount <= 0:
        errors.append(Problem(MSG_AMOUNT_NOT_POSITIVE, "amount"))
    limit = max_advance(price, category, orderer)
    if amount > limit:
        ratio = advance_ratio(category, orderer)
        errors.append(Problem(MSG_ADVANCE_OVER_MAX.format(ratio=ratio, max=yen(limit)), "amount"))
    if price < orderer.min_advance_contract_amount:
        minimum = yen(orderer.min_advance_contract_amount)
        errors.append(Problem(MSG_ADVANCE_PRICE_TOO_LOW.format(min=minimum), "price"))
    if period_days < orderer.min_advance_period_days:
        message = MSG_ADVANCE_PERIOD_TOO_SHORT.format(
            min_days=orderer.min_advance_period_days, days=period_days
        )
        errors.append(Problem(message, "period_days"))
    return errors


def check_work_not_ended(*, kind: str, end: datetime.date, today: datetime.date) -> list[Problem]:
    """A 前払金保証 or 中間前払金保証 only while the 工期 runs: end ≥ today.

    Source: the purpose of the two advances (前金払 to start the work, 中間前金払 to carry it
    on; 公共工事標準請負契約約款 第34条) and DESIGN.md §5.4 (their 保証期限 is the 工期's end):
    for a work whose 工期 has ended there is nothing left to pay in advance, and the
    guarantee would expire before it is issued. The last day of the 工期 still counts
    (end = today is accepted). A 契約保証 is not concerned (it is not an advance).
    """
    if end >= today:
        return []
    if kind == GuaranteeKind.ADVANCE:
        return [Problem(MSG_ADVANCE_WORK_ENDED, "end")]
    if kind == GuaranteeKind.INTERMEDIATE:
        return [Problem(MSG_INTERMEDIATE_WORK_ENDED, "end")]
    return []


# --- 中間前払金 (menu 3) ------------------------------------------------------------------


def max_intermediate(price: int) -> int:
    """The largest 中間前払金: 2割 of the price, rounded down to 10万円.

    地方自治法施行規則附則第3条 (2割); rounding as for the 前払金 (DESIGN.md §5.2).
    """
    return round_down_to_100k(price * INTERMEDIATE_RATIO // 100)


def check_intermediate(
    *,
    amount: int,
    advance_amount: int,
    price: int,
    start: datetime.date,
    end: datetime.date,
    today: datetime.date,
    progress_percent: int,
    certified_on: datetime.date | None,
    certification_number: str,
    partial_payment_requested: bool,
    advance_guaranteed: bool,
    orderer,
) -> list[Problem]:
    """The 中間前払金保証 amount and conditions (DESIGN.md §5.2).

    - the orderer has a 中間前金払 scheme at all (local: orderer.intermediate_allowed) —
      when it has none, that is the only message, the others would be noise;
    - 0 < amount ≤ max_intermediate(price) (2割, 10万円切捨て);
    - advance_amount + amount ≤ 6割 of the price, compared exactly in integers
      (100 × (a + i) ≤ 60 × price; 地方自治法施行規則附則第3条);
    - a 前払金保証 already concluded for the work (advance_guaranteed);
    - today ≥ `halfway(start, end)` (工期の2分の1を経過);
    - progress_percent (既済出来高, whole %) ≥ 50 (作業に要する経費が請負代金額の2分の1以上);
    - the orderer's 中間前金払認定: date and number entered, the date not after today;
    - no 部分払 requested where the orderer excludes it (local:
      orderer.intermediate_excludes_partial_payment).
    """
    if not orderer.intermediate_allowed:
        return [Problem(MSG_INTERMEDIATE_NOT_ALLOWED, None)]
    if price <= 0:
        return [Problem(MSG_PRICE_NOT_POSITIVE, "price")]
    errors = []
    if amount <= 0:
        errors.append(Problem(MSG_AMOUNT_NOT_POSITIVE, "amount"))
    limit = max_intermediate(price)
    if amount > limit:
        errors.append(Problem(MSG_INTERMEDIATE_OVER_MAX.format(max=yen(limit)), "amount"))
    total = advance_amount + amount
    if 100 * total > ADVANCE_PLUS_INTERMEDIATE_RATIO * price:
        message = MSG_INTERMEDIATE_TOTAL_OVER.format(
            # The largest whole-yen total that passes the exact comparison.
            max=yen(price * ADVANCE_PLUS_INTERMEDIATE_RATIO // 100),
            advance=yen(advance_amount),
            amount=yen(amount),
            total=yen(total),
        )
        errors.append(Problem(message, "amount"))
    if not advance_guaranteed:
        errors.append(Problem(MSG_INTERMEDIATE_NO_ADVANCE, None))
    if end < start:
        errors.append(Problem(MSG_WORK_PERIOD_ORDER, "end"))
    else:
        first_day = halfway(start, end)
        if today < first_day:
            errors.append(Problem(MSG_INTERMEDIATE_TOO_EARLY.format(date=date_ja(first_day)), None))
    if progress_percent < INTERMEDIATE_MIN_PROGRESS_PERCENT:
        message = MSG_INTERMEDIATE_PROGRESS_LOW.format(progress=progress_percent)
        errors.append(Problem(message, "progress_percent"))
    if certified_on is None or not (certification_number or "").strip():
        errors.append(Problem(MSG_INTERMEDIATE_NO_CERTIFICATION, "certified_on"))
    elif certified_on > today:
        errors.append(Problem(MSG_INTERMEDIATE_CERTIFICATION_FUTURE, "certified_on"))
    if orderer.intermediate_excludes_partial_payment and partial_payment_requested:
        errors.append(Problem(MSG_INTERMEDIATE_PARTIAL_PAYMENT, "partial_payment_requested"))
    return errors


# --- 契約保証 -----------------------------------------------------------------------------


def contract_guarantee_ratio(low_bid: bool, orderer) -> int:
    """The minimum 契約保証 in % of the price.

    10分の1 (公共工事標準請負契約約款 第4条; local: orderer.contract_guarantee_min_ratio);
    10分の3 for contracts that went through 低入札価格調査 (local:
    orderer.contract_guarantee_low_bid_ratio).
    """
    return (
        orderer.contract_guarantee_low_bid_ratio
        if low_bid
        else orderer.contract_guarantee_min_ratio
    )


def min_contract_guarantee(price: int, low_bid: bool, orderer) -> int:
    """The smallest 契約保証 amount: price × ratio / 100, rounded UP to the yen.

    Rounded up because the guarantee must reach the ratio ("以上"): 12,345,678 × 10% =
    1,234,567.8 → 1,234,568 (DESIGN.md §5.3; ratio from `contract_guarantee_ratio`).
    """
    return -(-price * contract_guarantee_ratio(low_bid, orderer) // 100)


def check_contract_guarantee(
    *, amount: int, price: int, low_bid: bool, advance_planned_or_guaranteed: bool, orderer
) -> list[Problem]:
    """The 契約保証 amount (DESIGN.md §5.3).

    - only with a 前払金 planned or guaranteed: a surety company's 契約保証 is a rider on its
      前払金保証 (DESIGN.md §1);
    - min_contract_guarantee(price) ≤ amount ≤ price (10%, 30% after 低入札価格調査; local).
    One 契約保証 per work is a database constraint of the registry, not checked here.
    """
    if price <= 0:
        return [Problem(MSG_PRICE_NOT_POSITIVE, "price")]
    errors = []
    if not advance_planned_or_guaranteed:
        errors.append(Problem(MSG_CONTRACT_NEEDS_ADVANCE, "advance_planned_or_guaranteed"))
    minimum = min_contract_guarantee(price, low_bid, orderer)
    if amount < minimum:
        template = MSG_CONTRACT_UNDER_MIN_LOW_BID if low_bid else MSG_CONTRACT_UNDER_MIN
        ratio = contract_guarantee_ratio(low_bid, orderer)
        errors.append(Problem(template.format(ratio=ratio, min=yen(minimum)), "amount"))
    if amount > price:
        errors.append(Problem(MSG_CONTRACT_OVER_PRICE.format(price=yen(price)), "amount"))
    return errors


# --- 電子交付 and 保証期限 ------------------------------------------------------------------


def electronic_delivery_refusal(
    *, orderer, contract_date: datetime.date, contract_method: str, kind: str
) -> str | None:
    """Why 電子交付 is impossible, or None when it is possible (DESIGN.md §5.5).

    The first reason that applies, most fundamental first:
    1. the kind is not one of 前払金保証 / 契約保証 / 中間前払金保証 (契約保証予約 never is);
    2. the orderer is not electronic (local: orderer.electronic_since is None);
    3. the contract was concluded before the orderer's start date (local; 津久見市:
       契約日 ≥ 2024-10-01);
    4. the contract method is excluded by the orderer (local:
       orderer.excluded_contract_methods, e.g. 随意契約).
    書面交付 always remains possible, so every reason says so.
    """
    if kind not in GuaranteeKind.values:
        return REFUSAL_KIND.format(kind=_KIND_LABELS.get(kind, kind))
    if orderer.electronic_since is None:
        return REFUSAL_NOT_ELECTRONIC
    if contract_date < orderer.electronic_since:
        return REFUSAL_BEFORE_START.format(date=date_ja(orderer.electronic_since))
    if contract_method in orderer.excluded_contract_methods:
        labels = dict(ContractMethod.choices)
        return REFUSAL_METHOD_EXCLUDED.format(method=labels.get(contract_method, contract_method))
    return None


def guarantee_end(kind: str, work_end: datetime.date) -> datetime.date:
    """保証期限: the 工期's end for 前払金, 中間前払金 and 契約保証 alike (DESIGN.md §5.4).

    The 前払金 is guaranteed until the work is done; the 契約保証 covers the 工期. A 工期延長
    is a 保証期限変更 (menu 5) that calls this again with the new end.
    """
    if kind not in GuaranteeKind.values:
        raise ValueError(f"unknown guarantee kind: {kind!r}")
    return work_end


# --- Changes after conclusion (menu 5) ----------------------------------------------------


def check_price_change(
    *,
    new_price: int,
    original_price: int,
    category: str,
    advance_amount: int | None,
    contract_amount: int | None,
    low_bid: bool,
    orderer,
) -> list[Problem]:
    """A change of the 請負代金額 after conclusion (DESIGN.md §5.4, menu 5).

    advance_amount / contract_amount are the amounts guaranteed after the change (0 or None:
    no such guarantee for the work, nothing to check).

    - 前払金: advance_amount ≤ max_advance(new_price). A 減額 of the price that brings the
      new maximum below the 前払金 already guaranteed (and paid out) is refused: the advance
      has to be repaid and its guarantee reduced first, which is the orderer's decision.
    - 契約保証: contract_amount ≥ min_contract_guarantee(new_price) and ≤ new_price
      (公共工事標準請負契約約款 第4条: the guarantee follows the changed price).
    - (local) orderer.price_increase_threshold_percent, e.g. 125: when
      100 × new_price ≥ threshold × original_price, the 契約保証 must be increased — it must
      be ≥ min_contract_guarantee(new_price) AND strictly above the original requirement
      min_contract_guarantee(original_price). We keep this simple: the first condition
      already applies to every change, so in practice the threshold changes which message
      the contractor reads (an explicit "increase required because the price rose to ≥ 1.25×"
      instead of the ordinary minimum), and the second guards tiny prices where rounding
      could leave the two minimums equal. Only one message is given for the 契約保証 minimum.
    """
    if new_price <= 0 or original_price <= 0:
        return [Problem(MSG_PRICE_NOT_POSITIVE, "new_price")]
    errors = []
    if advance_amount:
        limit = max_advance(new_price, category, orderer)
        if advance_amount > limit:
            message = MSG_CHANGE_ADVANCE_OVER_NEW_MAX.format(
                price=yen(new_price), max=yen(limit), advance=yen(advance_amount)
            )
            errors.append(Problem(message, "advance_amount"))
    if contract_amount:
        new_min = min_contract_guarantee(new_price, low_bid, orderer)
        threshold = orderer.price_increase_threshold_percent
        if threshold is not None and 100 * new_price >= threshold * original_price:
            original_min = min_contract_guarantee(original_price, low_bid, orderer)
            required = max(new_min, original_min + 1)
            if contract_amount < required:
                message = MSG_CHANGE_CONTRACT_INCREASE_REQUIRED.format(
                    original=yen(original_price),
                    threshold=threshold,
                    required=yen(required),
                    amount=yen(contract_amount),
                )
                errors.append(Problem(message, "contract_amount"))
        elif contract_amount < new_min:
            message = MSG_CHANGE_CONTRACT_UNDER_MIN.format(
                price=yen(new_price),
                ratio=contract_guarantee_ratio(low_bid, orderer),
                min=yen(new_min),
                amount=yen(contract_amount),
            )
            errors.append(Problem(message, "contract_amount"))
        if contract_amount > new_price:
            message = MSG_CONTRACT_OVER_PRICE.format(price=yen(new_price))
            errors.append(Problem(message, "contract_amount"))
    return errors


def check_new_work_end(
    *, new_end: datetime.date, start: datetime.date, today: datetime.date
) -> list[Problem]:
    """The new 工期 end of a 保証期限変更 (工期の延長・短縮; DESIGN.md §4 menu 5, §5.4).

    - new_end ≥ start: a 工期 cannot end before it begins (as at application);
    - new_end ≥ today: the new end becomes the 保証期限 (`guarantee_end`), and a change
      cannot issue a certificate that has already expired; the last day still counts
      (new_end = today is accepted).
    One message per mistake: a new end before the start is reported as such even when it is
    also past.
    """
    if new_end < start:
        return [Problem(MSG_NEW_END_BEFORE_START.format(date=date_ja(start)), "new_end")]
    if new_end < today:
        return [Problem(MSG_NEW_END_PAST.format(date=date_ja(today)), "new_end")]
    return []


def check_change_contract_date(
    *, changed_on: datetime.date, contract_date: datetime.date, today: datetime.date
) -> list[Problem]:
    """The 変更契約日 of an 増額, 減額 or 保証期限変更 (DESIGN.md §4 menu 5).

    Source: the 変更契約 amends the 工事請負契約 (its price or its 工期), so it is concluded
    on or after the original 契約日 (changed_on ≥ contract_date); and the guarantee follows
    a 変更契約 already concluded, never one to come (changed_on ≤ today). Both ends are
    inclusive: a change concluded on the 契約日 itself, or today, is accepted.
    """
    errors = []
    if changed_on < contract_date:
        message = MSG_CHANGE_DATE_BEFORE_CONTRACT.format(date=date_ja(contract_date))
        errors.append(Problem(message, "changed_on"))
    if changed_on > today:
        errors.append(Problem(MSG_CHANGE_DATE_FUTURE, "changed_on"))
    return errors
