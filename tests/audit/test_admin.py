"""The audit trail in admin: staff with the view permission read it (list, filter, search,
one event); nobody can add, change or delete an event there; visitors go to the login."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from audit import services as audit
from audit.models import AuditEvent
from tests.conftest import make_staff


@pytest.fixture
def events(db):
    """Two events (the staff client's login is recorded too, before or after them)."""
    cleared = audit.record(
        actor="d-sure",
        action="dsure.lock_cleared",
        object_type="dsure.number",
        object_id="06100000019",
        data={"note": "市に確認済"},
    )
    reissued = audit.record(
        actor=None,
        action="key.reissued",
        object_type="certificates.guarantee",
        object_id="7",
        data={"key_version": 2},
    )
    return [cleared, reissued]


@pytest.fixture
def staff_client(client_for, staff):
    return client_for(staff)


@pytest.fixture
def reader_client(client_for):
    """A staff member who is no superuser, given only the permission to view the trail."""
    reader = make_staff(email="reader@surety.example.jp")
    reader.is_superuser = False
    reader.save(update_fields=["is_superuser"])
    reader.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    return client_for(reader)


def changelist():
    return reverse("admin:audit_auditevent_changelist")


def change(event):
    return reverse("admin:audit_auditevent_change", args=[event.pk])


@pytest.mark.parametrize("who", ["staff_client", "reader_client"])
def test_staff_list_and_open_events(request, events, who):
    browser = request.getfixturevalue(who)

    listing = browser.get(changelist())
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "D-Sure: 入力制限の解除" in page  # the action by its label
    assert "dsure.number #06100000019" in page
    assert 'name="action"' not in page  # no bulk action, delete_selected included

    detail = browser.get(change(events[0]))
    assert detail.status_code == 200
    text = detail.content.decode()
    assert events[0].hash in text
    assert "市に確認済" in text
    assert 'name="_save"' not in text
    assert reverse("admin:audit_auditevent_delete", args=[events[0].pk]) not in text


def test_filter_and_search(staff_client, events):
    by_action = staff_client.get(changelist(), {"action__exact": "key.reissued"})
    assert by_action.context["cl"].result_count == 1
    by_object = staff_client.get(changelist(), {"q": "06100000019"})
    assert list(by_object.context["cl"].result_list) == [events[0]]
    by_actor = staff_client.get(changelist(), {"q": "d-su"})
    assert list(by_actor.context["cl"].result_list) == [events[0]]


def test_nobody_adds_changes_or_deletes_an_event(staff_client, events):
    event = events[0]
    before = AuditEvent.objects.values().get(pk=event.pk)
    count = AuditEvent.objects.count()  # the fixtures' events and the staff login

    assert staff_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert staff_client.post(reverse("admin:audit_auditevent_add"), {}).status_code == 403
    assert staff_client.post(change(event), {"actor": "someone-else"}).status_code == 403
    delete = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert staff_client.get(delete).status_code == 403
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    bulk = staff_client.post(
        changelist(), {"action": "delete_selected", "_selected_action": [event.pk]}
    )
    assert bulk.status_code in (200, 302)

    assert AuditEvent.objects.values().get(pk=event.pk) == before
    assert AuditEvent.objects.count() == count
    assert audit.verify_chain().ok


def test_staff_without_the_permission_cannot_read_it(client_for, events):
    other = make_staff(email="other@surety.example.jp")
    other.is_superuser = False
    other.save(update_fields=["is_superuser"])
    browser = client_for(other)
    assert browser.get(changelist()).status_code == 403


def test_visitors_are_sent_to_the_login(client, events):
    response = client.get(changelist(), follow=True)
    assert response.wsgi_request.path == reverse("account_login")
