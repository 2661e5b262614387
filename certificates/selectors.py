"""Reads of the registry: current versions and terms, statuses, access helpers."""

import datetime
import re
import unicodedata
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.http import Http404
from django.utils import timezone

from accounts.models import Orderer
from accounts.selectors import joint_venture_ids_of, joint_venture_member
from certificates import numbering
from certificates.models import (
    Certificate,
    Document,
    Guarantee,
    OfficeAlert,
    Refund,
    Submission,
    Work,
)
from esure.pagination import PreparedList
from esure.queries import AnyOf, run_prepared


class Status:
    """What a guarantee is today (DESIGN.md §4 D-Sure): computed, never stored. `CODES` are
    the same statuses as the API and the office list's filter name them in URLs and JSON."""

    VALID = "有効"
    CHANGED = "変更あり"
    CANCELLED = "解約"
    COMPLETED = "完了"
    EXPIRED = "期間満了"

    CODES = {
        VALID: "valid",
        CHANGED: "changed",
        CANCELLED: "cancelled",
        COMPLETED: "completed",
        EXPIRED: "expired",
    }


def status_of(*, cancelled, current_version, ends_on, completed=False, today=None):
    """解約 over 完了 over 期間満了 over 変更あり over 有効 (an expired, changed one is 期間満了;
    a completed one is 完了 whether or not its 保証期限 has passed — 完成 ended it)."""
    today = today or timezone.localdate()
    if cancelled:
        return Status.CANCELLED
    if completed:
        return Status.COMPLETED
    if ends_on < today:
        return Status.EXPIRED
    if current_version > 1:
        return Status.CHANGED
    return Status.VALID


def _latest(field):
    return Subquery(
        Certificate.objects.filter(guarantee=OuterRef("pk")).order_by("-version").values(field)[:1]
    )


def with_current(queryset):
    """Annotate each guarantee with its latest version's amount, period end and version."""
    return queryset.annotate(
        current_version=_latest("version"),
        current_amount=_latest("amount"),
        current_ends_on=_latest("ends_on"),
    )


_ITSELF = object()


def readable_by(company, member=_ITSELF):
    """What the company may read: its own guarantees and those of the 共同企業体 it is a
    member of (read-only for members other than the 代表者, who owns them) — and the same of
    its applications (applications.selectors), which have a company and a work as these do.

    `member` is whose JVs count: the company itself, or None where the company is known to
    be in none (accounts.selectors.joint_venture_member) — then the condition is the
    company's alone, which its list's index reads in order (decision 0056). A prepared list
    passes the company's id again, as a parameter of its own (esure.queries.Prepared)."""
    own = Q(company=company)
    member = company if member is _ITSELF else member
    if member is None:
        return own
    jv_works = Work.objects.filter(joint_venture__in=joint_venture_ids_of(member)).values("pk")
    return own | AnyOf("work_id", jv_works)


def _list_of(company, member):
    """The guarantees the company may read (readable_by), newest first, each with its work's
    and orderer's names and its current version, amount and period end — each a scalar
    subquery, evaluated for the page's rows only, after the sort (joining the work instead
    read every work of the registry before the sort: 1.8 → 0.7 ms at 10,000 guarantees)."""
    return (
        with_current(Guarantee.objects.filter(readable_by(company, member)))
        .annotate(
            work_name=Subquery(Work.objects.filter(pk=OuterRef("work_id")).values("name")),
            orderer_name=Subquery(Orderer.objects.filter(pk=OuterRef("orderer_id")).values("name")),
        )
        .order_by("-concluded_at", "-pk")
    )


# 電子証書の確認's list: its statement compiled once per process (esure.pagination).
_LIST = PreparedList(
    _list_of,
    fields=(
        "number",
        "kind",
        "delivery",
        "concluded_at",
        "cancelled_at",
        "completed_on",
        "work_name",
        "orderer_name",
        "current_version",
        "current_amount",
        "current_ends_on",
    ),
)


def guarantees_of(company):
    """The guarantees the company may read, newest first, for page_of: each page's rows are
    dicts of _LIST's fields; `add_row_status` then labels them. A company in no 共同企業体
    gets the statement without the JVs' rows (decision 0056)."""
    return _LIST.of(company=company.pk, member=joint_venture_member(company))


def add_row_status(rows, today=None):
    """Label each row of guarantees_of with its status today (row["status"])."""
    today = today or timezone.localdate()
    for row in rows:
        row["status"] = status_of(
            cancelled=row["cancelled_at"] is not None,
            completed=row["completed_on"] is not None,
            current_version=row["current_version"],
            ends_on=row["current_ends_on"],
            today=today,
        )
    return rows


