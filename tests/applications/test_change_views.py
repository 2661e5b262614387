"""Menu 5 — 保証契約締結後の変更 through HTTP: the clerk picks a guarantee, fills the change
form (live check, draft, submit), staff decide in admin, and the new version reaches the
contractor's 電子証書の確認 with the old one still downloadable; nothing of another company's.

The service-level rules are in test_changes.py; this module drives the same flow through the
views, the admin review buttons and the certificate pages.
"""

import datetime
import hashlib
import io
import re
import uuid

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from applications import fees, rules, services
from applications.changes import validation
from applications.models import Application, ApplicationItem
from certificates.models import Certificate, Document
from esure.choices import GuaranteeKind
from esure.wareki import to_wareki
from tests.conftest import (
    MAX_ADVANCE,
    MIN_CONTRACT,
    PRICE,
    field_html,
    listed_applications,
    make_concluded,
    make_staff,
)

S = Application.Status
C = Application.ChangeKind
TODAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.UTC)
# Keeps the guarantees 有効 on TODAY (as in test_changes.py).
PERIOD = {
    "contract_date": datetime.date(2026, 11, 1),
    "start_date": datetime.date(2026, 11, 10),
    "end_date": datetime.date(2027, 3, 19),
}
CHANGE_DATE = "2026-11-25"
NEW_END = datetime.date(2027, 6, 30)
MENU5 = reverse("applications:choose_guarantee")
MENU4 = reverse("applications:index")


@pytest.fixture(autouse=True)
def travel():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def staff(db):
    return make_staff(email="shinsa@surety.example.jp")


@pytest.fixture
def staff_client(staff):
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def pair(clerk, tsukumi, staff):
    """The clerk's company's concluded 前払金保証 (4,900,000) and 契約保証 (1,234,500) of one
    12,345,000円 work for 津久見市, both 有効 on TODAY."""
    advance, contract = make_concluded(
        company=clerk.membership.company,
        items={GuaranteeKind.ADVANCE: MAX_ADVANCE, GuaranteeKind.CONTRACT: MIN_CONTRACT},
        by=staff,
        **PERIOD,
    )
    assert (advance.kind, contract.kind) == (GuaranteeKind.ADVANCE, GuaranteeKind.CONTRACT)
    return advance, contract


@pytest.fixture
def advance(clerk, tsukumi, staff):
    """The clerk's company's concluded 前払金保証 of 4,900,000円 (the maximum for 12,345,000円)."""
    (guarantee,) = make_concluded(company=clerk.membership.company, by=staff, **PERIOD)
    return guarantee


@pytest.fixture
def others(other_clerk, tsukumi, staff):
    """Another company's concluded 前払金保証."""
    (guarantee,) = make_concluded(company=other_clerk.membership.company, by=staff, **PERIOD)
    return guarantee


def new_change_url(guarantee):
    return reverse("applications:new_change", args=[guarantee.number])


def check_url():
    return reverse("applications:check", args=["5"])


def change_post(target, **overrides):
    """The change form as a browser posts it (a 保証期限変更 unless told otherwise); an
    override of None leaves the field out."""
    data = {
        "client_token": str(uuid.uuid4()),
        "guarantee": target.number,
        "change_kind": C.PERIOD,
        "new_price": "",
        "change_contract_date": CHANGE_DATE,
        "change_amount": "",
        "new_end_date": NEW_END.isoformat(),
        "cancel_reason": "",
        "contact_name": "大分 花子",
        "contact_phone": "0972-82-1234",
        "message": "",
        "action": "submit",
        **overrides,
    }
    return {name: value for name, value in data.items() if value is not None}


def increase(guarantee, new_price, amount, **overrides):
    return change_post(
        guarantee,
        change_kind=C.INCREASE,
        new_price=f"{new_price:,}",
        change_amount=f"{amount:,}",
        new_end_date="",
        **overrides,
    )


def decrease(guarantee, new_price, amount, **overrides):
    return change_post(
        guarantee,
        change_kind=C.DECREASE,
        new_price=f"{new_price:,}",
        change_amount=f"{amount:,}",
        new_end_date="",
        **overrides,
    )


def cancel(guarantee, **overrides):
    return change_post(
        guarantee,
        change_kind=C.CANCEL,
        change_contract_date="",
        new_end_date="",
        cancel_reason="工事中止",
        **overrides,
    )


def the_change(guarantee):
    return Application.objects.get(guarantee=guarantee, menu=Application.Menu.CHANGE)


