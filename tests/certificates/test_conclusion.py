"""保証料入金 → 締結 (DESIGN.md §4 "Conclusion", decision 0003): recording the fee concludes
every guarantee of an approved application in one transaction — numbers, Certificate v1,
stored PDFs, status, receipt and the registration mail — or, on any failure, nothing."""

import hashlib
import json
import re

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from applications import services
from applications.fees import expected_fee
from applications.models import Application, FeeReceipt, StatusChange
from certificates import pdf
from certificates import services as registry
from certificates.models import Certificate, Document, Guarantee, NumberCounter
from certificates.numbering import format_number, make_number
from esure.choices import GuaranteeKind
from tests.conftest import (
    MAX_ADVANCE,
    MIN_CONTRACT,
    NOW,
    WORK_DATES,
    make_application,
    make_fee_tables,
    make_member,
    make_work,
)

pytestmark = pytest.mark.usefixtures("frozen")
S = Application.Status
TODAY = NOW.date()
# A work of 令和8年度 whose guarantees are still running on TODAY.
TWO_KINDS = {GuaranteeKind.ADVANCE: MAX_ADVANCE, GuaranteeKind.CONTRACT: MIN_CONTRACT}
SUBJECT = "電子証書・認証キー登録のお知らせ"
URL_RE = re.compile(r"https?://[^\s（）()「」]+")


@pytest.fixture
def fee_tables(db):
    make_fee_tables()


@pytest.fixture
def colleague(clerk):
    """A second member of the clerk's company: the mail goes to every member."""
    return make_member(clerk.membership.company, email="jimu@acme.example.jp")


def approved(company, *, items=None, delivery="electronic"):
    work = make_work(company, **WORK_DATES)
    return make_application(
        company=company, work=work, status=S.APPROVED, items=items, delivery=delivery
    )


def computed_fee(application):
    return expected_fee(application, TODAY).due


def conclude(application, staff, **overrides):
    values = {
        "application": application,
        "received_on": TODAY,
        "amount": computed_fee(application),
        "method": "transfer",
        "by": staff,
        **overrides,
    }
    return services.record_fee_receipt(**values)


def key_forms(key):
    plain = key.replace("-", "")
    return {key, plain, key.lower(), plain.lower()}


def assert_nothing_concluded(application):
    assert Guarantee.objects.count() == 0
    assert Certificate.objects.count() == 0
    assert Document.objects.count() == 0
    assert FeeReceipt.objects.count() == 0
    assert not NumberCounter.objects.filter(last_serial__gt=0).exists()
    application.refresh_from_db()
    assert application.status == S.APPROVED
    assert not StatusChange.objects.filter(application=application, new_status=S.CONCLUDED).exists()
    assert mail.outbox == []


# --- The conclusion itself -------------------------------------------------------------------