def add_status(guarantees, today=None):
    """Label each guarantee (annotated by with_current) with its status today."""
    today = today or timezone.localdate()
    for g in guarantees:
        g.status = status_of(
            cancelled=g.cancelled_at is not None,
            completed=g.completed_on is not None,
            current_version=g.current_version,
            ends_on=g.current_ends_on,
            today=today,
        )
    return guarantees


def get_guarantee_readable_by(company, number):
    """One guarantee the company may read (its own, or its JV's as a member) by its number;
    any other is a 404. For pages and files that change nothing."""
    if not numbering.is_stored_form(number):
        raise Http404
    guarantee = (
        Guarantee.objects.select_related("work", "orderer", "office", "company")
        .filter(readable_by(company), number=number)
        .first()
    )
    if guarantee is None:
        raise Http404
    return guarantee


def get_guarantee_for(company, number):
    """One guarantee of the company by its number; another company's is a 404, and so is
    anything that is not 11 ASCII digits (a posted NUL would make PostgreSQL raise). A JV's
    guarantee belongs to its 代表者: this is the helper for every action on it."""
    if not numbering.is_stored_form(number):
        raise Http404
    guarantee = (
        Guarantee.objects.select_related("work", "orderer", "office", "company")
        .filter(company=company, number=number)
        .first()
    )
    if guarantee is None:
        raise Http404
    return guarantee


def versions_of(guarantee):
    """All certificate versions, oldest first, in one query (the pages list them and link
    their documents by kind; a download reads its document, see get_document)."""
    return list(
        guarantee.certificates.order_by("version").select_related(
            "refund"  # a 減額's 前払金の返還, joined: no query of its own
        )
    )


class _Columns:
    """A model's columns in a hand-written SELECT, and the instance built from them as the ORM
    builds it (from_db, with the fields' converters: JSON, and SQLite's dates).

    For the D-Sure viewer's one statement per request: compiling the same select_related
    query on every request was half of its CPU (bench/README.md, issue 22)."""

    def __init__(self, model, alias):
        self.model = model
        self.fields = model._meta.concrete_fields
        self.attnames = [field.attname for field in self.fields]
        self.sql = ", ".join(f'{alias}."{field.column}"' for field in self.fields)
        self._converters = {}  # by database vendor

    def converters(self):
        vendor = connection.vendor
        if vendor not in self._converters:
            table = self.model._meta.db_table
            found = []
            for i, field in enumerate(self.fields):
                col = field.get_col(table)
                functions = connection.ops.get_db_converters(col) + col.get_db_converters(
                    connection
                )
                if functions:
                    found.append((i, col, functions))
            self._converters[vendor] = found
        return self._converters[vendor]

    def build(self, values):
        """The instance of these column values (a slice of a row), or None when its primary
        key is NULL (a LEFT JOIN that found nothing)."""
        if values[0] is None:
            return None
        values = list(values)
        for i, col, functions in self.converters():
            for function in functions:
                values[i] = function(values[i], col, connection)
        return self.model.from_db(DEFAULT_DB_ALIAS, self.attnames, values)


_GUARANTEE = _Columns(Guarantee, "g")
_VERSION = _Columns(Certificate, "c")
_REFUND = _Columns(Refund, "r")
# Column names from the models (no input): the number is a parameter.
_VERSIONS_BY_NUMBER = f"""SELECT {_GUARANTEE.sql}, {_VERSION.sql}, {_REFUND.sql}
FROM "certificates_certificate" AS c
JOIN "certificates_guarantee" AS g ON g."id" = c."guarantee_id"
LEFT JOIN "certificates_refund" AS r ON r."certificate_id" = c."id"
WHERE g."number" = %s
ORDER BY c."version"
"""  # noqa: S608


def versions_by_number(number):
    """The guarantee of `number` and all its versions, oldest first, in one query (each
    version carries the guarantee, and a 減額's 前払金の返還 its refund, joined): (guarantee,
    versions), or (None, []) for a number that does not exist. Without their documents: for
    pages that print the content. Kept prepared on the connection (decision 0055): planning
    it was ~0.25 ms of PostgreSQL's CPU on every view, running it ~0.04 ms."""
    rows = run_prepared(connection, _VERSIONS_BY_NUMBER, [number])
    if not rows:
        return None, []
    g_end = len(_GUARANTEE.fields)
    c_end = g_end + len(_VERSION.fields)
    guarantee = _GUARANTEE.build(rows[0][:g_end])
    versions = []
    for row in rows:
        version = _VERSION.build(row[g_end:c_end])
        version.guarantee = guarantee  # one object for the page, as the view reads it
        refund = _REFUND.build(row[c_end:])
        # Cached either way, as select_related("refund") does: `version.refund` never queries.
        Certificate.refund.related.set_cached_value(version, refund)
        if refund is not None:
            Refund.certificate.field.set_cached_value(refund, version)
        versions.append(version)
    return guarantee, versions


