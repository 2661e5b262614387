"""Builder functions and fixed personas shared by the whole suite.

Personas (each a fixture):
- clerk:        a contractor's clerk whose company (ACME 建設) is verified — the main user
- other_clerk:  a clerk of another verified company, who must see nothing of the first
- pending_clerk: a clerk whose company staff have not verified yet
- staff:        surety staff (保証会社職員) with a TOTP device, so MFA enforcement lets them in
- tsukumi:      津久見市, electronic from 2024-10-01, with its two offices
"""

import datetime
import itertools
import os
import re
import time
import uuid
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client

from accounts.models import Company, Invitation, Membership, Orderer, OrdererOffice, User
from accounts.validators import corporate_number_check_digit
from esure.choices import GuaranteeKind

PASSWORD = "correct-horse-battery-staple-42"
_seq = itertools.count(1)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The database cache table (allauth's rate limits) is not a migration: create it; and
    let flush empty the audit trail."""
    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)
        allow_audit_flush()


def allow_audit_flush():
    """Transactional tests end with Django's flush (TRUNCATE of every table), which the audit
    trail's TRUNCATE trigger refuses (decision 0006): this throwaway test database turns that
    one trigger off. tests/audit/test_tamper.py turns it on again to prove it refuses."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_no_truncate"
            )


@pytest.fixture(scope="session", autouse=True)
def test_pki(tmp_path_factory):
    """The suite's real PKI (tests/pki: certomancer with a CRL and an RFC 3161 TSA over HTTP on
    127.0.0.1), one per test process, and esure's seal from it: every PDF the suite issues is
    signed and timestamped as in production. The environment carries the seal too, for the
    commands the suite runs in subprocesses (they reach the same TSA)."""
    from django.test import override_settings

    from tests.pki import PASSPHRASE, TestPki

    pki = TestPki.start(tmp_path_factory.mktemp("pki"))
    values = {
        "ESURE_SEAL_P12": str(pki.write_p12("seal")),
        "ESURE_SEAL_PASSPHRASE": PASSPHRASE,
        "ESURE_TSA_URL": pki.tsa_url,
        "ESURE_SEAL_TRUST_ROOTS": "",
    }
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    override = override_settings(**values)
    override.enable()
    yield pki
    override.disable()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    pki.stop()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Every test stores its files (PDFs, probes) in a temporary MEDIA_ROOT, never in the
    checkout (a run once left ~240 PDFs under var/media). Returns that folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# The registry's usual day: 2026-11-30 10:00 in Tokyo (令和8年度, so numbers start "08"), and
# a work concluded on 令和8年11月20日 whose 工期 (令和8年11月24日〜令和9年3月19日) still runs then:
# its guarantees are 有効 on NOW. Pass WORK_DATES to make_concluded / make_work.
JST = ZoneInfo("Asia/Tokyo")
NOW = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=JST)
WORK_DATES = {
    "contract_date": datetime.date(2026, 11, 20),
    "start_date": datetime.date(2026, 11, 24),
    "end_date": datetime.date(2027, 3, 19),
}


@pytest.fixture
def frozen():
    """Freeze "now" at NOW (the traveller can move it: frozen.shift(...)); a module that
    needs it throughout says `pytestmark = pytest.mark.usefixtures("frozen")`."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Tests do not run collectstatic: serve static files without the manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def valid_corporate_number(n=None):
    base = f"{n if n is not None else next(_seq):012d}"
    return f"{corporate_number_check_digit(base)}{base}"


def join_a_joint_venture(company):
    """Makes `company` the 構成員 of a new 共同企業体 whose 代表者 is another company; returns
    the JV."""
    from decimal import Decimal

    from accounts.models import JointVenture, JointVentureMember

    leader = make_company()
    jv = JointVenture.objects.create(
        name="津久見・臼杵特定建設工事共同企業体",
        kind="specific",
        representative=leader,
        created_by=make_user(),
    )
    JointVentureMember.objects.create(joint_venture=jv, company=leader, share=Decimal("60.0"))
    JointVentureMember.objects.create(
        joint_venture=jv, company=company, share=Decimal("40.0"), position=1
    )
    return jv


# The contractor's two lists (電子証書の確認, menu 4) as a clerk sees them: their pages are kept
# per process around their rows (decision 0058), so a test reads what the page shows.
def listed_numbers(response):
    """The guarantee numbers of 電子証書の確認's rows, in order."""
    return re.findall(r'<td><a href="/certificates/(\d{11})/" class="mono">', _html(response))


