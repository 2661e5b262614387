"""電子証書閲覧用「認証キー」等のお知らせ (certificates.pdf.render_key_notice).

The only PDF that carries the 認証キー; rendered on demand with the orderer's submission
policy (津久見市: 持参, FAX可, with the printed 保証証書).
"""

import datetime

import pytest
from django.conf import settings
from weasyprint.formatting_structure.boxes import TableBox

from accounts.models import OrdererSubmissionChannel
from certificates import keys, pdf, services
from esure.choices import GuaranteeKind, SubmissionChannel
from tests.certificates.test_pdf_documents import (
    WORK_NAME,
    _boxes,
    assert_only_ipaex_subsets,
    issue_in_db,
    page_count,
    pdf_text,
    squash,
    unsaved_certificate,
    unsaved_parties,
)

TODAY = datetime.date(2026, 11, 5)  # 令和8年11月5日
PRINTOUT_SENTENCE = "印刷した保証証書（電子証書の内容を表示した画面）とあわせて提出してください"


CARRY_AND_FAX = [SubmissionChannel.CARRY, SubmissionChannel.FAX]


def render_unsaved(*, printout_required=True, submission_note="", channels=CARRY_AND_FAX, key=None):
    certificate = unsaved_certificate()
    _, orderer, office, _ = unsaved_parties()
    orderer.printout_required = printout_required
    orderer.submission_note = submission_note
    number = certificate.content["number"]
    key = key or keys.format_key(keys.derive_key(number, 1))
    data = pdf.render_key_notice(
        guarantee=None,
        certificate=certificate,
        key=key,
        orderer=orderer,
        office=office,
        channels=channels,
        today=TODAY,
    )
    return certificate, key, data


@pytest.fixture(scope="module")
def notice():
    return render_unsaved(submission_note="詳細は各発注機関にご確認ください。")


def test_key_notice_carries_number_key_version_and_work(notice):
    certificate, key, data = notice
    text = pdf_text(data)
    flat = squash(text)
    assert "電子証書閲覧用「認証キー」等のお知らせ" in flat
    assert certificate.content["number_display"] in text
    assert len(key) == 19 and key.count("-") == 3
    assert key in text  # XXXX-XXXX-XXXX-XXXX, as typed by the city
    assert "第1版（当初）" in flat and "前払金保証証書" in flat and "前払金保証" in flat
    assert WORK_NAME in text and "金19,300,000円" in text
    assert "津久見市長殿" in flat and "土木課工事担当" in flat
    assert certificate.fingerprint in flat


def test_key_notice_says_how_to_submit(notice):
    flat = squash(pdf_text(notice[2]))
    assert "提出方法：持参、FAX" in flat
    assert squash(PRINTOUT_SENTENCE) in flat
    assert "詳細は各発注機関にご確認ください。" in flat


def test_key_notice_tells_the_city_where_to_look_and_warns_about_the_key(notice):
    text = pdf_text(notice[2])
    flat = squash(text)
    assert f"{settings.ESURE_SITE_URL}/dsure/" in text
    assert "D-Sure" in text and "発注者のご担当者様へ" in flat
    assert "だれでもこの電子証書を閲覧できます" in flat
    assert "必要な方にだけお渡しください" in flat
    assert "認証キーの再発行" in flat


def test_key_notice_dates_in_wareki(notice):
    flat = squash(pdf_text(notice[2]))
    assert "このお知らせの作成日令和8年11月5日" in flat
    assert "電子証書の発行日令和8年11月1日" in flat


def test_key_notice_is_one_page_with_ipaex_fonts_only(notice):
    assert page_count(notice[2]) == 1
    assert_only_ipaex_subsets(notice[2])


def test_the_key_notices_tables_are_laid_out_fixed():
    """Auto table layout measures each cell's smallest width: on the D-Sure steps' Japanese
    text (a break after every character) 11–22 % of the notice's render (bench/README.md)."""
    _, orderer, office, _ = unsaved_parties()
    context = pdf.certificate_context(
        unsaved_certificate(),
        guarantee=None,
        key="ABCD-EFGH-JKMN-PQRS",
        orderer=orderer,
        office=office,
        channels=["持参"],
        dsure_url=pdf.dsure_url(),
        today=TODAY,
    )
    document = pdf._render(pdf.KEY_NOTICE_TEMPLATE, context)
    layouts = {
        box.element.get("class"): box.style["table_layout"]
        for page in document.pages
        for box in _boxes(page._page_box)
        if isinstance(box, TableBox)
    }
    assert "notice-section notice-section--dsure" in layouts and "notice-key" in layouts
    assert set(layouts.values()) == {"fixed"}


def test_no_printout_sentence_when_the_orderer_does_not_want_one():
    _, _, data = render_unsaved(printout_required=False, channels=["メール"])
    flat = squash(pdf_text(data))
    assert squash(PRINTOUT_SENTENCE) not in flat
    assert "提出方法：メール" in flat


def test_a_key_without_dashes_is_printed_grouped_and_a_bad_key_refused():
    certificate = unsaved_certificate()
    plain = keys.derive_key(certificate.content["number"], 1)
    _, _, data = render_unsaved(key=plain)
    assert keys.format_key(plain) in pdf_text(data)
    with pytest.raises(ValueError):
        render_unsaved(key="NOT-A-KEY")


@pytest.mark.django_db
def test_key_notice_of_an_issued_guarantee_with_the_orderers_channels(tsukumi):
    tsukumi.submission_note = "詳細は、津久見市の各発注機関にご確認ください。"
    tsukumi.save()
    for channel in (SubmissionChannel.FAX, SubmissionChannel.CARRY):
        OrdererSubmissionChannel.objects.create(
            orderer=tsukumi, kind=GuaranteeKind.ADVANCE, channel=channel
        )
    guarantee = issue_in_db(orderer=tsukumi)
    certificate = guarantee.certificates.get()
    key = services.current_key(guarantee)
    data = pdf.render_key_notice(
        guarantee=guarantee,
        certificate=certificate,
        key=key,
        orderer=tsukumi,
        office=guarantee.office,
        channels=tsukumi.channels_for(guarantee.kind),  # members: printed by their labels
        today=TODAY,
    )
    text = pdf_text(data)
    flat = squash(text)
    assert key in text and guarantee.number_display in text
    assert "提出方法：持参、FAX" in flat  # in SubmissionChannel order
    assert squash(PRINTOUT_SENTENCE) in flat
    assert "詳細は、津久見市の各発注機関にご確認ください。" in flat
    # The key is in the notice only: never in the stored PDFs of the certificate.
    for document in certificate.documents.all():
        stored = document.file.read()
        document.file.close()
        flat = squash(pdf_text(stored))
        assert key not in flat and key.replace("-", "") not in flat


def test_key_notice_names_esures_inbox_where_the_orderer_takes_it():
    """Decision 0018: the 受信箱 channel is printed with the others, by its label."""
    inbox = SubmissionChannel.INBOX.label
    _, _, data = render_unsaved(channels=[inbox, SubmissionChannel.CARRY.label])
    assert f"提出方法：{inbox}、持参" in squash(pdf_text(data))
