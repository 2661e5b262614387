"""Shared setup of the D-Sure tests: the clock frozen at tests.conftest.NOW (Tokyo) and one
concluded 津久見市 前払金保証 that is 有効 on that day. PDFs go to the suite's temporary
MEDIA_ROOT (tests/conftest.py)."""

import pytest

from dsure import views
from tests.conftest import WORK_DATES, advance_office, make_concluded, make_office_user


@pytest.fixture(autouse=True)
def _frozen_for_every_test(frozen):
    """Every D-Sure test runs on NOW; a test moves the clock through `frozen`."""
    return frozen


@pytest.fixture(autouse=True)
def _no_kept_pages():
    """The pages D-Sure keeps per process (esure.kept) start and end every test empty."""
    views._refusals.clear()
    views._pages.clear()
    yield
    views._refusals.clear()
    views._pages.clear()


@pytest.fixture
def guarantee(clerk, tsukumi):
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    return guarantee


@pytest.fixture
def office(tsukumi):
    """津久見市's office that holds 前払金保証 (a test file may define its own)."""
    return advance_office(tsukumi)


@pytest.fixture
def official(office):
    return make_office_user(office, email="doboku@city.tsukumi.example.jp")


@pytest.fixture
def official_client(client_for, official):
    return client_for(official)
