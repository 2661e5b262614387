"""電子証書の確認 (DESIGN.md §4): the contractor's list of its guarantees, the page that shows
the certificate as it prints, the 認証キー on demand (logged), the key notice and the stored
PDFs — and nothing of another company's (a 404, as for a number that does not exist)."""

import hashlib
import io
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from audit.models import AuditEvent
from certificates import selectors
from certificates import services as registry
from certificates.models import Certificate, Document, Guarantee, KeyDisplay, Work
from certificates.numbering import format_number, make_number
from esure.choices import GuaranteeKind
from esure.pagination import PER_PAGE
from esure.templatetags import wareki, yen
from tests.conftest import (
    MAX_ADVANCE,
    MIN_CONTRACT,
    NOW,
    WORK_DATES,
    advance_office,
    join_a_joint_venture,
    make_concluded,
    make_orderer,
    produce_after_commit_documents,
    statement_texts,
)

pytestmark = pytest.mark.usefixtures("frozen")
KEY_RE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
# Measured: the session, the user with its membership and company joined (accounts.backends)
# and one page of guarantees with work and orderer joined, their current version, amount and
# period end as subqueries and the count of the list (for the page links) as a scalar
# subquery (esure.pagination). 3 for 5 guarantees and 3 for 50 (5 before issue 22).
LIST_QUERY_BUDGET = 3


@pytest.fixture
def company(clerk):
    return clerk.membership.company


@pytest.fixture
def guarantee(company, tsukumi):
    """The clerk's company's 前払金保証 of 4,900,000円, concluded today (electronic)."""
    [guarantee] = make_concluded(company=company, **WORK_DATES)
    return guarantee


@pytest.fixture
def foreign(other_clerk, tsukumi):
    """A guarantee of another company, with its stored PDFs."""
    [guarantee] = make_concluded(company=other_clerk.membership.company, **WORK_DATES)
    return guarantee


def squash(text):
    return re.sub(r"\s+", "", text)


def html_text(response):
    """What a reader sees on the page: tags dropped, whitespace dropped."""
    return squash(re.sub(r"<[^>]+>", " ", response.content.decode()))


