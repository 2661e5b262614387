"""The office's claim pages: filing (full-width digits, the form keeping its input), the
documents' limits, answering a request for documents, and who may open what."""

import datetime

import pytest
from django.urls import reverse

from certificates import services as registry
from certificates.models import Submission
from claims import services
from claims.models import Claim
from esure.choices import GuaranteeKind
from tests.claims.conftest import (
    TERMINATED_ON,
    deliver,
    file,
    make_claimable,
    move_to,
    office_of,
)
from tests.conftest import evidence_file, make_office_user, make_orderer

S = Claim.Status
pytestmark = pytest.mark.django_db
LIMIT = 1000  # bytes: a small ESURE_CLAIM_ATTACHMENT_MAX_BYTES for the size tests


def post_data(**overrides):
    data = {
        "terminated_on": TERMINATED_ON.isoformat(),
        "termination_cause": "受注者の履行遅滞により契約を解除した。",
        "advance_paid": "４，９００，０００",  # full width, as typed on a Japanese keyboard
        "progress_paid": "1,000,000円",
        "completed_value": "3000000",
        "termination_notice": evidence_file("pdf", name="kaijo.pdf"),
        "inspection_record": evidence_file("jpeg", name="kensa.jpg"),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_office_files_a_claim_and_reads_its_working(client_for, guarantee, office_user):
    browser = client_for(office_user)
    url = reverse("claims:new", args=[guarantee.number])
    assert browser.get(url).status_code == 200
    response = browser.post(url, post_data())
    claim = Claim.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("claims:office_detail", args=[claim.pk])
    assert (claim.advance_paid, claim.progress_paid, claim.completed_value) == (
        4_900_000,
        1_000_000,
        3_000_000,
    )
    page = browser.get(response["Location"]).content.decode()
    assert "2,900,000円" in page
    assert "前払金 4,900,000円 ＋ 出来形払 1,000,000円 − 既済部分の代価 3,000,000円" in page
    assert "受付（審査中）" in page
    assert "kaijo.pdf" in page and "kensa.jpg" in page


def test_the_list_takes_the_number_as_printed_and_lists_the_claims(
    client_for, guarantee, office_user
):
    browser = client_for(office_user)
    typed = "０" + guarantee.number_display[1:].replace("-", "ー")
    response = browser.get(reverse("claims:office_list"), {"number": typed})
    assert response["Location"] == reverse("claims:new", args=[guarantee.number])
    assert browser.get(reverse("claims:office_list"), {"number": "12345"}).status_code == 400
    claim = file(guarantee, office_user)
    page = browser.get(reverse("claims:office_list")).content.decode()
    assert reverse("claims:office_detail", args=[claim.pk]) in page


def test_the_form_keeps_its_input_and_says_what_is_wrong(client_for, guarantee, office_user):
    browser = client_for(office_user)
    url = reverse("claims:new", args=[guarantee.number])
    response = browser.post(url, post_data(advance_paid="4,900,001", completed_value="abc"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "金額は数字で入力してください" in page
    assert "受注者の履行遅滞により契約を解除した。" in page
    assert 'value="1,000,000円"' in page
    assert not Claim.objects.exists()
    # The service's rule, next to its field.
    response = browser.post(url, post_data(advance_paid="4,900,001"))
    assert response.status_code == 400
    assert "前払金の額が保証金額 4,900,000円 を超えています。" in response.content.decode()


def test_a_future_termination_date_is_refused(client_for, guarantee, office_user):
    response = client_for(office_user).post(
        reverse("claims:new", args=[guarantee.number]), post_data(terminated_on="2026-12-01")
    )
    assert response.status_code == 400
    assert "契約解除の日に未来の日付は入力できません。" in response.content.decode()


def test_a_contract_guarantee_asks_for_the_penalty_only(
    client_for, contract_guarantee, contract_office_user
):
    browser = client_for(contract_office_user)
    url = reverse("claims:new", args=[contract_guarantee.number])
    page = browser.get(url).content.decode()
    assert 'name="penalty"' in page and 'name="advance_paid"' not in page
    response = browser.post(
        url,
        post_data(
            advance_paid=None,
            progress_paid=None,
            completed_value=None,
            inspection_record=None,
            penalty="１２３４５０１",
        ),
    )
    assert response.status_code == 302
    assert Claim.objects.get().claimable == 1_234_500


@pytest.mark.parametrize("size, ok", [(LIMIT - 1, True), (LIMIT, True), (LIMIT + 1, False)])
def test_documents_up_to_the_size_limit(client_for, guarantee, office_user, settings, size, ok):
    settings.ESURE_CLAIM_ATTACHMENT_MAX_BYTES = LIMIT
    response = client_for(office_user).post(
        reverse("claims:new", args=[guarantee.number]),
        post_data(termination_notice=evidence_file("pdf", size=size)),
    )
    assert (response.status_code == 302) is ok
    if not ok:
        assert "ファイルが大きすぎます" in response.content.decode()
        assert not Claim.objects.exists()
    else:
        assert Claim.objects.get().attachments.first().size == size


@pytest.mark.parametrize("kind", ["png", "text"])
def test_documents_are_pdf_or_jpeg_by_their_bytes(client_for, guarantee, office_user, kind):
    response = client_for(office_user).post(
        reverse("claims:new", args=[guarantee.number]),
        post_data(termination_notice=evidence_file(kind, name="kaijo.pdf")),
    )
    assert response.status_code == 400
    assert services.MSG_FILE_TYPE in response.content.decode()


def test_the_stored_document_is_the_uploaded_bytes_with_their_hash(
    client_for, guarantee, office_user
):
    import hashlib

    upload = evidence_file("pdf", name="kaijo.pdf", size=300)
    data = upload.read()
    upload.seek(0)
    browser = client_for(office_user)
    browser.post(
        reverse("claims:new", args=[guarantee.number]), post_data(termination_notice=upload)
    )
    claim = Claim.objects.get()
    notice = claim.attachments.get(kind="termination_notice")
    assert notice.sha256 == hashlib.sha256(data).hexdigest()
    response = browser.get(reverse("claims:attachment", args=[claim.pk, notice.pk]))
    assert b"".join(response.streaming_content) == data
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/pdf"


def test_the_office_answers_a_request_for_documents(client_for, guarantee, office_user, reviewer):
    claim = move_to(file(guarantee, office_user), S.MORE_DOCUMENTS_REQUESTED, reviewer)
    browser = client_for(office_user)
    page = browser.get(reverse("claims:office_detail", args=[claim.pk])).content.decode()
    assert "登記事項証明書を" in page and 'name="files"' in page
    url = reverse("claims:resubmit", args=[claim.pk])
    response = browser.post(url, {"note": "添付します"})
    assert response.status_code == 400
    assert services.MSG_FILES_REQUIRED in response.content.decode()
    response = browser.post(
        url, {"files": [evidence_file("pdf"), evidence_file("jpeg")], "note": "添付します"}
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == S.RESUBMITTED
    assert claim.attachments.filter(kind="additional").count() == 2
    # Answered once: the form is gone and a second answer is refused.
    assert 'name="files"' not in browser.get(response["Location"]).content.decode()
    response = browser.post(url, {"files": [evidence_file()]})
    assert response.status_code == 400
    assert "にすることはできません" in response.content.decode()


# --- Scope -------------------------------------------------------------------------------


def test_a_guarantee_that_never_reached_the_office_is_not_found(client_for, clerk, orderer):
    guarantee = make_claimable(clerk.membership.company, orderer=orderer)
    Submission.objects.filter(guarantee=guarantee).delete()
    user = make_office_user(office_of(orderer, GuaranteeKind.ADVANCE))
    assert client_for(user).get(reverse("claims:new", args=[guarantee.number])).status_code == 404


def test_an_office_opened_with_the_key_may_claim(client_for, clerk, orderer):
    guarantee = make_claimable(clerk.membership.company, orderer=orderer)
    other = orderer.offices.exclude(pk=office_of(orderer, GuaranteeKind.ADVANCE).pk).first()
    deliver(guarantee, other, channel=Submission.Channel.KEY)
    user = make_office_user(other)
    assert client_for(user).get(reverse("claims:new", args=[guarantee.number])).status_code == 200


def test_another_orderers_office_gets_404_for_everything(
    client_for, guarantee, office_user, reviewer
):
    claim = file(guarantee, office_user)
    stranger = make_office_user(make_orderer(name="佐伯市").offices.first())
    browser = client_for(stranger)
    attachment = claim.attachments.first()
    for url in [
        reverse("claims:new", args=[guarantee.number]),
        reverse("claims:office_detail", args=[claim.pk]),
        reverse("claims:attachment", args=[claim.pk, attachment.pk]),
    ]:
        assert browser.get(url).status_code == 404, url
    move_to(claim, S.MORE_DOCUMENTS_REQUESTED, reviewer)
    response = browser.post(
        reverse("claims:resubmit", args=[claim.pk]), {"files": [evidence_file()]}
    )
    assert response.status_code == 404
    assert not browser.get(reverse("claims:office_list")).context["claims"]


def test_another_office_of_the_same_orderer_does_not_see_the_claim(
    client_for, guarantee, office_user, contract_office_user
):
    claim = file(guarantee, office_user)
    browser = client_for(contract_office_user)
    assert browser.get(reverse("claims:office_detail", args=[claim.pk])).status_code == 404


def test_a_contractor_gets_403_on_the_office_pages(
    client_for, clerk, guarantee, office_user, reviewer
):
    claim = move_to(file(guarantee, office_user), S.MORE_DOCUMENTS_REQUESTED, reviewer)
    browser = client_for(clerk)
    assert browser.get(reverse("claims:office_list")).status_code == 403
    assert browser.get(reverse("claims:new", args=[guarantee.number])).status_code == 403
    response = browser.post(
        reverse("claims:resubmit", args=[claim.pk]), {"files": [evidence_file()]}
    )
    assert response.status_code == 403
    claim.refresh_from_db()
    assert claim.status == S.MORE_DOCUMENTS_REQUESTED


def test_anonymous_visitors_are_sent_to_log_in(client, guarantee, office_user):
    claim = file(guarantee, office_user)
    for url in [
        reverse("claims:office_list"),
        reverse("claims:new", args=[guarantee.number]),
        reverse("claims:office_detail", args=[claim.pk]),
        reverse("claims:index"),
        reverse("claims:detail", args=[claim.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_wrong_methods_are_refused(client_for, guarantee, office_user, clerk):
    claim = file(guarantee, office_user)
    browser = client_for(office_user)
    assert browser.get(reverse("claims:resubmit", args=[claim.pk])).status_code == 405
    assert browser.post(reverse("claims:office_detail", args=[claim.pk])).status_code == 405
    assert browser.post(reverse("claims:office_list")).status_code == 405
    assert browser.put(reverse("claims:new", args=[guarantee.number])).status_code == 405
    assert client_for(clerk).post(reverse("claims:detail", args=[claim.pk])).status_code == 405


def test_an_intermediate_or_cancelled_guarantee_cannot_be_claimed(
    client_for, clerk, orderer, office_user
):
    intermediate = make_claimable(
        clerk.membership.company, orderer=orderer, kind=GuaranteeKind.INTERMEDIATE
    )
    browser = client_for(office_user)
    page = browser.get(reverse("claims:new", args=[intermediate.number])).content.decode()
    assert services.MSG_KIND in page and 'name="terminated_on"' not in page
    response = browser.post(reverse("claims:new", args=[intermediate.number]), post_data())
    assert response.status_code == 400 and not Claim.objects.exists()


def test_a_completed_guarantee_cannot_be_claimed(client_for, guarantee, office_user, staff):
    # 完成 ended it (decision 0026): there is nothing left to claim under it.
    registry.record_completion(
        guarantee=guarantee, completed_on=datetime.date(2026, 11, 28), by=staff, note="通知"
    )
    browser = client_for(office_user)
    message = services.MSG_COMPLETED.format(day="令和8年11月28日")

    page = browser.get(reverse("claims:new", args=[guarantee.number])).content.decode()
    response = browser.post(reverse("claims:new", args=[guarantee.number]), post_data())

    assert message in page and 'name="terminated_on"' not in page
    assert response.status_code == 400 and not Claim.objects.exists()


def test_an_office_user_is_not_a_contractor(client_for, office_user):
    # The contractor's pages ask an office user to register a company, as every member page.
    assert client_for(office_user).get(reverse("claims:index")).status_code == 302


def test_a_second_claim_on_the_guarantee_is_refused_on_the_page(client_for, guarantee, office_user):
    file(guarantee, office_user)
    page = client_for(office_user).get(reverse("claims:new", args=[guarantee.number]))
    assert services.MSG_ALREADY_CLAIMED in page.content.decode()


def test_the_member_of_the_company_sees_the_link_on_home(client_for, clerk):
    assert reverse("claims:index") in client_for(clerk).get(reverse("home")).content.decode()
