"""Shared setup of the API tests: the clock frozen at NOW, one concluded 津久見市 前払金保証
that reached the 土木課 (the token's office), and tokens of that office and of another."""

import pytest
from django.test import Client

from api import services
from tests.conftest import (
    WORK_DATES,
    accept_handover,
    advance_office,
    make_concluded,
    make_office_user,
    make_orderer,
)


@pytest.fixture(autouse=True)
def _frozen_for_every_test(frozen):
    return frozen


@pytest.fixture
def office(tsukumi):
    return advance_office(tsukumi)  # 津久見市 土木課 工事担当


@pytest.fixture
def office_admin(office):
    """The office's 管理者 (accounts.OfficeMembership.Role.ADMIN)."""
    user = make_office_user(office, email="kanri@city.tsukumi.example.jp")
    user.office_membership.role = user.office_membership.Role.ADMIN
    user.office_membership.save(update_fields=["role"])
    return user


@pytest.fixture
def guarantee(clerk, tsukumi, office):
    """A concluded 前払金保証 of 津久見市, delivered to the 土木課."""
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    deliver(guarantee, office, clerk)
    return guarantee


def deliver(guarantee, office, by):
    """The guarantee reaches the office without a key (the contractor hands it over)."""
    from certificates import services as registry

    accept_handover(guarantee.orderer, guarantee.kind)
    make_office_user(office)  # hand-over needs an office with accounts
    return registry.hand_over(guarantee=guarantee, office=office, by=by)


def make_token(office, by=None, **fields):
    """A token of `office` (created by an office user), returns (record, token text)."""
    by = by or make_office_user(office)
    created = services.create_token(
        office=office, name=fields.pop("name", "財務会計"), by=by, **fields
    )
    return created.token, created.secret


@pytest.fixture
def token(office):
    return make_token(office)


@pytest.fixture
def other_office_token(db):
    """A token of another orderer's office (大分市), which must see nothing of 津久見市."""
    oita = make_orderer("大分市")
    return make_token(oita.offices.first())


def api_client(secret=None, **extra):
    """A test client sending `Authorization: Bearer <secret>` (none without a secret)."""
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return Client(headers=headers, **extra)