def submitted_change(client, guarantee, data):
    response = client.post(new_change_url(guarantee), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    application = the_change(guarantee)
    assert response["Location"] == reverse("applications:detail", args=[application.pk])
    assert application.status == S.SUBMITTED
    return application


def text_of(response):
    """The page as one line of text: tags dropped, whitespace removed."""
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", response.content.decode()))


def page_messages(response):
    return [str(m) for m in response.context["messages"]]


def pdf_text(data):
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def approve(staff_client, application):
    return staff_client.post(
        reverse("admin:applications_application_review", args=[application.pk]),
        {"decision": "approve", "reason": ""},
    )


def admin_change_url(application):
    return reverse("admin:applications_application_change", args=[application.pk])


def downloaded(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return b"".join(response.streaming_content)


# --- Menu 5: choosing the guarantee -----------------------------------------------------------


def test_menu5_lists_the_companys_changeable_guarantees_only(
    clerk_client, clerk, pair, others, staff
):
    advance, contract = pair
    response = clerk_client.get(MENU5)
    assert response.status_code == 200
    assert {g.pk for g in response.context["guarantees"]} == {advance.pk, contract.pk}
    html = response.content.decode()
    assert advance.number_display in html and contract.number_display in html
    assert others.number_display not in html
    assert new_change_url(advance) in html

    # A change in progress (even a draft) hides the guarantee; so does a 解約.
    clerk_client.post(new_change_url(contract), change_post(contract, action="save"))
    assert the_change(contract).status == S.DRAFT
    (cancelled,) = make_concluded(
        company=clerk.membership.company, by=staff, name="津久見港護岸補修工事", **PERIOD
    )
    application = submitted_change(clerk_client, cancelled, cancel(cancelled))
    services.approve_application(application=application, by=staff)
    cancelled.refresh_from_db()
    assert cancelled.cancelled_at is not None

    response = clerk_client.get(MENU5)
    assert {g.pk for g in response.context["guarantees"]} == {advance.pk}
    assert cancelled.number_display not in response.content.decode()
    assert clerk_client.get(new_change_url(cancelled)).status_code == 404
    assert clerk_client.post(new_change_url(cancelled), cancel(cancelled)).status_code == 404
    # the one with a change in progress is reached through menu 4, not a second change
    assert clerk_client.get(new_change_url(contract)).status_code == 404


def test_home_links_to_menu5(clerk_client):
    html = clerk_client.get(reverse("home")).content.decode()
    assert f'href="{MENU5}"' in html
    assert "保証契約締結後の変更" in html


# --- The form ---------------------------------------------------------------------------------


def test_the_form_shows_the_current_values_and_the_additional_advance_notice(clerk_client, pair):
    advance, contract = pair
    v1 = Certificate.objects.get(guarantee=advance, version=1)
    response = clerk_client.get(new_change_url(advance))
    assert response.status_code == 200
    text = text_of(response)
    assert "現在の内容:第1版" in text
    assert advance.number_display in text
    assert f"請負代金額{PRICE:,}円" in text
    assert f"保証金額{MAX_ADVANCE:,}円" in text
    assert f"保証期間{to_wareki(v1.starts_on)}〜{to_wareki(v1.ends_on)}" in text
    assert to_wareki(PERIOD["end_date"]) in text
    assert "追加前払" in text and "締結されてから発注者へ請求してください" in text
    for label in C.labels:
        assert label in text
    # no delivery choice or 約款 confirmation: the guarantee keeps its own
    html = response.content.decode()
    assert 'name="delivery"' not in html and 'name="terms_confirmed"' not in html
    assert f'name="guarantee" value="{advance.number}"' in html

    # a 契約保証 tells its own limit, and nothing about an additional advance
    text = text_of(clerk_client.get(new_change_url(contract)))
    assert f"保証金額{MIN_CONTRACT:,}円" in text
    assert "追加前払：" not in text and "締結されてから発注者へ請求" not in text
    assert "10%以上が必要です" in text


def test_saving_with_nothing_chosen_keeps_a_draft_and_the_input(clerk_client, advance):
    data = change_post(
        advance,
        change_kind="",
        change_contract_date="",
        new_end_date="",
        message="工期延長の変更契約を予定しています",
        action="save",
    )
    response = clerk_client.post(new_change_url(advance), data)
    application = the_change(advance)
    assert response.status_code == 302
    assert response["Location"] == reverse("applications:edit", args=[application.pk])
    assert application.status == S.DRAFT
    assert application.change_kind == ""
    assert application.created_by.email == "clerk@acme.example.jp"

    page = clerk_client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "保存中" in text_of(page)
    assert 'value="大分 花子"' in html
    assert "工期延長の変更契約を予定しています" in html
    assert "checked" not in field_html(page, "change_kind")
    assert f'name="guarantee" value="{advance.number}"' in html

    # a second POST of the same new-change form edits the same draft, it does not add one
    data["contact_phone"] = "0972-82-9999"
    response = clerk_client.post(new_change_url(advance), data)
    assert response.status_code == 302
    assert Application.objects.filter(guarantee=advance).count() == 1
    assert the_change(advance).contact_phone == "0972-82-9999"


def test_submitting_without_a_kind_is_refused_next_to_the_field(clerk_client, advance):
    data = change_post(advance, change_kind="", change_contract_date="", new_end_date="")
    response = clerk_client.post(new_change_url(advance), data)
    assert response.status_code == 400
    assert validation.MSG_CHANGE_KIND in field_html(response, "change_kind")
    assert the_change(advance).status == S.DRAFT  # kept, not submitted


def test_a_period_change_is_submitted_and_listed_in_menu4(clerk_client, advance):
    application = submitted_change(clerk_client, advance, change_post(advance))
    assert application.change_kind == C.PERIOD
    assert application.new_end_date == NEW_END
    assert application.change_contract_date == datetime.date(2026, 11, 25)
    assert application.work_id == advance.work_id

    detail = clerk_client.get(reverse("applications:detail", args=[application.pk]))
    text = text_of(detail)
    assert "状態:手続き中" in text
    assert "保証契約締結後の変更" in text
    assert C.PERIOD.label in text
    assert f"変更後の工期（至）{to_wareki(NEW_END)}" in text

    listing = clerk_client.get(MENU4)
    html = listing.content.decode()
    link = f'<a href="{reverse("applications:detail", args=[application.pk])}">'
    row = html[html.rindex("<tr>", 0, html.index(link)) : html.index("</tr>", html.index(link))]
    row = re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", row))
    assert "手続き中" in row and "保証契約締結後の変更" in row
    assert advance.work.name in row and f"{MAX_ADVANCE:,}円" in row


# --- The limits on the new values, through HTTP ------------------------------------------------


def test_an_increase_over_40_percent_of_the_new_price_is_refused_next_to_the_amount(
    clerk_client, advance
):
    # 12,500,000 × 40% = 5,000,000: 5,100,000 is over it
    response = clerk_client.post(new_change_url(advance), increase(advance, 12_500_000, 5_100_000))
    assert response.status_code == 400
    message = rules.MSG_CHANGE_ADVANCE_OVER_NEW_MAX.format(
        price=rules.yen(12_500_000), max=rules.yen(5_000_000), advance=rules.yen(5_100_000)
    )
    box = field_html(response, "change_amount")
    assert "変更後の保証金額（円）" in box
    assert message in box.replace("&#x27;", "'")
    assert 'value="5,100,000"' in box  # the input is kept
    assert 'value="12,500,000"' in field_html(response, "new_price")
    application = the_change(advance)
    assert application.status == S.DRAFT  # saved, not submitted
    assert application.items.get().amount == 5_100_000

    # at exactly 40% it goes through (the same draft, continued)
    data = increase(advance, 12_500_000, 5_000_000)
    response = clerk_client.post(reverse("applications:edit", args=[application.pk]), data)
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.SUBMITTED
    assert application.new_price == 12_500_000


def test_a_decrease_below_the_paid_advance_is_refused_with_a_clear_message(clerk_client, advance):
    # 12,000,000 allows at most 4,800,000; 4,900,000 is guaranteed (and paid out)
    response = clerk_client.post(
        new_change_url(advance), decrease(advance, 12_000_000, MAX_ADVANCE)
    )
    assert response.status_code == 400
    box = field_html(response, "change_amount")
    message = rules.MSG_CHANGE_ADVANCE_OVER_NEW_MAX.format(
        price=rules.yen(12_000_000), max=rules.yen(4_800_000), advance=rules.yen(MAX_ADVANCE)
    )
    assert message in box
    assert "下回ります" in box and "先に発注者とご相談ください" in box
    assert 'value="4,900,000"' in box
    assert the_change(advance).status == S.DRAFT


def test_the_live_check_tells_a_bad_increase(clerk_client, advance):
    response = clerk_client.post(check_url(), increase(advance, 12_500_000, 5_100_000))
    assert response.status_code == 200
    errors = response.json()["errors"]
    assert any("下回ります" in m for m in errors[validation.CHANGE_AMOUNT_FIELD])

    # a price that does not increase is told at the price
    response = clerk_client.post(check_url(), increase(advance, PRICE, MAX_ADVANCE))
    assert (
        validation.MSG_INCREASE_PRICE.format(price=rules.yen(PRICE))
        in (response.json()["errors"]["new_price"])
    )

    # a good one has no message
    response = clerk_client.post(check_url(), increase(advance, 14_000_000, 5_600_000))
    assert response.json()["errors"] == {}
    assert not Application.objects.filter(guarantee=advance).exists()  # the check saves nothing


# --- Staff decide; the new version reaches the contractor --------------------------------------


@pytest.mark.parametrize(
    ("make_data", "kind"),
    [
        (change_post, C.PERIOD),
        (lambda g: decrease(g, 10_000_000, 4_000_000), C.DECREASE),
        (cancel, C.CANCEL),
    ],
    ids=["period", "decrease", "cancel"],
)
def test_staff_approval_concludes_a_change_without_a_fee_at_once(
    clerk_client, staff_client, advance, make_data, kind
):
    application = submitted_change(clerk_client, advance, make_data(advance))
    assert application.change_kind == kind
    page = staff_client.get(admin_change_url(application))
    assert page.status_code == 200
    assert "すべての規則を満たしています。" in page.content.decode()

    response = approve(staff_client, application)
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.CONCLUDED
    v2 = Certificate.objects.get(guarantee=advance, version=2)
    assert v2.documents.filter(kind=Document.Kind.CERTIFICATE).exists()
    advance.refresh_from_db()
    assert (advance.cancelled_at is not None) is (kind == C.CANCEL)
    # concluded: no 保証料入金 box to fill
    assert "fee-form" not in staff_client.get(admin_change_url(application)).content.decode()
    detail = text_of(clerk_client.get(reverse("applications:detail", args=[application.pk])))
    assert "状態:締結済" in detail


def test_an_increase_waits_for_its_additional_fee_shown_in_admin(
    clerk_client, staff_client, staff, advance
):
    application = submitted_change(clerk_client, advance, increase(advance, 14_000_000, 5_600_000))
    response = approve(staff_client, application)
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.APPROVED
    assert not Certificate.objects.filter(guarantee=advance, version=2).exists()

    statement = fees.expected_fee(application).change
    assert statement.kind == "additional" and statement.fee > 0
    page = staff_client.get(admin_change_url(application))
    html = page.content.decode()
    assert "保証料入金" in html and 'id="fee-form"' in html
    assert f"計算上の保証料: 金{statement.fee:,}円（非課税）" in html
    assert f'name="amount" value="{statement.fee}"' in html
    # the clerk is asked for the additional fee
    detail = text_of(clerk_client.get(reverse("applications:detail", args=[application.pk])))
    assert f"追加保証料：{statement.fee:,}円" in detail
    assert f"保証料{statement.fee:,}円（非課税）をお支払いください" in detail

    # recording it concludes (the service the admin's 保証料入金 box calls)
    services.record_fee_receipt(
        application=application,
        received_on=TODAY.date(),
        amount=statement.fee,
        method="transfer",
        by=staff,
    )
    application.refresh_from_db()
    assert application.status == S.CONCLUDED
    v2 = Certificate.objects.get(guarantee=advance, version=2)
    assert v2.amount == 5_600_000
    assert v2.content["work"]["price"] == 14_000_000


def test_recording_the_additional_fee_in_admin_concludes_the_increase(
    clerk_client, staff_client, advance
):
    application = submitted_change(clerk_client, advance, increase(advance, 14_000_000, 5_600_000))
    approve(staff_client, application)
    fee = fees.expected_fee(application).due
    response = staff_client.post(
        reverse("admin:applications_application_fee", args=[application.pk]),
        {"received_on": TODAY.date().isoformat(), "amount": fee, "method": "transfer"},
        follow=True,
    )
    assert response.status_code == 200
    assert any(advance.number_display in m for m in page_messages(response))
    application.refresh_from_db()
    assert application.status == S.CONCLUDED


def test_the_contractor_sees_both_versions_and_downloads_both_originals(
    clerk_client, staff_client, advance
):
    application = submitted_change(clerk_client, advance, change_post(advance))
    approve(staff_client, application)

    page = clerk_client.get(reverse("certs:detail", args=[advance.number]))
    assert page.status_code == 200
    text = text_of(page)
    assert "状態:変更あり第2版" in text
    assert "第2版" in text and "第1版（変更前）" in text
    assert "第2版（変更前）" not in text
    assert "保証期限変更" in text  # 変更内容 of v2 in the version list
    assert to_wareki(NEW_END) in text

    for version in (1, 2):
        recorded = Document.objects.get(
            certificate__guarantee=advance, certificate__version=version, kind="certificate"
        )
        url = reverse("certs:document", args=[advance.number, version, "certificate"])
        assert url in page.content.decode()
        data = downloaded(clerk_client.get(url))
        assert hashlib.sha256(data).hexdigest() == recorded.sha256
        assert len(data) == recorded.size
        assert f"第{version}版" in pdf_text(data)

    notice = clerk_client.post(reverse("certs:key_notice", args=[advance.number]))
    assert notice.status_code == 200
    text = pdf_text(notice.content)
    assert "第2版（変更）" in text
    assert "第1版" not in text


# --- Access: IDOR, anonymous, methods ----------------------------------------------------------


@pytest.fixture
def others_change(others, other_clerk):
    """Another company's change application (保存中) on its own guarantee."""
    application = Application.objects.create(
        company=others.company,
        work=others.work,
        menu=Application.Menu.CHANGE,
        guarantee=others,
        change_kind=C.PERIOD,
        new_end_date=NEW_END,
        change_contract_date=datetime.date(2026, 11, 25),
        contact_name="他社 太郎",
        contact_phone="0972-00-0000",
        created_by=other_clerk,
    )
    ApplicationItem.objects.create(application=application, kind=others.kind, amount=MAX_ADVANCE)
    return application


def test_another_companys_guarantee_is_a_404(clerk_client, others):
    assert clerk_client.get(new_change_url(others)).status_code == 404
    assert clerk_client.post(new_change_url(others), change_post(others)).status_code == 404
    assert clerk_client.post(check_url(), change_post(others)).status_code == 404
    assert not Application.objects.filter(guarantee=others).exists()
    # exactly as a number that does not exist
    assert (
        clerk_client.get(reverse("applications:new_change", args=["99999999999"])).status_code
        == 404
    )
    assert clerk_client.post(check_url(), change_post(others, guarantee="")).status_code == 404


def test_another_companys_change_application_is_a_404(clerk_client, others_change):
    pk = others_change.pk
    for name in ("detail", "edit"):
        assert clerk_client.get(reverse(f"applications:{name}", args=[pk])).status_code == 404
    assert (
        clerk_client.post(
            reverse("applications:edit", args=[pk]), change_post(others_change.guarantee)
        ).status_code
        == 404
    )
    for name in ("submit", "withdraw"):
        assert clerk_client.post(reverse(f"applications:{name}", args=[pk])).status_code == 404
    others_change.refresh_from_db()
    assert others_change.status == S.DRAFT
    assert others_change.contact_name == "他社 太郎"
    assert pk not in listed_applications(clerk_client.get(MENU4))


def test_anonymous_is_sent_to_log_in(client, advance, others_change):
    login = reverse("account_login")
    urls = [
        ("get", MENU5),
        ("get", new_change_url(advance)),
        ("post", new_change_url(advance)),
        ("post", check_url()),
        ("get", reverse("applications:edit", args=[others_change.pk])),
        ("post", reverse("applications:submit", args=[others_change.pk])),
        ("post", reverse("applications:withdraw", args=[others_change.pk])),
    ]
    for method, url in urls:
        response = getattr(client, method)(url, change_post(advance) if method == "post" else {})
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"{login}?next="), url
    assert not Application.objects.filter(guarantee=advance).exists()


def test_post_only_urls_refuse_get(clerk_client, advance):
    clerk_client.post(new_change_url(advance), change_post(advance, action="save"))
    pk = the_change(advance).pk
    for url in (
        check_url(),
        reverse("applications:submit", args=[pk]),
        reverse("applications:withdraw", args=[pk]),
    ):
        assert clerk_client.get(url).status_code == 405, url


def test_the_clerk_submits_and_withdraws_a_change_from_its_page(clerk_client, advance):
    clerk_client.post(new_change_url(advance), change_post(advance, action="save"))
    application = the_change(advance)
    response = clerk_client.post(reverse("applications:submit", args=[application.pk]))
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.SUBMITTED
    response = clerk_client.post(reverse("applications:withdraw", args=[application.pk]))
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.WITHDRAWN
    # withdrawn: the guarantee may be changed again
    assert advance.pk in {g.pk for g in clerk_client.get(MENU5).context["guarantees"]}
