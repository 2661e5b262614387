"""The D-Sure viewer's reads (issue 22): one hand-written statement each, building the same
instances as the ORM's select_related did — the guarantee, its versions oldest first, a
減額's 前払金の返還 with its version — and, for the stored PDF, the newest file of the kind
with its guarantee."""

import datetime

import pytest

from certificates import pdf, selectors
from certificates.models import Certificate, Document, Guarantee, Refund
from tests.conftest import NOW, WORK_DATES, make_concluded


@pytest.fixture
def guarantee(clerk, tsukumi):
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    v1 = guarantee.certificates.get(version=1)
    v2 = Certificate.objects.create(
        guarantee=guarantee,
        version=2,
        content=v1.content,
        fingerprint=v1.fingerprint,
        amount=v1.amount - 100_000,
        starts_on=v1.starts_on,
        ends_on=v1.ends_on,
        issued_at=NOW,
        change_summary="請負代金額減額",
    )
    Refund.objects.create(
        guarantee=guarantee,
        certificate=v2,
        received=4_900_000,
        new_price=6_000_000,
        rate_tenths=5,
        amount=1_900_000,
        reduced_on=datetime.date(2026, 11, 25),
        due_on=datetime.date(2026, 12, 25),
    )
    return guarantee


def fields(instance):
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_versions_by_number_is_one_query_and_what_the_orm_reads(
    guarantee, django_assert_num_queries
):
    with django_assert_num_queries(1):
        found, versions = selectors.versions_by_number(guarantee.number)
        refunds = selectors.refunds_in(versions)
        assert [v.version for v in versions] == [1, 2]
        assert all(v.guarantee is found for v in versions)
        assert [r.certificate.version for r in refunds] == [2]
        assert getattr(versions[0], "refund", None) is None  # cached as absent: no query

    assert fields(found) == fields(Guarantee.objects.get(pk=guarantee.pk))
    expected = Certificate.objects.filter(guarantee=guarantee).order_by("version")
    assert [fields(v) for v in versions] == [fields(v) for v in expected]
    assert isinstance(versions[0].content, dict)  # the JSON decoded, as the ORM does
    assert fields(refunds[0]) == fields(Refund.objects.get(guarantee=guarantee))


def test_versions_by_number_of_an_unknown_number(db):
    assert selectors.versions_by_number("08100000000") == (None, [])


def test_document_by_number_is_the_newest_file_of_the_kind_with_its_guarantee(
    guarantee, django_assert_num_queries
):
    stored = Document.objects.get(certificate__guarantee=guarantee, kind="certificate")
    with django_assert_num_queries(1):
        name, found = selectors.document_by_number(guarantee.number, 1, "certificate")
    assert name == stored.file.name
    assert fields(found) == fields(Guarantee.objects.get(pk=guarantee.pk))
    assert selectors.document_by_number(guarantee.number, 2, "certificate") == (None, None)
    assert selectors.document_by_number("08100000000", 1, "certificate") == (None, None)


def test_the_viewer_renders_a_versions_body_once_per_process(guarantee, monkeypatch):
    """Decision 0037: the body is the template rendered for the version, kept per process
    by version id and fingerprint, at most BODY_CACHE_SIZE of them."""
    monkeypatch.setattr(pdf, "_bodies", {})
    monkeypatch.setattr(pdf, "BODY_CACHE_SIZE", 1)
    rendered = []
    real = pdf.render_to_string

    def counting(name, context):
        rendered.append(name)
        return real(name, context)

    monkeypatch.setattr(pdf, "render_to_string", counting)
    _, [v1, v2] = selectors.versions_by_number(guarantee.number)
    expected = real(pdf.BODY_TEMPLATE, pdf.certificate_context(v1))

    assert pdf.certificate_body(v1) == expected
    assert pdf.certificate_body(v1) == expected
    assert rendered == [pdf.BODY_TEMPLATE]  # the second view: no rendering
    pdf.certificate_body(v2)  # another version (here of the same content): its own entry
    assert len(rendered) == 2
    assert list(pdf._bodies) == [(v2.pk, v2.fingerprint)]  # the oldest dropped
    pdf.certificate_body(v1)
    assert len(rendered) == 3
