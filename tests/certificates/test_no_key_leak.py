"""The 認証キー never appears in a URL, a log line, an email, the task queue or any table
(DESIGN.md §6): it is derived on demand and shown only on the key page and in the key
notice PDF, both Cache-Control: no-store.

One walk through the whole life of a key — conclusion by staff, the contractor showing the
key and downloading the notice, a re-issue, the new key shown and downloaded, the queued
mails sent by the real database worker — with every log record (SQL included) captured at
DEBUG; then every row of every table, every log record, every mail, every task payload and
every URL and header of every response is searched for both keys, in their printed form
(XXXX-XXXX-XXXX-XXXX), their 16-symbol form and lower-case.
"""

import base64
import hashlib
import io
import logging
import pickle
import signal

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from pypdf import PdfReader

from applications.fees import expected_fee
from applications.models import Application
from certificates import keys
from certificates.models import Document, Guarantee
from tests.conftest import NOW, WORK_DATES, make_application, make_fee_tables, make_work

# Real commits: the database worker sees only committed task rows, as in production.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("frozen")]


@pytest.fixture
def every_log(caplog, monkeypatch):
    """Every logger at DEBUG into caplog, SQL statements with their parameters included."""
    import django_tasks_db.management.commands.db_worker  # noqa: F401  (its logger exists)

    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            caplog.set_level(logging.DEBUG, logger=name)
            if not logger.propagate:
                monkeypatch.setattr(logger, "propagate", True)
    wrapper = connections[DEFAULT_DB_ALIAS]
    wrapper.force_debug_cursor = True  # log every statement, as with DEBUG on
    try:
        yield caplog
    finally:
        wrapper.force_debug_cursor = False


class Recorder:
    """Makes the requests of a walk, following redirects one by one, and keeps every
    response, to search its URL, headers and body afterwards."""

    def __init__(self):
        self.responses = []

    def __call__(self, browser, method, url, data=None):
        response = getattr(browser, method)(url, data or {})
        self.responses.append(response)
        while response.status_code in (301, 302, 303):
            response = browser.get(response["Location"])
            self.responses.append(response)
        return response

    def addresses(self):
        for response in self.responses:
            yield response.wsgi_request.get_full_path()
            for name, value in response.headers.items():  # Location included
                yield f"{name}: {value}"
            yield str(response.cookies)


def forms_of(key):
    plain = key.replace("-", "")
    return {key, plain, key.lower(), plain.lower()}


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def pdf_text(data):
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def stringify(value):
    if isinstance(value, memoryview | bytes):
        data = bytes(value)
        return f"{data!r} {data.decode('utf-8', 'replace')}"
    return str(value)


def decoded(table, row, columns):
    """Session data and cache values are encoded at rest: search their decoded form too."""
    values = dict(zip(columns, row, strict=True))
    if table == "django_session":
        yield str(SessionStore().decode(values["session_data"]))
    if "cache_key" in values and values.get("value"):
        # The database cache stores base64 pickles written by this same process.
        yield str(pickle.loads(base64.b64decode(values["value"])))  # noqa: S301


def dump_database():
    """{table: text of every row}, for every table of the database."""
    dumped = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [c.name for c in cursor.description]
            lines = []
            for row in cursor.fetchall():
                lines.append(" | ".join(stringify(v) for v in row))
                lines.extend(decoded(table, row, columns))
            dumped[table] = "\n".join(lines)
    return dumped


