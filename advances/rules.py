"""The rules of the use of an advance (issue #17, decision 0014): pure integer functions and
the messages the tests import. Plan and withdrawal checks are each one function, used by
the live check as the clerk types, by submission and by the surety's or bank's decision.

The sources:
1. Allowed uses per kind of work: the standard contracts' 前払金の使用等 clauses (工事:
   公共工事標準請負契約約款 第37条) — data, advances.seed; nothing else may be planned.
2. 現場管理費・一般管理費等 ≤ 25% of the 前払金 (OVERHEAD_PERCENT): 国土交通省, permanent for
   national works since 2025-04-02, adopted by each local government on its own date —
   only where the contract has the clause, never from a 中間前払金 unless the orderer allows.
3. A plan's lines add up to the 前払金 (and, separately, the 中間前払金), never more.
4. A 「未定」 line is paid only after a 使途変更 naming its payee is accepted.
5. The plan is accepted by the surety before the first withdrawal.
6. A withdrawal pays fixed plan lines, to their payees, never beyond a line's amount;
   interest may be withdrawn without a line and is not counted against the plan.
7. Evidence per use (setting: data, advances.seed).
8. Cash withdrawals: none by default; a surety setting allows them up to an amount per
   withdrawal (ESURE_ADVANCE_CASH_LIMIT), each approved by staff.
9. Monitoring: more than ESURE_ADVANCE_MONITOR_PERCENT (20) % of the 前払金 still held
   ESURE_ADVANCE_MONITOR_DAYS (90) days after it was paid in — a surety survey found about
   20% unspent after three months.
"""

from collections import defaultdict
from decimal import Decimal

from advances.models import Funding
from esure.wareki import yen  # amounts inside messages: 12,345,000円

OVERHEAD_PERCENT = 25
OVERHEAD_DESCRIPTION = "一式"
OVERHEAD_METHOD = "立替払済のため自社口座に振替"
UNDECIDED_PAYEE = "未定"

MSG_CATEGORY_NOT_ALLOWED = "「{category}」は{kind}の前払金の使途に含まれません。"
MSG_OVERHEAD_NO_CLAUSE = (
    "この契約には現場管理費・一般管理費等を前払金の使途に含める特約がないため、計上できません。"
)
MSG_OVERHEAD_FROM_INTERMEDIATE = "現場管理費・一般管理費等に中間前払金は充当できません。"
MSG_OVERHEAD_ONE_LINE = "現場管理費・一般管理費等は{funding}から1行（一式）で計上してください。"
MSG_OVERHEAD_LIMIT = (
    "現場管理費・一般管理費等は{funding}額の25%（{limit}）までです（{total}を計上）。"
)
MSG_NO_INTERMEDIATE = "中間前払金の保証がないため、中間前払金の明細は計上できません。"
MSG_TOTAL_OVER = "{funding}の明細の合計 {total} が{funding}額 {amount} を超えています。"
MSG_TOTAL_SHORT = (
    "{funding}の明細の合計 {total} が{funding}額 {amount} に {short} 足りません。"
    "全額の使途を計上してください。"
)
MSG_NO_LINES = "明細を1行以上入力してください。"
MSG_AMOUNT_REQUIRED = "金額を入力してください。"
MSG_PAYEE_REQUIRED = (
    "支払先と振込先口座（金融機関・支店・口座番号・名義）を入力するか、"
    "「支払先未定」にしてください。"
)
MSG_BELOW_COMMITTED = (
    "この明細からはすでに {committed} を払出済・依頼中です。それ未満にはできません。"
)
MSG_REMOVED_COMMITTED = "明細{key}からはすでに払出済・依頼中の金額があるため、削除できません。"

MSG_NO_PLAN = "保証会社が前払金使途内訳明細書を承認するまで、払出依頼はできません。"
MSG_RELEASED = (
    "この前払金専用口座は工事の完成により指定解除されたため、払出依頼はできません。"
)
MSG_NO_WITHDRAWAL_LINES = "払い出す明細を1行以上入力してください。"
MSG_LINE_NOT_IN_PLAN = "適用中の明細書にない明細です。明細を選び直してください。"
MSG_UNDECIDED = "支払先が「未定」の明細は、支払先を定めた使途変更が承認されるまで払い出せません。"
MSG_LINE_EXCEEDED = "明細{key}の残額 {remaining} を超えています（{amount}を依頼）。"
MSG_INTEREST_EXCEEDED = "払い出せる利息 {available} を超えています（{amount}を依頼）。"
MSG_BALANCE = "口座の払出可能残高 {available} を超えています（{amount}を依頼）。"
MSG_EVIDENCE_MISSING = "明細{key}（{category}）には証憑「{kinds}」の添付が必要です。"
MSG_CASH_NOT_ALLOWED = "現金での払出は認められていません。振込でご依頼ください。"
MSG_CASH_LIMIT = "現金での払出は1回 {limit} までです（{amount}を依頼）。"

