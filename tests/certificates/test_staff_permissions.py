"""Staff act on the registry only with the permission of each action (issue #12 item 4,
decision 0009): re-issuing a key needs `certificates.reissue_key`, marking a paper
certificate printed `certificates.change_guarantee`, downloading a stored PDF in admin
`certificates.view_document`. Without it: 403, nothing changed, nothing mailed."""

import pytest
from django.core import mail
from django.urls import reverse

from certificates.models import Document, Guarantee, KeyReissue
from tests.conftest import WORK_DATES, log_in, make_concluded, make_staff

pytestmark = pytest.mark.usefixtures("frozen", "media")


@pytest.fixture
def guarantee(clerk, tsukumi):
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    return guarantee


@pytest.fixture
def paper(clerk, tsukumi):
    [guarantee] = make_concluded(company=clerk.membership.company, delivery="paper", **WORK_DATES)
    return guarantee


@pytest.fixture
def staff_with(client_for):
    """A client logged in as staff holding exactly the given permissions."""

    def make(*perms):
        return client_for(make_staff(perms=list(perms)))

    return make


def reissue_url(g):
    return reverse("admin:certificates_guarantee_reissue_key", args=[g.pk])


def printed_url(g):
    return reverse("admin:certificates_guarantee_printed", args=[g.pk])


def change_url(g):
    return reverse("admin:certificates_guarantee_change", args=[g.pk])


def download_url(document):
    return reverse("admin:certificates_document_download", args=[document.pk])


def test_staff_without_permissions_cannot_reissue_a_key(
    staff_with, guarantee, django_capture_on_commit_callbacks
):
    browser = staff_with()

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(reissue_url(guarantee), {"reason": "試し"})

    assert response.status_code == 403
    guarantee.refresh_from_db()
    assert guarantee.key_version == 1
    assert not KeyReissue.objects.exists()
    assert mail.outbox == []


def test_viewing_a_guarantee_is_not_enough_to_reissue_its_key(
    staff_with, guarantee, django_capture_on_commit_callbacks
):
    browser = staff_with("certificates.view_guarantee", "certificates.change_guarantee")

    page = browser.get(change_url(guarantee))
    with django_capture_on_commit_callbacks(execute=True):
        refused = browser.post(reissue_url(guarantee))

    assert page.status_code == 200
    assert reissue_url(guarantee) not in page.content.decode()
    assert "認証キーの再発行には権限が必要です。" in page.content.decode()
    assert refused.status_code == 403
    guarantee.refresh_from_db()
    assert guarantee.key_version == 1
    assert mail.outbox == []


def test_staff_with_the_reissue_permission_reissue_a_key(
    staff_with, guarantee, django_capture_on_commit_callbacks
):
    browser = staff_with("certificates.view_guarantee", "certificates.reissue_key")

    page = browser.get(change_url(guarantee)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(reissue_url(guarantee), {"reason": "FAXの誤送信"})

    assert f'action="{reissue_url(guarantee)}"' in page
    assert response.status_code == 302
    guarantee.refresh_from_db()
    assert guarantee.key_version == 2
    assert len(mail.outbox) == 1


def test_staff_without_the_change_permission_cannot_mark_printed(staff_with, paper):
    browser = staff_with("certificates.view_guarantee", "certificates.reissue_key")

    page = browser.get(change_url(paper)).content.decode()
    response = browser.post(printed_url(paper))

    assert printed_url(paper) not in page
    assert "印刷済にするには変更の権限が必要です。" in page
    assert response.status_code == 403
    assert Guarantee.objects.get(pk=paper.pk).printed_at is None


def test_staff_with_the_change_permission_mark_printed(staff_with, paper):
    browser = staff_with("certificates.view_guarantee", "certificates.change_guarantee")

    assert f'action="{printed_url(paper)}"' in browser.get(change_url(paper)).content.decode()
    response = browser.post(printed_url(paper))

    assert response.status_code == 302
    assert Guarantee.objects.get(pk=paper.pk).printed_at is not None


def test_admin_pdf_downloads_need_the_view_permission(staff_with, guarantee):
    document = Document.objects.filter(certificate__guarantee=guarantee).first()

    refused = staff_with("certificates.view_guarantee").get(download_url(document))
    allowed = staff_with("certificates.view_document").get(download_url(document))

    assert refused.status_code == 403
    assert allowed.status_code == 200
    assert b"".join(allowed.streaming_content).startswith(b"%PDF")


def test_a_superuser_still_does_everything(staff, client, guarantee, paper):
    log_in(client, staff)
    document = Document.objects.filter(certificate__guarantee=guarantee).first()

    assert client.get(download_url(document)).status_code == 200
    assert client.post(reissue_url(guarantee)).status_code == 302
    assert client.post(printed_url(paper)).status_code == 302
