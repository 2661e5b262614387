"""The work queue on the admin's first page (issue 20): what waits for surety staff.

Each entry is one count (one query, whatever the volume) linking to its model's list in
admin, filtered by the same entry (WorkQueueFilter, parameter `queue`): the list shows
exactly the rows counted. The entries are the one definition of each waiting state here;
the states themselves come from the apps' status tables.
"""

import dataclasses
from collections.abc import Callable

from django.contrib import admin
from django.db.models import Count, Min
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django_tasks_db.models import DBTaskResult

from advances.models import UsePlan, Withdrawal
from applications.models import Application
from certificates.models import Guarantee
from claims.models import Claim
from dsure import throttle
from dsure.models import Alert, LockClear, NumberLock
from esure import queue
from esure.choices import Delivery
from reservations.models import Reservation


def _locked_now(queryset, now):
    # dsure.throttle.locks_in_force: not ended, not cleared since it began.
    return queryset.filter(until__gt=now, at__gt=throttle._latest(LockClear.objects.all()))


def _stuck(queryset, now):
    return queryset.filter(queue.stalled(now) | queue.abandoned(now))


@dataclasses.dataclass(frozen=True)
class Entry:
    slug: str
    label: str
    model: type
    select: Callable  # (queryset, now) -> the rows waiting
    oldest: str | None = None  # a time field: the list opens oldest first, the age is shown


ENTRIES = [
    Entry(
        "review",
        "審査待ちの申込",
        Application,
        lambda qs, now: qs.filter(status=Application.Status.SUBMITTED),
        oldest="submitted_at",
    ),
    Entry(
        "fee",
        "保証料入金待ち",
        Application,
        lambda qs, now: qs.filter(status=Application.Status.APPROVED),
    ),
    Entry(
        "print",
        "書面交付の印刷待ち",
        Guarantee,
        lambda qs, now: qs.filter(delivery=Delivery.PAPER, printed_at=None, cancelled_at=None),
        oldest="concluded_at",
    ),
    # 契約保証予約証書: paper only (decision 0034), printed once approved, while still usable.
    Entry(
        "print_reservations",
        "書面交付の印刷待ち（契約保証予約証書）",
        Reservation,
        lambda qs, now: qs.filter(
            status=Reservation.Status.APPROVED,
            printed_at=None,
            valid_until__gte=timezone.localdate(now),
        ),
        oldest="approved_at",
    ),
    Entry(
        "plans",
        "使途内訳明細書の確認待ち",
        UsePlan,
        lambda qs, now: qs.filter(status=UsePlan.Status.SUBMITTED),
        oldest="submitted_at",
    ),
    Entry(
        "cash",
        "現金払出の承認待ち",
        Withdrawal,
        lambda qs, now: qs.filter(status=Withdrawal.Status.CASH_REVIEW),
        oldest="submitted_at",
    ),
    Entry(
        "claims",
        "審査待ちの保証金の請求",
        Claim,
        lambda qs, now: qs.filter(status__in=Claim.UNDER_REVIEW),
        oldest="filed_at",
    ),
    Entry(
        "claims_payment",
        "支払待ちの保証金の請求（支払決定済）",
        Claim,
        lambda qs, now: qs.filter(status=Claim.Status.APPROVED),
        oldest="filed_at",
    ),
    Entry("locks", "ロック中の保証契約番号（D-Sure）", NumberLock, _locked_now),
    Entry(
        "alerts",
        "未確認の D-Sure 警告",
        Alert,
        lambda qs, now: qs.filter(acknowledged_at=None),
        oldest="at",
    ),
    Entry(
        "mail_failed",
        "送信できなかったメール",
        DBTaskResult,
        lambda qs, now: qs.filter(status=TaskResultStatus.FAILED),
    ),
    Entry("stuck", "滞留しているタスク", DBTaskResult, _stuck),
]
BY_SLUG = {entry.slug: entry for entry in ENTRIES}


@dataclasses.dataclass(frozen=True)
class Waiting:
    entry: Entry
    count: int
    url: str
    oldest_days: int | None  # age of the oldest row, whole days


def _changelist_url(request, entry, model_admin):
    query = {WorkQueueFilter.parameter_name: entry.slug}
    columns = list(model_admin.get_list_display(request))
    if entry.oldest and entry.oldest in columns:
        # Django's changelist sorts by the column index given in `o`, counting the
        # checkbox column that actions add in front.
        index = columns.index(entry.oldest) + (1 if model_admin.get_actions(request) else 0)
        query["o"] = str(index)
    info = (entry.model._meta.app_label, entry.model._meta.model_name)
    return reverse("admin:{}_{}_changelist".format(*info)) + "?" + urlencode(query)


def work_queue(request, site, now=None):
    """What waits for staff, as [Waiting], the entries the user may view: one query each."""
    now = now or timezone.now()
    result = []
    for entry in ENTRIES:
        model_admin = site._registry.get(entry.model)
        if model_admin is None or not model_admin.has_view_permission(request):
            continue
        rows = entry.select(entry.model._default_manager.all(), now)
        if entry.oldest:
            totals = rows.aggregate(count=Count("pk"), oldest=Min(entry.oldest))
        else:
            totals = {"count": rows.count(), "oldest": None}
        oldest = totals["oldest"]
        result.append(
            Waiting(
                entry=entry,
                count=totals["count"],
                url=_changelist_url(request, entry, model_admin),
                oldest_days=(now - oldest).days if oldest else None,
            )
        )
    return result


class WorkQueueFilter(admin.SimpleListFilter):
    """作業キュー: the rows of one work-queue entry (the link from the admin's first page)."""

    title = "作業キュー"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [(e.slug, e.label) for e in ENTRIES if e.model is model_admin.model]

    def queryset(self, request, queryset):
        entry = BY_SLUG.get(self.value())
        if entry is None or entry.model is not queryset.model:
            return queryset
        return entry.select(queryset, timezone.now())


def install_filters(site=None):
    """Add WorkQueueFilter to the admin of every model with a queue entry. The apps' admins
    know nothing of the console (it depends on them, never the reverse)."""
    site = site or admin.site
    for model in {entry.model for entry in ENTRIES}:
        model_admin = site._registry.get(model)
        if model_admin is not None and WorkQueueFilter not in model_admin.list_filter:
            model_admin.list_filter = [WorkQueueFilter, *model_admin.list_filter]
