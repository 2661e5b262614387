"""受領 and 返戻 on the office's pages (decision 0018): a version delivered to the office is
opened without a key and answered once; 返戻 needs a reason, which the contractor reads."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from certificates import services as registry
from certificates.models import Submission
from tests.conftest import (
    WORK_DATES,
    advance_office,
    deliver_to_inbox,
    make_concluded,
    make_office_user,
    make_orderer,
)

REASON = "工事番号が契約書と異なる"



@pytest.fixture
def delivered(clerk, tsukumi, office, official, django_capture_on_commit_callbacks):
    deliver_to_inbox(tsukumi)
    with django_capture_on_commit_callbacks(execute=True):
        [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    return guarantee


def return_url(guarantee, version=1):
    return reverse("dsure:return", args=[guarantee.number, version])


def test_a_delivered_version_opens_without_a_key_and_offers_both_answers(
    delivered, official_client
):
    page = official_client.get(reverse("dsure:viewer", args=[delivered.number]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "第1版を受領する" in html and "第1版を返戻する" in html
    assert "受信箱へ自動交付" in html


def test_a_return_with_its_reason_reaches_the_contractor(
    delivered, official_client, clerk_client, clerk, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = official_client.post(return_url(delivered), {"reason": REASON}, follow=True)

    html = response.content.decode()
    assert "第1版を返戻しました" in html
    assert f"返戻しました（doboku@city.tsukumi.example.jp）。理由：{REASON}" in html
    assert "第1版を受領する" not in html
    assert Submission.objects.get().status == Submission.Status.RETURNED
    [returned] = [m for m in mail.outbox if REASON in m.body]
    assert clerk.email in returned.to

    page = clerk_client.get(reverse("certs:detail", args=[delivered.number])).content.decode()
    assert f"理由：{REASON}" in page
    assert "締結後の変更を申し込む" in page

    row = official_client.get(reverse("dsure:inbox"), {"returned": "on"}).content.decode()
    assert "返戻（第1版）" in row


def test_a_return_without_a_reason_keeps_the_page_and_says_why(delivered, official_client):
    response = official_client.post(return_url(delivered), {"reason": "  "})

    assert response.status_code == 400
    assert "返戻の理由を入力してください。" in response.content.decode()
    assert Submission.objects.get().status == Submission.Status.DELIVERED


def test_a_long_reason_is_refused_with_the_text_kept(delivered, official_client):
    typed = "あ" * 1001
    response = official_client.post(return_url(delivered), {"reason": typed})

    assert response.status_code == 400
    assert typed in response.content.decode()
    assert Submission.objects.get().status == Submission.Status.DELIVERED


def test_answering_twice_says_it_was_answered(delivered, official_client):
    official_client.post(reverse("dsure:receive", args=[delivered.number, 1]))

    response = official_client.post(return_url(delivered), {"reason": REASON}, follow=True)

    assert "この版はすでに受領しています。" in response.content.decode()
    assert Submission.objects.get().status == Submission.Status.RECEIVED


def test_return_is_post_only_and_needs_a_login(delivered, official_client):
    assert official_client.get(return_url(delivered)).status_code == 405
    response = Client().post(return_url(delivered), {"reason": REASON})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_another_orderers_user_gets_404(delivered, client_for):
    stranger = client_for(make_office_user(advance_office(make_orderer("臼杵市"))))

    assert stranger.get(reverse("dsure:viewer", args=[delivered.number])).status_code == 404
    assert stranger.post(return_url(delivered), {"reason": REASON}).status_code == 404
    receive = reverse("dsure:receive", args=[delivered.number, 1])
    assert stranger.post(receive).status_code == 404
    assert Submission.objects.get().status == Submission.Status.DELIVERED


def test_a_version_that_does_not_exist_is_404(delivered, official_client):
    assert official_client.post(return_url(delivered, 2), {"reason": REASON}).status_code == 404


def test_v2_after_a_receipt_is_delivered_again_and_answered_on_its_own(
    delivered, office, official, official_client
):
    official_client.post(reverse("dsure:receive", args=[delivered.number, 1]))
    fee = {"kind": "none", "fee": 0, "old_amount": 4_900_000, "new_amount": 5_000_000}
    registry.issue_change(guarantee=delivered, label="増額", fee=fee, amount=5_000_000)

    row = official_client.get(reverse("dsure:inbox"), {"unreceived": "on"}).content.decode()
    assert delivered.number_display in row and "第2版" in row
    page = official_client.get(reverse("dsure:viewer", args=[delivered.number])).content.decode()
    assert "第2版を受領する" in page
    v1 = official_client.get(reverse("dsure:version", args=[delivered.number, 1]))
    assert "第1版は 2026/11/30 10:00 に受領済みです" in v1.content.decode()
