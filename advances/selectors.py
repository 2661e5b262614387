"""Reads of the money flow: the guarantee's terms, the account's position (every balance
computed from the rows), the monitoring list, and the access helpers — one per guarded
object and kind of user; another party's object is a 404, like a missing one."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from accounts.models import JointVenture
from advances import rules
from advances.models import (
    AdvanceAccount,
    Deposit,
    Evidence,
    Funding,
    UsePlan,
    Withdrawal,
    WithdrawalLine,
    WorkKind,
)
from certificates import selectors as registry
from certificates.models import Guarantee
from esure.choices import GuaranteeKind, WorkCategory

W = Withdrawal.Status
# Money a withdrawal holds: paid out (executed) or asked for and not yet refused.
RESERVED = (W.CASH_REVIEW, W.SUBMITTED, W.CONFIRMED)
COMMITTED = (*RESERVED, W.EXECUTED)


# --- The guarantee's terms (read through the registry) -------------------------------------


@dataclass(frozen=True)
class AdvanceTerms:
    """What the registry says today about a work's advances: the current amounts of its
    前払金保証 and 中間前払金保証 (0 where there is none, or it was cancelled)."""

    advance: Guarantee | None
    intermediate: Guarantee | None
    advance_amount: int = 0
    intermediate_amount: int = 0

    @property
    def amounts(self):
        return {
            Funding.ADVANCE: self.advance_amount,
            Funding.INTERMEDIATE: self.intermediate_amount,
        }


def advance_terms(work):
    """The current 前払金 and 中間前払金 of a work, from each guarantee's latest certificate
    version (certificates.selectors.with_current): nothing is copied here, so a 増額 or
    減額 (a new version) changes the plan's target at once."""
    found = {}
    guarantees = registry.with_current(
        Guarantee.objects.filter(
            work=work,
            kind__in=[GuaranteeKind.ADVANCE, GuaranteeKind.INTERMEDIATE],
            cancelled_at=None,
        )
    )
    for guarantee in guarantees:
        found[guarantee.kind] = guarantee
    advance = found.get(GuaranteeKind.ADVANCE)
    intermediate = found.get(GuaranteeKind.INTERMEDIATE)
    return AdvanceTerms(
        advance=advance,
        intermediate=intermediate,
        advance_amount=advance.current_amount if advance else 0,
        intermediate_amount=intermediate.current_amount if intermediate else 0,
    )


def split_members(work):
    """The JV members of a work whose JV deposits its advance split by 出資比率 (decision
    0035), representative first; [] when the advance goes into one account."""
    jv = work.joint_venture
    if jv is None or jv.advance_deposit != JointVenture.AdvanceDeposit.SPLIT:
        return []
    return list(jv.members.select_related("company").order_by("position", "pk"))


def split_of(work):
    """[(member, 前払金 share in yen)] of a split JV's work, as its accounts receive it."""
    members = split_members(work)
    shares = [(m.company_id, m.share, m.company_id == work.company_id) for m in members]
    parts = rules.split_by_shares(advance_terms(work).advance_amount, shares)
    return [(m, parts[m.company_id]) for m in members]


def account_terms(account):
    """advance_terms for one account: the work's amounts, or — for a member's account of a
    split JV — the member's share of each (rules.split_by_shares: floors, the remainder to
    the representative), so its plan adds up to what is paid into it."""
    terms = advance_terms(account.work)
    if account.member_id is None:
        return terms
    members = split_members(account.work)
    shares = [(m.company_id, m.share, m.company_id == account.work.company_id) for m in members]

    def part(amount):
        return rules.split_by_shares(amount, shares).get(account.member_id, 0)

    return AdvanceTerms(
        advance=terms.advance,
        intermediate=terms.intermediate,
        advance_amount=part(terms.advance_amount),
        intermediate_amount=part(terms.intermediate_amount),
    )


def work_kinds_for(work):
    """The kinds of work a contractor may declare for a work's advance (rule 1): 工事 for
    a construction contract; 設計・調査 or 測量 for a consulting one."""
    if work.category == WorkCategory.CONSULTING:
        return [WorkKind.DESIGN, WorkKind.SURVEY]
    return [WorkKind.CONSTRUCTION]


def overhead_clause_default(work):
    """Whether the contract is taken to have the 25% clause (rule 2): concluded on or after
    the day the orderer adopted it. The contractor may correct it per work."""
    since = work.orderer.advance_overhead_since if work.orderer_id else None
    return bool(since and work.contract_date and work.contract_date >= since)


# --- Plans ----------------------------------------------------------------------------------


def plan_in_force(account):
    """The accepted plan version (with its lines and their categories), or None."""
    return (
        account.plans.filter(status=UsePlan.Status.ACCEPTED)
        .prefetch_related("lines__category__evidence_kinds")
        .first()
    )


