"""The accounts admin as surety staff use it: every page opens, orderers and users can be added."""

import datetime

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.models import BankInvitation, OfficeInvitation, OfficeMembership, Orderer, User
from esure.choices import ContractMethod, GuaranteeKind
from tests.conftest import make_bank_user, make_invitation, make_orderer, make_user

# Made only by accepting an invitation, never added by staff.
NO_ADD = {"invitation", "bankmembership", "officeinvitation"}

ACCOUNTS_MODELS = [m for m in admin.site._registry if m._meta.app_label == "accounts"]


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.mark.parametrize("model", ACCOUNTS_MODELS, ids=lambda m: m._meta.model_name)
def test_every_accounts_admin_page_opens(staff_client, staff, clerk, model):
    make_invitation(company=clerk.membership.company, by=clerk)
    orderer = make_orderer()
    OfficeMembership.objects.create(user=make_user(), office=orderer.offices.first())
    banker = make_bank_user()
    BankInvitation.objects.create(
        branch=banker.bank_membership.branch, email="new@bank.example.jp", invited_by=staff
    )
    OfficeInvitation.objects.create(
        office=orderer.offices.first(), email="new@city.example.jp", invited_by=staff
    )
    info = (model._meta.app_label, model._meta.model_name)
    obj = model._default_manager.first()

    assert staff_client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200
    assert (
        staff_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk])).status_code
        == 200
    )
    add = staff_client.get(reverse("admin:{}_{}_add".format(*info)))
    # Company invitations are sent by the company's administrator; bank memberships come
    # from accepted invitations, office invitations from the orderer's 管理者: none is
    # created by staff.
    assert add.status_code == (403 if model._meta.model_name in NO_ADD else 200)


def _inline_management(prefix, total=0):
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": "0"}


def _orderer_form(**overrides):
    return {
        "name": "臼杵市",
        "prefecture": "大分県",
        "head_title": "臼杵市長",
        "electronic_since": "2025-04-01",
        "excluded_contract_methods": [ContractMethod.NEGOTIATED],
        "electronic_terms_name": "",
        "printout_required": "on",
        "submission_note": "",
        "min_advance_contract_amount": "3000000",
        "min_advance_period_days": "60",
        "advance_ratio_construction": "40",
        "advance_ratio_consulting": "30",
        "intermediate_allowed": "on",
        "intermediate_excludes_partial_payment": "on",
        "contract_guarantee_min_ratio": "10",
        "contract_guarantee_low_bid_ratio": "30",
        "price_increase_threshold_percent": "125",
        **_inline_management("submission_channels", 1),
        "submission_channels-0-kind": GuaranteeKind.ADVANCE,
        "submission_channels-0-channel": "carry",
        **_inline_management("offices", 1),
        "offices-0-name": "建設課",
        "offices-0-handles_kinds": [GuaranteeKind.ADVANCE, GuaranteeKind.INTERMEDIATE],
        **overrides,
    }


def test_staff_add_an_orderer_with_its_policy(staff_client):
    response = staff_client.post(reverse("admin:accounts_orderer_add"), _orderer_form())

    assert response.status_code == 302, response.context["adminform"].form.errors
    orderer = Orderer.objects.get(name="臼杵市")
    assert orderer.electronic_since == datetime.date(2025, 4, 1)
    assert orderer.excluded_contract_methods == [ContractMethod.NEGOTIATED]
    assert not orderer.accepts_method(ContractMethod.NEGOTIATED)
    assert orderer.accepts_method(ContractMethod.GENERAL)
    assert orderer.min_advance_contract_amount == 3_000_000
    assert orderer.offices.get().handles_kinds == [
        GuaranteeKind.ADVANCE,
        GuaranteeKind.INTERMEDIATE,
    ]
    assert orderer.channels_for(GuaranteeKind.ADVANCE) == ["carry"]
    assert orderer.channels_for(GuaranteeKind.CONTRACT) == []


def test_orderer_ratio_above_100_percent_is_refused(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_orderer_add"), _orderer_form(advance_ratio_construction="140")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert 'value="140"' in response.content.decode()  # the input is kept
    assert not Orderer.objects.exists()


def test_staff_add_a_user_who_logs_in_by_email(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "reviewer@surety.example.jp",
            "password1": "a-long-unusual-passphrase-77",
            "password2": "a-long-unusual-passphrase-77",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="reviewer@surety.example.jp")
    assert user.check_password("a-long-unusual-passphrase-77")
    assert not user.is_staff