ALL = "__all__"


def overhead_limit(advance):
    """現場管理費・一般管理費等 may take at most 25% of the 前払金 (rounded down to the yen):
    国土交通省's rule for national works, permanent since 2025-04-02 (rule 2)."""
    return advance * OVERHEAD_PERCENT // 100


class Problems:
    """Messages per plan/withdrawal line (by index) and field, and for the whole (__all__)."""

    def __init__(self):
        self.general = []
        self.lines = defaultdict(lambda: defaultdict(list))

    def add(self, message, index=None, field=ALL):
        if index is None:
            self.general.append(message)
        else:
            self.lines[index][field].append(message)

    def __bool__(self):
        return bool(self.general or self.lines)

    def messages(self):
        """Every message, the general ones first (for a flat list or an error)."""
        return self.general + [
            m for index in sorted(self.lines) for ms in self.lines[index].values() for m in ms
        ]

    def as_dict(self):
        return {
            ALL: list(self.general),
            "lines": {
                str(i): {field: list(ms) for field, ms in fields.items()}
                for i, fields in self.lines.items()
            },
        }


def _has_payee(line):
    return all(
        (
            line.payee_name,
            line.payee_bank,
            line.payee_branch,
            line.payee_account_number,
            line.payee_holder,
        )
    )


def plan_problems(
    *,
    lines,
    amounts,
    work_kind_label,
    work_kind,
    overhead_clause,
    overhead_from_intermediate,
    committed=None,
    complete=False,
):
    """Every rule of a plan (rules 1–4), for the lines as typed.

    `lines`: PlanLine-like objects (saved or not) with key, category (a UseCategory or
    None), funding, undecided, payee_*, amount (int or None). `amounts`: {Funding: yen} of
    the guarantees (0 where there is none). `committed`: {key: yen already withdrawn or
    requested from that line} for a 使途変更. `complete`: at submission and acceptance the
    totals must equal the advances; while typing only "never more" applies.
    """
    problems = Problems()
    committed = committed or {}
    totals = defaultdict(int)
    overhead = defaultdict(list)
    if complete and not lines:
        problems.add(MSG_NO_LINES)
    for index, line in enumerate(lines):
        category = line.category
        if line.amount is None or line.amount <= 0:
            problems.add(MSG_AMOUNT_REQUIRED, index, "amount")
        else:
            totals[line.funding] += line.amount
        if category is None:
            continue
        if not category.active or work_kind not in category.work_kinds:
            message = MSG_CATEGORY_NOT_ALLOWED.format(category=category, kind=work_kind_label)
            problems.add(message, index, "category")
        if line.funding == Funding.INTERMEDIATE and not amounts.get(Funding.INTERMEDIATE):
            problems.add(MSG_NO_INTERMEDIATE, index, "funding")
        if category.is_overhead:
            overhead[line.funding].append((index, line.amount or 0))
            if not overhead_clause:
                problems.add(MSG_OVERHEAD_NO_CLAUSE, index, "category")
            elif line.funding == Funding.INTERMEDIATE and not overhead_from_intermediate:
                problems.add(MSG_OVERHEAD_FROM_INTERMEDIATE, index, "funding")
        elif not category.paid_to_own_account and not line.undecided and not _has_payee(line):
            problems.add(MSG_PAYEE_REQUIRED, index, "payee_name")
        already = committed.get(line.key, 0)
        if line.amount is not None and line.amount < already:
            problems.add(MSG_BELOW_COMMITTED.format(committed=yen(already)), index, "amount")
    for funding, entries in overhead.items():
        label = Funding(funding).label
        if len(entries) > 1:
            problems.add(MSG_OVERHEAD_ONE_LINE.format(funding=label), entries[1][0], "category")
        total = sum(amount for _, amount in entries)
        limit = overhead_limit(amounts.get(funding, 0))
        if total > limit:
            message = MSG_OVERHEAD_LIMIT.format(funding=label, limit=yen(limit), total=yen(total))
            problems.add(message, entries[0][0], "amount")
    for funding in Funding:
        total, amount = totals[funding], amounts.get(funding, 0)
        if total > amount:
            problems.add(
                MSG_TOTAL_OVER.format(funding=funding.label, total=yen(total), amount=yen(amount))
            )
        elif complete and total < amount:
            problems.add(
                MSG_TOTAL_SHORT.format(
                    funding=funding.label,
                    total=yen(total),
                    amount=yen(amount),
                    short=yen(amount - total),
                )
            )
    kept = {line.key for line in lines}
    for key, already in sorted(committed.items()):
        if already and key not in kept:
            problems.add(MSG_REMOVED_COMMITTED.format(key=key))
    return problems