def open_plan(account):
    """The version being drafted or waiting for the surety, or None."""
    return account.plans.filter(status__in=UsePlan.OPEN).first()


def committed_by_key(account, *, exclude=None):
    """{plan line key: yen withdrawn or requested} over every version (a 使途変更 keeps the
    keys), leaving out the withdrawal `exclude` (the one being checked)."""
    lines = WithdrawalLine.objects.filter(
        withdrawal__account=account, withdrawal__status__in=COMMITTED, plan_line__isnull=False
    )
    if exclude is not None:
        lines = lines.exclude(withdrawal=exclude)
    rows = lines.values("plan_line__key").annotate(total=Sum("amount"))
    return {row["plan_line__key"]: row["total"] for row in rows}


# --- The account's position -----------------------------------------------------------------


@dataclass
class LinePosition:
    line: object
    paid: int = 0
    reserved: int = 0

    @property
    def remaining(self):
        return self.line.amount - self.paid - self.reserved


@dataclass
class Position:
    """An account's money, computed from deposits and withdrawals (nothing stored)."""

    received: dict = field(default_factory=dict)  # Deposit.Kind → yen
    paid_out: int = 0
    reserved: int = 0
    interest_committed: int = 0
    lines: list = field(default_factory=list)  # LinePosition of the plan in force

    @property
    def received_total(self):
        return sum(self.received.values())

    @property
    def balance(self):
        return self.received_total - self.paid_out

    @property
    def available(self):
        """What further withdrawals may still take: the balance less what is requested."""
        return self.balance - self.reserved

    @property
    def interest_available(self):
        return self.received.get(Deposit.Kind.INTEREST, 0) - self.interest_committed


def position_of(account, *, plan=None, exclude=None):
    """The account's position: received per kind, paid out, reserved by withdrawals not yet
    executed, the balance, and per line of the plan in force (or `plan`) what is paid,
    reserved and remaining. `exclude` leaves one withdrawal out (the one being checked)."""
    deposits = account.deposits.values("kind").annotate(total=Sum("amount"))
    position = Position(received={row["kind"]: row["total"] for row in deposits})
    withdrawals = account.withdrawals.all()
    if exclude is not None:
        withdrawals = withdrawals.exclude(pk=exclude.pk)
    position.paid_out = (
        withdrawals.filter(status=W.EXECUTED).aggregate(t=Sum("executed_amount"))["t"] or 0
    )
    lines = WithdrawalLine.objects.filter(withdrawal__in=withdrawals)
    position.reserved = (
        lines.filter(withdrawal__status__in=RESERVED).aggregate(t=Sum("amount"))["t"] or 0
    )
    position.interest_committed = (
        lines.filter(withdrawal__status__in=COMMITTED, plan_line__isnull=True).aggregate(
            t=Sum("amount")
        )["t"]
        or 0
    )
    plan = plan or plan_in_force(account)
    if plan is not None:
        per_key = {}
        rows = (
            lines.filter(withdrawal__status__in=COMMITTED, plan_line__isnull=False)
            .values("plan_line__key", "withdrawal__status")
            .annotate(total=Sum("amount"))
        )
        for row in rows:
            paid, reserved = per_key.get(row["plan_line__key"], (0, 0))
            if row["withdrawal__status"] == W.EXECUTED:
                paid += row["total"]
            else:
                reserved += row["total"]
            per_key[row["plan_line__key"]] = (paid, reserved)
        position.lines = [
            LinePosition(line, *per_key.get(line.key, (0, 0)))
            for line in plan.lines.select_related("category").order_by("key")
        ]
    return position


# --- Monitoring (rule 9) ------------------------------------------------------------------


def _total(queryset, group_by, field_name):
    """A correlated SUM(field_name) of `queryset` (filtered by OuterRef), 0 when empty."""
    grouped = queryset.order_by().values(group_by).annotate(t=Sum(field_name)).values("t")
    return Coalesce(Subquery(grouped[:1]), Value(0))


def with_advance_held(accounts):
    """Annotate accounts with the 前払金 paid in (advance_in), the day it was first paid in
    (paid_in_on) and what executed withdrawals paid from lines funded by the 前払金
    (advance_out). Interest and a 中間前払金 (paid in later) do not count."""
    advance_deposits = Deposit.objects.filter(account=OuterRef("pk"), kind=Deposit.Kind.ADVANCE)
    paid_from_advance = WithdrawalLine.objects.filter(
        withdrawal__account=OuterRef("pk"),
        withdrawal__status=W.EXECUTED,
        plan_line__funding=Funding.ADVANCE,
    )
    first_day = advance_deposits.order_by().values("account").annotate(d=Min("received_on"))
    return accounts.annotate(
        advance_in=_total(advance_deposits, "account", "amount"),
        advance_out=_total(paid_from_advance, "withdrawal__account", "amount"),
        paid_in_on=Subquery(first_day.values("d")[:1]),
    )


