"""Bench data: fills the current database fast with PostgreSQL COPY (psycopg 3 cursor.copy()).

    BENCH_SCALE=0.01 python bench/generate.py [--manifest var/bench/manifest.json]

Counts at scale 1 (each multiplied by BENCH_SCALE, at least 1): 20,000 companies, 50
orderers (2 offices each), 500,000 works with 2 guarantees each (前払金 + 契約保証) =
1,000,000 guarantees, each with its Certificate v1 (content built by
certificates.content.build_content, real fingerprint) and a Document whose file is ONE shared,
really rendered PDF (its sha256 recorded on every row), and 10,000,000 D-Sure AccessLog rows.
Plus, at every scale, one verified "list company" with 500 guarantees (of the above) and 200
applications (menu 4), and a logged-in member.

Numbers are valid Damm numbers (make_number), keys are derived (derive_key with the running
settings' ESURE_AUTH_KEY_SECRET). It writes into whatever DATABASES["default"] is: bench/run.py
points it at esure_bench; the smoke test at pytest's test database.

History of the access log: failures are dated 200-365 days ago and successes 1-180 days ago,
so every number's consecutive-failure count (dsure.throttle.number_state) starts at 0 while
its (number, at) index holds ~10 rows per number as in a busy year.
"""

import argparse
import datetime
import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BATCH = 50_000
LIST_GUARANTEES = 500
LIST_APPLICATIONS = 200
FISCAL_YEAR = 8  # 令和8年度 (2026)
SHARED_PDF = "bench/shared-certificate.pdf"  # under MEDIA_ROOT


def scale():
    return float(os.environ.get("BENCH_SCALE", "1"))


def counts(s=None):
    s = scale() if s is None else s
    guarantees = max(LIST_GUARANTEES + 2, int(1_000_000 * s))
    guarantees += guarantees % 2  # two per work
    return {
        "companies": max(2, int(20_000 * s)),
        "orderers": max(1, int(50 * s)),
        "guarantees": guarantees,
        "works": guarantees // 2,
        "access_logs": max(10, int(10_000_000 * s)),
    }


def _text(value):
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


class Loader:
    """COPY rows into tables in batches, with one progress line per table."""

    def __init__(self, connection, out=sys.stdout):
        self.connection = connection
        self.out = out

    def next_id(self, table):
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
            return cursor.fetchone()[0] + 1

    def copy(self, table, columns, rows, total):
        """COPY rows in; the table's plain indexes (not those behind a constraint) are dropped
        first and built again after: one sort per index instead of a B-tree insert per row."""
        started = time.monotonic()
        done = 0
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self.connection.cursor() as wrapper:
            wrapper.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname"
                " NOT IN (SELECT conname FROM pg_constraint)",
                [table],
            )
            indexes = wrapper.fetchall()
            for name, _ in indexes:
                wrapper.execute(f'DROP INDEX "{name}"')
            raw = wrapper.cursor  # the psycopg 3 cursor under Django's wrapper
            with raw.copy(sql) as copy:
                buffer = []
                for row in rows:
                    buffer.append("\t".join(map(_text, row)))
                    if len(buffer) >= BATCH:
                        copy.write("\n".join(buffer) + "\n")
                        done += len(buffer)
                        buffer = []
                        self._progress(table, done, total, started)
                if buffer:
                    copy.write("\n".join(buffer) + "\n")
                    done += len(buffer)
            self._progress(table, done, total, started, end="")
            built = time.monotonic()
            for _, definition in indexes:
                wrapper.execute(definition)
            self.out.write(f"  + {len(indexes)} indexes in {time.monotonic() - built:.1f} s\n")
            wrapper.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT MAX(id) FROM {table}))"
            )
        return done, time.monotonic() - started

    def _progress(self, table, done, total, started, end="\r"):
        elapsed = time.monotonic() - started
        rate = done / elapsed if elapsed else 0
        width = 30
        filled = int(width * done / total) if total else width
        self.out.write(
            f"  {table:<28} [{'#' * filled}{'.' * (width - filled)}] "
            f"{done:>11,}/{total:,}  {rate:>9,.0f} rows/s{end}"
        )
        self.out.flush()


