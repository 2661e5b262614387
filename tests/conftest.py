"""Builder functions and fixed personas shared by the whole suite.

Personas (each a fixture):
- clerk:        a contractor's clerk whose company (ACME 建設) is verified — the main user
- other_clerk:  a clerk of another verified company, who must see nothing of the first
- pending_clerk: a clerk whose company staff have not verified yet
- staff:        surety staff (保証会社職員) with a TOTP device, so MFA enforcement lets them in
- tsukumi:      津久見市, electronic from 2024-10-01, with its two offices
"""

import datetime
import itertools

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core.management import call_command

from accounts.models import Company, Membership, Orderer, OrdererOffice, User
from accounts.validators import corporate_number_check_digit
from esure.choices import GuaranteeKind

PASSWORD = "correct-horse-battery-staple-42"
_seq = itertools.count(1)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The database cache table (allauth's rate limits) is not a migration: create it."""
    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Tests do not run collectstatic: serve static files without the manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def valid_corporate_number(n=None):
    base = f"{n if n is not None else next(_seq):012d}"
    return f"{corporate_number_check_digit(base)}{base}"


def make_user(email=None, *, password=PASSWORD, verified=True, **fields):
    email = email or f"user{next(_seq)}@example.jp"
    user = User.objects.create_user(email, password, **fields)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def make_company(*, status=Company.Status.VERIFIED, **fields):
    n = next(_seq)
    values = {
        "corporate_number": valid_corporate_number(n),
        "name": f"株式会社テスト建設{n}",
        "name_kana": f"カブシキガイシャテストケンセツ{n}",
        "representative_title": "代表取締役",
        "representative_name": "大分 一郎",
        "postal_code": "879-2435",
        "address": "大分県津久見市宮本町20番15号",
        "phone": "0972-82-0000",
        "license_number": "大分県知事許可(般-6)第12345号",
        "status": status,
        **fields,
    }
    return Company.objects.create(**values)


def make_member(company=None, *, role=Membership.Role.ADMIN, **user_fields):
    company = company or make_company()
    user = make_user(**user_fields)
    Membership.objects.create(user=user, company=company, role=role)
    return user


def make_staff(*, with_totp=True, **fields):
    user = make_user(is_staff=True, is_superuser=True, **fields)
    if with_totp:
        Authenticator.objects.create(
            user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
        )
    return user


def make_orderer(name="津久見市", **fields):
    values = {
        "prefecture": "大分県",
        "head_title": f"{name}長",
        "electronic_since": datetime.date(2024, 10, 1),
        "electronic_terms_name": "津久見市公共工事請負契約約款【R6.10.1~】:電子保証用",
        **fields,
    }
    orderer = Orderer.objects.create(name=name, **values)
    OrdererOffice.objects.create(
        orderer=orderer, name="総務課 契約担当", handles_kinds=[GuaranteeKind.CONTRACT]
    )
    OrdererOffice.objects.create(
        orderer=orderer,
        name="土木課 工事担当",
        handles_kinds=[GuaranteeKind.ADVANCE, GuaranteeKind.INTERMEDIATE],
    )
    return orderer


@pytest.fixture
def clerk(db):
    return make_member(make_company(name="ACME建設株式会社"), email="clerk@acme.example.jp")


@pytest.fixture
def other_clerk(db):
    return make_member(make_company(name="他社建設株式会社"), email="clerk@other.example.jp")


@pytest.fixture
def pending_clerk(db):
    return make_member(make_company(status=Company.Status.PENDING), email="new@pending.example.jp")


@pytest.fixture
def staff(db):
    return make_staff(email="staff@surety.example.jp")


@pytest.fixture
def tsukumi(db):
    return make_orderer()


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client
