"""共同企業体の登録: the representative's clerk registers a JV of verified companies whose
出資比率 add up to exactly 100 (99.9 and 100.1 refused, 100 accepted)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Company, JointVenture
from accounts.services import (
    MSG_JV_MEMBER_IS_REPRESENTATIVE,
    MSG_JV_MEMBER_NOT_VERIFIED,
    MSG_JV_MEMBER_UNKNOWN,
    register_joint_venture,
)
from accounts.validators import MSG_SHARES_TOTAL
from tests.conftest import make_company, valid_corporate_number

URL = reverse("accounts:joint_venture_new")


@pytest.fixture
def company(clerk):
    return clerk.membership.company


@pytest.fixture
def partner(db):
    return make_company(name="津久見建設株式会社")


def post(client, partner_number, own="60", share="40", **extra):
    data = {
        "name": "津久見・デモ特定建設工事共同企業体",
        "kind": "specific",
        "advance_deposit": "split",
        "own_share": own,
        "member_1_number": partner_number,
        "member_1_share": share,
        **extra,
    }
    return client.post(URL, data)


@pytest.mark.parametrize(
    ("own", "share", "accepted"),
    [("60", "39.9", False), ("60", "40", True), ("60", "40.1", False)],
    ids=["99.9", "100", "100.1"],
)
def test_the_shares_must_add_up_to_exactly_100(
    clerk_client, company, partner, own, share, accepted
):
    response = post(clerk_client, partner.corporate_number, own, share)

    if accepted:
        assert response.status_code == 302
        jv = JointVenture.objects.get()
        assert (jv.representative, jv.kind, jv.advance_deposit) == (company, "specific", "split")
        members = [(m.company, m.share) for m in jv.members.order_by("position")]
        assert members == [(company, Decimal("60.0")), (partner, Decimal("40.0"))]
    else:
        assert response.status_code == 400
        total = Decimal(own) + Decimal(share)
        assert MSG_SHARES_TOTAL.format(total=total) in response.content.decode()
        assert not JointVenture.objects.exists()


def test_a_member_not_verified_is_refused_with_the_reason(clerk_client, company):
    pending = make_company(name="確認待ち建設株式会社", status=Company.Status.PENDING)

    response = post(clerk_client, pending.corporate_number)

    assert response.status_code == 400
    assert (
        MSG_JV_MEMBER_NOT_VERIFIED.format(name="確認待ち建設株式会社") in response.content.decode()
    )
    assert 'value="津久見・デモ特定建設工事共同企業体"' in response.content.decode()
    assert not JointVenture.objects.exists()


def test_an_unknown_company_or_the_representative_itself_is_refused(clerk_client, company):
    unknown = valid_corporate_number(987654321)

    response = post(clerk_client, unknown)
    itself = post(clerk_client, company.corporate_number)

    assert MSG_JV_MEMBER_UNKNOWN.format(number=unknown) in response.content.decode()
    assert MSG_JV_MEMBER_IS_REPRESENTATIVE in itself.content.decode()
    assert not JointVenture.objects.exists()


def test_the_company_page_lists_the_jv_for_both_companies(clerk_client, client, company, partner):
    from tests.conftest import make_member

    post(clerk_client, partner.corporate_number)
    client.force_login(make_member(partner))

    for c in (clerk_client, client):
        page = c.get(reverse("accounts:company")).content.decode()
        assert "津久見・デモ特定建設工事共同企業体" in page and "40.0%" in page


def test_the_service_refuses_a_stranger(partner, company):
    from django.core.exceptions import PermissionDenied

    from tests.conftest import make_member

    with pytest.raises(PermissionDenied):
        register_joint_venture(
            company=company,
            by=make_member(partner),
            name="JV",
            kind="specific",
            advance_deposit="representative",
            own_share=Decimal(60),
            members=[(partner.corporate_number, Decimal(40))],
        )


def test_the_page_answers_only_get_and_post(clerk_client):
    assert clerk_client.put(URL).status_code == 405


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
