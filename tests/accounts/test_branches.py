"""支店・営業所 and their 受任者: the company's administrator registers and edits them on the
company page; other members see them; another company's branch is a 404."""

import pytest
from django.urls import reverse

from accounts.models import Branch, Membership
from accounts.services import MSG_BRANCH_NAME_TAKEN, MSG_NOT_ALLOWED, save_branch
from audit.models import AuditEvent
from tests.conftest import make_member

OITA = {
    "name": "大分支店",
    "postal_code": "８７０－００２１",
    "address": "大分県大分市府内町一丁目1番1号",
    "agent_title": "支店長",
    "agent_name": "津久見 次郎",
}


def make_branch(company, **fields):
    return Branch.objects.create(company=company, **{**OITA, "postal_code": "870-0021", **fields})


@pytest.fixture
def company(clerk):
    return clerk.membership.company


def test_the_administrator_registers_a_branch_with_its_agent(clerk, clerk_client, company):
    response = clerk_client.post(reverse("accounts:branch_new"), OITA)

    assert response.status_code == 302
    branch = Branch.objects.get(company=company)
    assert (branch.name, branch.postal_code, branch.agent) == (
        "大分支店",
        "870-0021",
        "支店長 津久見 次郎",
    )
    assert AuditEvent.objects.filter(action="branch.created", object_id=str(branch.pk)).exists()
    page = clerk_client.get(reverse("accounts:company")).content.decode()
    assert "大分支店" in page and "支店長 津久見 次郎" in page


def test_the_administrator_edits_a_branch(clerk_client, company):
    branch = make_branch(company)

    response = clerk_client.post(
        reverse("accounts:branch_edit", args=[branch.pk]), {**OITA, "agent_name": "臼杵 三郎"}
    )

    assert response.status_code == 302
    branch.refresh_from_db()
    assert branch.agent == "支店長 臼杵 三郎"


def test_a_taken_name_or_a_missing_agent_keeps_the_input_and_says_why(clerk_client, company):
    make_branch(company)

    taken = clerk_client.post(reverse("accounts:branch_new"), OITA)
    missing = clerk_client.post(
        reverse("accounts:branch_new"), {**OITA, "name": "佐伯営業所", "agent_name": ""}
    )

    assert taken.status_code == 400 and MSG_BRANCH_NAME_TAKEN in taken.content.decode()
    assert missing.status_code == 400
    assert 'value="佐伯営業所"' in missing.content.decode()
    assert "このフィールドは必須です。" in missing.content.decode()
    assert Branch.objects.filter(company=company).count() == 1


def test_the_page_answers_only_get_and_post(clerk_client):
    assert clerk_client.put(reverse("accounts:branch_new")).status_code == 405


def test_a_member_who_is_not_the_administrator_gets_a_404_and_cannot_save(client, company):
    member = make_member(company, role=Membership.Role.MEMBER)
    branch = make_branch(company)
    client.force_login(member)

    assert client.get(reverse("accounts:branch_new")).status_code == 404
    assert client.post(reverse("accounts:branch_edit", args=[branch.pk]), OITA).status_code == 404
    assert "大分支店" in client.get(reverse("accounts:company")).content.decode()
    with pytest.raises(Exception, match=MSG_NOT_ALLOWED):
        save_branch(company=company, by=member, **OITA)


def test_another_companys_branch_is_a_404(clerk_client, other_clerk):
    foreign = make_branch(other_clerk.membership.company)

    assert clerk_client.get(reverse("accounts:branch_edit", args=[foreign.pk])).status_code == 404
    response = clerk_client.post(reverse("accounts:branch_edit", args=[foreign.pk]), OITA)
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.company == other_clerk.membership.company


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("accounts:branch_new"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