def listed_applications(response):
    """Menu 4's rows, in order: {pk: the lines of its 保証金額 cell (an item each)}."""
    rows = re.findall(
        r'<td><a href="/applications/(\d+)/">.*?<td class="num">(.*?)</td>',
        _html(response),
        flags=re.S,
    )
    return {int(pk): [unescape(line) for line in cell.split("<br>")] for pk, cell in rows}


def listed_orderers(response):
    """Menu 4's filter: its orderers in order, as {"pk", "name"}, without the empty choice."""
    [select] = re.findall(r'<select id="f-orderer".*?</select>', _html(response), flags=re.S)
    options = re.findall(r'<option value="(\d+)"(?: selected)?>([^<]*)</option>', select)
    return [{"pk": int(pk), "name": unescape(name)} for pk, name in options]


def page_shown(response):
    """A list page's page links as (count, first row, last row, this page, last page), or None
    for a list of one page (no links)."""
    html = _html(response)
    summary = re.search(r"全(\d+)件中 (\d+)〜(\d+)件を表示", html)
    if summary is None:
        return None
    current = int(re.search(r'<span aria-current="page">(\d+)</span>', html)[1])
    linked = [int(n) for n in re.findall(r'<li><a href="[^"]*">(\d+)</a></li>', html)]
    return (*map(int, summary.groups()), current, max([current, *linked]))


def _html(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def statement_texts(captured):
    """The SQL of `captured` queries (CaptureQueriesContext) as written: a statement that
    esure.queries.run_prepared prepared on the connection (decision 0055) is sent as
    `PREPARE name AS <SQL>;\nEXECUTE name(…)` on its first run and as `EXECUTE name(…)` after
    that (its text then read from pg_prepared_statements), a list's with
    `SET LOCAL plan_cache_mode = …;\n` before its EXECUTE (decision 0060); each is given as
    its <SQL>, with $1, $2, … for its parameters."""
    texts = [_GENERIC.sub(r"\1", q["sql"]) for q in captured.captured_queries]
    if any(t.startswith("EXECUTE esure_prepared_") for t in texts):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT name, statement FROM pg_prepared_statements")
            prepared = dict(cursor.fetchall())
        texts = [
            _GENERIC.sub(r"\1", prepared[t.split()[1].split("(")[0]])
            if t.startswith("EXECUTE esure_prepared_")
            else t
            for t in texts
        ]
    return [_PREPARED.sub("", t).split(";\nEXECUTE esure_prepared_", 1)[0] for t in texts]


_PREPARED = re.compile(r"^PREPARE esure_prepared_\d+ AS ")
# run_prepared's generic plan before an EXECUTE (decision 0060), at the start or after PREPARE.
_GENERIC = re.compile(r"(^|;\n)SET LOCAL plan_cache_mode = force_generic_plan;\n(?=EXECUTE)")


def make_user(email=None, *, password=PASSWORD, verified=True, **fields):
    email = email or f"user{next(_seq)}@example.jp"
    user = User.objects.create_user(email, password, **fields)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def make_company(*, status=Company.Status.VERIFIED, **fields):
    n = next(_seq)
    values = {
        "corporate_number": valid_corporate_number(n),
        "name": f"株式会社テスト建設{n}",
        "name_kana": f"カブシキガイシャテストケンセツ{n}",
        "representative_title": "代表取締役",
        "representative_name": "大分 一郎",
        "postal_code": "879-2435",
        "address": "大分県津久見市宮本町20番15号",
        "phone": "0972-82-0000",
        "license_number": "大分県知事許可(般-6)第12345号",
        "status": status,
        **fields,
    }
    return Company.objects.create(**values)


def make_member(
    company=None, *, role=Membership.Role.ADMIN, duty=Membership.Duty.APPROVER, **user_fields
):
    company = company or make_company()
    user = make_user(**user_fields)
    Membership.objects.create(user=user, company=company, role=role, duty=duty)
    return user


def make_staff(*, with_totp=True, perms=None, **fields):
    """Surety staff. A superuser by default; with `perms` (e.g. ["certificates.reissue_key"],
    or [] for none) a plain staff member holding exactly those permissions."""
    user = make_user(is_staff=True, is_superuser=perms is None, **fields)
    for name in perms or ():
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    if with_totp:
        Authenticator.objects.create(
            user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
        )
    return user


def make_orderer(name="津久見市", **fields):
    values = {
        "prefecture": "大分県",
        "head_title": f"{name}長",
        "electronic_since": datetime.date(2024, 10, 1),
        "electronic_terms_name": "津久見市公共工事請負契約約款【R6.10.1~】:電子保証用",
        **fields,
    }
    orderer = Orderer.objects.create(name=name, **values)
    OrdererOffice.objects.create(
        orderer=orderer, name="総務課 契約担当", handles_kinds=[GuaranteeKind.CONTRACT]
    )
    OrdererOffice.objects.create(
        orderer=orderer,
        name="土木課 工事担当",
        handles_kinds=[GuaranteeKind.ADVANCE, GuaranteeKind.INTERMEDIATE],
    )
    return orderer


@pytest.fixture
def clerk(db):
    return make_member(make_company(name="ACME建設株式会社"), email="clerk@acme.example.jp")


@pytest.fixture
def other_clerk(db):
    return make_member(make_company(name="他社建設株式会社"), email="clerk@other.example.jp")


@pytest.fixture
def pending_clerk(db):
    return make_member(make_company(status=Company.Status.PENDING), email="new@pending.example.jp")


@pytest.fixture
def staff(db):
    return make_staff(email="staff@surety.example.jp")


@pytest.fixture
def tsukumi(db):
    return make_orderer()


def log_in(browser, user):
    """Log `user` in on a test client as if the password had just been typed — and typed
    again, so the pages that ask for it once more (allauth's reauthentication: showing a
    認証キー, re-issuing one) open at once. Tests of that question use force_login alone."""
    browser.force_login(user)
    session = browser.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time(), "reauthenticated": True}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return browser


