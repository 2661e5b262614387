"""What the API reads: the token office's guarantees, and their terms as typed values.

Scope (docs/decisions/0024): a token sees the guarantees that reached its office —
delivered or handed over to it. Anything else is a 404, the same answer as for a number
that does not exist. Reads go through the registry's selectors (certificates.selectors),
the ones the pages use.
"""

import datetime

from django.core import signing
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404
from django.utils import timezone

from api.models import ApiToken, WebhookDelivery, WebhookEndpoint
from certificates import content as certificate_content
from certificates import selectors as registry
from certificates.models import Certificate, Document, Guarantee, Submission, Work
from certificates.numbering import format_number, parse_number
from esure.identifiers import normalize_identifier
from esure.wareki import to_wareki

STATUS_CODES = registry.Status.CODES
STATUS_OF_CODE = {code: status for status, code in STATUS_CODES.items()}


def _reached(guarantee, office):
    """Whether the guarantee reached the office without a key (delivered or handed over:
    the registry's submissions, decision 0018)."""
    return registry.is_submitted_to(guarantee, office)


def office_guarantee(office, typed_number):
    """The guarantee `typed_number` names (printed or compact form), if it reached `office`;
    otherwise 404 — for a malformed, unknown or another office's number alike."""
    parsed = parse_number(typed_number or "")
    if parsed is None:
        raise Http404
    guarantee = (
        Guarantee.objects.select_related("work", "orderer", "office", "company")
        .filter(number=parsed.number, orderer_id=office.orderer_id)
        .first()
    )
    if guarantee is None or not _reached(guarantee, office):
        raise Http404
    return guarantee


def _date(value):
    return {"iso": value, "wareki": to_wareki(value)}


def detail_versions(guarantee_id):
    """The versions a GuaranteeOut lists, oldest first, in one query: each with its guarantee
    joined and the SHA-256 of its certificate PDF (the original: `certificate_pdf_sha256`,
    None while the after-commit documents are being produced)."""
    pdf = Document.objects.filter(
        certificate=OuterRef("pk"), kind=Document.Kind.CERTIFICATE, extends=None
    ).values("sha256")[:1]
    return list(
        Certificate.objects.select_related("guarantee")
        .filter(guarantee_id=guarantee_id)
        .annotate(certificate_pdf_sha256=Subquery(pdf))
        .order_by("version")
    )


def version_summary(certificate):
    return {
        "version": certificate.version,
        "issued_at": certificate.issued_at,
        "change_summary": certificate.change_summary,
        "amount": certificate.amount,
        "starts_on": _date(certificate.starts_on),
        "ends_on": _date(certificate.ends_on),
        "fingerprint": certificate.fingerprint,
        "pdf_sha256": certificate.certificate_pdf_sha256,  # detail_versions
    }


def guarantee_detail(guarantee, versions=None):
    """A guarantee's current terms and its versions, as GuaranteeOut states them. The terms
    are those of the latest version's frozen content (what the certificate says)."""
    versions = versions if versions is not None else detail_versions(guarantee.pk)
    current = versions[-1]
    status = registry.status_of_guarantee(guarantee, current)
    work = current.content["work"]
    return {
        "number": guarantee.number,
        "number_display": format_number(guarantee.number),
        "kind": guarantee.kind,
        "kind_label": guarantee.get_kind_display(),
        "status": STATUS_CODES[status],
        "status_label": status,
        "orderer": {"name": current.content["orderer"]["name"]},
        "office": {"name": current.content["office"]["name"]},
        "contractor": {
            "name": current.content["contractor"]["name"],
            "corporate_number": current.content["contractor"]["corporate_number"],
        },
        "work": {
            "number": work["number"],
            "name": work["name"],
            "location": work["location"],
            "price": work["price"],
            "contract_date": _date(_iso(work["contract_date"])),
            "start_date": _date(_iso(work["start_date"])),
            "end_date": _date(_iso(work["end_date"])),
        },
        "amount": current.amount,
        "starts_on": _date(current.starts_on),
        "ends_on": _date(current.ends_on),
        "current_version": current.version,
        "concluded_at": guarantee.concluded_at,
        "cancelled_at": guarantee.cancelled_at,
        "completed_on": _date(guarantee.completed_on) if guarantee.completed_on else None,
        "versions": [version_summary(v) for v in versions],
    }


