"""The time-stamping authority does not answer when staff record the fee (締結): the eシール
cannot sign, so nothing is concluded and no number is used; staff read what to fix, and the same
action succeeds once the TSA answers again."""

import pytest
from django.core import mail

from applications.models import Application, FeeReceipt
from certificates import services as registry
from certificates.models import Certificate, Document, Guarantee, NumberCounter
from certificates.numbering import format_number, make_number
from esure import metrics
from tests.conftest import WORK_DATES, make_application, make_work
from tests.faults.test_object_store_down import TWO_KINDS, fee_post, messages_of

pytestmark = pytest.mark.usefixtures("frozen")
NOBODY_LISTENS = "http://127.0.0.1:9/tsa"  # the discard port: refused at once


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_tsa_down_concludes_nothing_and_the_same_action_succeeds_once_back(
    settings, staff_client, clerk, tsukumi, django_capture_on_commit_callbacks
):
    work = make_work(clerk.membership.company, **WORK_DATES)
    application = make_application(
        company=clerk.membership.company, work=work, items=TWO_KINDS, status="approved"
    )
    tsa_url = settings.ESURE_TSA_URL
    settings.ESURE_TSA_URL = NOBODY_LISTENS
    failed_before = metrics.DOCUMENT_ERRORS.labels("sign")._value.get()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = fee_post(staff_client, application)

    assert response.status_code == 200
    assert messages_of(response) == [registry.MSG_SEALING_FAILED]
    assert metrics.DOCUMENT_ERRORS.labels("sign")._value.get() == failed_before + 1
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert Guarantee.objects.count() == Certificate.objects.count() == 0
    assert Document.objects.count() == FeeReceipt.objects.count() == 0
    assert not NumberCounter.objects.filter(last_serial__gt=0).exists()
    assert callbacks == [] and mail.outbox == []

    settings.ESURE_TSA_URL = tsa_url
    with django_capture_on_commit_callbacks(execute=True):
        response = fee_post(staff_client, application)

    numbers = [make_number(8, kind, 1) for kind in TWO_KINDS]  # serial 1: nothing was lost
    assert messages_of(response) == [
        f"保証契約を締結しました: {'、'.join(format_number(n) for n in numbers)}"
    ]
