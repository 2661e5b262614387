"""`manage.py load_demo_reservations` (after load_demo, in `make run`): an approved, valid
契約保証予約 of the demo company that the demo clerk can use at once."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import User
from reservations.models import Reservation


def load():
    out = io.StringIO()
    call_command("load_demo", stdout=io.StringIO())
    call_command("load_demo_reservations", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(settings, db):
    settings.ESURE_DEMO_ALLOWED = True
    return load()


def test_the_demo_has_an_approved_valid_reservation_the_clerk_can_use(client, demo):
    reservation = Reservation.objects.get()
    assert reservation.status == Reservation.Status.APPROVED
    assert reservation.fee == 30_000 and reservation.printed_at is None
    assert reservation.number_display in demo
    client.force_login(User.objects.get(email="clerk@demo.esure.example"))
    page = client.get(reverse("reservations:detail", args=[reservation.pk])).content.decode()
    assert "この予約で保証を申し込む" in page and "手数料通知書（PDF）" in page


def test_loading_twice_adds_nothing(demo):
    load()
    assert Reservation.objects.count() == 1


def test_it_refuses_outside_debug(settings, db):
    settings.ESURE_DEMO_ALLOWED = False
    with pytest.raises(CommandError):
        call_command("load_demo_reservations", stdout=io.StringIO())
