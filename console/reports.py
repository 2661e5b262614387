"""The monthly conclusions CSV for accounting (issue 20): one row per guarantee concluded in
the month (Japan time), UTF-8 with a BOM so that Excel opens it as UTF-8."""

import csv
import datetime
import io

from django.db.models import OuterRef, Subquery

from certificates.models import Certificate, Guarantee
from console.charts import JST

COLUMNS = (
    "保証契約番号",
    "保証の種類",
    "発注者",
    "受注者",
    "工事名",
    "請負代金額",
    "保証金額",
    "保証料",
    "締結日",
)
BOM = "\ufeff"


def month_bounds(month):
    """The first day of `month` (a date) and of the next, midnight in Japan."""
    first = month.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    start = datetime.datetime.combine(first, datetime.time(), tzinfo=JST)
    end = datetime.datetime.combine(following, datetime.time(), tzinfo=JST)
    return start, end


def conclusions(month):
    """The guarantees concluded in `month`, with the amount and fee of their first version."""
    start, end = month_bounds(month)
    first = Certificate.objects.filter(guarantee=OuterRef("pk"), version=1)
    return (
        Guarantee.objects.filter(concluded_at__gte=start, concluded_at__lt=end)
        .select_related("company", "orderer", "work")
        .annotate(
            first_amount=Subquery(first.values("amount")[:1]),
            first_fee=Subquery(first.values("content__fee__fee")[:1]),
        )
        .order_by("concluded_at", "number")
    )


def conclusions_csv(month):
    """The CSV text (BOM first) of conclusions(month)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for g in conclusions(month):
        writer.writerow(
            [
                g.number_display,
                g.get_kind_display(),
                g.orderer.name,
                g.company.name,
                g.work.name,
                g.work.price if g.work.price is not None else "",
                g.first_amount,
                int(g.first_fee) if g.first_fee is not None else "",
                f"{g.concluded_at.astimezone(JST):%Y-%m-%d}",
            ]
        )
    return out.getvalue()