@pytest.fixture
def clerk_client(client, clerk):
    return log_in(client, clerk)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """PBKDF2 costs about a second per user here; tests hash many passwords, not attack them."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_invitation(*, company=None, email=None, by=None):
    """An open invitation, as if `by` (an administrator of `company`) had just sent it."""
    company = company or make_company()
    by = by or make_member(company)
    email = (email or f"invitee{next(_seq)}@example.jp").lower()
    return Invitation.objects.create(company=company, email=email, invited_by=by)


@pytest.fixture
def client_for(db):
    """A separate browser per user: `client_for(user)` is a test client logged in as user."""

    def make(user):
        return log_in(Client(), user)

    return make


# --- Applications (e-Net保証, menus 1–4) ----------------------------------------------------
# The applications models are imported inside the builders: this block is appended to the
# shared conftest and leaves its import section to the other apps.

# 12,345,000円 (工事): 4割 = 4,938,000 → 前払金の上限 4,900,000; 契約保証の最低額 1,234,500.
PRICE = 12_345_000
MAX_ADVANCE = 4_900_000
MIN_CONTRACT = 1_234_500


def make_fee_tables():
    """The demo fee tables (デモ用の料率) of every kind, exactly as `load_demo_fees` loads them."""
    from applications.management.commands.load_demo_fees import load_demo_fee_tables

    return load_demo_fee_tables()


def advance_office(orderer):
    """The office that receives 前払金保証 (make_orderer's 土木課 工事担当)."""
    return orderer.offices.filter(name="土木課 工事担当").first() or orderer.offices.first()


def make_work(company=None, *, orderer=None, **fields):
    """A complete 工事請負契約 of 12,345,000円 (工事, 一般競争) for 津久見市 (or `orderer`),
    concluded 2024-10-01 — the first day 津久見市 accepts 電子交付 — for 2024-10-02〜2025-03-14."""
    from certificates.models import Work
    from esure.choices import ContractMethod, WorkCategory

    company = company or make_company()
    if orderer is None:
        orderer = Orderer.objects.filter(name="津久見市").first() or make_orderer()
    n = next(_seq)
    values = {
        "orderer": orderer,
        "office": advance_office(orderer),
        "work_number": f"津土第R6-{n}号",
        "name": f"市道堅徳線道路改良工事{n}",
        "location": "津久見市大字堅浦地内",
        "category": WorkCategory.CONSTRUCTION,
        "contract_method": ContractMethod.GENERAL,
        "price": PRICE,
        "contract_date": datetime.date(2024, 10, 1),
        "start_date": datetime.date(2024, 10, 2),
        "end_date": datetime.date(2025, 3, 14),
        **fields,
    }
    return Work.objects.create(company=company, **values)


# A day inside the default 工期 of make_work and menu1_post (2024-10-02〜2025-03-14), at
# 10:00 in Tokyo. A 前払金 or 中間前払金 is refused once the 工期 has ended
# (applications.rules.check_work_not_ended), so a test that submits or approves one on those
# default dates says which day it is instead of depending on the real clock.
DURING_THE_WORK = datetime.datetime(2025, 1, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


@pytest.fixture
def during_the_work():
    """Freeze "today" at DURING_THE_WORK (use with @pytest.mark.usefixtures)."""
    with time_machine.travel(DURING_THE_WORK, tick=False) as traveller:
        yield traveller


def make_application(
    *, company=None, work=None, menu="1", status="draft", items=None, by=None, **fields
):
    """An application in `status`, complete and within every rule unless told otherwise.

    items: {GuaranteeKind: amount}, default a 前払金保証 of 4,900,000円 (the maximum for
    make_work's price). The status is set directly, as setup; no history row is written.
    """
    from django.utils import timezone

    from applications.models import Application, ApplicationItem

    if company is None:
        company = work.company if work is not None else make_company()
    work = work or make_work(company)
    if by is None:
        membership = company.memberships.select_related("user").first()
        by = membership.user if membership else make_member(company)
    items = {GuaranteeKind.ADVANCE: MAX_ADVANCE} if items is None else items
    values = {
        "delivery": Application.Delivery.ELECTRONIC,
        "terms_confirmed": True,
        "contact_name": "大分 花子",
        "contact_phone": "0972-82-1234",
        **fields,
    }
    application = Application.objects.create(
        company=company,
        work=work,
        menu=menu,
        status=status,
        created_by=by,
        submitted_at=None if status == Application.Status.DRAFT else timezone.now(),
        **values,
    )
    ApplicationItem.objects.bulk_create(
        ApplicationItem(application=application, kind=kind, amount=amount)
        for kind, amount in items.items()
    )
    return application


def make_applications_bulk(company, count, *, orderer, by, statuses=("draft", "submitted")):
    """`count` applications (each on its own work, 前払金 + 契約保証) in three bulk inserts,
    for query-budget tests; statuses cycle through `statuses`."""
    from django.utils import timezone

    from applications.models import Application, ApplicationItem
    from certificates.models import Work

    office = advance_office(orderer)
    works = Work.objects.bulk_create(
        Work(
            company=company,
            orderer=orderer,
            office=office,
            work_number=f"BULK-{i:05d}",
            name=f"一括工事{i:05d}",
            location="津久見市",
            category="construction",
            contract_method="general",
            price=PRICE,
            contract_date=datetime.date(2024, 10, 1),
            start_date=datetime.date(2024, 10, 2),
            end_date=datetime.date(2025, 3, 14),
        )
        for i in range(count)
    )
    now = timezone.now()
    applications = Application.objects.bulk_create(
        Application(
            company=company,
            work=work,
            menu="1",
            status=statuses[i % len(statuses)],
            delivery="electronic",
            terms_confirmed=True,
            contact_name="大分 花子",
            contact_phone="0972-82-1234",
            created_by=by,
            submitted_at=None if statuses[i % len(statuses)] == "draft" else now,
        )
        for i, work in enumerate(works)
    )
    ApplicationItem.objects.bulk_create(
        ApplicationItem(application=a, kind=kind, amount=amount)
        for a in applications
        for kind, amount in (
            (GuaranteeKind.ADVANCE, MAX_ADVANCE),
            (GuaranteeKind.CONTRACT, MIN_CONTRACT),
        )
    )
    return applications


def menu1_post(orderer, **overrides):
    """The POST of a complete menu-1 form (前払金保証 4,900,000円, 電子交付 to `orderer`),
    as a browser sends it; an override of None leaves the field out (an unticked box)."""
    import uuid

    data = {
        "client_token": str(uuid.uuid4()),
        "orderer": str(orderer.pk),
        "office": str(advance_office(orderer).pk),
        "work_number": "津土第R6-101号",
        "name": "市道堅徳線道路改良工事",
        "location": "津久見市大字堅浦地内",
        "category": "construction",
        "contract_method": "general",
        "price": "12,345,000",
        "contract_date": "2024-10-01",
        "start_date": "2024-10-02",
        "end_date": "2025-03-14",
        "want_advance": "on",
        "advance_amount": "4,900,000",
        "delivery": "electronic",
        "terms_confirmed": "on",
        "contact_name": "大分 花子",
        "contact_phone": "0972-82-1234",
        "message": "",
        "action": "submit",
        **overrides,
    }
    return {name: value for name, value in data.items() if value is not None}


def field_html(response, name):
    """The HTML of one form field as the page shows it: its label, input and the messages
    next to it (applications/_field.html, from data-field="name" to its live-error list)."""
    content = response.content.decode()
    start = content.index(f'data-field="{name}"')
    return content[start : content.index(f'data-live-for="{name}"', start)]


def error_summary_html(response):
    """The messages at the top of the form (errors that belong to no single field)."""
    content = response.content.decode()
    start = content.index('class="form-error-summary"')
    return content[start : content.index("</div>", start)]


# --- Issuance (保証料入金 → 締結) ------------------------------------------------------------


def make_concluded(
    *,
    company=None,
    work=None,
    items=None,
    delivery="electronic",
    by=None,
    received_on=None,
    copies=False,
    **work_fields,
):
    """Guarantees concluded as staff conclude them: an approved application (make_application,
    `items` as there) whose fee, exactly as computed, is recorded through
    applications.services.record_fee_receipt. Returns the guarantees, ordered by kind.

    `work_fields` go to make_work when no `work` is given (e.g. dates that keep the guarantee
    有効 on a frozen day). Each guarantee renders and seals its 保証証書 (~0.3–0.6 s): keep the
    calls few. Its お客様控え and 保証料計算書 are left to the worker, as in the day in
    production (decision 0052; a download makes one on request): `copies=True` makes them as the
    worker does after commit (two more renders and seals per guarantee), for a test that reads
    them from storage. The mail is queued on commit: wrap the call in
    django_capture_on_commit_callbacks(execute=True) to send it.
    """
    from django.utils import timezone

    from applications import services
    from applications.fees import expected_fee

    make_fee_tables()
    if company is None:
        company = work.company if work is not None else make_company()
    work = work or make_work(company, **work_fields)
    application = make_application(
        company=company, work=work, items=items, status="approved", delivery=delivery
    )
    received_on = received_on or timezone.localdate()
    guarantees = services.record_fee_receipt(
        application=application,
        received_on=received_on,
        amount=expected_fee(application, received_on).due,
        method="transfer",
        by=by or make_staff(),
    )
    if copies:
        produce_after_commit_documents(guarantees)
    return guarantees


def produce_after_commit_documents(guarantees):
    """What the worker does once a conclusion commits (decision 0033): the お客様控え and
    保証料計算書 of each guarantee's current version. A test's transaction never commits, so
    the queued task does not run: builders and tests that need the documents call this."""
    from certificates.services import produce_documents

    for guarantee in guarantees:
        produce_documents(certificate=guarantee.certificates.order_by("-version").first())


# --- D-Sure (the orderer's viewer) ----------------------------------------------------------


def make_office_user(office, **user_fields):
    """A city official with an office account (accounts.OfficeMembership) at `office`: their
    lookups are attributed to them, they keep the office's 受領一覧 and may open what a
    contractor handed over to the office."""
    from accounts.models import OfficeMembership

    user = make_user(**user_fields)
    OfficeMembership.objects.create(user=user, office=office)
    return user


def accept_handover(orderer, kind=GuaranteeKind.ADVANCE):
    """The orderer accepts esure's electronic hand-over (発注者へ電子で提出) for `kind`."""
    from accounts.models import OrdererSubmissionChannel
    from esure.choices import SubmissionChannel

    return OrdererSubmissionChannel.objects.create(
        orderer=orderer, kind=kind, channel=SubmissionChannel.HANDOVER
    )


def deliver_to_inbox(orderer, kind=GuaranteeKind.ADVANCE):
    """The orderer's policy: esure delivers each version of `kind` to the office's 受信箱."""
    from accounts.models import OrdererSubmissionChannel
    from esure.choices import SubmissionChannel

    return OrdererSubmissionChannel.objects.create(
        orderer=orderer, kind=kind, channel=SubmissionChannel.INBOX
    )


def dsure_lookup(client, number, key, **extra):
    """POST a 保証契約番号 + 認証キー to D-Sure's entry page, as city staff type them
    (`extra` e.g. REMOTE_ADDR="203.0.113.5")."""
    from django.urls import reverse

    return client.post(reverse("dsure:lookup"), {"number": number, "key": key}, **extra)


def at_once(*calls, timeout=180):
    """Run the calls in threads released together by a barrier (PostgreSQL concurrency
    tests); each result is ("ok", value) or ("error", exception). Every thread closes its
    own database connections."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = ("ok", call())
        except Exception as error:  # the test inspects what each thread met
            results[index] = ("error", error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads)
    return results


# --- Background work (django-tasks-db, as in production) ------------------------------------


@pytest.fixture
def database_tasks(settings):
    """Tasks go to the production backend: a row written in the caller's transaction, run by
    run_db_worker() (the suite's default backend runs each task at once after commit)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run_db_worker():
    """Run every task that is due, then return: `manage.py db_worker --batch`'s own Worker
    loop, without the command's signal handlers (they would outlive the call in pytest)."""
    from django_tasks_db.management.commands.db_worker import Worker

    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


# --- 前払金の使途管理 (advances) --------------------------------------------------------------
# The advances models are imported inside the builders, as the applications block does.

ADVANCE_AMOUNT = MAX_ADVANCE  # 4,900,000: the 前払金 of make_work's price


def seed_advance_lists():
    """The seeded categories and evidence kinds (migration advances/0002). Transactional
    tests flush them away: builders call this again (it is idempotent)."""
    from advances.models import EvidenceKind, UseCategory
    from advances.seed import seed

    seed(UseCategory, EvidenceKind)


def use_category(code):
    from advances.models import UseCategory

    seed_advance_lists()
    return UseCategory.objects.get(code=code)


def make_registered_guarantee(
    company=None, *, work=None, kind=GuaranteeKind.ADVANCE, amount=ADVANCE_AMOUNT, **work_fields
):
    """A concluded guarantee as the registry holds it — number, Certificate v1 with its
    amount — without rendering its PDFs (the money flow reads the number, kind and current
    amount only). Use make_concluded where the documents matter."""
    from django.db import transaction
    from django.utils import timezone

    from certificates.models import Certificate, Guarantee
    from certificates.services import allocate_number

    if company is None:
        company = work.company if work is not None else make_company()
    work = work or make_work(company, **work_fields)
    now = timezone.now()
    with transaction.atomic():
        guarantee = Guarantee.objects.create(
            number=allocate_number(kind=kind, day=timezone.localdate()),
            kind=kind,
            company=company,
            work=work,
            orderer=work.orderer,
            office=work.office,
            delivery=Guarantee.Delivery.ELECTRONIC,
            key_version=1,
            concluded_at=now,
        )
        Certificate.objects.create(
            guarantee=guarantee,
            version=1,
            content={},
            fingerprint="0" * 64,
            amount=amount,
            starts_on=work.start_date,
            ends_on=work.end_date,
            issued_at=now,
        )
    return guarantee


def make_bank_branch(
    *, bank_code="0999", bank_name="豊後テスト銀行", entrusted=True, code="101", name="津久見支店"
):
    """A branch of a bank with a 委託契約 (預託金融機関), unless entrusted=False."""
    from accounts.models import Bank, BankBranch

    bank, _ = Bank.objects.get_or_create(
        code=bank_code, defaults={"name": bank_name, "entrusted": entrusted}
    )
    branch, _ = BankBranch.objects.get_or_create(bank=bank, code=code, defaults={"name": name})
    return branch


def make_bank_user(branch=None, *, with_totp=True, **user_fields):
    """A bank branch's staff member (預託金融機関の担当者) with a TOTP device (the secret
    make_staff's devices share), so the MFA requirement lets them in."""
    from accounts.models import BankMembership

    branch = branch or make_bank_branch()
    user = make_user(**user_fields)
    BankMembership.objects.create(user=user, branch=branch)
    if with_totp:
        Authenticator.objects.create(
            user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
        )
    return user


def make_advance_account(
    guarantee=None,
    *,
    branch=None,
    by=None,
    account_number="1234567",
    overhead_clause=False,
    work_kind=None,
    member=None,
    **guarantee_fields,
):
    """A designated account (前払金専用口座) registered through the service, for `guarantee`
    (default: a new registered 前払金保証 of 4,900,000円)."""
    from advances import services

    seed_advance_lists()
    guarantee = guarantee or make_registered_guarantee(**guarantee_fields)
    company = guarantee.company
    if by is None:
        membership = company.memberships.select_related("user").first()
        by = membership.user if membership else make_member(company)
    return services.register_account(
        guarantee=guarantee,
        by=by,
        branch=branch or make_bank_branch(),
        account_number=account_number,
        holder="ｶ)ﾃｽﾄｹﾝｾﾂ ｾﾞﾝﾊﾞﾗｲｷﾝｸﾞﾁ",
        work_kind=work_kind or "construction",
        overhead_clause=overhead_clause,
        own_bank="豊後テスト銀行",
        own_branch="本店",
        own_account_type="ordinary",
        own_account_number="7654321",
        own_holder="ｶ)ﾃｽﾄｹﾝｾﾂ",
        member=member,
    )


def plan_row(code, amount, *, funding="advance", undecided=False, key=None, **fields):
    """One typed plan line (a row for advances.services.save_plan_draft): a subcontractor
    with its account unless `undecided` or the category pays the contractor itself."""
    values = {
        "category": use_category(code),
        "funding": funding,
        "description": fields.pop("description", "工事用資材"),
        "undecided": undecided,
        "payee_name": "" if undecided else "津久見資材株式会社",
        "payee_bank": "" if undecided else "豊後テスト銀行",
        "payee_branch": "" if undecided else "堅徳支店",
        "payee_account_type": "" if undecided else "ordinary",
        "payee_account_number": "" if undecided else "1111111",
        "payee_holder": "" if undecided else "ﾂｸﾐｼｻﾞｲ(ｶ",
        "amount": amount,
        **fields,
    }
    if key is not None:
        values["key"] = key
    return values


# A plan that uses the whole 4,900,000円: materials, a subcontractor, own labour.
DEFAULT_PLAN = (("material", 2_000_000), ("subcontract", 2_400_000), ("labor", 500_000))


def make_plan(account, rows=None, *, status="accepted", staff=None):
    """A plan version of `account` through the services: drafted with `rows` (default
    DEFAULT_PLAN), then submitted and accepted (status="accepted"), only submitted
    ("submitted") or left a draft ("draft"). Submission renders the 明細書 PDF."""
    from advances import services

    rows = rows if rows is not None else [plan_row(code, amount) for code, amount in DEFAULT_PLAN]
    clerk = account.registered_by
    plan = services.start_plan(account=account, by=clerk, reason="支払先の決定")
    services.save_plan_draft(plan=plan, by=clerk, rows=rows)
    if status in ("submitted", "accepted"):
        plan = services.submit_plan(plan=plan, by=clerk)
    if status == "accepted":
        plan = services.accept_plan(plan=plan, by=staff or make_staff())
    return plan


def make_deposit(account, amount=ADVANCE_AMOUNT, *, kind="advance", received_on=None, by=None):
    """Money paid into the account, as the bank records it (default: the whole 前払金, today)."""
    from django.utils import timezone

    from advances import services

    return services.record_deposit(
        account=account,
        by=by or make_bank_user(account.branch),
        kind=kind,
        received_on=received_on or timezone.localdate(),
        amount=amount,
    )


def line_of(plan, code):
    """The plan's (first) line of a category."""
    return plan.lines.select_related("category").filter(category__code=code).first()


def evidence_file(kind="pdf", name=None, size=None):
    """An uploaded file whose bytes are a real PDF, JPEG or PNG header (or `kind="text"`)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    heads = {
        "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf", "keiyaku.pdf"),
        "jpeg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg", "nohin.jpg"),
        "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png", "daicho.png"),
        "text": (b"just some text, not a document", "application/pdf", "fake.pdf"),
    }
    head, content_type, default_name = heads[kind]
    data = head + b"\x00" * max(0, (size or 200) - len(head))
    return SimpleUploadedFile(name or default_name, data, content_type=content_type)


def attach_required_evidence(withdrawal, by=None):
    """Attach one file of every evidence kind each line's category needs (rule 7)."""
    from advances import services

    by = by or withdrawal.created_by
    for line in withdrawal.lines.select_related("plan_line__category"):
        if line.plan_line is None:
            continue
        for kind in line.plan_line.category.evidence_kinds.all():
            services.add_evidence(line=line, kind=kind, upload=evidence_file(), by=by)


def make_withdrawal(account, rows, *, status="submitted", bank_user=None, cash=False):
    """A withdrawal through the services: `rows` = [(PlanLine or None, amount)], its
    required evidence attached, then submitted (default), left a draft, or confirmed /
    executed by `bank_user`."""
    from django.utils import timezone

    from advances import services

    clerk = account.registered_by
    withdrawal = services.save_withdrawal_draft(
        account=account,
        by=clerk,
        rows=[{"plan_line": line, "amount": amount} for line, amount in rows],
        cash=cash,
    )
    attach_required_evidence(withdrawal, clerk)
    if status == "draft":
        return withdrawal
    withdrawal = services.submit_withdrawal(withdrawal=withdrawal, by=clerk)
    if status in ("confirmed", "executed"):
        bank_user = bank_user or make_bank_user(account.branch)
        withdrawal = services.confirm_withdrawal(withdrawal=withdrawal, by=bank_user)
    if status == "executed":
        withdrawal = services.record_execution(
            withdrawal=withdrawal,
            by=bank_user,
            executed_on=timezone.localdate(),
            amount=sum(amount for _, amount in rows),
            reference=f"T{withdrawal.pk:06d}",
        )
    return withdrawal


# --- Object storage: a real SeaweedFS (tests/seaweedfs.py) ---------------------------------

# Real time, whatever time-machine says: S3 requests are signed with the time, and a store
# refuses a signature more than 15 minutes off its own clock (RequestTimeTooSkewed). The
# frozen tests' "now" is days away from the store's. time.monotonic is not frozen.
_REAL_CLOCK_OFFSET = time.time() - time.monotonic()


def _real_utc_now(remove_tzinfo=True):
    now = datetime.datetime.fromtimestamp(time.monotonic() + _REAL_CLOCK_OFFSET, datetime.UTC)
    return now.replace(tzinfo=None) if remove_tzinfo else now


@pytest.fixture(autouse=True, scope="session")
def _s3_signs_with_the_real_time():
    """botocore signs every request with this clock (botocore.auth), in every test."""
    import botocore.auth

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.auth, "get_current_datetime", _real_utc_now)
        yield


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """One SeaweedFS per test process (each xdist worker starts its own, on free ports, only
    when one of its tests needs it), stopped at the end of the session."""
    from tests.seaweedfs import SeaweedFS

    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs")).start()
    yield server
    server.stop()


class Bucket:
    """The bucket and key prefix one test stores into, read back with boto3 directly."""

    def __init__(self, server, bucket, location):
        self.server, self.bucket, self.location = server, bucket, location

    def objects(self):
        """{name as the storage knows it: bytes} of every object under the test's prefix."""
        client = self.server.client()
        found = {}
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.location}/"
        )
        for page in pages:
            for item in page.get("Contents", []):
                body = client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
                found[item["Key"].removeprefix(f"{self.location}/")] = body
        return found

    def put(self, name, data):
        self.server.client().put_object(
            Bucket=self.bucket, Key=f"{self.location}/{name}", Body=data
        )

    def delete(self, name):
        self.server.client().delete_object(Bucket=self.bucket, Key=f"{self.location}/{name}")


