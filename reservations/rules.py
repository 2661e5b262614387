"""The rules of a 契約保証予約 (decision 0034). Pure functions on plain values; the 契約保証
rules themselves (10% of the price, at most the price, only where a 前払金 is planned) are
applications.rules' and are called, never restated.

Sources:
- 契約保証予約 is a rider of the 前払金保証: only for works where a 前払金 is planned (the
  surety companies' own descriptions, e.g. 西日本建設業保証「契約保証予約（入札ボンド）」, and
  DESIGN.md §1); its 保証金額 follows the 契約保証 it reserves (applications.rules
  check_contract_guarantee, 公共工事標準請負契約約款 第4条). Before the bid the 低入札価格調査
  is unknown: the reservation is checked at the normal ratio; the application it becomes is
  checked again with the real contract.
- The validity (有効期限) is a figure of the surety, not of a law or of the seed flyer: none of
  the incumbents' pages we read publishes one. esure's default is settings
  ESURE_RESERVATION_VALID_DAYS (90) days after the 入札日 — long enough for the award, the
  contract within 7 days of it (the usual 契約規則) and, for a contract that needs the
  assembly's vote (地方自治法第96条第1項第5号), the next quarterly session. Staff may set
  another date when they approve.
- The 予約手数料 is entered by staff: the seed gives no fee table for reservations
  (applications.fees has tables per guarantee kind only).
"""

import datetime

from applications import rules as application_rules
from applications.rules import Problem, date_ja

MSG_REQUIRED = "入力してください。"
MSG_BID_DATE_PAST = "入札日に過去の日付は指定できません（本日: {today}）。"
MSG_VALID_UNTIL_BEFORE_BID = "有効期限は入札日（{bid_date}）以降の日付としてください。"
MSG_NOT_APPROVED = "この契約保証予約は承認されていないため、使用できません。"
MSG_USED = (
    "この契約保証予約はすでに使用済です（申込番号 {application}）。同じ予約は二度使えません。"
)
MSG_LAPSED = "この契約保証予約は有効期限（{date}）を過ぎたため、使用できません。"

REQUIRED = ["orderer", "work_name", "bid_date", "estimated_price", "amount"]

# applications.rules.check_contract_guarantee names its arguments; the reservation's fields.
FIELD_OF = {
    "amount": "amount",
    "price": "estimated_price",
    "advance_planned_or_guaranteed": "advance_planned",
}


def default_valid_until(bid_date: datetime.date, days: int) -> datetime.date:
    """The last day a reservation may be used: the 入札日 + `days` (ESURE_RESERVATION_VALID_DAYS).
    Example: 入札日 2026-01-15, 90 days → 2026-04-15 (usable on that day, 期限切れ after)."""
    return bid_date + datetime.timedelta(days=days)


def is_usable_on(valid_until: datetime.date, day: datetime.date) -> bool:
    """Usable through its last day: valid_until itself is the last day it may be used."""
    return day <= valid_until


def reservation_problems(*, values: dict, orderer, today: datetime.date) -> list[Problem]:
    """What stops a reservation from being submitted or approved, each naming its field.

    `values` holds the reservation's fields (REQUIRED, advance_planned); `orderer` the
    orderer (for its 契約保証 ratio, local). The bid must still be ahead (today is allowed).
    """
    problems = [Problem(MSG_REQUIRED, name) for name in REQUIRED if not values.get(name)]
    if values.get("bid_date") and values["bid_date"] < today:
        problems.append(Problem(MSG_BID_DATE_PAST.format(today=date_ja(today)), "bid_date"))
    if values.get("amount") and values.get("estimated_price") and orderer is not None:
        for problem in application_rules.check_contract_guarantee(
            amount=values["amount"],
            price=values["estimated_price"],
            low_bid=False,
            advance_planned_or_guaranteed=bool(values.get("advance_planned")),
            orderer=orderer,
        ):
            problems.append(Problem(str(problem), FIELD_OF.get(problem.field, "amount")))
    return problems


def valid_until_problem(*, valid_until: datetime.date, bid_date: datetime.date) -> str | None:
    """Staff's last day must not come before the bid."""
    if valid_until < bid_date:
        return MSG_VALID_UNTIL_BEFORE_BID.format(bid_date=date_ja(bid_date))
    return None
