"""What an orderer may claim from the surety after 契約解除 (保証金の請求), and by when.

Pure functions on whole yen (`int`) and dates; nothing here touches the database. Each
computation returns the amount with its working (式), the lines the claim page prints, so the
orderer, the contractor and staff read the same figures the service stored.

Sources:
- 前払金保証: 公共工事の前払金保証事業に関する法律 第2条第5項 — the surety guarantees, when the
  orderer terminates the contract for the contractor's default, the payment of the 前払金
  less the value of the completed part of the work (既済部分に対する代価). What the orderer
  already paid beyond the advance as 出来形払 (部分払) paid for that completed part too, so
  the part the advance still has to cover is 既済代価 − 出来形払 and the claim is
  前払金 − (既済代価 − 出来形払) = 前払金 + 出来形払 − 既済代価, never more than the 前払金 (the
  advance is what is guaranteed: a 部分払 above the 既済代価 is not) and never below 0 (the
  保証約款's 保証金の額: 前払金額から既済部分に対する代価に相当する額を控除した額).
- 契約保証: 公共工事標準請負契約約款 第4条 and the 違約金 of its 第55条 — the surety pays the
  違約金 the orderer claims, at most the 保証金額.
- Due date: 公共工事の前払金保証事業に関する法律 第13条 — the surety pays within 30 days of
  receiving the claim (`settings.ESURE_CLAIM_DUE_DAYS`).
"""

import dataclasses
import datetime

from esure.wareki import to_wareki, yen

MSG_NOTHING_TO_CLAIM = "この内容では請求できる金額が0円です（{working}）。入力を確かめてください。"
MSG_ADVANCE_OVER_GUARANTEE = "前払金の額が保証金額 {amount} を超えています。"
MSG_TERMINATED_IN_FUTURE = "契約解除の日に未来の日付は入力できません。"
MSG_TERMINATED_BEFORE_GUARANTEE = "契約解除の日が保証期間の始まり（{starts_on}）より前です。"
MSG_TERMINATED_AFTER_GUARANTEE = "契約解除の日が保証期限（{ends_on}）を過ぎています。"


@dataclasses.dataclass(frozen=True)
class Computation:
    """A claimable amount and the lines of its working, as the claim page prints them."""

    amount: int
    working: tuple[str, ...]


def advance_claimable(*, advance: int, progress_paid: int, completed_value: int) -> Computation:
    """前払金保証: min(前払金, 前払金 + 出来形払 − 既済代価), at least 0 (法第2条第5項)."""
    remaining = advance + progress_paid - completed_value
    amount = max(0, min(advance, remaining))
    working = [
        f"前払金 {yen(advance)} ＋ 出来形払 {yen(progress_paid)} − 既済部分の代価 "
        f"{yen(completed_value)} ＝ {'−' + yen(-remaining) if remaining < 0 else yen(remaining)}",
    ]
    if remaining > advance:
        working.append(f"前払金の額 {yen(advance)} を超えるため、前払金の額までとなります。")
    elif remaining < 0:
        working.append("0円未満のため、0円となります。")
    working.append(f"請求できる額 {yen(amount)}")
    return Computation(amount=amount, working=tuple(working))


def contract_claimable(*, penalty: int, guaranteed_amount: int) -> Computation:
    """契約保証: min(請求する違約金, 保証金額) (標準請負契約約款 第4条・第55条)."""
    amount = min(penalty, guaranteed_amount)
    working = [f"請求する違約金 {yen(penalty)}、保証金額 {yen(guaranteed_amount)}"]
    if penalty > guaranteed_amount:
        working.append(f"保証金額 {yen(guaranteed_amount)} を超えるため、保証金額までとなります。")
    working.append(f"請求できる額 {yen(amount)}")
    return Computation(amount=amount, working=tuple(working))


def due_on(received_on: datetime.date, days: int) -> datetime.date:
    """The day the surety must have paid by: `days` (30, 法第13条) after the claim arrived."""
    return received_on + datetime.timedelta(days=days)


def check_termination_date(
    terminated_on: datetime.date,
    *,
    today: datetime.date,
    starts_on: datetime.date,
    ends_on: datetime.date,
) -> list[str]:
    """The contract was terminated in the past, within the guarantee's period (保証期間: the
    surety answers for a default of that period, no other)."""
    if terminated_on > today:
        return [MSG_TERMINATED_IN_FUTURE]
    if terminated_on < starts_on:
        return [MSG_TERMINATED_BEFORE_GUARANTEE.format(starts_on=to_wareki(starts_on))]
    if terminated_on > ends_on:
        return [MSG_TERMINATED_AFTER_GUARANTEE.format(ends_on=to_wareki(ends_on))]
    return []