def status_of_guarantee(guarantee, current, today=None):
    return status_of(
        cancelled=guarantee.cancelled_at is not None,
        completed=guarantee.completed_on is not None,
        current_version=current.version,
        ends_on=current.ends_on,
        today=today,
    )


def version_by_fingerprint(fingerprint):
    """The certificate version whose content has this fingerprint (SHA-256, 64 hex), or None."""
    if not isinstance(fingerprint, str) or len(fingerprint) != 64:
        return None
    return (
        Certificate.objects.select_related("guarantee")
        .filter(fingerprint=fingerprint.lower())
        .order_by("pk")
        .first()
    )


def version_standing(certificate, today=None):
    """How one version stands today, as the check page (電子証書の検証) says it: 解約 over
    完了 over 期間満了 (of the guarantee's current terms) over 変更前 — 最新は第N版 over 有効."""
    today = today or timezone.localdate()
    guarantee = certificate.guarantee
    current = guarantee.certificates.order_by("-version").only("version", "ends_on").first()
    if guarantee.cancelled_at is not None:
        return Status.CANCELLED
    if guarantee.completed_on is not None:
        return Status.COMPLETED
    if current.ends_on < today:
        return Status.EXPIRED
    if certificate.version < current.version:
        return f"変更前 — 最新は第{current.version}版"
    return Status.VALID


@dataclass(frozen=True)
class Terms:
    """A guarantee's current terms: the values of its latest certificate version, typed.

    What the other apps read (the workflow's changes and fees, advances, the API) instead of
    the certificate content's JSON layout, which is the registry's own.
    """

    number: str
    kind: str
    version: int  # the current version (1 = 当初)
    amount: int  # 保証金額
    starts_on: datetime.date  # 保証期間の始期
    ends_on: datetime.date  # 保証期限
    price: int  # 請負代金額, as changed
    work_start: datetime.date  # 工期（自）
    work_end: datetime.date  # 工期（至）, as changed
    paid_fee: int  # 保証料 paid in: the first fee and every 追加保証料 (not refunds)
    cancelled: bool  # 解約済
    completed_on: datetime.date | None = None  # 完成日, once recorded


# The fee statements of versions whose fee was paid in (a 返還 or no change pays nothing);
# a version 1 fee carries no kind.
_PAID_IN = ("initial", "additional")


def current_terms(guarantee):
    """The current Terms of a concluded guarantee (one query over its versions)."""
    versions = list(
        guarantee.certificates.order_by("version").only(
            "version", "amount", "starts_on", "ends_on", "content"
        )
    )
    current = versions[-1]
    work = current.content["work"]
    return Terms(
        number=guarantee.number,
        kind=guarantee.kind,
        version=current.version,
        amount=current.amount,
        starts_on=current.starts_on,
        ends_on=current.ends_on,
        price=work["price"],
        work_start=datetime.date.fromisoformat(work["start_date"]),
        work_end=datetime.date.fromisoformat(work["end_date"]),
        paid_fee=sum(
            (v.content.get("fee") or {}).get("fee", 0)
            for v in versions
            if (v.content.get("fee") or {}).get("kind", "initial") in _PAID_IN
        ),
        cancelled=guarantee.cancelled_at is not None,
        completed_on=guarantee.completed_on,
    )


def certificates_missing_documents(kinds, issued_before=None):
    """Certificate versions that lack an original of one of `kinds`, oldest first: what a
    crash between a conclusion's commit and its after-commit documents left behind
    (manage.py produce_missing_documents). `issued_before` leaves the newest to the queue."""
    missing = Q()
    for kind in kinds:
        stored = Document.objects.filter(certificate=OuterRef("pk"), kind=kind, extends=None)
        missing |= ~Exists(stored)
    found = Certificate.objects.filter(missing).select_related("guarantee").order_by("pk")
    if issued_before is not None:
        found = found.filter(issued_at__lt=issued_before)
    return found


def refunds_in(versions, today=None):
    """The 前払金の返還 (after 減額) made with these versions (versions_of: each version's
    refund comes with it, no query of its own), oldest first, each labelled `overdue` (not
    returned and past its due day) for the pages that show them."""
    today = today or timezone.localdate()
    refunds = []
    for version in versions:
        refund = getattr(version, "refund", None)
        if refund is not None:
            refund.overdue = refund.is_overdue(today)
            refunds.append(refund)
    return refunds