def test_fee_receipt_concludes_both_guarantees_at_once(
    clerk, colleague, staff, tsukumi, fee_tables, django_capture_on_commit_callbacks
):
    application = approved(clerk.membership.company, items=TWO_KINDS)
    quotes = expected_fee(application, TODAY).quotes
    fee = computed_fee(application)

    with django_capture_on_commit_callbacks(execute=True):
        guarantees = conclude(application, staff, amount=fee)

    # Numbers: 令和8年度, kind digit 1 (前払金) and 2 (契約保証), serial 1 each, Damm digit.
    assert [g.number for g in guarantees] == [
        make_number(8, GuaranteeKind.ADVANCE, 1),
        make_number(8, GuaranteeKind.CONTRACT, 1),
    ]
    assert guarantees[0].number_display.startswith("08-1-0000001-")
    assert guarantees[1].number_display.startswith("08-2-0000001-")
    assert Guarantee.objects.count() == 2
    assert set(NumberCounter.objects.values_list("fiscal_year", "kind_digit", "last_serial")) == {
        (8, 1, 1),
        (8, 2, 1),
    }

    work = application.work
    for guarantee, (kind, amount) in zip(guarantees, TWO_KINDS.items(), strict=True):
        guarantee.refresh_from_db()
        assert guarantee.kind == kind
        assert guarantee.company == clerk.membership.company
        assert guarantee.work == work and guarantee.orderer == tsukumi
        assert guarantee.delivery == Guarantee.Delivery.ELECTRONIC
        assert guarantee.key_version == 1
        assert guarantee.concluded_at == NOW

        [certificate] = guarantee.certificates.all()
        assert certificate.version == 1
        assert certificate.amount == amount
        assert (certificate.starts_on, certificate.ends_on) == (
            WORK_DATES["start_date"],
            WORK_DATES["end_date"],
        )
        canonical = json.dumps(
            certificate.content, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
        assert certificate.fingerprint == hashlib.sha256(canonical).hexdigest()
        assert certificate.content["number"] == guarantee.number
        assert certificate.content["guarantee"]["amount"] == amount
        assert certificate.content["work"]["name"] == work.name
        assert certificate.content["fee"]["fee"] == quotes[kind].fee
        assert certificate.content["fee"]["received_on"] == TODAY.isoformat()

        documents = {d.kind: d for d in certificate.documents.all()}
        assert set(documents) == set(Document.Kind)
        for document in documents.values():
            with document.file.open("rb") as stored:
                data = stored.read()
            assert data.startswith(b"%PDF")
            assert hashlib.sha256(data).hexdigest() == document.sha256
            assert len(data) == document.size

    application.refresh_from_db()
    assert application.status == S.CONCLUDED
    change = StatusChange.objects.get(application=application, new_status=S.CONCLUDED)
    assert (change.old_status, change.by) == (S.APPROVED, staff)
    assert f"{fee:,}円" in change.note
    receipt = FeeReceipt.objects.get(application=application)
    assert (receipt.amount, receipt.expected_amount) == (fee, fee)
    assert (receipt.received_on, receipt.method, receipt.recorded_by) == (TODAY, "transfer", staff)

    [message] = mail.outbox
    assert SUBJECT in message.subject
    assert set(message.to) == {clerk.email, colleague.email}
    for guarantee in guarantees:
        assert f"{guarantee.number_display}（{guarantee.get_kind_display()}）" in message.body
    assert work.name in message.body and work.name in message.subject
    assert f"発注者: {tsukumi.name}" in message.body
    text = message.subject + message.body
    for guarantee in guarantees:
        for form in key_forms(registry.current_key(guarantee)):
            assert form not in text
    # The only link is the login-protected list, never a page that opens without logging in.
    index = reverse("certs:index")
    assert URL_RE.findall(message.body) == [f"{settings.ESURE_SITE_URL}{index}"]


def test_the_login_link_of_the_mail_needs_a_login(client, db):
    response = client.get(reverse("certs:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_second_fee_receipt_is_refused(clerk, staff, tsukumi, fee_tables):
    application = approved(clerk.membership.company)
    [guarantee] = conclude(application, staff)

    with pytest.raises(services.TransitionError):
        conclude(application, staff)

    assert list(Guarantee.objects.all()) == [guarantee]
    assert FeeReceipt.objects.count() == 1
    assert NumberCounter.objects.get().last_serial == 1


def test_a_fee_that_differs_from_the_computed_fee_is_refused(
    clerk, staff, tsukumi, fee_tables, django_capture_on_commit_callbacks
):
    application = approved(clerk.membership.company)
    fee = computed_fee(application)

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError) as refused,
    ):
        conclude(application, staff, amount=fee - 1)

    assert refused.value.code == "fee_mismatch"
    assert (
        f"{fee - 1:,}円" in refused.value.messages[0] and f"{fee:,}円" in refused.value.messages[0]
    )
    assert_nothing_concluded(application)


def test_a_confirmed_mismatch_concludes_and_keeps_both_amounts(
    clerk, staff, tsukumi, fee_tables, django_capture_on_commit_callbacks
):
    application = approved(clerk.membership.company)
    fee = computed_fee(application)

    with django_capture_on_commit_callbacks(execute=True):
        [guarantee] = conclude(application, staff, amount=fee + 1000, confirm_mismatch=True)

    application.refresh_from_db()
    assert application.status == S.CONCLUDED
    receipt = FeeReceipt.objects.get(application=application)
    assert (receipt.amount, receipt.expected_amount) == (fee + 1000, fee)
    assert guarantee.certificates.get().content["fee"]["fee"] == fee
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "status", [S.DRAFT, S.SUBMITTED, S.RETURNED, S.WITHDRAWN, S.DECLINED, S.CONCLUDED]
)
def test_only_an_approved_application_can_be_concluded(clerk, staff, tsukumi, fee_tables, status):
    work = make_work(clerk.membership.company, **WORK_DATES)
    application = make_application(company=clerk.membership.company, work=work, status=status)

    with pytest.raises(services.TransitionError):
        conclude(application, staff, amount=10_000, confirm_mismatch=True)

    application.refresh_from_db()
    assert application.status == status
    assert Guarantee.objects.count() == 0 and FeeReceipt.objects.count() == 0
    assert not NumberCounter.objects.exists()


