"""Staff read who the guarantee is for in admin (issue #19): an application's and a
guarantee's contracting office with its 受任者, the JV with its members, 出資比率 and deposit
method, and the 承認者 who sent the application."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Branch, JointVenture, JointVentureMember
from tests.conftest import WORK_DATES, make_application, make_company, make_concluded, make_work

JV_NAME = "津久見・デモ特定建設工事共同企業体"


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def company(clerk):
    return clerk.membership.company


@pytest.fixture
def work(clerk, company):
    branch = Branch.objects.create(
        company=company,
        name="大分支店",
        address="大分市府内町1-1-1",
        agent_title="支店長",
        agent_name="津久見 次郎",
    )
    jv = JointVenture.objects.create(
        name=JV_NAME, kind="specific", representative=company, created_by=clerk
    )
    JointVentureMember.objects.create(joint_venture=jv, company=company, share=Decimal("60.0"))
    JointVentureMember.objects.create(
        joint_venture=jv,
        company=make_company(name="津久見建設株式会社"),
        share=Decimal("40.0"),
        position=1,
    )
    return make_work(company, branch=branch, joint_venture=jv, **WORK_DATES)


def assert_names_the_parties(page, company):
    assert "大分支店（受任者 支店長 津久見 次郎）" in page
    assert f"{JV_NAME}（特定建設工事共同企業体）" in page
    assert f"{company.name}（代表者） 60.0%、津久見建設株式会社 40.0%" in page
    assert "代表者名義の口座に一括して預託" in page


def test_the_application_page_names_office_jv_and_approver(staff_client, clerk, company, work):
    application = make_application(company=company, work=work, status="submitted")
    application.submitted_by = clerk
    application.save()
    url = reverse("admin:applications_application_change", args=[application.pk])
    page = staff_client.get(url).content.decode()
    assert_names_the_parties(page, company)
    assert "承認者（送信者）" in page and clerk.email in page
    listed = staff_client.get(reverse("admin:applications_application_changelist"))
    assert clerk.email in listed.content.decode()


def test_a_company_without_branch_or_jv_reads_as_head_office(staff_client, company):
    application = make_application(company=company, status="submitted")
    url = reverse("admin:applications_application_change", args=[application.pk])
    page = staff_client.get(url).content.decode()
    assert "本店（代表者）" in page and "共同企業体" not in page.split("保証契約者")[1][:400]


@pytest.mark.usefixtures("frozen")
def test_the_guarantee_page_names_them_as_the_certificate_states(staff_client, company, work):
    [guarantee] = make_concluded(work=work)
    # A later rename of the branch changes nothing: the page reads the certificate's snapshot.
    Branch.objects.filter(pk=work.branch_id).update(agent_name="別の 受任者")
    url = reverse("admin:certificates_guarantee_change", args=[guarantee.pk])
    page = staff_client.get(url).content.decode()
    assert_names_the_parties(page, company)
    assert "別の 受任者" not in page