def get_refund(guarantee, pk):
    """One refund of the guarantee (a page already checked who may see the guarantee); any
    other is a 404."""
    refund = Refund.objects.filter(guarantee=guarantee, pk=pk).first()
    if refund is None:
        raise Http404
    return refund


def get_document(guarantee, version, kind):
    document = (
        Document.objects.select_related("certificate")
        .filter(certificate__guarantee=guarantee, certificate__version=version, kind=kind)
        .order_by("-pk")  # the newest: a document timestamp added later extends the original
        .first()
    )
    if document is None:
        raise Http404
    return document


# Column names from the model (no input): the number, version and kind are parameters.
_DOCUMENT_BY_NUMBER = f"""SELECT d."file", {_GUARANTEE.sql}
FROM "certificates_document" AS d
JOIN "certificates_certificate" AS c ON c."id" = d."certificate_id"
JOIN "certificates_guarantee" AS g ON g."id" = c."guarantee_id"
WHERE g."number" = %s AND c."version" = %s AND d."kind" = %s
ORDER BY d."id" DESC
LIMIT 1
"""  # noqa: S608


def document_by_number(number, version, kind):
    """The stored file name of get_document's document, found by the guarantee's number, with
    the guarantee (one query for a download that must check the guarantee first): (file name,
    guarantee), or (None, None) if there is none. The newest record of the kind, as
    get_document. Kept prepared on the connection, as versions_by_number."""
    rows = run_prepared(connection, _DOCUMENT_BY_NUMBER, [number, version, kind])
    if not rows:
        return None, None
    return rows[0][0], _GUARANTEE.build(rows[0][1:])


def submission_office(guarantee):
    """The orderer's office to hand the key notice to: the work's office when it handles
    this kind of guarantee, else the first office that does, else the work's office."""
    office = guarantee.office
    if office is not None and guarantee.kind in office.handles_kinds:
        return office
    for candidate in guarantee.orderer.offices.order_by("pk"):
        if guarantee.kind in candidate.handles_kinds:
            return candidate
    return office


# --- 提出 (decision 0018) -----------------------------------------------------------------

# The channels by which a version is in an office's hands without a key: its users may open it.
_KEYLESS = (Submission.Channel.INBOX, Submission.Channel.HANDOVER)


def submissions_of(guarantee):
    """Every submission of the guarantee, oldest first, with its office and version: what
    the contractor follows (提出済 → 閲覧済 → 受領 / 返戻, with the reason)."""
    return list(
        Submission.objects.filter(guarantee=guarantee)
        .select_related("office", "certificate", "decided_by")
        .order_by("delivered_at", "pk")
    )


def is_submitted_to(guarantee, office):
    """Whether a version of the guarantee reached the office without a key (delivered or
    handed over): then the office's users open it without typing the key."""
    if office is None:
        return False
    return Submission.objects.filter(
        guarantee=guarantee, office=office, channel__in=_KEYLESS
    ).exists()


def is_held_by(guarantee, office):
    """Whether a version of the guarantee reached the office by any channel (delivered,
    handed over, or opened by its users with the key): the offices that record its 完成 and
    get its alerts."""
    if office is None or office.orderer_id != guarantee.orderer_id:
        return False
    return Submission.objects.filter(guarantee=guarantee, office=office).exists()


def submissions_to(guarantee, office):
    """The office's submissions of the guarantee by certificate id (its answer per version)."""
    if office is None:
        return {}
    return {
        s.certificate_id: s for s in Submission.objects.filter(guarantee=guarantee, office=office)
    }


# The office's list (/dsure/office/, the API): sort keys → order, each ending in a unique column.
OFFICE_SORTS = {
    "new": ("-last_delivered_at", "-pk"),
    "number": ("number",),
    "ends": ("current_ends_on", "number"),
    "amount": ("-current_amount", "number"),
    "work_number": ("work__work_number", "number"),
}


def _status_q(status, today):
    """The SQL of one status (Status, as status_of decides it) over with_current rows."""
    alive = Q(cancelled_at__isnull=True)
    open_ = alive & Q(completed_on__isnull=True)
    running = open_ & Q(current_ends_on__gte=today)
    return {
        Status.CANCELLED: ~alive,
        Status.COMPLETED: alive & Q(completed_on__isnull=False),
        Status.EXPIRED: open_ & Q(current_ends_on__lt=today),
        Status.CHANGED: running & Q(current_version__gt=1),
        Status.VALID: running & Q(current_version=1),
    }[status]


