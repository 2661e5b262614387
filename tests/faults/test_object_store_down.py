"""The object store is down when staff record the fee (締結): nothing is concluded, no number
is used (the serials stay gapless), staff read a clear message, and the same action succeeds
once the store is back. A SeaweedFS of this module's own, really stopped and started again."""

import hashlib

import pytest
from django.core import mail
from django.urls import reverse

from applications.fees import expected_fee
from applications.models import Application, FeeReceipt
from certificates import services as registry
from certificates.models import Certificate, Document, Guarantee, NumberCounter
from certificates.numbering import format_number, make_number
from esure.choices import GuaranteeKind
from tests.conftest import (
    MAX_ADVANCE,
    MIN_CONTRACT,
    NOW,
    WORK_DATES,
    Bucket,
    make_application,
    make_fee_tables,
    make_work,
    use_bucket,
)
from tests.seaweedfs import SeaweedFS

pytestmark = pytest.mark.usefixtures("frozen")
TODAY = NOW.date()
TWO_KINDS = {GuaranteeKind.ADVANCE: MAX_ADVANCE, GuaranteeKind.CONTRACT: MIN_CONTRACT}


@pytest.fixture(scope="module")
def own_store(tmp_path_factory):
    server = SeaweedFS(tmp_path_factory.mktemp("store-down")).start()
    yield server
    server.stop()


@pytest.fixture
def store(own_store, settings, monkeypatch):
    bucket = own_store.create_bucket("esure-down")
    use_bucket(
        settings,
        monkeypatch,
        endpoint_url=own_store.endpoint_url,
        environ=own_store.environ,
        bucket=bucket,
        location="t",
    )
    return own_store


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def fee_post(client, application):
    make_fee_tables()
    return client.post(
        reverse("admin:applications_application_fee", args=[application.pk]),
        {
            "received_on": TODAY.isoformat(),
            "amount": str(expected_fee(application, TODAY).due),
            "method": "transfer",
        },
        follow=True,
    )


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_store_down_concludes_nothing_and_the_same_action_succeeds_once_back(
    store, staff_client, clerk, tsukumi, django_capture_on_commit_callbacks
):
    work = make_work(clerk.membership.company, **WORK_DATES)
    application = make_application(
        company=clerk.membership.company, work=work, items=TWO_KINDS, status="approved"
    )
    store.stop()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = fee_post(staff_client, application)

    assert response.status_code == 200
    assert messages_of(response) == [registry.MSG_STORAGE_FAILED]
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert Guarantee.objects.count() == Certificate.objects.count() == 0
    assert Document.objects.count() == FeeReceipt.objects.count() == 0
    assert not NumberCounter.objects.filter(last_serial__gt=0).exists()  # no number used
    assert callbacks == [] and mail.outbox == []

    store.start()
    with django_capture_on_commit_callbacks(execute=True):
        response = fee_post(staff_client, application)

    numbers = [make_number(8, kind, 1) for kind in TWO_KINDS]  # serial 1: nothing was lost
    assert messages_of(response) == [
        f"保証契約を締結しました: {'、'.join(format_number(n) for n in numbers)}"
    ]
    application.refresh_from_db()
    assert application.status == Application.Status.CONCLUDED
    stored = Bucket(store, "esure-down", "t").objects()
    documents = Document.objects.all()
    assert len(documents) == 6
    for document in documents:
        assert hashlib.sha256(stored[document.file.name]).hexdigest() == document.sha256
    assert len(mail.outbox) == 1
