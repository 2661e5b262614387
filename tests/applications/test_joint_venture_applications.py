"""A JV application (menu 1) by the representative's clerk: the JV's members must be verified
when it is submitted; the certificate names the JV, its 代表者, members and 出資比率; the
other members read the application and the guarantee but cannot edit or show the key, and
receive the same mails."""

from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Company, JointVenture, JointVentureMember
from applications.models import Application
from applications.notifications import recipients_of
from applications.validation import MSG_JV_UNVERIFIED
from certificates.models import Document
from tests.certificates.test_branch_on_documents import stored_text
from tests.conftest import (
    WORK_DATES,
    field_html,
    listed_applications,
    listed_orderers,
    log_in,
    make_application,
    make_company,
    make_concluded,
    make_member,
    make_work,
    menu1_post,
)

JV_NAME = "津久見・デモ特定建設工事共同企業体"


@pytest.fixture
def company(clerk):
    return clerk.membership.company


@pytest.fixture
def partner(db):
    return make_company(name="津久見建設株式会社")


@pytest.fixture
def partner_user(partner):
    return make_member(partner, email="jimu@tsukumi-kensetsu.example.jp")


@pytest.fixture
def partner_client(partner_user):
    return log_in(Client(), partner_user)  # password typed again: the role decides


@pytest.fixture
def jv(clerk, company, partner):
    jv = JointVenture.objects.create(
        name=JV_NAME, kind="specific", representative=company, created_by=clerk
    )
    JointVentureMember.objects.create(joint_venture=jv, company=company, share=Decimal("60.0"))
    JointVentureMember.objects.create(
        joint_venture=jv, company=partner, share=Decimal("40.0"), position=1
    )
    return jv


@pytest.mark.usefixtures("during_the_work")
def test_the_representative_applies_for_the_jv(clerk_client, jv, tsukumi):
    html = field_html(clerk_client.get(reverse("applications:new", args=["1"])), "joint_venture")
    assert JV_NAME in html and "貴社単独" in html

    response = clerk_client.post(
        reverse("applications:new", args=["1"]), menu1_post(tsukumi, joint_venture=str(jv.pk))
    )

    assert response.status_code == 302
    application = Application.objects.get()
    assert (application.work.joint_venture, application.status) == (jv, "submitted")


@pytest.mark.usefixtures("during_the_work")
def test_a_member_suspended_since_is_refused_with_the_reason(clerk_client, jv, partner, tsukumi):
    Company.objects.filter(pk=partner.pk).update(status=Company.Status.SUSPENDED)

    response = clerk_client.post(
        reverse("applications:new", args=["1"]), menu1_post(tsukumi, joint_venture=str(jv.pk))
    )

    assert response.status_code == 400
    assert MSG_JV_UNVERIFIED.format(names="津久見建設株式会社") in field_html(
        response, "joint_venture"
    )
    assert Application.objects.get().status == "draft"


def test_another_companys_jv_cannot_be_chosen(client, jv, partner, partner_user, tsukumi):
    client.force_login(partner_user)
    html = field_html(client.get(reverse("applications:new", args=["1"])), "joint_venture")
    assert JV_NAME not in html


def test_a_member_reads_the_application_but_cannot_edit_or_withdraw(company, jv, partner_client):
    application = make_application(company=company, work=make_work(company, joint_venture=jv))

    detail = partner_client.get(reverse("applications:detail", args=[application.pk]))

    assert detail.status_code == 200
    page = detail.content.decode()
    assert "閲覧のみ" in page and JV_NAME in page
    assert reverse("applications:edit", args=[application.pk]) not in page
    assert (
        partner_client.get(reverse("applications:edit", args=[application.pk])).status_code == 404
    )
    data = menu1_post(application.work.orderer, action="save")
    edit = partner_client.post(reverse("applications:edit", args=[application.pk]), data)
    assert edit.status_code == 404
    withdraw = partner_client.post(reverse("applications:withdraw", args=[application.pk]))
    assert withdraw.status_code == 404
    application.refresh_from_db()
    assert application.status == "draft"


def test_a_stranger_sees_nothing_of_the_jv(company, jv, other_clerk):
    application = make_application(company=company, work=make_work(company, joint_venture=jv))
    client = Client()
    client.force_login(other_clerk)
    assert client.get(reverse("applications:detail", args=[application.pk])).status_code == 404


def test_every_member_company_gets_the_mails(clerk, company, jv, partner_user):
    application = make_application(company=company, work=make_work(company, joint_venture=jv))
    assert recipients_of(application) == [clerk.email, partner_user.email]


@pytest.mark.usefixtures("frozen")
def test_the_certificate_names_the_jv_and_the_member_reads_it_read_only(
    clerk, company, jv, partner_client, django_capture_on_commit_callbacks
):
    work = make_work(company, joint_venture=jv, **WORK_DATES)
    with django_capture_on_commit_callbacks(execute=True):
        [guarantee] = make_concluded(work=work)

    text = stored_text(guarantee, Document.Kind.CERTIFICATE)
    assert JV_NAME in text
    assert "構成員（出資比率）" in text
    assert f"{company.name}（代表者）60.0%、津久見建設株式会社40.0%" in text
    content = guarantee.certificates.get().content["contractor"]["joint_venture"]
    assert content["advance_deposit"] == "representative"
    assert [m["share"] for m in content["members"]] == ["60.0", "40.0"]
    recipients = {to for m in mail.outbox for to in [*m.to, *m.bcc]}
    assert recipients >= {clerk.email, "jimu@tsukumi-kensetsu.example.jp"}

    listing = partner_client.get(reverse("certs:index")).content.decode()
    assert guarantee.number_display in listing
    page = partner_client.get(reverse("certs:detail", args=[guarantee.number]))
    assert page.status_code == 200 and "閲覧のみ" in page.content.decode()
    assert reverse("certs:show_key", args=[guarantee.number]) not in page.content.decode()
    pdf_url = reverse("certs:document", args=[guarantee.number, 1, "certificate"])
    assert partner_client.get(pdf_url).status_code == 200
    key = partner_client.post(reverse("certs:show_key", args=[guarantee.number]))
    assert key.status_code == 404


def test_menu4_lists_the_jvs_applications_to_a_member_read_only(
    company, jv, partner, partner_client, clerk_client, other_clerk, tsukumi
):
    shared = make_application(company=company, work=make_work(company, joint_venture=jv))
    own = make_application(company=partner, work=make_work(partner, name="構成員単独の工事"))
    solo = make_application(company=company, work=make_work(company, name="代表者単独の工事"))

    response = partner_client.get(reverse("applications:index"))
    assert set(listed_applications(response)) == {shared.pk, own.pk}
    page = response.content.decode()
    assert f"閲覧のみ（代表者: {company.name}）" in page
    assert reverse("applications:detail", args=[shared.pk]) in page
    assert "代表者単独の工事" not in page
    assert [o["pk"] for o in listed_orderers(response)] == [tsukumi.pk]
    assert partner_client.get(reverse("applications:detail", args=[shared.pk])).status_code == 200

    # The representative sees it as its own (no 閲覧のみ); a stranger not at all.
    mine = clerk_client.get(reverse("applications:index"))
    assert set(listed_applications(mine)) == {shared.pk, solo.pk}
    assert "閲覧のみ" not in mine.content.decode()
    stranger = Client()
    stranger.force_login(other_clerk)
    listed = listed_applications(stranger.get(reverse("applications:index")))
    assert shared.pk not in listed
