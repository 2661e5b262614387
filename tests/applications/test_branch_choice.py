"""Menu 1 chooses the contracting office (契約営業所) among the company's own branches."""

import pytest
from django.urls import reverse

from accounts.models import Branch
from applications.models import Application
from tests.conftest import field_html, make_company, menu1_post

pytestmark = pytest.mark.usefixtures("during_the_work")


def make_branch(company, name="大分支店"):
    return Branch.objects.create(
        company=company, name=name, address="大分市", agent_title="支店長", agent_name="津久見 次郎"
    )


def test_the_form_offers_the_companys_branches_and_the_head_office(clerk, clerk_client, tsukumi):
    make_branch(clerk.membership.company)
    make_branch(make_company(), name="よその支店")

    html = field_html(clerk_client.get(reverse("applications:new", args=["1"])), "branch")

    assert "本店（代表者）" in html and "大分支店（受任者 支店長 津久見 次郎）" in html
    assert "よその支店" not in html


def test_the_chosen_branch_is_saved_on_the_work_and_shown(clerk, clerk_client, tsukumi):
    branch = make_branch(clerk.membership.company)

    response = clerk_client.post(
        reverse("applications:new", args=["1"]), menu1_post(tsukumi, branch=str(branch.pk))
    )

    assert response.status_code == 302
    application = Application.objects.get()
    assert application.work.branch == branch
    detail = clerk_client.get(reverse("applications:detail", args=[application.pk]))
    assert "大分支店（受任者 支店長 津久見 次郎）" in detail.content.decode()


def test_another_companys_branch_is_refused_and_the_input_kept(clerk_client, tsukumi):
    foreign = make_branch(make_company())

    response = clerk_client.post(
        reverse("applications:new", args=["1"]), menu1_post(tsukumi, branch=str(foreign.pk))
    )

    assert response.status_code == 400
    assert "正しく選択してください" in field_html(response, "branch")
    assert 'value="市道堅徳線道路改良工事"' in response.content.decode()
    assert not Application.objects.exists()
