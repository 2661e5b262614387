"""完成 on D-Sure (decision 0026): an office user of the office holding the guarantee records
the day on the guarantee's page (a POST form); the guarantee shows 完了 on its page and in the
office's list. Another office's guarantee is a 404, a contractor gets no office page, an
anonymous visitor is sent to log in."""

import pytest
from django.test import Client
from django.urls import reverse

from certificates.models import Guarantee
from tests.conftest import (
    WORK_DATES,
    deliver_to_inbox,
    make_concluded,
    make_office_user,
    make_orderer,
)


@pytest.fixture
def delivered(clerk, tsukumi, office, official):
    deliver_to_inbox(tsukumi)
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    return guarantee


def complete_url(guarantee):
    return reverse("dsure:complete", args=[guarantee.number])


def test_the_office_records_completion_and_sees_completed_on_the_page_and_in_its_list(
    delivered, official_client
):
    viewer = reverse("dsure:viewer", args=[delivered.number])
    assert "完成を記録する" in official_client.get(viewer).content.decode()

    response = official_client.post(
        complete_url(delivered), {"completed_on": "2026-11-30", "note": "完成検査調書 第12号"}
    )

    assert response.status_code == 302 and response["Location"] == viewer
    page = official_client.get(viewer).content.decode()
    assert "完成（令和8年11月30日）を記録しました" in page
    assert '<span class="badge">完了</span>' in page and "完成を記録する" not in page
    listing = official_client.get(reverse("dsure:inbox"), {"status": "completed"})
    assert delivered.number_display in listing.content.decode()
    assert (
        delivered.number_display
        not in official_client.get(reverse("dsure:inbox"), {"status": "valid"}).content.decode()
    )


def test_a_full_width_date_is_read(delivered, official_client):
    official_client.post(complete_url(delivered), {"completed_on": "２０２６／１１／２４"})
    assert str(Guarantee.objects.get(pk=delivered.pk).completed_on) == "2026-11-24"


def test_a_refused_day_shows_the_reason_next_to_the_field_and_keeps_the_input(
    delivered, official_client
):
    response = official_client.post(
        complete_url(delivered), {"completed_on": "2026-12-01", "note": "検査予定"}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "完成日に未来の日付は入力できません。" in html
    assert 'value="2026-12-01"' in html and 'value="検査予定"' in html
    assert Guarantee.objects.get(pk=delivered.pk).completed_on is None


def test_a_missing_day_is_asked_for(delivered, official_client):
    response = official_client.post(complete_url(delivered), {"completed_on": ""})
    assert response.status_code == 400
    assert "完成日を入力してください。" in response.content.decode()


def test_get_is_not_allowed(delivered, official_client):
    assert official_client.get(complete_url(delivered)).status_code == 405


def test_another_orderers_office_gets_404(delivered, client_for):
    oita = make_orderer(name="大分市")
    stranger = client_for(make_office_user(oita.offices.first()))
    assert stranger.post(complete_url(delivered), {"completed_on": "2026-11-30"}).status_code == 404
    assert Guarantee.objects.get(pk=delivered.pk).completed_on is None


def test_an_office_of_the_same_orderer_that_does_not_hold_it_gets_404(
    delivered, tsukumi, office, client_for
):
    other = tsukumi.offices.exclude(pk=office.pk).first()
    colleague = client_for(make_office_user(other))
    response = colleague.post(complete_url(delivered), {"completed_on": "2026-11-30"})
    assert response.status_code == 404


def test_the_contractor_cannot(delivered, clerk_client):
    response = clerk_client.post(complete_url(delivered), {"completed_on": "2026-11-30"})
    assert response.status_code == 403
    assert Guarantee.objects.get(pk=delivered.pk).completed_on is None


def test_anonymous_is_sent_to_log_in(delivered):
    response = Client().post(complete_url(delivered), {"completed_on": "2026-11-30"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
