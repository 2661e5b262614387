"""The request's user comes with its company membership and company joined (accounts.backends,
decision 0038): member pages read no membership row of their own."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.backends import AuthenticationBackend, ModelBackend
from accounts.models import User
from accounts.selectors import joint_venture_member, membership_of
from tests.conftest import PASSWORD, join_a_joint_venture, make_staff

BACKENDS = sorted(["accounts.backends.AuthenticationBackend", "accounts.backends.ModelBackend"])


@pytest.mark.parametrize("backend", [AuthenticationBackend, ModelBackend])
def test_each_backend_loads_the_user_with_membership_and_company_in_one_query(
    clerk, backend, django_assert_num_queries
):
    with django_assert_num_queries(1):
        user = backend().get_user(clerk.pk)
        membership = membership_of(user)
        assert membership.company.name == "ACME建設株式会社"


def test_the_load_says_whether_the_company_is_in_a_joint_venture(clerk, django_assert_num_queries):
    """Decision 0056: read with the user, in the same statement, on every request."""
    with django_assert_num_queries(1):
        alone = ModelBackend().get_user(clerk.pk)
    join_a_joint_venture(clerk.membership.company)
    joined = ModelBackend().get_user(clerk.pk)

    assert alone.membership.company.in_joint_venture is False
    assert joint_venture_member(alone.membership.company) is None
    assert joined.membership.company.in_joint_venture is True
    assert joint_venture_member(joined.membership.company) == clerk.membership.company_id
    # A company loaded any other way may be in one.
    company = User.objects.get(pk=clerk.pk).membership.company
    assert joint_venture_member(company) == company.pk


def test_a_user_without_membership_costs_no_query_for_it(db, django_assert_num_queries):
    staff = make_staff(email="staff@surety.example.jp")
    user = ModelBackend().get_user(staff.pk)

    with django_assert_num_queries(0):
        assert membership_of(user) is None


def test_a_user_loaded_otherwise_costs_one_query(clerk, django_assert_num_queries):
    user = User.objects.get(pk=clerk.pk)

    with django_assert_num_queries(1):
        assert membership_of(user).company.name == "ACME建設株式会社"


def test_an_inactive_user_is_not_loaded(clerk):
    User.objects.filter(pk=clerk.pk).update(is_active=False)

    assert ModelBackend().get_user(clerk.pk) is None
    assert AuthenticationBackend().get_user(clerk.pk) is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_member_page_reads_user_and_membership_in_one_statement(client, clerk, backend):
    client.force_login(clerk, backend=backend)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("certs:index"))

    assert response.status_code == 200
    assert "ACME建設株式会社" in response.content.decode()  # the header's company
    assert not any('FROM "accounts_membership"' in q["sql"] for q in queries)


def test_a_password_login_records_one_of_the_new_backends(client, clerk):
    response = client.post(
        reverse("account_login"), {"login": "clerk@acme.example.jp", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] in BACKENDS


def test_a_session_of_a_former_backend_path_is_logged_out(client, clerk):
    client.force_login(clerk)
    session = client.session
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session.save()

    response = client.get(reverse("certs:index"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
