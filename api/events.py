"""Where webhook events come from: the audit chain (docs/decisions/0025).

Every change an office hears of is recorded in the audit trail in the transaction that made
it, and the chain's numbers (`seq`) are gapless and given in commit order (appending locks
the chain's head until commit). So reading the chain after a cursor sees every change once,
in order, with nothing in the registry knowing of webhooks. `collect()` maps each event to
the offices it concerns and calls services.emit (idempotent per source). `collect_expiring()`
announces guarantees whose 保証期限 is near (once per period end).
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api import selectors, services
from api.models import WebhookCursor
from audit.models import AuditEvent
from certificates import selectors as registry
from certificates.models import Guarantee
from certificates.numbering import format_number

BATCH = 500


def _data(number, **extra):
    return {
        "number": number,
        "number_display": format_number(number),
        "url": f"{settings.ESURE_SITE_URL}/api/v1/guarantees/{number}",
        **extra,
    }


def _guarantee_events(row, type):
    """A change of the guarantee itself: every office it reached hears of it."""
    guarantee = Guarantee.objects.filter(pk=row.object_id).only("pk", "number").first()
    if guarantee is None:
        return []
    extra = {"version": row.data["version"]} if "version" in row.data else {}
    return [
        (office_id, type, _data(guarantee.number, **extra))
        for office_id in selectors.offices_reached(guarantee)
    ]


def events_of(row):
    """[(office_id, type, data)] for one audit event."""
    action, data = row.action, row.data or {}
    if action == "submission.delivered" and data.get("channel") != "key":
        if data.get("version") == 1:
            return [(data["office"], "guarantee.delivered", _data(data["number"], version=1))]
        return []  # a later version: guarantee.changed says it to every office
    if action == "submission.returned":
        reason = data.get("note", "")
        return [
            (
                data["office"],
                "guarantee.returned",
                _data(data["number"], version=data.get("version"), reason=reason),
            )
        ]
    if action == "guarantee.changed":
        return _guarantee_events(row, "guarantee.version_added")
    if action == "guarantee.cancelled":
        return _guarantee_events(row, "guarantee.cancelled")
    if action == "guarantee.completed":
        return [
            (office_id, type, {**payload, "completed_on": data.get("completed_on")})
            for office_id, type, payload in _guarantee_events(row, "guarantee.completed")
        ]
    return []


def collect(limit=BATCH):
    """Read the audit chain after the cursor (at most `limit` events) and emit what they
    mean. Returns how many audit events were read. Runs under a lock on the cursor: two
    collectors never read the same events."""
    with transaction.atomic():
        cursor, _ = WebhookCursor.objects.select_for_update().get_or_create(pk=1)
        rows = list(AuditEvent.objects.filter(seq__gt=cursor.last_seq).order_by("seq")[:limit])
        for row in rows:
            for office_id, type, data in events_of(row):
                services.emit(office_id=office_id, type=type, source=f"audit:{row.seq}", data=data)
        if rows:
            cursor.last_seq = rows[-1].seq
            cursor.save(update_fields=["last_seq"])
    return len(rows)


def collect_expiring(today=None, days=None):
    """guarantee.expiring for every guarantee that reached an office, not cancelled or
    completed, whose current 保証期限 is within `days` (ESURE_WEBHOOK_EXPIRING_DAYS) from
    today: once per office and period end (a 期限変更 announces the new end again). Returns
    events made."""
    today = today or timezone.localdate()
    days = settings.ESURE_WEBHOOK_EXPIRING_DAYS if days is None else days
    live = Guarantee.objects.filter(cancelled_at__isnull=True, completed_on__isnull=True)
    ending = registry.with_current(live).filter(
        current_ends_on__gte=today, current_ends_on__lte=today + datetime.timedelta(days=days)
    )
    made = []
    for guarantee in ending.only("pk", "number"):
        for office_id in selectors.offices_reached(guarantee):
            event = services.emit(
                office_id=office_id,
                type="guarantee.expiring",
                source=f"expiring:{guarantee.pk}:{guarantee.current_ends_on.isoformat()}",
                data=_data(guarantee.number, ends_on=guarantee.current_ends_on.isoformat()),
            )
            if event is not None:
                made.append(event)
    return made
