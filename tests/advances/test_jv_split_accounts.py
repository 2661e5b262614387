"""A 共同企業体 that deposits its 前払金 split by 出資比率 (decision 0035): one designated
account per member, each for its share — whole yen, rounded down, the remainder to the
代表者 — and each account's 明細書 adds up to that share."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import JointVenture, JointVentureMember
from advances import rules, selectors, services
from advances.models import Funding
from tests.conftest import (
    log_in,
    make_advance_account,
    make_company,
    make_member,
    make_registered_guarantee,
    make_work,
)


@pytest.mark.parametrize(
    "amount, shares, parts",
    [
        (4_900_000, [("a", "60.0", True), ("b", "40.0", False)], {"a": 2_940_000, "b": 1_960_000}),
        # 1,000,001 × 33.3% = 333,000.333 → 333,000 (twice); the 1円 left goes to the 代表者.
        (
            1_000_001,
            [("b", "33.3", False), ("a", "33.4", True), ("c", "33.3", False)],
            {"a": 334_001, "b": 333_000, "c": 333_000},
        ),
        (1, [("a", "50.0", True), ("b", "50.0", False)], {"a": 1, "b": 0}),
        (0, [("a", "99.9", True), ("b", "0.1", False)], {"a": 0, "b": 0}),
    ],
)
def test_the_parts_are_floored_and_add_up_with_the_remainder_to_the_representative(
    amount, shares, parts
):
    assert rules.split_by_shares(amount, shares) == parts
    assert sum(parts.values()) == amount


@pytest.mark.parametrize(
    "shares",
    [
        [("a", "60.0", True), ("b", "39.9", False)],  # 99.9
        [("a", "60.0", True), ("b", "40.1", False)],  # 100.1
        [("a", "60.0", False), ("b", "40.0", False)],  # no 代表者
    ],
)
def test_shares_not_adding_up_or_without_representative_are_refused(shares):
    with pytest.raises(ValueError):
        rules.split_by_shares(1_000, shares)


@pytest.fixture
def split_jv(db):
    leader, partner = make_company(name="株式会社デモ建設"), make_company(name="津久見建設株式会社")
    clerk = make_member(leader)
    jv = JointVenture.objects.create(
        name="津久見・デモ特定建設工事共同企業体",
        kind="specific",
        representative=leader,
        advance_deposit=JointVenture.AdvanceDeposit.SPLIT,
        created_by=clerk,
    )
    JointVentureMember.objects.create(joint_venture=jv, company=leader, share=Decimal("60.0"))
    JointVentureMember.objects.create(
        joint_venture=jv, company=partner, share=Decimal("40.0"), position=1
    )
    guarantee = make_registered_guarantee(work=make_work(leader, joint_venture=jv))
    return {"jv": jv, "leader": leader, "partner": partner, "clerk": clerk, "guarantee": guarantee}


def test_each_member_gets_an_account_for_its_share(split_jv):
    g, leader, partner = split_jv["guarantee"], split_jv["leader"], split_jv["partner"]
    mine = make_advance_account(g, member=leader)
    theirs = make_advance_account(g, member=partner, account_number="2345678")
    assert selectors.account_terms(mine).advance_amount == 2_940_000
    assert selectors.account_terms(theirs).advance_amount == 1_960_000
    # The plan of each account must add up to its share, not to the whole 前払金.
    assert services.plan_context(theirs)["amounts"][Funding.ADVANCE] == 1_960_000
    assert mine.company == theirs.company == leader  # the 代表者 owns and acts (0023)


def test_a_split_jv_must_name_the_member_and_once_each(split_jv):
    g, partner = split_jv["guarantee"], split_jv["partner"]
    with pytest.raises(ValidationError) as refused:
        make_advance_account(g)
    assert refused.value.message_dict["member"] == [rules.MSG_JV_MEMBER_REQUIRED]
    make_advance_account(g, member=partner)
    with pytest.raises(ValidationError) as again:
        make_advance_account(g, member=partner, account_number="3456789")
    assert again.value.message_dict["member"] == [rules.MSG_JV_MEMBER_TAKEN]
    with pytest.raises(ValidationError) as stranger:
        make_advance_account(g, member=make_company(), account_number="4567890")
    assert stranger.value.message_dict["member"] == [rules.MSG_JV_MEMBER_REQUIRED]


def test_one_account_jvs_and_single_companies_take_no_member(split_jv):
    jv = split_jv["jv"]
    jv.advance_deposit = JointVenture.AdvanceDeposit.REPRESENTATIVE
    jv.save()
    with pytest.raises(ValidationError) as refused:
        make_advance_account(split_jv["guarantee"], member=split_jv["partner"])
    assert refused.value.message_dict["member"] == [rules.MSG_JV_MEMBER_NOT_SPLIT]
    whole = make_advance_account(split_jv["guarantee"])
    assert selectors.account_terms(whole).advance_amount == 4_900_000


def test_the_pages_register_one_account_per_member(client, split_jv):
    g, leader, partner = split_jv["guarantee"], split_jv["leader"], split_jv["partner"]
    log_in(client, split_jv["clerk"])
    url = reverse("advances:register", args=[g.number])
    page = client.get(url).content.decode()
    assert "出資比率で分割して預託する共同企業体です" in page
    assert "株式会社デモ建設（60.0%）: 金2,940,000円" in page
    assert "津久見建設株式会社（40.0%）: 金1,960,000円" in page
    assert 'name="member"' in page
    make_advance_account(g, member=leader)
    page = client.get(url).content.decode()
    assert f'<option value="{partner.pk}">' in page
    assert f'<option value="{leader.pk}">' not in page  # registered already
    index = client.get(reverse("advances:index")).content.decode()
    assert "構成員の口座を登録する" in index
    account = make_advance_account(g, member=partner, account_number="2345678")
    assert client.get(url).status_code == 302  # every member has its account
    index = client.get(reverse("advances:index")).content.decode()
    assert "構成員の口座を登録する" not in index
    assert "津久見建設株式会社 2345678" in index
    detail = client.get(reverse("advances:account", args=[account.pk])).content.decode()
    assert "金1,960,000円（共同企業体の構成員 津久見建設株式会社 の出資比率分）" in detail