def with_totals(accounts):
    """Annotate accounts with what was paid in (received_total) and paid out (paid_total),
    for lists: two correlated sums, no rows multiplied."""
    deposits = Deposit.objects.filter(account=OuterRef("pk"))
    executed = Withdrawal.objects.filter(account=OuterRef("pk"), status=W.EXECUTED)
    return accounts.annotate(
        received_total=_total(deposits, "account", "amount"),
        paid_total=_total(executed, "account", "executed_amount"),
    )


def monitoring(today=None, *, days, percent):
    """The designated accounts flagged by rule 9 today, each annotated as with_advance_held
    and with `held` (yen) — the surety's monitoring list."""
    today = today or timezone.localdate()
    cutoff = today - datetime.timedelta(days=days)
    candidates = with_advance_held(
        AdvanceAccount.objects.filter(state=AdvanceAccount.State.DESIGNATED)
    ).filter(paid_in_on__lte=cutoff)
    flagged = []
    for account in candidates.select_related("company", "work", "branch__bank"):
        account.held = account.advance_in - account.advance_out
        if rules.is_flagged(
            paid_in_on=account.paid_in_on,
            today=today,
            advance=account.advance_in,
            held=account.held,
            days=days,
            percent=percent,
        ):
            flagged.append(account)
    return flagged


# --- Access helpers -------------------------------------------------------------------------


def accounts_of(company):
    return (
        AdvanceAccount.objects.filter(company=company)
        .select_related("work", "branch__bank", "guarantee")
        .order_by("-registered_at")
    )


def get_account_for_company(company, pk):
    """One designated account of the company; another company's is a 404."""
    account = accounts_of(company).filter(pk=pk).first()
    if account is None:
        raise Http404
    return account


def accounts_at(branch):
    return (
        AdvanceAccount.objects.filter(branch=branch)
        .select_related("work", "company", "work__orderer")
        .order_by("account_number")
    )


def get_account_for_branch(branch, pk):
    """One account kept at the bank user's branch; any other is a 404."""
    account = accounts_at(branch).filter(pk=pk).first()
    if account is None:
        raise Http404
    return account


def get_plan(account, version):
    plan = account.plans.filter(version=version).first()
    if plan is None:
        raise Http404
    return plan


def get_withdrawal(account, number):
    """A withdrawal of an account the caller may already see (through the helpers above)."""
    withdrawal = account.withdrawals.filter(number=number).first()
    if withdrawal is None:
        raise Http404
    return withdrawal


def evidence_of(withdrawal):
    """The evidence files of a withdrawal the caller may already see."""
    return Evidence.objects.filter(line__withdrawal=withdrawal).select_related("kind", "line")


def withdrawals_at(branch, statuses=None):
    """Withdrawals from the branch's accounts that have reached the bank (not drafts)."""
    queryset = Withdrawal.objects.filter(account__branch=branch).exclude(
        status__in=[W.DRAFT, W.CASH_REVIEW]
    )
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    return queryset.select_related("account__work", "account__company").order_by(
        "-submitted_at", "-pk"
    )


def get_withdrawal_for_branch(branch, pk):
    """A withdrawal sent to the bank user's branch; a draft, or another branch's, is a 404."""
    withdrawal = withdrawals_at(branch).filter(pk=pk).first()
    if withdrawal is None:
        raise Http404
    return withdrawal


def guarantees_with_advance(company):
    """The company's concluded 前払金保証 and 中間前払金保証, newest first, each with its
    designated account (or None): where 前払金の使途管理 starts."""
    guarantees = list(
        registry.with_current(
            Guarantee.objects.filter(
                company=company, kind__in=[GuaranteeKind.ADVANCE, GuaranteeKind.INTERMEDIATE]
            )
        )
        .select_related("work", "orderer")
        .order_by("-concluded_at", "-pk")
    )
    accounts = {}
    for a in (
        AdvanceAccount.objects.filter(
            Q(work__in=[g.work_id for g in guarantees]), state=AdvanceAccount.State.DESIGNATED
        )
        .select_related("member")
        .order_by("pk")
    ):
        accounts.setdefault(a.work_id, []).append(a)
    for guarantee in guarantees:
        guarantee.designated_accounts = accounts.get(guarantee.work_id, [])
        guarantee.advance_account = next(iter(guarantee.designated_accounts), None)
        # A split JV (decision 0035) registers one account per member.
        members = split_members(guarantee.work) if guarantee.work.joint_venture_id else []
        guarantee.accounts_to_open = len(members) > len(guarantee.designated_accounts)
    return guarantees


def get_advance_guarantee_for(company, number):
    """A concluded 前払金保証 or 中間前払金保証 of the company by its number; else 404."""
    guarantee = registry.get_guarantee_for(company, number)
    if guarantee.kind not in (GuaranteeKind.ADVANCE, GuaranteeKind.INTERMEDIATE):
        raise Http404
    return guarantee
