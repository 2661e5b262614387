"""`manage.py load_demo`: the data `make run` shows, loaded once, never outside DEBUG."""

import datetime
import io

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import Company, CompanyStatusChange, Membership, Orderer, User
from accounts.validators import clean_corporate_number
from esure.choices import GuaranteeKind, SubmissionChannel

CLERK = ("clerk@demo.esure.example", "demo-clerk-2026")
STAFF = ("staff@demo.esure.example", "demo-staff-2026")
OFFICE = ("doboku@demo.esure.example", "demo-office-2026")


def load_demo():
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def row_counts():
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


@pytest.fixture
def demo_allowed(settings, db):
    settings.ESURE_DEMO_ALLOWED = True


@pytest.fixture
def demo(demo_allowed):
    return load_demo()


def test_tsukumi_is_electronic_from_2024_10_01_with_its_terms(demo):
    tsukumi = Orderer.objects.get(name="津久見市")
    assert tsukumi.prefecture == "大分県"
    assert tsukumi.head_title == "津久見市長"
    assert tsukumi.electronic_since == datetime.date(2024, 10, 1)
    assert tsukumi.is_electronic
    assert tsukumi.printout_required
    assert tsukumi.electronic_terms_name == "津久見市公共工事請負契約約款【R6.10.1~】:電子保証用"
    key_path = [SubmissionChannel.CARRY, SubmissionChannel.FAX]
    # 前払金保証 also reaches the office's 受信箱 at conclusion (decision 0018).
    assert tsukumi.channels_for(GuaranteeKind.ADVANCE) == [SubmissionChannel.INBOX, *key_path]
    for kind in (GuaranteeKind.CONTRACT, GuaranteeKind.INTERMEDIATE):
        assert tsukumi.channels_for(kind) == key_path


def test_tsukumi_has_a_contract_office_and_a_works_office(demo):
    offices = {
        office.name: sorted(office.handles_kinds)
        for office in Orderer.objects.get(name="津久見市").offices.all()
    }
    assert offices == {
        "総務課 契約担当": [GuaranteeKind.CONTRACT],
        "土木課 工事担当": sorted([GuaranteeKind.ADVANCE, GuaranteeKind.INTERMEDIATE]),
    }


def test_a_paper_only_orderer_exists(demo):
    paper = Orderer.objects.exclude(name="津久見市").get()
    assert paper.electronic_since is None
    assert not paper.is_electronic
    assert paper.offices.exists()


def test_demo_company_is_verified_with_a_clerk(demo):
    company = Company.objects.get(name="株式会社デモ建設")
    assert company.status == Company.Status.VERIFIED
    assert company.verified_at is not None
    # Its 法人番号 is fictional but passes the same check as a typed one.
    assert clean_corporate_number(company.corporate_number) == company.corporate_number
    membership = Membership.objects.get(company=company)
    assert membership.user.email == CLERK[0]
    assert membership.role == Membership.Role.ADMIN
    change = CompanyStatusChange.objects.get(company=company)
    assert change.new_status == Company.Status.VERIFIED
    assert change.by.email == STAFF[0]


def test_demo_clerk_logs_in_with_the_printed_password(client, demo):
    assert EmailAddress.objects.get(email=CLERK[0]).verified
    assert client.login(email=CLERK[0], password=CLERK[1])


def test_demo_clerk_logs_in_through_allauth_without_verification_step(client, demo):
    response = client.post(reverse("account_login"), {"login": CLERK[0], "password": CLERK[1]})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert "保証申込メニュー" in client.get("/").content.decode()


def test_demo_staff_user_is_staff(demo):
    staff = User.objects.get(email=STAFF[0])
    assert staff.is_staff
    assert staff.check_password(STAFF[1])
    assert EmailAddress.objects.get(email=STAFF[0]).verified
    assert not Membership.objects.filter(user=staff).exists()


def test_output_prints_the_demo_logins(demo):
    assert CLERK[0] in demo and CLERK[1] in demo
    assert STAFF[0] in demo and STAFF[1] in demo
    assert OFFICE[0] in demo and OFFICE[1] in demo


def test_the_tsukumi_office_users_list_holds_the_demo_guarantee(client, demo):
    """README's 津久見市 login: the demo guarantee was delivered to 土木課's 受信箱, no key."""
    from certificates.models import Guarantee

    guarantee = Guarantee.objects.get()
    assert client.login(email=OFFICE[0], password=OFFICE[1])
    html = client.get(reverse("dsure:inbox")).content.decode()
    assert "津久見市 土木課 工事担当" in html
    assert guarantee.number_display in html and "未受領" in html
    viewer = client.get(reverse("dsure:viewer", args=[guarantee.number]))
    assert viewer.status_code == 200
    assert "第1版を受領する" in viewer.content.decode()


def test_second_run_creates_no_rows(demo):
    before = row_counts()

    output = load_demo()

    assert row_counts() == before
    assert "Demo data: 0 new rows." in output
    assert before["accounts.Orderer"] == 2
    assert before["accounts.Company"] == 2  # 株式会社デモ建設 and its JV partner


def test_refuses_without_demo_allowed(settings, db):
    settings.ESURE_DEMO_ALLOWED = False
    before = row_counts()

    with pytest.raises(CommandError, match="DEBUG"):
        load_demo()

    assert row_counts() == before


@pytest.mark.django_db
def test_the_demo_prints_a_number_and_key_that_open_dsure(settings, client):
    """make run's promise: the printed 保証契約番号 + 認証キー open the demo certificate."""
    import io
    import re

    from django.core.management import call_command

    settings.ESURE_DEMO_ALLOWED = True
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    found = re.search(r"保証契約番号 (\S+) / 認証キー (\S+)", out.getvalue())
    assert found, out.getvalue()
    number, key = found.groups()
    response = client.post("/dsure/", {"number": number, "key": key.lower()})
    assert response.status_code == 302
    assert "市道堅徳線道路改良工事" in client.get(response["Location"]).content.decode()


def test_the_demo_guarantee_is_contracted_through_a_branch_and_its_agent(demo):
    from certificates.models import Guarantee

    company = Company.objects.get(name="株式会社デモ建設")
    branch = company.branches.get()
    assert (branch.name, branch.agent) == ("大分支店", "支店長 津久見 次郎")
    guarantee = Guarantee.objects.get(company=company)
    contractor = guarantee.certificates.get().content["contractor"]
    assert contractor["branch"] == {
        "name": "大分支店",
        "address": "大分県大分市府内町一丁目1番1号",
        "agent": "支店長 津久見 次郎",
    }


def test_the_demo_has_a_jv_with_a_second_verified_company(demo):
    from decimal import Decimal

    from accounts.models import JointVenture

    jv = JointVenture.objects.get(name="津久見・デモ特定建設工事共同企業体")
    assert jv.representative.name == "株式会社デモ建設"
    members = [(m.company.name, m.share) for m in jv.members.order_by("position")]
    assert members == [
        ("株式会社デモ建設", Decimal("60.0")),
        ("津久見建設株式会社", Decimal("40.0")),
    ]
    assert jv.members.get(position=1).company.is_verified
    member = User.objects.get(email="member@demo.esure.example")
    assert member.check_password("demo-member-2026")
    assert member.membership.company.name == "津久見建設株式会社"