def test_paper_delivery_concludes_without_a_key(
    clerk, staff, tsukumi, fee_tables, django_capture_on_commit_callbacks
):
    application = approved(clerk.membership.company, delivery="paper")

    with django_capture_on_commit_callbacks(execute=True):
        [guarantee] = conclude(application, staff)

    guarantee.refresh_from_db()
    assert guarantee.delivery == Guarantee.Delivery.PAPER
    assert guarantee.key_version == 0 and not guarantee.has_key
    with pytest.raises(registry.KeyNotAvailable):
        registry.current_key(guarantee)
    # The registry still holds the original and its PDFs (the paper is printed from them).
    assert guarantee.certificates.get().documents.count() == 3
    application.refresh_from_db()
    assert application.status == S.CONCLUDED

    [message] = mail.outbox
    assert "書面交付" in message.subject and SUBJECT not in message.subject
    assert guarantee.number_display in message.body
    assert "郵送" in message.body and "認証キー" not in message.body


# --- Any failure rolls everything back -------------------------------------------------------


def fail_on_call(monkeypatch, failing_call):
    """Make the `failing_call`-th rendering of issuance documents raise (the others render)."""
    real = pdf.render_issuance_documents
    calls = []

    def render(certificate, kinds=None):
        calls.append(certificate.guarantee.number)
        if len(calls) == failing_call:
            raise OSError("font file unreadable")
        return real(certificate, kinds)

    monkeypatch.setattr(pdf, "render_issuance_documents", render)
    return calls


def test_a_render_failure_rolls_back_everything(
    clerk, staff, tsukumi, fee_tables, monkeypatch, django_capture_on_commit_callbacks
):
    application = approved(clerk.membership.company, items=TWO_KINDS)
    # The first guarantee renders and stores its PDFs; the second one fails.
    calls = fail_on_call(monkeypatch, failing_call=2)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(OSError, match="font file unreadable"),
    ):
        conclude(application, staff)

    assert len(calls) == 2
    assert callbacks == []  # no mail was queued for after a commit
    assert_nothing_concluded(application)

    # The serials were given back: the retry gets serial 1 of each kind.
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        guarantees = conclude(application, staff)
    assert [g.number for g in guarantees] == [
        make_number(8, GuaranteeKind.ADVANCE, 1),
        make_number(8, GuaranteeKind.CONTRACT, 1),
    ]
    assert len(mail.outbox) == 1


def test_a_render_failure_leaves_no_pdf_in_storage(
    clerk, staff, tsukumi, fee_tables, monkeypatch, media
):
    """The PDFs of a guarantee stored before a later one failed would outlive the rollback:
    orphan originals bearing a number that the next conclusion gives to another guarantee."""
    application = approved(clerk.membership.company, items=TWO_KINDS)
    fail_on_call(monkeypatch, failing_call=2)

    with pytest.raises(OSError):
        conclude(application, staff)

    assert Document.objects.count() == 0
    stored = sorted(p.name for p in media.rglob("*") if p.is_file()) if media.exists() else []
    assert stored == []