def _iso(text):
    return datetime.date.fromisoformat(text)


def _version(guarantee, n):
    """One certificate version of the guarantee as detail_versions reads it (from its list:
    no query takes `n`, whatever its size), or 404."""
    certificate = next((v for v in detail_versions(guarantee.pk) if v.version == n), None)
    if certificate is None:
        raise Http404
    return certificate


def answerable_version(guarantee, office, n):
    """Version `n` of the guarantee if it reached `office` (a submission of that version to
    the office: what the office may answer with 受領/返戻); otherwise 404."""
    certificate = _version(guarantee, n)
    if not Submission.objects.filter(certificate=certificate, office=office).exists():
        raise Http404
    return certificate


def version_detail(guarantee, n):
    """One version: its summary, frozen content, the canonical JSON its fingerprint covers."""
    certificate = _version(guarantee, n)
    return {
        "number": guarantee.number,
        **version_summary(certificate),
        "content": certificate.content,
        "canonical_json": certificate_content.canonical_json(certificate.content).decode(),
    }


def version_pdf(guarantee, n):
    """The stored PDF (Document) of one version: the original bytes, as D-Sure serves them."""
    return registry.get_document(
        guarantee, _version(guarantee, n).version, Document.Kind.CERTIFICATE
    )


# --- The office's list: GET /guarantees (docs/decisions/0032) -------------------------------

LIST_LIMIT = 50  # rows per page unless the client asks for fewer or more
LIST_LIMIT_MAX = 200  # the most a page holds: one page stays one fast query
CURSOR_SALT = "api.guarantees.cursor"


class BadCursor(Exception):
    """A cursor that esure did not issue for this office (altered, truncated, another's)."""


def _latest_of(queryset, field):
    return Subquery(
        queryset.filter(**{f"{field}__isnull": False}).order_by(f"-{field}").values(field)[:1]
    )


def with_updated_at(rows, office):
    """Annotate `updated_at`: when the guarantee last changed for the office — the latest of
    its latest version's issue, a delivery to the office, its cancellation, its 完成 and the
    office's last 受領/返戻. The one definition of "updated" (GET /guarantees?updated_since=,
    and the list's order). Each term falls back to concluded_at: GREATEST must not meet a NULL
    (SQLite answers NULL where PostgreSQL skips it)."""
    mine = Submission.objects.filter(guarantee=OuterRef("pk"), office=office)
    issued = Certificate.objects.filter(guarantee=OuterRef("pk"))
    floor = F("concluded_at")
    return rows.annotate(
        updated_at=Greatest(
            Coalesce(_latest_of(issued, "issued_at"), floor),
            Coalesce(_latest_of(mine, "delivered_at"), floor),
            Coalesce(_latest_of(mine, "decided_at"), floor),
            Coalesce("cancelled_at", floor),
            Coalesce("completed_at", floor),
        )
    )


def _work_numbers_matching(office, typed):
    """The 工事番号 values, as stored, of the office's guarantees that read as `typed` once
    both are normalised (NFKC, upper case, no spaces or dashes: esure.identifiers). Work
    numbers are stored as typed, and no SQL function normalises the same way on PostgreSQL
    and SQLite, so the office's distinct work numbers are compared here: one query."""
    wanted = normalize_identifier(typed)
    stored = (
        Work.objects.filter(guarantees__submissions__office=office)
        .values_list("work_number", flat=True)
        .distinct()
    )
    return [number for number in stored if number and normalize_identifier(number) == wanted]


def encode_cursor(office, row):
    """An opaque cursor after `row`: its sort key, signed with the office's id (a client can
    neither forge nor alter it, nor use another office's)."""
    key = {"o": office.pk, "u": row.updated_at.isoformat(), "p": row.pk}
    return signing.dumps(key, salt=CURSOR_SALT)


