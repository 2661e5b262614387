"""The registry's rules about the end of a guarantee and the refund after a 減額 (decision
0026), and about when a conclusion's after-commit documents are due (decision 0052): pure
functions on plain values and the messages the tests import.

完成 (completion) is the day the work was accepted as complete — its 完成検査 passed and it
was handed over (引渡し, 公共工事標準請負契約約款 第32条 検査及び引渡し). The 前払金保証
covers the repayment of the advance should the contract be terminated before the work is done
(公共工事の前払金保証事業に関する法律 第2条): once the work is accepted it has nothing left to
cover; the 契約保証 ends with the contract's performance. So:
- it is recorded once, on a live guarantee: not cancelled (a 解約 already ended it) and not
  already completed;
- the day is not in the future (the inspection has happened) and not before the contract
  was concluded or the 工期 began (no work is accepted before it exists).
"""

import datetime

from django.utils import timezone

from esure.wareki import to_wareki

MSG_COMPLETION_FUTURE = "完成日に未来の日付は入力できません。"
MSG_COMPLETION_BEFORE_START = "完成日は契約日・工期の始まり（{start}）より前の日にはできません。"
MSG_COMPLETION_CANCELLED = "解約された保証には完成を記録できません。"
MSG_ALREADY_COMPLETED = "この保証はすでに完成（{day}）が記録されています。"


def completion_problem(*, completed_on, today, earliest, cancelled, already_completed_on):
    """The one reason a 完成 on `completed_on` cannot be recorded, or None.

    `earliest`: the later of the 契約日 and the 工期's first day (None when neither is known);
    `already_completed_on`: the 完成日 recorded before, if any. Dates in messages are 和暦.
    """
    if cancelled:
        return MSG_COMPLETION_CANCELLED
    if already_completed_on is not None:
        return MSG_ALREADY_COMPLETED.format(day=to_wareki(already_completed_on))
    if completed_on > today:
        return MSG_COMPLETION_FUTURE
    if earliest is not None and completed_on < earliest:
        return MSG_COMPLETION_BEFORE_START.format(start=to_wareki(earliest))
    return None


# --- 前払金の返還 after a 減額 ----------------------------------------------------------------
#
# 公共工事標準請負契約約款 第34条 (前金払及び中間前金払): when the 請負代金額 is reduced and the
# advance already received exceeds 5/10 of the reduced price (6/10 where a 中間前払金 was also
# paid), the contractor returns the excess within 30 days of the reduction. The municipal
# advance rules say the same from the other side (地方自治法施行規則 附則第3条: after a
# reduction the advance may stay up to 5/10 of the revised price, not above what was paid).
# The tenths and the days are settings (ESURE_REFUND_RATE_TENTHS, _INTERMEDIATE,
# ESURE_REFUND_DUE_DAYS): an orderer's contract may differ.

MSG_RETURN_FUTURE = "返還日に未来の日付は入力できません。"
MSG_RETURN_BEFORE_REDUCTION = "返還日は減額の日（{day}）より前の日にはできません。"
MSG_ALREADY_RETURNED = "この返還はすでに記録されています（{day}）。"


def refund_excess(*, received, new_price, rate_tenths):
    """The excess to return (超過額), in whole yen: received − new_price × rate_tenths / 10,
    0 when not positive. Computed in tenths of a yen and rounded down at the end — a
    fraction of a yen is never owed (as 国等の債権債務等の金額の端数計算に関する法律 第2条
    drops it), so exactly 5/10 returns nothing and one yen above it returns 1 yen."""
    excess_tenths = 10 * received - rate_tenths * new_price
    return max(0, excess_tenths // 10)


def refund_due_on(reduced_on, days):
    """The last day to return it: `days` days after the reduction (its 変更契約日). The first
    day is not counted (民法 第140条), so 30 days after 2026-11-30 is 2026-12-30."""
    return reduced_on + datetime.timedelta(days=days)


def return_problem(*, returned_on, today, reduced_on, already_returned_on):
    """The one reason a return on `returned_on` cannot be recorded, or None: once, not in the
    future, not before the reduction."""
    if already_returned_on is not None:
        return MSG_ALREADY_RETURNED.format(day=to_wareki(already_returned_on))
    if returned_on > today:
        return MSG_RETURN_FUTURE
    if returned_on < reduced_on:
        return MSG_RETURN_BEFORE_REDUCTION.format(day=to_wareki(reduced_on))
    return None


# --- When a conclusion's お客様控え and 保証料計算書 are produced (decision 0052) ----------------


def documents_due(issued_at, deferred_from):
    """When the worker is to produce the after-commit documents of a version issued at
    `issued_at` (aware): None (at once) when `deferred_from` (a local datetime.time, the
    setting ESURE_DEFERRED_DOCUMENTS_FROM) is None or the version was issued at or after that
    time of its local day; otherwise that time of its day."""
    if deferred_from is None:
        return None
    local = timezone.localtime(issued_at)
    due = local.replace(
        hour=deferred_from.hour, minute=deferred_from.minute, second=0, microsecond=0
    )
    return due if local < due else None


def sweep_before(now, deferred_from, grace):
    """The sweep's bound (manage.py produce_missing_documents): a version issued before it
    whose documents are still missing is overdue (they were due more than `grace` ago, the
    worker's usual delay); one issued at or after it is left to its task. A version issued on
    the local day of `now - grace`, before `deferred_from`, is due at that time of the day:
    until then the bound stops at that day's midnight."""
    bound = timezone.localtime(now - grace)
    if documents_due(bound, deferred_from) is None:
        return bound
    return bound.replace(hour=0, minute=0, second=0, microsecond=0)
