"""The change pages of applications.changes at the workflow's URLs (decision 0010): the live
check of menu 5 answers at check/5/, and a change page never opens another menu's form."""

import datetime
import uuid

import pytest
from django.urls import resolve, reverse

from applications.changes import views as change_views
from applications.models import Application
from tests.conftest import make_application, make_concluded

pytestmark = pytest.mark.usefixtures("frozen")
PERIOD = {
    "contract_date": datetime.date(2026, 11, 1),
    "start_date": datetime.date(2026, 11, 10),
    "end_date": datetime.date(2027, 3, 19),
}


def test_the_menu5_live_check_keeps_its_url():
    url = reverse("applications:check", args=["5"])
    assert url == reverse("applications:check_change")
    assert resolve(url).func is change_views.check


def test_a_token_of_another_menus_form_opens_nothing_on_the_change_page(
    clerk_client, clerk, tsukumi
):
    company = clerk.membership.company
    [guarantee] = make_concluded(company=company, **PERIOD)
    token = uuid.uuid4()
    menu1 = make_application(company=company, client_token=token, contact_name="大分 花子")

    response = clerk_client.post(
        reverse("applications:new_change", args=[guarantee.number]),
        {"client_token": str(token), "change_kind": "cancel", "cancel_reason": "工事中止"},
    )

    assert response.status_code == 404
    menu1.refresh_from_db()
    assert (menu1.menu, menu1.guarantee_id, menu1.change_kind) == ("1", None, "")
    assert not Application.objects.filter(menu=Application.Menu.CHANGE).exists()