def use_bucket(settings, monkeypatch, *, endpoint_url, environ, bucket, location):
    """Make the default storage the S3 backend exactly as esure/settings.py builds it from
    ESURE_S3_BUCKET and ESURE_S3_ENDPOINT_URL, credentials from the AWS_* environment."""
    from esure.storage import default_storage_setting

    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": default_storage_setting(
            bucket=bucket, endpoint_url=endpoint_url, location=location
        ),
    }


@pytest.fixture
def s3(seaweedfs, settings, monkeypatch):
    """Documents go to the suite's SeaweedFS: bucket `esure-tests`, a key prefix of this
    test's own. Returns the Bucket to read them back."""
    bucket = seaweedfs.create_bucket("esure-tests")
    location = f"t-{uuid.uuid4().hex[:12]}"
    use_bucket(
        settings,
        monkeypatch,
        endpoint_url=seaweedfs.endpoint_url,
        environ=seaweedfs.environ,
        bucket=bucket,
        location=location,
    )
    return Bucket(seaweedfs, bucket, location)


@pytest.fixture
def s3_unreachable(settings, monkeypatch):
    """The default storage is an S3 store that nobody answers (a free port, nothing on it)."""
    from tests.seaweedfs import free_port

    use_bucket(
        settings,
        monkeypatch,
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        environ={
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "y",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
        bucket="esure-gone",
        location="t",
    )


# --- 契約保証予約 (reservations, decision 0034) --------------------------------------------
# The bid of make_reservation: 入札日 2025-01-20, 12,345,000円 estimated, 契約保証 1,234,500円
# (its 10%). RESERVATION_TODAY is a day before the bid.
BID_DATE = datetime.date(2025, 1, 20)
RESERVATION_TODAY = datetime.datetime(2025, 1, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def make_reservation(*, company=None, status="draft", by=None, **fields):
    """A reservation in `status`, complete and within the rules unless told otherwise. An
    approved one (or later) has its fee (30,000円) and 有効期限 (入札日 + 90 days). The status
    is set directly, as setup; no history row is written."""
    from django.utils import timezone

    from reservations.models import Reservation

    company = company or make_company()
    if by is None:
        membership = company.memberships.select_related("user").first()
        by = membership.user if membership else make_member(company)
    orderer = Orderer.objects.filter(name="津久見市").first() or make_orderer()
    approved = status in ("approved", "used", "lapsed")
    values = {
        "orderer": orderer,
        "work_name": "市道堅徳線道路改良工事（入札）",
        "bid_date": BID_DATE,
        "estimated_price": PRICE,
        "amount": MIN_CONTRACT,
        "advance_planned": True,
        "contact_name": "大分 花子",
        "contact_phone": "0972-82-1234",
        "fee": 30_000 if approved else None,
        "valid_until": BID_DATE + datetime.timedelta(days=90) if approved else None,
        "approved_at": timezone.now() if approved else None,
        "submitted_at": None if status == "draft" else timezone.now(),
        **fields,
    }
    return Reservation.objects.create(company=company, status=status, created_by=by, **values)


@pytest.fixture
def before_the_bid():
    """Freeze "today" at RESERVATION_TODAY, ten days before BID_DATE."""
    with time_machine.travel(RESERVATION_TODAY, tick=False) as traveller:
        yield traveller
