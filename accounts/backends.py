"""Authentication backends: Django's and allauth's, each loading the logged-in user with the
user's company membership and company joined (a LEFT JOIN: none for staff, office and bank
users). `membership_of(request.user)` then reads no row of its own: one statement fewer on
every contractor page (issue 22, docs/decisions/0038).

The statement is the ORM's, compiled once per process by esure.queries.Prepared (decisions
0044, 0051): building and compiling the queryset was most of the 0.8 ms of CPU this load
cost on every logged-in request; each request now only runs the SQL and makes the three
instances.
"""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Exists, OuterRef

from accounts.models import Company, JointVentureMember, Membership
from esure.queries import Prepared

# The three rows as (model, path of its columns in the statement, their attnames).
_PARTS = (
    (get_user_model(), ""),
    (Membership, "membership__"),
    (Company, "membership__company__"),
)


# Whether the company belongs to any 共同企業体 (decision 0056), read with it.
_IN_JV = "company_in_joint_venture"


def _user_rows(pk):
    """The user of `pk` with membership and company (LEFT JOINs), each model's concrete
    fields, as values() rows: what select_related("membership__company") reads; and whether
    the company is a member of any 共同企業体 (one probe of an index), so that its lists
    leave the JVs' rows out of their statement when it is in none."""
    paths = [f"{path}{f.attname}" for model, path in _PARTS for f in model._meta.concrete_fields]
    in_jv = Exists(JointVentureMember.objects.filter(company_id=OuterRef("membership__company_id")))
    return get_user_model()._default_manager.filter(pk=pk).values(*paths, **{_IN_JV: in_jv})


_USER = Prepared(_user_rows)  # compiled once per process (esure.queries, decision 0044)


def _instances(row, using=DEFAULT_DB_ALIAS):
    """The user made from its row, with its membership and company cached as
    select_related leaves them (`user.membership` raises at once when there is none)."""
    made = []
    for model, path in _PARTS:
        names = [f.attname for f in model._meta.concrete_fields]
        values = [row[f"{path}{name}"] for name in names]
        pk = values[names.index(model._meta.pk.attname)]
        made.append(None if pk is None else model.from_db(using, names, values))
    user, membership, company = made
    if company is not None:
        company.in_joint_venture = row[_IN_JV]  # accounts.selectors.joint_venture_member
    if membership is not None:
        Membership.company.field.set_cached_value(membership, company)
        Membership.user.field.set_cached_value(membership, user)
    Membership.user.field.remote_field.set_cached_value(user, membership)
    return user


def load_user(pk):
    """The user of `pk` (as the session holds it: "7" is 7) with membership and company, or
    None."""
    rows = _USER.rows(pk=get_user_model()._meta.pk.get_prep_value(pk))
    return _instances(rows[0]) if rows else None


class _UserWithMembership:
    def get_user(self, user_id):
        user = load_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_UserWithMembership, DjangoModelBackend):
    """Django's ModelBackend (admin and password logins)."""


class AuthenticationBackend(_UserWithMembership, AllauthBackend):
    """allauth's backend (login by e-mail address)."""
