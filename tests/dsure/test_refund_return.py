"""The office records that the excess advance was returned (decision 0026): a POST form per
refund on the guarantee's D-Sure page, by an office holding the guarantee, once; another
office gets a 404, the contractor no office page, an anonymous visitor the login."""

import datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from certificates import rules
from certificates.models import Refund
from tests.conftest import (
    WORK_DATES,
    deliver_to_inbox,
    make_concluded,
    make_office_user,
    make_orderer,
)


@pytest.fixture
def refund(clerk, tsukumi, office, official):
    """A refund of 1,900,000円 due 2026-12-25 (as open_refund makes after a 減額 to 6,000,000)."""
    deliver_to_inbox(tsukumi)
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    return Refund.objects.create(
        guarantee=guarantee,
        certificate=guarantee.certificates.get(),
        received=4_900_000,
        new_price=6_000_000,
        rate_tenths=5,
        amount=1_900_000,
        reduced_on=datetime.date(2026, 11, 25),
        due_on=datetime.date(2026, 12, 25),
    )


def returned_url(refund):
    return reverse("dsure:refund_returned", args=[refund.guarantee.number, refund.pk])


def field(refund, name):
    return f"refund{refund.pk}-{name}"


def test_the_office_sees_the_refund_and_records_its_return(
    refund, official_client, clerk, django_capture_on_commit_callbacks
):
    viewer = reverse("dsure:viewer", args=[refund.guarantee.number])
    html = official_client.get(viewer).content.decode()
    assert "前払金の返還（請負代金額の減額による）" in html and "未返還" in html
    assert "返還（1,900,000円）を受けたことを記録する" in html
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = official_client.post(
            returned_url(refund),
            {field(refund, "returned_on"): "2026-11-30", field(refund, "note"): "調定第5号"},
        )

    assert response.status_code == 302 and response["Location"] == viewer
    refund.refresh_from_db()
    assert str(refund.returned_on) == "2026-11-30" and refund.note == "調定第5号"
    assert AuditEvent.objects.get(action="refund.returned").data["amount"] == 1_900_000
    [message] = mail.outbox
    assert message.to == [clerk.email] and "前払金の返還が確認されました" in message.subject
    html = official_client.get(viewer).content.decode()
    assert "返還済" in html and "を受けたことを記録する" not in html


def test_an_overdue_refund_is_flagged(refund, official, client_for, frozen):
    viewer = reverse("dsure:viewer", args=[refund.guarantee.number])
    assert "期限超過" not in client_for(official).get(viewer).content.decode()
    frozen.move_to(datetime.datetime(2026, 12, 26, 10, 0, tzinfo=datetime.UTC))
    assert "期限超過" in client_for(official).get(viewer).content.decode()


def test_a_future_day_is_refused_next_to_the_field_with_the_input_kept(refund, official_client):
    response = official_client.post(
        returned_url(refund),
        {field(refund, "returned_on"): "2026-12-01", field(refund, "note"): "入金予定"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert rules.MSG_RETURN_FUTURE in html
    assert 'value="2026-12-01"' in html and 'value="入金予定"' in html
    assert Refund.objects.get(pk=refund.pk).returned_on is None


def test_get_is_not_allowed(refund, official_client):
    assert official_client.get(returned_url(refund)).status_code == 405


def test_another_orderers_office_gets_404(refund, client_for):
    stranger = client_for(make_office_user(make_orderer(name="大分市").offices.first()))
    response = stranger.post(returned_url(refund), {field(refund, "returned_on"): "2026-11-30"})
    assert response.status_code == 404
    assert Refund.objects.get(pk=refund.pk).returned_on is None


def test_the_contractor_cannot(refund, clerk_client):
    response = clerk_client.post(returned_url(refund), {field(refund, "returned_on"): "2026-11-30"})
    assert response.status_code == 403


def test_anonymous_is_sent_to_log_in(refund):
    response = Client().post(returned_url(refund), {field(refund, "returned_on"): "2026-11-30"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
