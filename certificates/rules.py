"""The registry's rules about the end of a guarantee (decision 0026): pure functions on plain
values and the messages the tests import.

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
