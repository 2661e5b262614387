"""Read access for the application workflow: access helpers and the menu-2/3 work lists."""

import uuid

from django.db.models import CharField, Exists, OuterRef, Q, StringAgg, Subquery, Value
from django.db.models.functions import Cast, Concat, Length
from django.shortcuts import get_object_or_404

from accounts.models import Company, Orderer
from accounts.selectors import joint_venture_ids_of, joint_venture_member
from applications.models import GUARANTEED, TAKEN, Application, ApplicationItem
from certificates import selectors as registry
from certificates.models import Work
from esure.choices import GuaranteeKind
from esure.pagination import PreparedList
from esure.queries import AnyOf, Prepared


def get_application_for(company, pk):
    """One application of the user's company; another company's is a 404 like a missing one."""
    return get_object_or_404(
        Application.objects.select_related("work", "work__orderer", "work__office"),
        pk=pk,
        company=company,
    )


def get_application_readable_by(company, pk):
    """One application of the company, or of a 共同企業体 it is a member of (read-only for
    the members: every other helper here gives them a 404)."""
    return get_object_or_404(
        Application.objects.select_related("work", "work__orderer", "work__office").filter(
            registry.readable_by(company)
        ),
        pk=pk,
    )


def _filter_orderers(company, member):
    """Menu 4's filter: the orderers of the company's works and its 共同企業体's as one text
    (a scalar subquery, evaluated once per statement): each orderer as "pk:length:name", the
    length of its name in characters, so that any name reads back whole (orderers_in, which
    puts them in order: SQLite before 3.44 orders no aggregate, and `make run`'s Python may
    bring an older one)."""
    # AnyOf: both sides of the OR index scans, not a scan of every work (1.0 → 0.1 ms); and
    # the orderers read by the ids of the company's works (one index scan of those works),
    # not each orderer probing its works for one of the company's — a semi join whose cost
    # grew with every orderer's works (EXPLAIN ANALYZE at scale 0.01, 50 orderers, in menu
    # 4's statement: 1.17 → 0.14 ms). Each orderer once (no DISTINCT over a join).
    # `member`: as in certificates.selectors.readable_by (None: no JV's works).
    own = Q(company=company)
    if member is not None:
        own |= AnyOf("joint_venture_id", joint_venture_ids_of(member))
    works = Work.objects.filter(own).values("orderer_id")
    entry = Concat(
        Cast("pk", CharField()),
        Value(":"),
        Cast(Length("name"), CharField()),
        Value(":"),
        "name",
    )
    # Grouped by a constant, which GROUP BY leaves out: one row for all the orderers.
    return Subquery(
        Orderer.objects.filter(AnyOf("pk", works))
        .order_by()
        .annotate(one=Value(1))
        .values("one")
        .annotate(text=StringAgg(entry, Value("")))
        .values("text")
    )


# For a page without rows, which cannot carry them (decision 0044: compiled once per process).
_FILTER_ORDERERS = Prepared(
    lambda company, member: Company.objects.filter(pk=company).values(
        orderer_list=_filter_orderers(company, member)
    )
)


def orderer_list_of(company):
    """The text of menu 4's filter orderers (see orderers_in), read on its own: for a page
    without rows; a page's rows carry it (applications_of)."""
    [row] = _FILTER_ORDERERS.rows(company=company.pk, member=joint_venture_member(company))
    return row["orderer_list"]


def orderers_in(orderer_list):
    """Menu 4's filter orderers from their text ("pk:length:name" each, in no order; None for
    none): dicts of pk and name, by name (then pk)."""
    orderers, text, at = [], orderer_list or "", 0
    while at < len(text):
        colon = text.index(":", at)
        second = text.index(":", colon + 1)
        end = second + 1 + int(text[colon + 1 : second])
        orderers.append({"pk": int(text[at:colon]), "name": text[second + 1 : end]})
        at = end
    return sorted(orderers, key=lambda o: (o["name"], o["pk"]))


def application_by_token(company, token):
    """The application a new-application form created (its hidden client_token), if any."""
    try:
        token = uuid.UUID(str(token))
    except ValueError:
        return None
    return (
        Application.objects.select_related("work", "work__orderer", "work__office")
        .filter(company=company, client_token=token)
        .first()
    )


# A row's items as one text of "kind:amount", comma-separated ("contract:1234500,
# advance:4900000"; an amount not typed yet is empty): read with the row, not in a statement
# of their own. Kinds are words and amounts digits: neither holds a comma or a colon. In no
# order (SQLite before 3.44 orders no aggregate): items_in sorts them by kind.
ITEM_SEPARATOR, AMOUNT_SEPARATOR = ",", ":"


