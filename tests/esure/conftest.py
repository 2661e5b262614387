"""The rows of a company, of its 共同企業体 and of others, for the tests of esure's queries."""

import pytest

from tests.conftest import (
    join_a_joint_venture,
    make_company,
    make_registered_guarantee,
    make_work,
)


@pytest.fixture
def member_and_rows(db):
    member, stranger = make_company(), make_company()
    own = make_registered_guarantee(member)
    jv = join_a_joint_venture(member)
    leader = jv.representative
    of_jv = make_registered_guarantee(leader, work=make_work(leader, joint_venture=jv))
    leaders_own = make_registered_guarantee(leader)
    strangers = make_registered_guarantee(stranger)
    return member, own, of_jv, leaders_own, strangers