def decode_cursor(office, cursor):
    """(updated_at, pk) from a cursor this office was given; BadCursor otherwise."""
    try:
        key = signing.loads(cursor, salt=CURSOR_SALT)
        if key["o"] != office.pk:
            raise BadCursor
        return datetime.datetime.fromisoformat(key["u"]), int(key["p"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise BadCursor from error


def office_guarantees(
    office, *, status="", kind="", updated_since=None, work_number="", after=None, limit=LIST_LIMIT
):
    """One page of the office inbox's rows (certificates.selectors.office_list, its scope
    and filters: delivered, handed over, or opened by the office's users with the key —
    each row's `keyless` says which; decision 0041) — oldest update first (updated_at, then
    pk: a row updated while a client pages moves behind the cursor and is seen again, never
    skipped). `after` is a decoded cursor. Returns (rows, more): at most `limit` rows,
    labelled with their status today, and whether another page follows. One query (two
    with `work_number`) whatever the page size."""
    rows = registry.office_list(office, kind=kind, status=STATUS_OF_CODE[status] if status else "")
    rows = with_updated_at(rows, office)
    if updated_since is not None:
        rows = rows.filter(updated_at__gte=updated_since)
    if work_number:
        rows = rows.filter(work__work_number__in=_work_numbers_matching(office, work_number))
    if after is not None:
        at, pk = after
        rows = rows.filter(Q(updated_at__gt=at) | Q(updated_at=at, pk__gt=pk))
    page = list(rows.order_by("updated_at", "pk")[: limit + 1])
    registry.add_status(page[:limit])
    return page[:limit], len(page) > limit


def list_item(g):
    """One row of GET /guarantees (GuaranteeListItem), from office_list's annotations."""
    return {
        "number": g.number,
        "number_display": format_number(g.number),
        "kind": g.kind,
        "kind_label": g.get_kind_display(),
        "status": STATUS_CODES[g.status],
        "status_label": g.status,
        "work_number": g.work.work_number,
        "work_name": g.work.name,
        "contractor_name": g.company.name,
        "amount": g.current_amount,
        "starts_on": _date(g.current_starts_on),
        "ends_on": _date(g.current_ends_on),
        "current_version": g.current_version,
        "answer": {"status": g.office_status, "version": g.office_version},
        "updated_at": g.updated_at,
        # Opened with the key only (as D-Sure's inbox, which asks for the key again):
        # GET /guarantees/{number} is a 404, POST /verify with the key reads it.
        "key_required": not g.keyless,
    }


# --- Tokens (the office 管理者's page) ------------------------------------------------------


def office_of(user):
    """The orderer office of a logged-in office user (accounts.OfficeMembership), or None."""
    membership = getattr(user, "office_membership", None) if user.is_authenticated else None
    return membership.office if membership else None


def tokens_of(office, now=None):
    """The office's tokens, newest first (revoked and expired ones too: their history), each
    labelled with its `state` (有効 / 期限切れ / 失効)."""
    now = now or timezone.now()
    tokens = list(
        ApiToken.objects.filter(office=office)
        .select_related("created_by")
        .order_by("-created_at", "-pk")
    )
    for token in tokens:
        if token.revoked_at is not None:
            token.state = "失効"
        elif not token.is_active(now):
            token.state = "期限切れ"
        else:
            token.state = "有効"
    return tokens


def get_token_for(office, pk):
    """One token of the office; another office's token is a 404."""
    token = ApiToken.objects.filter(office=office, pk=pk).first()
    if token is None:
        raise Http404
    return token


# --- Webhooks ------------------------------------------------------------------------------


def offices_reached(guarantee):
    """The ids of the offices the guarantee reached without a key (its webhook audience)."""
    keyless = Submission.objects.filter(guarantee=guarantee).exclude(channel=Submission.Channel.KEY)
    return sorted(set(keyless.values_list("office_id", flat=True)))


def endpoints_of(office):
    return list(WebhookEndpoint.objects.filter(office=office).order_by("-created_at", "-pk"))


def get_endpoint_for(office, pk):
    """One endpoint of the office; another office's is a 404."""
    endpoint = WebhookEndpoint.objects.filter(office=office, pk=pk).first()
    if endpoint is None:
        raise Http404
    return endpoint


def get_delivery_for(endpoint, pk):
    delivery = (
        WebhookDelivery.objects.select_related("event", "endpoint")
        .filter(endpoint=endpoint, pk=pk)
        .first()
    )
    if delivery is None:
        raise Http404
    return delivery


DELIVERIES_SHOWN = 50


def deliveries_of(endpoint):
    """The endpoint's latest deliveries with their attempts (three queries)."""
    return list(
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .prefetch_related("attempts")
        .order_by("-created_at", "-pk")[:DELIVERIES_SHOWN]
    )