def _corporate_number(n):
    from accounts.validators import corporate_number_check_digit

    base = f"{n:012d}"
    return f"{corporate_number_check_digit(base)}{base}"


def _timestamps(rng, start, end, n=20_000):
    """n formatted timestamps between start and end (chosen from at random per row: cheap)."""
    span = (end - start).total_seconds()
    return [(start + datetime.timedelta(seconds=rng.random() * span)).isoformat() for _ in range(n)]


def render_shared_pdf(template_content, fingerprint_):
    """Render one real 保証証書 PDF (as issuance would) and store it once under MEDIA_ROOT."""
    from django.core.files.storage import default_storage

    from certificates import pdf
    from certificates.models import Certificate, Document

    certificate = Certificate(content=template_content, fingerprint=fingerprint_, version=1)
    data = pdf.render_issuance_documents(certificate)[Document.Kind.CERTIFICATE]
    path = Path(default_storage.path(SHARED_PDF))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest(), len(data)


def generate(s=None, out=sys.stdout, seed=20261130):
    """Load the bench data into the default database; return the manifest (a dict)."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Company, Membership, Orderer, OrdererOffice, User
    from applications.models import Application, ApplicationItem
    from certificates import content as certificate_content
    from certificates.keys import derive_key
    from certificates.models import Work
    from certificates.numbering import format_number, make_number
    from esure.choices import ContractMethod, GuaranteeKind, WorkCategory

    n = counts(s)
    rng = random.Random(seed)
    loader = Loader(connection, out)
    now = timezone.now()
    timings = {}
    out.write(f"bench data at scale {scale() if s is None else s}: {n}\n")
    started_all = time.monotonic()

    with transaction.atomic():
        # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: checked at each COPY's end
        # instead, so that the indexes dropped for the load can be built in this transaction.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # --- orderers and their offices (few: the ORM) ----------------------------------
        orderers = Orderer.objects.bulk_create(
            Orderer(
                name=f"ベンチ市{i:03d}",
                prefecture="大分県",
                head_title=f"ベンチ市{i:03d}長",
                electronic_since=datetime.date(2024, 10, 1),
            )
            for i in range(n["orderers"])
        )
        offices = OrdererOffice.objects.bulk_create(
            OrdererOffice(orderer=o, name=name, handles_kinds=kinds)
            for o in orderers
            for name, kinds in (
                ("総務課 契約担当", [GuaranteeKind.CONTRACT]),
                ("土木課 工事担当", [GuaranteeKind.ADVANCE, GuaranteeKind.INTERMEDIATE]),
            )
        )
        office_of = {o.pk: [f for f in offices if f.orderer_id == o.pk] for o in orderers}

        # --- companies (COPY); the first one is the list company ------------------------
        company_base = loader.next_id("accounts_company")
        company_cols = [
            "id",
            "corporate_number",
            "name",
            "name_kana",
            "representative_title",
            "representative_name",
            "postal_code",
            "address",
            "phone",
            "license_number",
            "status",
            "created_at",
            "verified_at",
        ]
        corp_offset = 900_000_000_000 + company_base * 10

        def company_rows():
            for i in range(n["companies"]):
                yield (
                    company_base + i,
                    _corporate_number(corp_offset + i),
                    f"株式会社ベンチ建設{i:06d}",
                    f"カブシキガイシャベンチケンセツ{i:06d}",
                    "代表取締役",
                    "大分 一郎",
                    "879-2435",
                    "大分県津久見市宮本町20番15号",
                    "0972-82-0000",
                    "大分県知事許可(般-6)第12345号",
                    "verified",
                    now.isoformat(),
                    now.isoformat(),
                )

        timings["companies"] = loader.copy(
            "accounts_company", company_cols, company_rows(), n["companies"]
        )
        list_company_id = company_base

        # --- works: the first LIST_GUARANTEES/2 belong to the list company ---------------
        work_base = loader.next_id("certificates_work")
        work_cols = [
            "id",
            "company_id",
            "orderer_id",
            "office_id",
            "work_number",
            "name",
            "location",
            "category",
            "contract_method",
            "price",
            "contract_date",
            "contract_date_planned",
            "start_date",
            "end_date",
            "low_bid",
            "created_at",
        ]
        list_works = LIST_GUARANTEES // 2
        work_company = [
            list_company_id if i < list_works else company_base + rng.randrange(1, n["companies"])
            for i in range(n["works"])
        ]
        work_orderer = [orderers[i % len(orderers)].pk for i in range(n["works"])]

        def work_rows():
            for i in range(n["works"]):
                yield (
                    work_base + i,
                    work_company[i],
                    work_orderer[i],
                    office_of[work_orderer[i]][1].pk,
                    f"ベ土第R8-{i}号",
                    f"ベンチ道路改良工事{i}",
                    "津久見市大字堅浦地内",
                    "construction",
                    "general",
                    12_345_000,
                    "2026-10-01",
                    False,
                    "2026-10-02",
                    "2027-03-14",
                    False,
                    now.isoformat(),
                )

        timings["works"] = loader.copy("certificates_work", work_cols, work_rows(), n["works"])

        # --- one real content and one real PDF, shared by every Document row -------------
        sample_company = Company(
            name="株式会社ベンチ建設000000",
            corporate_number=_corporate_number(corp_offset),
            address="大分県津久見市宮本町20番15号",
            representative_title="代表取締役",
            representative_name="大分 一郎",
        )
        sample_work = Work(
            work_number="ベ土第R8-0号",
            name="ベンチ道路改良工事0",
            location="津久見市大字堅浦地内",
            category=WorkCategory.CONSTRUCTION,
            contract_method=ContractMethod.GENERAL,
            price=12_345_000,
            contract_date=datetime.date(2026, 10, 1),
            start_date=datetime.date(2026, 10, 2),
            end_date=datetime.date(2027, 3, 14),
        )
        fee = {
            "fee": 23_000,
            "rate_ppm": 4_700,
            "minimum_fee": 3_000,
            "table_name": "ベンチ用料率",
            "is_demo": True,
            "received_on": "2026-10-01",
            "method": "transfer",
        }
        issued_at = now - datetime.timedelta(days=30)
        template = certificate_content.build_content(
            number=make_number(FISCAL_YEAR, GuaranteeKind.ADVANCE, 1),
            kind=GuaranteeKind.ADVANCE,
            version=1,
            issued_at=issued_at,
            company=sample_company,
            work=sample_work,
            orderer=orderers[0],
            office=office_of[orderers[0].pk][1],
            amount=4_900_000,
            starts_on=datetime.date(2026, 10, 1),
            ends_on=datetime.date(2027, 4, 13),
            fee=fee,
            surety_name=settings.ESURE_SURETY_NAME,
            delivery="electronic",
        )
        t0 = time.monotonic()
        pdf_sha256, pdf_size = render_shared_pdf(
            template, certificate_content.fingerprint(template)
        )
        timings["pdf_render"] = (1, time.monotonic() - t0)
        out.write(f"  shared PDF {SHARED_PDF}: {pdf_size:,} bytes, sha256 {pdf_sha256}\n")

        # --- guarantees, certificates, documents -----------------------------------------
        kinds = (GuaranteeKind.ADVANCE, GuaranteeKind.CONTRACT)
        amounts = {GuaranteeKind.ADVANCE: 4_900_000, GuaranteeKind.CONTRACT: 1_234_500}
        titles = {k: certificate_content.TITLES[k] for k in kinds}
        labels = {k: GuaranteeKind(k).label for k in kinds}
        numbers = [
            make_number(FISCAL_YEAR, kinds[g % 2], g // 2 + 1) for g in range(n["guarantees"])
        ]
        g_base = loader.next_id("certificates_guarantee")
        c_base = loader.next_id("certificates_certificate")
        d_base = loader.next_id("certificates_document")
        concluded = issued_at.isoformat()
        g_cols = [
            "id",
            "number",
            "kind",
            "company_id",
            "work_id",
            "orderer_id",
            "office_id",
            "delivery",
            "key_version",
            "key_salt",
            "concluded_at",
            "cancelled_at",
            "printed_at",
        ]

        def guarantee_rows():
            for g in range(n["guarantees"]):
                w = g // 2
                yield (
                    g_base + g,
                    numbers[g],
                    kinds[g % 2],
                    work_company[w],
                    work_base + w,
                    work_orderer[w],
                    office_of[work_orderer[w]][1].pk,
                    "electronic",
                    1,
                    "",  # no salt: the key is derive_key(number, 1), as the manifest says
                    concluded,
                    None,
                    None,
                )

        timings["guarantees"] = loader.copy(
            "certificates_guarantee", g_cols, guarantee_rows(), n["guarantees"]
        )

        c_cols = [
            "id",
            "guarantee_id",
            "version",
            "content",
            "fingerprint",
            "amount",
            "starts_on",
            "ends_on",
            "issued_at",
            "change_summary",
        ]

        def certificate_rows():
            for g in range(n["guarantees"]):
                kind = kinds[g % 2]
                w = g // 2
                content = dict(template)
                content.update(
                    number=numbers[g],
                    number_display=format_number(numbers[g]),
                    kind=str(kind),
                    kind_label=labels[kind],
                    title=titles[kind],
                    work={
                        **template["work"],
                        "number": f"ベ土第R8-{w}号",
                        "name": f"ベンチ道路改良工事{w}",
                    },
                    guarantee={**template["guarantee"], "amount": amounts[kind]},
                )
                canonical = certificate_content.canonical_json(content)
                yield (
                    c_base + g,
                    g_base + g,
                    1,
                    canonical.decode(),
                    hashlib.sha256(canonical).hexdigest(),
                    amounts[kind],
                    "2026-10-01",
                    "2027-04-13",
                    concluded,
                    "",
                )

        timings["certificates"] = loader.copy(
            "certificates_certificate", c_cols, certificate_rows(), n["guarantees"]
        )

        d_cols = ["id", "certificate_id", "kind", "file", "sha256", "size", "created_at"]
        timings["documents"] = loader.copy(
            "certificates_document",
            d_cols,
            (
                (d_base + g, c_base + g, "certificate", SHARED_PDF, pdf_sha256, pdf_size, concluded)
                for g in range(n["guarantees"])
            ),
            n["guarantees"],
        )

        # --- the access log: ~10 rows per number ------------------------------------------
        failures_at = _timestamps(
            rng, now - datetime.timedelta(days=365), now - datetime.timedelta(days=200)
        )
        successes_at = _timestamps(
            rng, now - datetime.timedelta(days=180), now - datetime.timedelta(days=1)
        )
        a_base = loader.next_id("dsure_accesslog")
        a_cols = [
            "id",
            "at",
            "ip",
            "number",
            "outcome",
            "attempts",
            "guarantee_id",
            "office_user_id",
        ]
        total_g = n["guarantees"]

        def access_rows():
            rand = rng.random
            for i in range(n["access_logs"]):
                g = int(rand() * total_g)
                ip = f"10.{i % 200}.{(i >> 3) % 250}.{(i >> 5) % 250 + 1}"
                if rand() < 0.8:
                    yield (
                        a_base + i,
                        successes_at[i % 20_000],
                        ip,
                        numbers[g],
                        "success",
                        1,
                        g_base + g,
                        None,
                    )
                else:
                    yield (
                        a_base + i,
                        failures_at[i % 20_000],
                        ip,
                        numbers[g],
                        "failure",
                        1,
                        None,
                        None,
                    )

        timings["access_logs"] = loader.copy(
            "dsure_accesslog", a_cols, access_rows(), n["access_logs"]
        )

        # --- the list company's member and its 200 applications (menu 4) -----------------
        user = User.objects.create_user(f"bench{list_company_id}@bench.example.jp", None)
        Membership.objects.create(user=user, company_id=list_company_id, role=Membership.Role.ADMIN)
        app_works = Work.objects.bulk_create(
            Work(
                company_id=list_company_id,
                orderer=orderers[0],
                office=office_of[orderers[0].pk][1],
                work_number=f"ベ申-{i:04d}",
                name=f"ベンチ申込工事{i:04d}",
                location="津久見市",
                category="construction",
                contract_method="general",
                price=12_345_000,
                contract_date=datetime.date(2026, 10, 1),
                start_date=datetime.date(2026, 10, 2),
                end_date=datetime.date(2027, 3, 14),
            )
            for i in range(LIST_APPLICATIONS)
        )
        statuses = ("draft", "submitted", "returned", "approved")
        applications = Application.objects.bulk_create(
            Application(
                company_id=list_company_id,
                work=w,
                menu="1",
                status=statuses[i % len(statuses)],
                delivery="electronic",
                terms_confirmed=True,
                contact_name="大分 花子",
                contact_phone="0972-82-1234",
                created_by=user,
                submitted_at=None if i % len(statuses) == 0 else now,
            )
            for i, w in enumerate(app_works)
        )
        ApplicationItem.objects.bulk_create(
            ApplicationItem(application=a, kind=kind, amount=amounts[kind])
            for a in applications
            for kind in kinds
        )

    with connection.cursor() as cursor:
        for table in (
            "accounts_company",
            "certificates_work",
            "certificates_guarantee",
            "certificates_certificate",
            "certificates_document",
            "dsure_accesslog",
        ):
            cursor.execute(f"ANALYZE {table}")
    total_seconds = time.monotonic() - started_all

    session_key = member_session(user)

    # Right keys over many guarantees, wrong keys over many other numbers (disjoint, so the
    # right-key scenario never meets a number the wrong-key scenario counted failures on).
    sample = rng.sample(range(LIST_GUARANTEES, n["guarantees"]), min(4000, n["guarantees"] - 500))
    half = len(sample) // 2
    right = [(numbers[g], derive_key(numbers[g], 1)) for g in sample[:half]]
    wrong = [numbers[g] for g in sample[half:]]
    # The orderers' API: the viewer guarantee handed over to its office (the API's scope)
    # and a token of that office, through the services as a clerk and an office do it.
    from accounts.models import OfficeMembership, OrdererSubmissionChannel
    from api import services as api_services
    from certificates import services as registry_services
    from certificates.models import Guarantee
    from dsure import services as dsure_services

    api_guarantee = Guarantee.objects.select_related("office").get(number=right[0][0])
    api_office = api_guarantee.office
    OrdererSubmissionChannel.objects.get_or_create(
        orderer_id=api_guarantee.orderer_id, kind=api_guarantee.kind, channel="handover"
    )
    official = User.objects.create_user("official@bench.example", None)
    OfficeMembership.objects.create(user=official, office=api_office)
    # The hand-over service moves from dsure into the registry with issue #13 (decision 0018):
    # the bench uses whichever this checkout has, so it keeps running across that change.
    hand_over = getattr(registry_services, "hand_over", None) or dsure_services.hand_over
    hand_over(guarantee=api_guarantee, office=api_office, by=user)
    api_token = api_services.create_token(office=api_office, name="bench", by=official)
    manifest = {
        "scale": scale() if s is None else s,
        "api_token": api_token.secret,
        "counts": n,
        "load_seconds": round(total_seconds, 1),
        "rows_per_second": {
            table: round(rows / seconds) for table, (rows, seconds) in timings.items() if seconds
        },
        "shared_pdf": {"path": SHARED_PDF, "sha256": pdf_sha256, "size": pdf_size},
        "list_company_id": list_company_id,
        "list_session_key": session_key,
        "list_user_id": user.pk,
        "right": right,
        "wrong": wrong,
        "viewer_number": right[0][0],
        "viewer_key": right[0][1],
    }
    out.write(f"loaded in {total_seconds:.1f} s\n")
    return manifest


def member_session(user):
    """A logged-in session for the list company's member, made directly in the database.
    Returns its key (the bench's `sessionid` cookie)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "accounts.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def refresh_member_session(manifest):
    """A reused data set (BENCH_REUSE=1) outlives its member's session: past the idle limit
    the lists answer 302 to the login page. A new session for the same user, in the manifest."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=manifest["list_user_id"])
    return {**manifest, "list_session_key": member_session(user)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--manifest", default=str(ROOT / "var" / "bench" / "manifest.json"))
    parser.add_argument(
        "--refresh-session",
        action="store_true",
        help="load nothing: give the manifest's list member a new session (BENCH_REUSE=1)",
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "esure.settings")
    import django

    django.setup()
    if args.refresh_session:
        manifest = refresh_member_session(json.loads(Path(args.manifest).read_text()))
    else:
        manifest = generate()
    Path(args.manifest).parent.mkdir(parents=True, exist_ok=True)
    Path(args.manifest).write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    print(f"manifest: {args.manifest}")


if __name__ == "__main__":
    main()
