"""Certificates and their stored PDFs are append-only originals (DESIGN.md §5.7, decision
0003): Certificate.save() refuses an update, PostgreSQL refuses UPDATE and DELETE of their
rows by trigger (migration certificates/0003) whatever code tries it, and the admin offers
no way to add, change or delete one."""

import datetime
import hashlib

import django.db
import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from certificates.models import Certificate, Document
from tests.conftest import make_concluded

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only"
)
TABLES = {"certificate": "certificates_certificate", "document": "certificates_document"}
STATEMENTS = {
    "update": 'UPDATE "{table}" SET "{column}" = %s WHERE "id" = %s',
    "delete": 'DELETE FROM "{table}" WHERE "id" = %s',
}
CHANGED = {"certificate": ("fingerprint", "0" * 64), "document": ("sha256", "0" * 64)}


@pytest.fixture
def certificate(clerk, tsukumi):
    [guarantee] = make_concluded(
        company=clerk.membership.company,
        contract_date=datetime.date(2026, 11, 20),
        start_date=datetime.date(2026, 11, 24),
        end_date=datetime.date(2027, 3, 19),
    )
    return guarantee.certificates.get()


def snapshot(certificate):
    row = Certificate.objects.values().get(pk=certificate.pk)
    documents = list(Document.objects.filter(certificate=certificate).order_by("pk").values())
    return row, documents


def test_saving_an_existing_certificate_raises(certificate):
    before = snapshot(certificate)

    certificate.amount = 1
    with pytest.raises(ValueError, match="immutable"):
        certificate.save()
    with pytest.raises(ValueError, match="immutable"):
        certificate.save(update_fields=["amount"])
    fresh = Certificate.objects.get(pk=certificate.pk)
    with pytest.raises(ValueError, match="immutable"):
        fresh.save()

    assert snapshot(certificate) == before


@on_postgresql
@pytest.mark.parametrize("statement", STATEMENTS)
@pytest.mark.parametrize("model", TABLES)
def test_the_database_refuses_raw_update_and_delete(certificate, model, statement):
    row = certificate if model == "certificate" else certificate.documents.first()
    column, value = CHANGED[model]
    sql = STATEMENTS[statement].format(table=TABLES[model], column=column)
    params = [value, row.pk] if statement == "update" else [row.pk]
    before = snapshot(certificate)

    with (
        pytest.raises(django.db.Error, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)

    assert snapshot(certificate) == before


@on_postgresql
def test_the_database_refuses_orm_bulk_writes(certificate):
    before = snapshot(certificate)

    with pytest.raises(django.db.Error), transaction.atomic():
        Certificate.objects.filter(pk=certificate.pk).update(amount=1)
    with pytest.raises(django.db.Error), transaction.atomic():
        Document.objects.filter(certificate=certificate).update(sha256="0" * 64)
    with pytest.raises(django.db.Error), transaction.atomic():
        Document.objects.filter(certificate=certificate).delete()
    # Deleting the certificate is refused already by its documents (PROTECT).
    with pytest.raises(django.db.Error), transaction.atomic():
        Certificate.objects.filter(pk=certificate.pk).delete()

    assert snapshot(certificate) == before


def test_a_new_version_can_still_be_appended(certificate):
    """Append-only, not read-only: a change (menu 5) inserts v2 beside v1."""
    content = {**certificate.content, "version": 2}
    v2 = Certificate.objects.create(
        guarantee=certificate.guarantee,
        version=2,
        content=content,
        fingerprint="f" * 64,
        amount=certificate.amount,
        starts_on=certificate.starts_on,
        ends_on=certificate.ends_on,
        issued_at=timezone.now(),
        change_summary="保証期限変更",
    )
    assert list(certificate.guarantee.certificates.values_list("version", flat=True)) == [1, 2]
    with pytest.raises(ValueError, match="immutable"):
        v2.save()


# --- The admin ----------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def admin_url(model, view, *args):
    return reverse(f"admin:certificates_{model}_{view}", args=args)


@pytest.mark.parametrize("model", TABLES)
def test_the_admin_cannot_add_change_or_delete(staff_client, certificate, model):
    row = certificate if model == "certificate" else certificate.documents.first()
    before = snapshot(certificate)

    changelist = staff_client.get(admin_url(model, "changelist"))
    assert changelist.status_code == 200
    assert changelist.context["has_add_permission"] is False
    assert admin_url(model, "add") not in changelist.content.decode()
    action_form = changelist.context["action_form"]
    actions = [name for name, _ in action_form.fields["action"].choices] if action_form else []
    assert "delete_selected" not in actions

    assert staff_client.get(admin_url(model, "add")).status_code == 403
    assert staff_client.post(admin_url(model, "add"), {}).status_code == 403
    assert staff_client.get(admin_url(model, "delete", row.pk)).status_code == 403
    assert staff_client.post(admin_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    bulk_delete = staff_client.post(
        admin_url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
    )
    assert bulk_delete.status_code in (200, 302)

    page = staff_client.get(admin_url(model, "change", row.pk))
    assert page.status_code == 200  # view only
    assert page.context["has_change_permission"] is False
    assert page.context["has_delete_permission"] is False
    assert 'name="_save"' not in page.content.decode()
    assert staff_client.post(admin_url(model, "change", row.pk), {}).status_code == 403

    assert snapshot(certificate) == before


def test_the_guarantee_page_offers_no_certificate_form(staff_client, certificate):
    guarantee = certificate.guarantee
    url = admin_url("guarantee", "change", guarantee.pk)

    page = staff_client.get(url)

    assert page.status_code == 200
    # The versions, and the refunds a 減額 made with them (decision 0026): read-only rows.
    inlines = {i.formset.model: i for i in page.context["inline_admin_formsets"]}
    assert Certificate in inlines
    for inline in inlines.values():
        assert not inline.has_add_permission and not inline.has_change_permission
        assert not inline.has_delete_permission
    assert staff_client.post(url, {}).status_code == 403


def test_the_admin_serves_the_stored_original(client_for, staff, clerk, certificate):
    document = certificate.documents.get(kind=Document.Kind.CERTIFICATE)
    url = admin_url("document", "download", document.pk)

    response = client_for(staff).get(url)

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    data = b"".join(response.streaming_content)
    assert hashlib.sha256(data).hexdigest() == document.sha256
    refused = client_for(clerk).get(url)
    assert refused.status_code == 302
    assert refused["Location"].startswith(reverse("admin:login"))
