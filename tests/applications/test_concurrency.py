"""Two requests at the same moment on PostgreSQL: the row lock of the transition decides.

Each test holds the first request inside its transaction (after it has locked the row) for a
moment, so the second one really arrives while the first is in flight rather than after it.
"""

import threading
import time

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from applications import notifications, services, validation
from applications.models import Application, StatusChange
from certificates.models import Work
from tests.conftest import at_once, make_application, menu1_post

pytestmark = pytest.mark.django_db(transaction=True)
S = Application.Status
HOLD = 0.3  # seconds the first request keeps its lock


def slowed(function):
    """`function`, pausing first: called inside a service's transaction, it holds the lock."""

    def wrapper(*args, **kwargs):
        time.sleep(HOLD)
        return function(*args, **kwargs)

    return wrapper


@pytest.mark.usefixtures("during_the_work")
def test_two_approvals_at_once_approve_once(clerk, staff, tsukumi, monkeypatch):
    application = make_application(company=clerk.membership.company, status=S.SUBMITTED)
    # The approval mail is queued inside the transaction, after the row is locked.
    monkeypatch.setattr(
        notifications, "application_approved", slowed(notifications.application_approved)
    )

    def approve():
        return services.approve_application(application=application, by=staff)

    results = at_once(approve, approve)

    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"], results
    [error] = [value for kind, value in results if kind == "error"]
    assert isinstance(error, services.TransitionError)
    application.refresh_from_db()
    assert application.status == S.APPROVED
    assert StatusChange.objects.filter(application=application, new_status=S.APPROVED).count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.usefixtures("during_the_work")
def test_two_submissions_of_one_draft_at_once_submit_once(clerk, tsukumi, monkeypatch):
    application = make_application(company=clerk.membership.company)
    # submit_application checks the rules after locking the row.
    monkeypatch.setattr(validation, "application_errors", slowed(validation.application_errors))

    def submit():
        return services.submit_application(application=application, by=clerk)

    results = at_once(submit, submit)

    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    [error] = [value for kind, value in results if kind == "error"]
    assert isinstance(error, services.TransitionError)
    assert StatusChange.objects.filter(application=application).count() == 1
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


def test_a_withdrawal_racing_an_approval_leaves_one_consistent_outcome(
    clerk, staff, tsukumi, monkeypatch
):
    application = make_application(company=clerk.membership.company, status=S.SUBMITTED)
    monkeypatch.setattr(
        notifications, "application_approved", slowed(notifications.application_approved)
    )

    results = at_once(
        lambda: services.approve_application(application=application, by=staff),
        lambda: services.withdraw_application(application=application, by=clerk),
    )

    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    application.refresh_from_db()
    [change] = StatusChange.objects.filter(application=application)
    assert (change.old_status, change.new_status) == (S.SUBMITTED, application.status)


def post_twice_at_once(user, data, monkeypatch):
    """A double click on 申込む: both requests look the client_token up before either has
    committed, so both try to create the application."""
    browsers = [Client(), Client()]
    for browser in browsers:
        browser.force_login(user)
    both_looked_up = threading.Barrier(2)
    create = services._create

    def create_after_both_looked_up(**kwargs):
        both_looked_up.wait(timeout=10)
        return create(**kwargs)

    monkeypatch.setattr(services, "_create", create_after_both_looked_up)
    new = reverse("applications:new", args=["1"])
    results = at_once(*(lambda b=browser: b.post(new, data) for browser in browsers))
    assert [kind for kind, _ in results] == ["ok", "ok"], results
    return [response for _, response in results]


@pytest.mark.usefixtures("during_the_work")
def test_the_same_new_form_posted_twice_at_once_makes_one_application(clerk, tsukumi, monkeypatch):
    post_twice_at_once(clerk, menu1_post(tsukumi), monkeypatch)

    application = Application.objects.get()
    assert application.status == S.SUBMITTED
    assert StatusChange.objects.filter(application=application).count() == 1
    # The losing request must not leave a second, orphaned 工事 behind.
    assert Work.objects.count() == 1


@pytest.mark.usefixtures("during_the_work")
def test_both_answers_to_a_double_click_lead_to_the_application(clerk, tsukumi, monkeypatch):
    responses = post_twice_at_once(clerk, menu1_post(tsukumi), monkeypatch)

    detail = reverse("applications:detail", args=[Application.objects.get().pk])
    assert [(r.status_code, r.get("Location")) for r in responses] == [(302, detail)] * 2