def pdf_text(data):
    return squash("".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def bulk_guarantees(company, count, *, orderer, first_serial):
    """`count` electronic 前払金保証 with their Certificate v1 in three bulk inserts (no PDFs),
    for the list page and access checks."""
    works = Work.objects.bulk_create(
        Work(
            company=company,
            orderer=orderer,
            office=advance_office(orderer),
            work_number=f"BULK-{first_serial + i}",
            name=f"一括工事{first_serial + i}",
            location="津久見市",
            category="construction",
            contract_method="general",
            price=12_345_000,
            **WORK_DATES,
        )
        for i in range(count)
    )
    guarantees = Guarantee.objects.bulk_create(
        Guarantee(
            number=make_number(8, GuaranteeKind.ADVANCE, first_serial + i),
            kind=GuaranteeKind.ADVANCE,
            company=company,
            work=work,
            orderer=orderer,
            office=work.office,
            delivery=Guarantee.Delivery.ELECTRONIC,
            key_version=1,
            concluded_at=NOW,
        )
        for i, work in enumerate(works)
    )
    Certificate.objects.bulk_create(
        Certificate(
            guarantee=g,
            version=1,
            content={},
            fingerprint="0" * 64,
            amount=MAX_ADVANCE,
            starts_on=WORK_DATES["start_date"],
            ends_on=WORK_DATES["end_date"],
            issued_at=NOW,
        )
        for g in guarantees
    )
    return guarantees


def detail_url(g):
    return reverse("certs:detail", args=[g.number])


def key_url(g):
    return reverse("certs:show_key", args=[g.number])


def notice_url(g):
    return reverse("certs:key_notice", args=[g.number])


def document_url(g, kind, version=1):
    return reverse("certs:document", args=[g.number, version, kind])


# --- The list ------------------------------------------------------------------------------


def test_the_list_shows_the_companys_guarantees_only(clerk_client, company, other_clerk, tsukumi):
    advance, contract = make_concluded(
        company=company,
        items={GuaranteeKind.ADVANCE: MAX_ADVANCE, GuaranteeKind.CONTRACT: MIN_CONTRACT},
        **WORK_DATES,
    )
    [theirs] = bulk_guarantees(other_clerk.membership.company, 1, orderer=tsukumi, first_serial=500)

    response = clerk_client.get(reverse("certs:index"))

    assert response.status_code == 200
    rows = re.findall(r"<tr>(.*?)</tr>", response.content.decode(), re.S)[1:]  # after the head
    cells = [
        [squash(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
        for r in rows
    ]
    work = advance.work.name
    assert sorted(cells) == sorted(
        [
            [
                advance.number_display,
                "前払金保証",
                work,
                "津久見市",
                "金4,900,000円",
                "有効",
                "令和8年11月30日",
            ],
            [
                contract.number_display,
                "契約保証",
                work,
                "津久見市",
                "金1,234,500円",
                "有効",
                "令和8年11月30日",
            ],
        ]
    )
    content = response.content.decode()
    # Each row links to its own guarantee (the link is built once per page, certs.views.index).
    assert f'href="{detail_url(advance)}"' in content
    assert f'href="{detail_url(contract)}"' in content
    assert theirs.number_display not in content and theirs.work.name not in content


# The rows as certs/index.html wrote them with its {% for %} before decision 0047 reached
# this list: the view's markup must be the same bytes.
_TEMPLATE_ROWS = (
    "{% for g in guarantees %}\n    <tr>\n"
    '      <td><a href="{{ g.detail_url }}" class="mono">{{ g.number_display }}</a></td>\n'
    "      <td>{{ g.kind_label }}</td>\n"
    "      <td>{{ g.work_name }}</td>\n"
    "      <td>{{ g.orderer_name }}</td>\n"
    '      <td class="num">{{ g.amount }}</td>\n'
    '      <td><span class="badge">{{ g.status }}</span>{% if g.paper %} <small>書面交付</small>'
    "{% endif %}</td>\n"
    "      <td>{{ g.concluded }}</td>\n"
    "    </tr>\n  {% endfor %}"
)


def test_the_rows_print_each_value_escaped_as_the_template_did(clerk_client, company):
    from django.template import engines

    orderer = make_orderer('臼<杵>&"市', electronic_terms_name="")
    [paper] = make_concluded(
        company=company,
        orderer=orderer,
        name="<b>護岸</b>工事",
        delivery=Guarantee.Delivery.PAPER,
        items={GuaranteeKind.ADVANCE: MAX_ADVANCE},
        **WORK_DATES,
    )
    [electronic] = make_concluded(
        company=company, items={GuaranteeKind.CONTRACT: MIN_CONTRACT}, **WORK_DATES
    )

    response = clerk_client.get(reverse("certs:index"))

    page = response.content.decode()
    # The rows the page was made of, labelled as the template's context had them.
    listed, _ = selectors.guarantees_of(company).rows(0, PER_PAGE)
    rows = [
        {
            "detail_url": reverse("certs:detail", args=[row["number"]]),
            "number_display": format_number(row["number"]),
            "kind_label": GuaranteeKind(row["kind"]).label,
            "work_name": row["work_name"],
            "orderer_name": row["orderer_name"],
            "amount": yen(row["current_amount"]),
            "status": row["status"],
            "paper": row["delivery"] == Guarantee.Delivery.PAPER,
            "concluded": wareki(row["concluded_at"]),
        }
        for row in selectors.add_row_status(listed)
    ]
    old = engines["django"].from_string(_TEMPLATE_ROWS).render({"guarantees": rows})
    assert "<tbody>\n  " + old + "\n  </tbody>" in page
    assert "臼&lt;杵&gt;&amp;&quot;市" in old and "&lt;b&gt;護岸&lt;/b&gt;工事" in old
    assert old.count("<small>書面交付</small>") == 1
    assert paper.number_display in old and electronic.number_display in old


def test_the_list_costs_the_same_queries_for_5_and_50_guarantees(
    clerk_client, company, tsukumi, django_assert_max_num_queries
):
    bulk_guarantees(company, 5, orderer=tsukumi, first_serial=1)
    with CaptureQueriesContext(connection) as five:
        small = clerk_client.get(reverse("certs:index"))
    bulk_guarantees(company, 45, orderer=tsukumi, first_serial=100)
    with django_assert_max_num_queries(LIST_QUERY_BUDGET):
        large = clerk_client.get(reverse("certs:index"))

    assert small.content.decode().count("金4,900,000円") == 5
    assert large.content.decode().count("金4,900,000円") == PER_PAGE
    assert "全50件中 1〜20件を表示" in large.content.decode()
    assert len(five) == LIST_QUERY_BUDGET


def test_a_company_in_no_joint_venture_lists_without_the_jv_condition_until_it_joins(
    clerk_client, company, tsukumi
):
    """Decision 0056: the user's load says the company is in no 共同企業体, so the list's
    statement is the company's rows alone (the index read in order); the request after it
    joins one lists the JV's guarantees too."""
    [own] = bulk_guarantees(company, 1, orderer=tsukumi, first_serial=1)
    jv = join_a_joint_venture(company)
    [of_jv] = bulk_guarantees(jv.representative, 1, orderer=tsukumi, first_serial=2)
    Work.objects.filter(pk=of_jv.work_id).update(joint_venture=jv)
    jv.members.filter(company=company).delete()  # not a member yet

    with CaptureQueriesContext(connection) as alone:
        before = clerk_client.get(reverse("certs:index")).content.decode()
    jv.members.create(company=company, share=40, position=1)
    with CaptureQueriesContext(connection) as joined:
        after = clerk_client.get(reverse("certs:index")).content.decode()

    [alone_sql] = [s for s in statement_texts(alone) if "certificates_guarantee" in s]
    [joined_sql] = [s for s in statement_texts(joined) if "certificates_guarantee" in s]
    assert "jointventuremember" not in alone_sql and "jointventuremember" in joined_sql
    assert len(alone) == len(joined) == LIST_QUERY_BUDGET
    assert own.number_display in before and of_jv.number_display not in before
    assert own.number_display in after and of_jv.number_display in after


def test_the_list_is_empty_for_a_company_without_guarantees(clerk_client, foreign):
    response = clerk_client.get(reverse("certs:index"))

    assert "締結済みの保証契約はまだありません。" in response.content.decode()
    assert foreign.number_display not in response.content.decode()


# --- The certificate page ------------------------------------------------------------------
def test_the_page_links_the_documents_without_reading_them(clerk_client, guarantee):
    """The three PDFs are linked by kind (decision 0052): the page reads no document row."""
    with CaptureQueriesContext(connection) as queries:
        response = clerk_client.get(reverse("certs:detail", args=[guarantee.number]))

    assert response.status_code == 200
    for kind in Document.Kind.values:
        assert f"/v1/{kind}.pdf" in response.content.decode()
    assert not [q for q in queries if "certificates_document" in q["sql"]]


def test_the_page_shows_the_certificate_as_the_pdf_does(clerk_client, guarantee):
    certificate = guarantee.certificates.get()
    stored = certificate.documents.get(kind=Document.Kind.CERTIFICATE)
    with stored.file.open("rb") as f:
        printed = pdf_text(f.read())
    work = guarantee.work

    response = clerk_client.get(detail_url(guarantee))

    assert response.status_code == 200
    page = html_text(response)
    assert "この画面は、印刷・保存が可能です" in page
    facts = {
        guarantee.number_display,
        "前払金保証証書",
        "ACME建設株式会社",
        "津久見市長",
        work.name,
        work.work_number,
        "金12,345,000円",  # 請負代金額
        "金4,900,000円",  # 保証金額
        "令和8年11月20日",  # 契約日
        "令和8年11月24日",  # 工期・保証期間の始まり
        "令和9年3月19日",  # 工期の終わり・保証期限
        "令和8年11月30日",  # 発行
        "10時00分",
        certificate.fingerprint,
        "この書面は電子証書の内容を表示したものです",
    }
    assert {f for f in facts if f in page} == facts
    assert {f for f in facts if f in printed} == facts


def test_the_page_has_the_buttons(clerk_client, guarantee):
    response = clerk_client.get(detail_url(guarantee))

    content = response.content.decode()
    assert "data-print" in content and "印刷する" in content
    assert f'action="{key_url(guarantee)}"' in content and "認証キーの表示" in content
    assert f'action="{notice_url(guarantee)}"' in content
    assert f'href="{notice_url(guarantee)}"' not in content  # a POST, never a link
    for kind in Document.Kind:
        assert f'href="{document_url(guarantee, kind)}"' in content
    assert not KEY_RE.search(content)  # the key only after the button


def test_showing_the_key_shows_it_and_records_who_saw_it(clerk, clerk_client, guarantee):
    response = clerk_client.post(key_url(guarantee))

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    content = response.content.decode()
    assert KEY_RE.findall(content) == [registry.current_key(guarantee)]
    display = KeyDisplay.objects.get()
    assert (display.guarantee, display.user, display.via, display.key_version) == (
        guarantee,
        clerk,
        KeyDisplay.Via.SCREEN,
        1,
    )
    page = clerk_client.get(detail_url(guarantee)).content.decode()
    assert "認証キーの最終表示" in page and "画面表示" in page
    assert not KEY_RE.search(page)


def test_the_key_is_not_shown_on_a_get(clerk_client, guarantee):
    response = clerk_client.get(key_url(guarantee))

    assert response.status_code == 405
    assert not KEY_RE.search(response.content.decode())
    assert not KeyDisplay.objects.exists()


def test_the_key_notice_carries_the_key_and_is_recorded(clerk, clerk_client, guarantee):
    response = clerk_client.post(notice_url(guarantee))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="key-notice-{guarantee.number_display}.pdf"'
    )
    text = pdf_text(body(response))
    assert registry.current_key(guarantee) in text and guarantee.number_display in text
    display = KeyDisplay.objects.get()
    assert (display.user, display.via, display.key_version) == (
        clerk,
        KeyDisplay.Via.KEY_NOTICE,
        1,
    )


def test_the_key_notice_is_not_served_on_a_get(clerk_client, guarantee):
    """A link on another site must not create a 'key shown' record (issue #12 item 11)."""
    start = AuditEvent.objects.count()

    response = clerk_client.get(notice_url(guarantee))

    assert response.status_code == 405
    assert not response.content.startswith(b"%PDF")
    assert not KeyDisplay.objects.exists()
    assert AuditEvent.objects.count() == start


def test_the_key_notice_needs_the_csrf_token(clerk, guarantee):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(clerk)

    response = browser.post(notice_url(guarantee))

    assert response.status_code == 403
    assert not KeyDisplay.objects.exists()


def test_the_documents_are_the_stored_bytes(clerk_client, guarantee):
    produce_after_commit_documents([guarantee])  # the worker's copies
    documents = {d.kind: d for d in guarantee.certificates.get().documents.all()}

    for kind, document in documents.items():
        response = clerk_client.get(document_url(guarantee, kind))
        assert response.status_code == 200, kind
        assert response["Content-Type"] == "application/pdf"
        assert f"{guarantee.number_display}-v1-{kind}.pdf" in response["Content-Disposition"]
        assert hashlib.sha256(body(response)).hexdigest() == document.sha256

    assert set(documents) == {"certificate", "customer_copy", "fee_statement"}
    assert clerk_client.get(document_url(guarantee, "key_notice")).status_code == 404
    assert clerk_client.get(document_url(guarantee, "certificate", version=2)).status_code == 404


# --- Access ----------------------------------------------------------------------------------


def every_url(g):
    """(method, url) of every page and file of one guarantee."""
    return [
        ("get", detail_url(g)),
        ("post", key_url(g)),
        ("post", notice_url(g)),
        *(("get", document_url(g, kind)) for kind in Document.Kind),
    ]


def test_another_companys_guarantee_is_not_found(clerk_client, client_for, other_clerk, foreign):
    missing = Guarantee(number=make_number(8, GuaranteeKind.ADVANCE, 9_999_999))

    for (method, url), (_, missing_url) in zip(every_url(foreign), every_url(missing), strict=True):
        response = getattr(clerk_client, method)(url)
        unknown = getattr(clerk_client, method)(missing_url)
        assert response.status_code == 404, url
        assert (unknown.status_code, unknown.content) == (404, response.content), url
        assert foreign.number_display not in response.content.decode()

    assert not KeyDisplay.objects.exists()
    # The same addresses work for the company that owns the guarantee.
    owner = client_for(other_clerk)
    for method, url in every_url(foreign):
        assert getattr(owner, method)(url).status_code == 200, url


def test_anonymous_visitors_are_sent_to_log_in(client, other_clerk, tsukumi):
    [g] = bulk_guarantees(other_clerk.membership.company, 1, orderer=tsukumi, first_serial=7)
    login = reverse("account_login")

    for method, url in [("get", reverse("certs:index")), *every_url(g)]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"{login}?next="), url
    assert not KeyDisplay.objects.exists()


def test_a_paper_guarantee_has_no_key(clerk_client, company, tsukumi):
    [paper] = make_concluded(company=company, delivery="paper", **WORK_DATES)

    page = clerk_client.get(detail_url(paper))
    assert page.status_code == 200
    assert "書面交付" in page.content.decode()
    assert key_url(paper) not in page.content.decode()
    assert notice_url(paper) not in page.content.decode()

    for response in (clerk_client.post(key_url(paper)), clerk_client.post(notice_url(paper))):
        assert response.status_code == 404
        assert "書面交付のため、認証キーは発行されていません" in response.content.decode()
        assert not KEY_RE.search(response.content.decode())
    assert not KeyDisplay.objects.exists()
    # Its stored PDFs are there as for any guarantee.
    assert clerk_client.get(document_url(paper, "customer_copy")).status_code == 200
