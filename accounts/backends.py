"""Authentication backends: Django's and allauth's, each loading the logged-in user with the
user's company membership and company joined (a LEFT JOIN: none for staff, office and bank
users). `membership_of(request.user)` then reads no row of its own: one statement fewer on
every contractor page (issue 22, docs/decisions/0038).

The statement is the ORM's, compiled once per process (decision 0051): building and
compiling the queryset was most of the 0.8 ms of CPU this load cost on every logged-in
request; each request now only runs the SQL and makes the three instances.
"""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.db import connections, router

from accounts.models import Company, Membership

# A pk no user has, standing for the request's in the statement compiled once.
_PLACEHOLDER = -(2**62)


class _UserStatement:
    """`User … LEFT JOIN membership LEFT JOIN company WHERE user.id = %s`, as the ORM writes
    `select_related("membership__company").filter(pk=…)`, compiled once per database."""

    def __init__(self):
        self._compiled = {}

    def get(self, pk):
        using = router.db_for_read(get_user_model())  # as the ORM's query would
        connection = connections[using]
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = self._compile(using)
        sql, params, position, converters, parts = compiled
        params = list(params)
        # As the ORM prepares `pk=…`: "7" is 7, a value that is no id raises as it would.
        params[position] = parts[0][0]._meta.pk.get_prep_value(pk)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if converters:
            row = list(row)
            for i, (functions, expression) in converters.items():
                for function in functions:
                    row[i] = function(row[i], expression, connection)
        return self._instances(row, using, parts)

    @staticmethod
    def _parts():
        return [
            (model, [f.attname for f in model._meta.concrete_fields])
            for model in (get_user_model(), Membership, Company)
        ]

    def _compile(self, using):
        queryset = (
            get_user_model()
            ._default_manager.using(using)
            .select_related("membership__company")
            .filter(pk=_PLACEHOLDER)
        )
        compiler = queryset.query.get_compiler(using)
        sql, params = compiler.as_sql()
        # The columns must come as _instances reads them: each model's concrete fields in
        # order (the ORM's select_related order); and the pk a parameter of its own.
        parts = self._parts()
        selected = [(col.target.model, col.target.attname) for col, _, _ in compiler.select]
        expected = [(model, name) for model, names in parts for name in names]
        if selected != expected or params.count(_PLACEHOLDER) != 1:
            raise ValueError("the user's statement is not the shape accounts.backends reads")
        fields = [s[0] for s in compiler.select[: compiler.col_count]]
        converters = compiler.get_converters(fields)
        return sql, tuple(params), params.index(_PLACEHOLDER), converters, parts

    @staticmethod
    def _instances(row, using, parts):
        (user_model, user_names), (_, membership_names), (_, company_names) = parts
        start = len(user_names)
        user = user_model.from_db(using, user_names, row[:start])
        membership_row = row[start : start + len(membership_names)]
        membership = None
        # Its pk is NULL when the LEFT JOIN found none: staff, office and bank users.
        if membership_row[membership_names.index(Membership._meta.pk.attname)] is not None:
            membership = Membership.from_db(using, membership_names, membership_row)
            company = Company.from_db(using, company_names, row[start + len(membership_names) :])
            Membership.company.field.set_cached_value(membership, company)
            Membership.user.field.set_cached_value(membership, user)
        # As select_related leaves it: `user.membership` is this one, or raises at once.
        Membership.user.field.remote_field.set_cached_value(user, membership)
        return user


_USER = _UserStatement()


class _UserWithMembership:
    def get_user(self, user_id):
        user = _USER.get(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_UserWithMembership, DjangoModelBackend):
    """Django's ModelBackend (admin and password logins)."""


class AuthenticationBackend(_UserWithMembership, AllauthBackend):
    """allauth's backend (login by e-mail address)."""
