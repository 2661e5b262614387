"""The rows of a company, of its 共同企業体 and of others, for the tests of esure's queries."""

from decimal import Decimal

import pytest

from accounts.models import JointVenture, JointVentureMember
from tests.conftest import make_company, make_registered_guarantee, make_user, make_work


@pytest.fixture
def member_and_rows(db):
    member, leader, stranger = make_company(), make_company(), make_company()
    own = make_registered_guarantee(member)
    jv = JointVenture.objects.create(
        name="津久見・臼杵特定建設工事共同企業体",
        kind="specific",
        representative=leader,
        created_by=make_user(),
    )
    JointVentureMember.objects.create(joint_venture=jv, company=leader, share=Decimal("60.0"))
    JointVentureMember.objects.create(
        joint_venture=jv, company=member, share=Decimal("40.0"), position=1
    )
    of_jv = make_registered_guarantee(leader, work=make_work(leader, joint_venture=jv))
    leaders_own = make_registered_guarantee(leader)
    strangers = make_registered_guarantee(stranger)
    return member, own, of_jv, leaders_own, strangers