# --- Through the admin -----------------------------------------------------------------------


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def change_url(application):
    return reverse("admin:applications_application_change", args=[application.pk])


def fee_url(application):
    return reverse("admin:applications_application_fee", args=[application.pk])


def fee_post(application, **overrides):
    return {
        "received_on": TODAY.isoformat(),
        "amount": str(computed_fee(application)),
        "method": "transfer",
        **overrides,
    }


def page_messages(response):
    return [str(m) for m in response.context["messages"]]


@pytest.mark.parametrize(
    ("status", "shown"),
    [(S.SUBMITTED, False), (S.APPROVED, True), (S.CONCLUDED, False), (S.DECLINED, False)],
)
def test_the_fee_box_is_on_approved_applications_only(
    staff_client, clerk, tsukumi, fee_tables, status, shown
):
    work = make_work(clerk.membership.company, **WORK_DATES)
    application = make_application(company=clerk.membership.company, work=work, status=status)

    response = staff_client.get(change_url(application))

    assert response.status_code == 200
    content = response.content.decode()
    assert ('id="fee-form"' in content) is shown
    assert (fee_url(application) in content) is shown
    if shown:
        assert "保証料入金（記録すると保証契約を締結します）" in content
        assert f"計算上の保証料: 金{computed_fee(application):,}円" in content


def test_posting_the_fee_concludes_and_names_the_numbers(
    staff_client, clerk, tsukumi, fee_tables, django_capture_on_commit_callbacks
):
    application = approved(clerk.membership.company, items=TWO_KINDS)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(fee_url(application), fee_post(application), follow=True)

    assert response.redirect_chain == [(change_url(application), 302)]
    numbers = [format_number(make_number(8, kind, 1)) for kind in TWO_KINDS]
    assert page_messages(response) == [f"保証契約を締結しました: {'、'.join(numbers)}"]
    application.refresh_from_db()
    assert application.status == S.CONCLUDED
    assert sorted(Guarantee.objects.values_list("number", flat=True)) == sorted(
        n.replace("-", "") for n in numbers
    )
    assert 'id="fee-form"' not in response.content.decode()
    assert len(mail.outbox) == 1


def test_posting_a_mismatched_fee_shows_the_error(staff_client, clerk, tsukumi, fee_tables):
    application = approved(clerk.membership.company)
    fee = computed_fee(application)

    response = staff_client.post(
        fee_url(application), fee_post(application, amount=str(fee + 1)), follow=True
    )

    assert page_messages(response) == [
        services.MSG_FEE_MISMATCH.format(received=fee + 1, expected=fee)
    ]
    assert_nothing_concluded(application)


def test_posting_a_fee_that_fails_to_render_keeps_nothing(
    staff_client, clerk, tsukumi, fee_tables, monkeypatch, django_capture_on_commit_callbacks
):
    application = approved(clerk.membership.company, items=TWO_KINDS)
    fail_on_call(monkeypatch, failing_call=2)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(fee_url(application), fee_post(application), follow=True)

    [message] = page_messages(response)
    assert message.startswith("締結できませんでした")
    assert 'id="fee-form"' in response.content.decode()  # still approved: staff may retry
    assert_nothing_concluded(application)


def test_an_incomplete_fee_form_concludes_nothing(staff_client, clerk, tsukumi, fee_tables):
    application = approved(clerk.membership.company)

    response = staff_client.post(
        fee_url(application), fee_post(application, amount="", method="cash"), follow=True
    )

    texts = page_messages(response)
    assert any(t.startswith("入金額（円）:") for t in texts)
    assert any(t.startswith("入金方法:") for t in texts)
    assert_nothing_concluded(application)


def test_the_fee_url_takes_only_a_post_from_staff(client, clerk, tsukumi, fee_tables, staff):
    application = approved(clerk.membership.company)

    client.force_login(clerk)
    response = client.post(fee_url(application), fee_post(application))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))

    client.force_login(staff)
    assert client.get(fee_url(application)).status_code == 405
    assert_nothing_concluded(application)