def run_the_mail_worker():
    """`manage.py db_worker --batch`: sends the queued mails, then exits (and gives the
    signal handlers it installed back)."""
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command(
            "db_worker", batch=True, startup_delay=False, reload=False, interval=0, verbosity=2
        )
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def test_the_key_is_nowhere_but_on_its_page_and_in_its_notice(
    clerk, staff, tsukumi, client_for, database_tasks, every_log, media
):
    make_fee_tables()
    work = make_work(clerk.membership.company, **WORK_DATES)
    application = make_application(
        company=clerk.membership.company, work=work, status=Application.Status.APPROVED
    )
    fee = expected_fee(application, NOW.date()).due
    record = Recorder()
    staff_browser, clerk_browser = client_for(staff), client_for(clerk)

    # Staff record the fee: the guarantee is concluded with key version 1.
    concluded = record(
        staff_browser,
        "post",
        reverse("admin:applications_application_fee", args=[application.pk]),
        {"received_on": NOW.date().isoformat(), "amount": str(fee), "method": "transfer"},
    )
    assert "保証契約を締結しました" in concluded.content.decode()
    guarantee = Guarantee.objects.get()
    first_key = keys.format_key(keys.derive_key(guarantee.number, 1, salt=guarantee.key_salt))
    number = guarantee.number

    def contractor_takes_the_key():
        record(clerk_browser, "get", reverse("certs:index"))
        record(clerk_browser, "get", reverse("certs:detail", args=[number]))
        page = record(clerk_browser, "post", reverse("certs:show_key", args=[number]))
        notice = record(clerk_browser, "post", reverse("certs:key_notice", args=[number]))
        record(clerk_browser, "get", reverse("certs:detail", args=[number]))
        return page, notice

    page, notice = contractor_takes_the_key()

    # Staff re-issue the key; the contractor takes the new one.
    record(
        staff_browser,
        "post",
        reverse("admin:certificates_guarantee_reissue_key", args=[guarantee.pk]),
        {"reason": "お知らせを別の市へ誤送信"},
    )
    guarantee.refresh_from_db()
    assert guarantee.key_version == 2
    second_key = keys.format_key(keys.derive_key(number, 2, salt=guarantee.key_salt))
    new_page, new_notice = contractor_takes_the_key()

    queued = list(DBTaskResult.objects.values_list("args_kwargs", flat=True))
    # The after-commit documents (decision 0033), the registration and the re-issue mails:
    # none has run yet.
    assert len(queued) == 3 and mail.outbox == []
    run_the_mail_worker()

    # Where the key belongs: its page and its notice, never cached.
    for response, key in ((page, first_key), (new_page, second_key)):
        assert response.status_code == 200
        assert key in response.content.decode()
        assert response["Cache-Control"] == "no-store"
        # never sent to another site (same-origin: see certs/views.py)
        assert response["Referrer-Policy"] in ("same-origin", "no-referrer")
    for response, key in ((notice, first_key), (new_notice, second_key)):
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert key in pdf_text(body(response))
        assert "no-store" in response["Cache-Control"].replace(" ", "").split(",")
    assert first_key not in new_page.content.decode()

    secrets = forms_of(first_key) | forms_of(second_key)
    found = {}  # where -> the forms of a key seen there; every place is searched first

    def search(where, text):
        hits = sorted(form for form in secrets if form in text)
        if hits:
            found.setdefault(where, set()).update(hits)

    # Every table, every row (the sessions, the cache, the task queue and the admin log too).
    tables = dump_database()
    assert {"django_session", "esure_cache", "django_admin_log"} <= set(tables)
    assert number in tables["certificates_guarantee"]  # the dump does read the rows
    assert "電子証書・認証キー登録のお知らせ" in tables[DBTaskResult._meta.db_table]
    assert tables["django_session"]
    for table, text in tables.items():
        search(f"table {table}", text)

    # Every log record — its message, SQL parameters and formatted traceback.
    assert any(
        r.name == "django.db.backends" and "certificates_keydisplay" in r.getMessage()
        for r in every_log.records
    )
    for log in every_log.records:
        search(
            f"log {log.name} {log.levelname}: {log.getMessage()[:80]}",
            every_log.handler.format(log),
        )

    # Every mail, and what the task queue carried.
    subjects = [m.subject for m in mail.outbox]
    assert len(subjects) == 2
    assert any("電子証書・認証キー登録のお知らせ" in s for s in subjects)
    assert any("認証キー再発行のお知らせ" in s for s in subjects)
    for message in mail.outbox:
        search(f"mail {message.subject}", message.message().as_string() + message.body)
    for task in DBTaskResult.objects.all():
        assert task.status == "SUCCESSFUL"
        search(f"task {task.id}", str(task.args_kwargs) + str(task.return_value))
    search("queued task payloads", str(queued))

    # Every URL, redirect, header and cookie of every response; every other page body.
    search("URLs and headers", "\n".join(record.addresses()))
    for response in record.responses:
        if response not in (page, notice, new_page, new_notice):
            search(f"body of {response.wsgi_request.get_full_path()}", body(response).decode())

    # The stored originals (PDFs at rest) do not carry it either.
    assert Document.objects.count() == 3  # the worker made the お客様控え and 保証料計算書
    for document in Document.objects.all():
        with document.file.open("rb") as stored:
            data = stored.read()
        assert hashlib.sha256(data).hexdigest() == document.sha256
        search(f"stored {document.kind} PDF", pdf_text(data))

    assert found == {}
