"""Shared setup of the D-Sure tests: a frozen clock (Tokyo), PDFs stored in a temporary
folder, and one concluded 津久見市 前払金保証 that is 有効 on that day."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.conftest import make_concluded

JST = ZoneInfo("Asia/Tokyo")
NOW = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=JST)
WORK_DATES = {
    "contract_date": datetime.date(2026, 11, 20),
    "start_date": datetime.date(2026, 11, 24),
    "end_date": datetime.date(2027, 3, 19),
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def guarantee(clerk, tsukumi):
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    return guarantee
