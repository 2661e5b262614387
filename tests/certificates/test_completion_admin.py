"""Staff record 完成 in admin on the orderer's written notice (decision 0026): the button on
the guarantee needs `certificates.record_completion`; the notice's date and number are kept
as the record's note. Without the permission: 403, nothing recorded."""

import datetime

import pytest
from django.urls import reverse

from certificates import services
from certificates.models import Guarantee
from tests.conftest import WORK_DATES, make_concluded, make_staff

pytestmark = pytest.mark.usefixtures("frozen")
NOTICE = "令和8年11月30日付 津土第123号 完成通知"
TODAY = datetime.date(2026, 11, 30)  # tests.conftest.NOW


@pytest.fixture
def guarantee(clerk, tsukumi):
    # Concluded with its content: the change page prints the contractor from it.
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    return guarantee


def complete_url(g):
    return reverse("admin:certificates_guarantee_complete", args=[g.pk])


def test_staff_with_the_permission_record_completion_from_the_notice(client_for, guarantee):
    browser = client_for(
        make_staff(perms=["certificates.view_guarantee", "certificates.record_completion"])
    )
    change = reverse("admin:certificates_guarantee_change", args=[guarantee.pk])
    assert "完成を記録する" in browser.get(change).content.decode()

    response = browser.post(complete_url(guarantee), {"completed_on": "2026-11-30", "note": NOTICE})

    assert response.status_code == 302
    guarantee.refresh_from_db()
    assert str(guarantee.completed_on) == "2026-11-30"
    assert guarantee.completion_note == NOTICE and guarantee.completed_office is None
    assert "完成: 令和8年11月30日" in browser.get(change).content.decode()


def test_the_notice_is_required(client_for, guarantee):
    browser = client_for(make_staff(perms=["certificates.record_completion"]))
    browser.post(complete_url(guarantee), {"completed_on": "2026-11-30", "note": ""})
    assert Guarantee.objects.get(pk=guarantee.pk).completed_on is None


def test_a_refused_day_is_said_and_nothing_recorded(client_for, guarantee):
    browser = client_for(make_staff(perms=["certificates.record_completion"]))
    response = browser.post(
        complete_url(guarantee), {"completed_on": "2026-12-01", "note": NOTICE}, follow=True
    )
    assert "完成日に未来の日付は入力できません。" in response.content.decode()
    assert Guarantee.objects.get(pk=guarantee.pk).completed_on is None


def test_staff_without_the_permission_get_403(client_for, guarantee):
    browser = client_for(make_staff(perms=["certificates.view_guarantee"]))
    response = browser.post(complete_url(guarantee), {"completed_on": "2026-11-30", "note": NOTICE})
    assert response.status_code == 403
    assert Guarantee.objects.get(pk=guarantee.pk).completed_on is None
    change = reverse("admin:certificates_guarantee_change", args=[guarantee.pk])
    assert "完成の記録には権限が必要です。" in browser.get(change).content.decode()


def test_get_is_not_allowed(client_for, guarantee):
    browser = client_for(make_staff(perms=["certificates.record_completion"]))
    assert browser.get(complete_url(guarantee)).status_code == 405


def test_the_admin_list_shows_the_registrys_status(client_for, guarantee):
    browser = client_for(make_staff(perms=["certificates.view_guarantee"]))
    listing = reverse("admin:certificates_guarantee_changelist")
    assert "<td class=\"field-status\">有効</td>" in browser.get(listing).content.decode()
    services.record_completion(guarantee=guarantee, completed_on=TODAY, by=make_staff())
    assert "<td class=\"field-status\">完了</td>" in browser.get(listing).content.decode()