def _active(queryset, today):
    """有効 in the duplicate check's sense: not cancelled or completed, its 保証期間 not over."""
    return queryset.filter(
        cancelled_at__isnull=True, completed_on__isnull=True, current_ends_on__gte=today
    )


def office_list(
    office,
    *,
    kind="",
    status="",
    ending_within=None,
    unreceived=False,
    returned=False,
    q="",
    sort="new",
    today=None,
    user=None,
):
    """Every guarantee in the office's favour that reached it (delivered, handed over, or
    opened by its users with the key): a queryset, newest delivery first, for a page at a
    time. Each row carries its current version, amount and period (with_current), the
    office's latest answer (`office_status` of `office_version`), `last_delivered_at`, and
    `duplicate` (another 有効 guarantee of the same kind for the same 工事番号 reached this
    office), and for `user` the kind of the latest alert they have not seen (`alert_kind`:
    the badge). The query count does not grow with the rows: every column is a subquery.

    Filters: `kind`; `status` (Status.*); `ending_within` N days (保証期限, i.e. the 工期's
    end for 前払金, from today to today + N); `unreceived` (the office has not answered the
    current version); `returned` (its latest answer is 返戻); `q` matches 工事番号, 工事名, the
    保証契約番号 (typed with or without dashes) or the contractor's name.
    """
    today = today or timezone.localdate()
    mine = Submission.objects.filter(guarantee=OuterRef("pk"), office=office)
    latest = mine.order_by("-certificate__version", "-pk")
    others = _active(
        with_current(
            Guarantee.objects.filter(
                kind=OuterRef("kind"), work__work_number=OuterRef("work__work_number")
            )
            .exclude(pk=OuterRef("pk"))
            .filter(Exists(Submission.objects.filter(guarantee=OuterRef("pk"), office=office)))
        ),
        today,
    )
    rows = (
        with_current(Guarantee.objects.filter(orderer_id=office.orderer_id).filter(Exists(mine)))
        .annotate(
            current_starts_on=_latest("starts_on"),
            office_status=Subquery(latest.values("status")[:1]),
            office_version=Subquery(latest.values("certificate__version")[:1]),
            last_delivered_at=Subquery(mine.order_by("-delivered_at").values("delivered_at")[:1]),
            has_twin=Exists(others),
            # Reached without a key (delivered or handed over): its users open it directly;
            # otherwise (opened with the key) each user types the key again.
            keyless=Exists(mine.filter(channel__in=_KEYLESS)),
        )
        .select_related("work", "company")
    )
    if user is not None:
        unseen = (
            OfficeAlert.objects.filter(guarantee=OuterRef("pk"), office=office)
            .exclude(seen__user=user)
            .order_by("-at", "-pk")
        )
        rows = rows.annotate(alert_kind=Subquery(unseen.values("kind")[:1]))
    if kind:
        rows = rows.filter(kind=kind)
    if status:
        rows = rows.filter(_status_q(status, today))
    if ending_within is not None:
        rows = rows.filter(
            current_ends_on__gte=today,
            current_ends_on__lte=today + datetime.timedelta(days=ending_within),
        )
    if unreceived:
        delivered = Q(office_status=Submission.Status.DELIVERED)
        rows = rows.filter(delivered | Q(office_version__lt=F("current_version")))
    if returned:
        rows = rows.filter(office_status=Submission.Status.RETURNED)
    if q:
        match = (
            Q(work__work_number__icontains=q)
            | Q(work__name__icontains=q)
            | Q(company__name__icontains=q)
        )
        # A number as printed (08-1-0000001-2) or typed in full width: digits only, then
        # NFKC (safe on digits; never on free text, DESIGN.md §10).
        compact = re.sub(r"[\s\-‐‑–—−ー－ｰ]", "", q)
        if compact.isdigit():
            match |= Q(number__contains=unicodedata.normalize("NFKC", compact))
        rows = rows.filter(match)
    return rows.order_by(*OFFICE_SORTS.get(sort, OFFICE_SORTS["new"]))


def label_office_rows(rows, today=None):
    """Label the rows of one page (office_list): status today, 未受領, 返戻, duplicate."""
    today = today or timezone.localdate()
    add_status(rows, today)
    for g in rows:
        g.unreceived = (
            g.office_status == Submission.Status.DELIVERED or g.office_version < g.current_version
        )
        g.returned = g.office_status == Submission.Status.RETURNED
        g.duplicate = g.has_twin and g.status in (Status.VALID, Status.CHANGED)
        kind = getattr(g, "alert_kind", None)
        g.alert_label = OfficeAlert.Kind(kind).label if kind else ""
    return rows