def _items_text():
    line = Concat("kind", Value(AMOUNT_SEPARATOR), Cast("amount", CharField()))
    return Subquery(
        ApplicationItem.objects.filter(application_id=OuterRef("pk"))
        .order_by()
        .values("application_id")
        .annotate(text=StringAgg(line, Value(ITEM_SEPARATOR)))
        .values("text")
    )


def _menu4_of(company, member, status, orderer_id):
    """The readable applications, newest change first, each with its work's, orderer's and
    company's names and its items as scalar subqueries: evaluated for the page's rows only,
    after the sort; and the filter's orderers (one subquery, evaluated once), so that the
    page needs no statement of its own for them."""
    # The registry's rule (decision 0023): an application has a company and a work as a
    # guarantee has.
    qs = Application.objects.filter(registry.readable_by(company, member))
    if status:
        qs = qs.filter(status=status)
    if orderer_id:
        qs = qs.filter(work__orderer_id=orderer_id)
    work = Work.objects.filter(pk=OuterRef("work_id"))
    return qs.annotate(
        work_name=Subquery(work.values("name")),
        orderer_name=Subquery(work.values("orderer__name")),
        company_name=Subquery(Company.objects.filter(pk=OuterRef("company_id")).values("name")),
        item_list=_items_text(),
        orderer_list=_filter_orderers(company, member),
    ).order_by("-updated_at", "-pk")


# Menu 4's list: its statement compiled once per process (decision 0044, esure.pagination).
_MENU4 = PreparedList(
    _menu4_of,
    fields=(
        "pk",
        "status",
        "menu",
        "updated_at",
        "company_id",
        "company_name",
        "work_name",
        "orderer_name",
        "item_list",
        "orderer_list",
    ),
)


def applications_of(company, *, status="", orderer_id=None):
    """Menu 4: the company's applications and, read-only, those of a 共同企業体 it is a
    member of (decision 0023: the same rows get_application_readable_by opens), newest
    change first, for page_of: each page's rows are dicts of _MENU4's fields (the items for
    items_in, the filter's orderers for orderers_in)."""
    return _MENU4.of(
        company=company.pk,
        member=joint_venture_member(company),
        status=status or "",
        orderer_id=orderer_id,
    )


def items_in(item_list):
    """A menu-4 row's items, from its item_list text: (kind, amount or None) by kind."""
    if not item_list:
        return []
    pairs = sorted(line.partition(AMOUNT_SEPARATOR) for line in item_list.split(ITEM_SEPARATOR))
    return [(kind, int(amount) if amount else None) for kind, _, amount in pairs]


def _item_exists(kind, statuses):
    return Exists(
        ApplicationItem.objects.filter(
            application__work=OuterRef("pk"), kind=kind, application__status__in=statuses
        )
    )


def works_for_advance(company):
    """Menu 2: works with a 契約保証 (approved or concluded) and no 前払金保証 yet."""
    return (
        Work.objects.filter(company=company)
        .filter(_item_exists(GuaranteeKind.CONTRACT, GUARANTEED))
        .exclude(_item_exists(GuaranteeKind.ADVANCE, TAKEN))
        .select_related("orderer")
        .order_by("-created_at")
    )


def works_for_intermediate(company):
    """Menu 3: works with a guaranteed 前払金 and no 中間前払金保証 yet."""
    return (
        Work.objects.filter(company=company)
        .filter(_item_exists(GuaranteeKind.ADVANCE, GUARANTEED))
        .exclude(_item_exists(GuaranteeKind.INTERMEDIATE, TAKEN))
        .select_related("orderer")
        .order_by("-created_at")
    )


def guaranteed_amount(work, kind):
    """The amount of `kind` guaranteed (approved or concluded) for the work, or None."""
    item = (
        ApplicationItem.objects.filter(
            application__work=work, kind=kind, application__status__in=GUARANTEED
        )
        .order_by("-application__submitted_at")
        .first()
    )
    return item.amount if item else None


def kinds_requested_elsewhere(application):
    """The kinds that other live applications of the same work request (one query)."""
    return set(
        ApplicationItem.objects.filter(
            application__work_id=application.work_id, application__status__in=TAKEN
        )
        .exclude(application_id=application.pk)
        .values_list("kind", flat=True)
    )
