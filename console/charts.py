"""業務状況: the series behind the charts (issue 20), months and days in Japan time.

Every series is counted by the database in Asia/Tokyo (TruncMonth / TruncDate with the
zone): a guarantee concluded at 23:59 JST on 31 October is October's, whatever UTC says.
Months and days without any row are present with zeros. Each chart is drawn as SVG by
console.svg and offered as CSV with the same numbers.
"""

import dataclasses
import datetime
import math
import statistics
from zoneinfo import ZoneInfo

from django.db.models import Count, DateTimeField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from applications.models import Application, FeeReceipt, StatusChange
from certificates.models import Certificate, Guarantee
from dsure.models import AccessLog
from esure.choices import GuaranteeKind

JST = ZoneInfo("Asia/Tokyo")
MONTHS = 24
DAYS = 90


@dataclasses.dataclass(frozen=True)
class Chart:
    slug: str
    title: str
    unit: str  # of the values: 件, 円, 日
    labels: list  # one per column: "2026-11" or "2026-11-30"
    series: list  # [(name, [value per label])]
    kind: str = "bar"  # bar (grouped) or line
    table_only: tuple = ()  # series shown in the table and CSV, not drawn

    def description(self):
        first, last = (self.labels[0], self.labels[-1]) if self.labels else ("", "")
        names = "、".join(name for name, _ in self.series)
        return f"{first} から {last} までの{names}（単位: {self.unit}）。数値は表にあります。"

    def rows(self):
        """The data table: [(label, value, value, …)], as the CSV and the table show it."""
        return [
            (label, *(values[i] for _, values in self.series))
            for i, label in enumerate(self.labels)
        ]


def _months(today, count=MONTHS):
    """The first day of each of the last `count` months, oldest first, this month last."""
    year, month = today.year, today.month
    firsts = []
    for _ in range(count):
        firsts.append(datetime.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def _start(day):
    """Midnight in Japan at the start of `day`, as an aware datetime."""
    return datetime.datetime.combine(day, datetime.time(), tzinfo=JST)


def _month_label(day):
    return f"{day:%Y-%m}"


def _today():
    return timezone.localdate(timezone.now(), JST)


def conclusions_by_kind(today=None):
    """Guarantees concluded per month (Japan time), by kind, over the last 24 months."""
    months = _months(today or _today())
    rows = (
        Guarantee.objects.filter(concluded_at__gte=_start(months[0]))
        .annotate(month=TruncMonth("concluded_at", tzinfo=JST))
        .values("month", "kind")
        .annotate(n=Count("pk"))
    )
    counts = {(r["month"].date(), r["kind"]): r["n"] for r in rows}
    series = [
        (kind.label, [counts.get((m, kind.value), 0) for m in months]) for kind in GuaranteeKind
    ]
    return Chart(
        "conclusions",
        "保証契約の締結件数（月別・種類別）",
        "件",
        [_month_label(m) for m in months],
        series,
    )


def amounts_and_fees(today=None):
    """Per month: the 保証金額 of the guarantees concluded (their first version) and the fees
    received (保証料入金, by 入金日)."""
    months = _months(today or _today())
    amounts = dict(
        Certificate.objects.filter(version=1, issued_at__gte=_start(months[0]))
        .annotate(month=TruncMonth("issued_at", tzinfo=JST))
        .values("month")
        .annotate(total=Sum("amount"))
        .values_list("month", "total")
    )
    amounts = {month.date(): total for month, total in amounts.items()}
    fees = {}
    for received_on, amount in FeeReceipt.objects.filter(received_on__gte=months[0]).values_list(
        "received_on", "amount"
    ):
        first = received_on.replace(day=1)
        fees[first] = fees.get(first, 0) + amount
    return Chart(
        "amounts",
        "保証金額と保証料（月別）",
        "円",
        [_month_label(m) for m in months],
        [
            ("保証金額（締結分）", [int(amounts.get(m, 0)) for m in months]),
            ("保証料（入金分）", [fees.get(m, 0) for m in months]),
        ],
    )


def nearest_rank(values, percent):
    """The percentile by the nearest-rank method: the smallest value with at least
    `percent` % of the values at or below it (no interpolation)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(percent / 100 * len(ordered)) - 1, 0)]


def review_lead_times(today=None):
    """Per month of approval (Japan time): the median and 90th percentile (nearest rank) of
    the days from the first submission (提出) to the approval (承認), over 24 months."""
    months = _months(today or _today())
    first_submission = Subquery(
        StatusChange.objects.filter(
            application=OuterRef("application"), new_status=Application.Status.SUBMITTED
        )
        .order_by("at")
        .values("at")[:1],
        output_field=DateTimeField(),
    )
    approvals = (
        StatusChange.objects.filter(
            new_status=Application.Status.APPROVED, at__gte=_start(months[0])
        )
        .annotate(
            month=TruncMonth("at", tzinfo=JST),
            # An application submitted before the history existed has only its field.
            submitted=Coalesce(first_submission, "application__submitted_at"),
        )
        .exclude(submitted=None)
        .values_list("month", "at", "submitted")
    )
    days = {}
    for month, approved_at, submitted_at in approvals:
        days.setdefault(month.date(), []).append(
            (approved_at - submitted_at).total_seconds() / 86400
        )
    medians, p90s, counts = [], [], []
    for m in months:
        values = days.get(m, [])
        medians.append(round(statistics.median(values), 1) if values else None)
        p90s.append(round(nearest_rank(values, 90), 1) if values else None)
        counts.append(len(values))
    return Chart(
        "lead_times",
        "審査の所要日数（提出から承認まで、月別の中央値と90パーセンタイル）",
        "日",
        [_month_label(m) for m in months],
        [("中央値", medians), ("90パーセンタイル", p90s), ("承認件数", counts)],
        kind="line",
        table_only=("承認件数",),
    )


def dsure_lookups(today=None):
    """Per day (Japan time) over the last 90 days: D-Sure lookups (every attempt with a
    number and key, refused ones included) and the failed ones (wrong key, or refused)."""
    today = today or _today()
    days = [today - datetime.timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    attempts = ~Q(outcome=AccessLog.Outcome.HANDOVER_VIEW)
    failed = attempts & ~Q(outcome=AccessLog.Outcome.SUCCESS)
    rows = (
        AccessLog.objects.filter(at__gte=_start(days[0]))
        .annotate(day=TruncDate("at", tzinfo=JST))
        .values("day")
        .annotate(lookups=Sum("attempts", filter=attempts), failures=Sum("attempts", filter=failed))
    )
    by_day = {r["day"]: (r["lookups"] or 0, r["failures"] or 0) for r in rows}
    return Chart(
        "dsure",
        "D-Sure の照会と失敗（日別、直近90日）",
        "件",
        [f"{d:%Y-%m-%d}" for d in days],
        [
            ("照会", [by_day.get(d, (0, 0))[0] for d in days]),
            ("失敗（不一致・拒否）", [by_day.get(d, (0, 0))[1] for d in days]),
        ],
        kind="line",
    )


CHARTS = {
    "conclusions": conclusions_by_kind,
    "amounts": amounts_and_fees,
    "lead_times": review_lead_times,
    "dsure": dsure_lookups,
}