def withdrawal_problems(
    *,
    plan_in_force,
    lines,
    committed,
    interest_available,
    available_balance,
    evidence_kinds,
    cash,
    cash_limit,
    released=False,
):
    """Every rule of a withdrawal (rules 5–8) before it goes to the bank.

    `released`: the account's designation was released (指定解除 on 完成, decision 0026): no
    withdrawal passes any more, whatever else holds.

    `plan_in_force`: the accepted UsePlan or None. `lines`: WithdrawalLine-like objects with
    plan_line (a PlanLine or None for interest) and amount. `committed`: {plan line key: yen
    already withdrawn or requested by other withdrawals}. `interest_available`: interest
    received minus interest withdrawn or requested elsewhere. `available_balance`: the
    account's balance minus what other withdrawals have requested. `evidence_kinds`:
    {line index: set of EvidenceKind pks attached}. `cash_limit`: yen per withdrawal, 0 =
    no cash withdrawals.
    """
    problems = Problems()
    if released:
        problems.add(MSG_RELEASED)
        return problems
    if plan_in_force is None:
        problems.add(MSG_NO_PLAN)
        return problems
    if not lines:
        problems.add(MSG_NO_WITHDRAWAL_LINES)
    in_force = {line.pk for line in plan_in_force.lines.all()}
    asked = defaultdict(int)
    interest = 0
    total = 0
    for index, line in enumerate(lines):
        total += line.amount
        plan_line = line.plan_line
        if plan_line is None:
            interest += line.amount
            continue
        if plan_line.pk not in in_force:
            problems.add(MSG_LINE_NOT_IN_PLAN, index, "plan_line")
            continue
        if plan_line.undecided:
            problems.add(MSG_UNDECIDED, index, "plan_line")
        asked[plan_line.key] += line.amount
        remaining = plan_line.amount - committed.get(plan_line.key, 0)
        if asked[plan_line.key] > remaining:
            message = MSG_LINE_EXCEEDED.format(
                key=plan_line.key, remaining=yen(remaining), amount=yen(asked[plan_line.key])
            )
            problems.add(message, index, "amount")
        required = {kind.pk: kind.name for kind in plan_line.category.evidence_kinds.all()}
        missing = [name for pk, name in required.items() if pk not in evidence_kinds.get(index, ())]
        if missing:
            message = MSG_EVIDENCE_MISSING.format(
                key=plan_line.key, category=plan_line.category, kinds="」「".join(missing)
            )
            problems.add(message, index, "evidence")
    if interest > interest_available:
        problems.add(
            MSG_INTEREST_EXCEEDED.format(available=yen(interest_available), amount=yen(interest))
        )
    if total > available_balance:
        problems.add(MSG_BALANCE.format(available=yen(available_balance), amount=yen(total)))
    if cash:
        if cash_limit <= 0:
            problems.add(MSG_CASH_NOT_ALLOWED)
        elif total > cash_limit:
            problems.add(MSG_CASH_LIMIT.format(limit=yen(cash_limit), amount=yen(total)))
    return problems


def is_flagged(*, paid_in_on, today, advance, held, days, percent):
    """Rule 9: `days` or more days after the 前払金 was paid in, the account still holds
    more than `percent` % of it (held × 100 > advance × percent, in integers)."""
    if paid_in_on is None or advance <= 0:
        return False
    return (today - paid_in_on).days >= days and held * 100 > advance * percent


# --- 共同企業体: a 前払金 deposited split by 出資比率 (decision 0035) ---------------------------

MSG_JV_MEMBER_REQUIRED = (
    "この共同企業体は前払金を構成員ごとに出資比率で分割して預託します。口座の名義となる構成員を"
    "選んでください。"
)
MSG_JV_MEMBER_NOT_SPLIT = "この工事の前払金は1つの口座に預託します。構成員は選べません。"
MSG_JV_MEMBER_TAKEN = "この構成員の前払金専用口座はすでに登録されています。"


def split_by_shares(amount: int, shares) -> dict:
    """Each member's part of `amount` when a JV deposits its advance split by 出資比率
    (decision 0035): floor(amount × share / 100) yen each, the share in tenths of a percent
    as the JV records it ("60.0" → 600, integer arithmetic); the yen the floors leave over go
    to the representative (代表者), so the parts add up to exactly `amount`.

    `shares`: [(key, share as Decimal or str, is_representative)], adding up to 100.0 with
    one representative. Example: 1,000,001円 at 33.4 (代表者) / 33.3 / 33.3 →
    334,001 / 333,000 / 333,000.
    """
    tenths = {key: int(Decimal(str(share)) * 10) for key, share, _ in shares}
    representatives = [key for key, _, is_rep in shares if is_rep]
    if sum(tenths.values()) != 1000 or len(representatives) != 1:
        raise ValueError("the shares must add up to 100.0 with one representative")
    parts = {key: amount * t // 1000 for key, t in tenths.items()}
    parts[representatives[0]] += amount - sum(parts.values())
    return parts
