"""The company's members are mailed when staff approve or decline its 契約保証予約: the fee and
the last day, or the reason; never a link that works without logging in; nothing to other
companies (a JV's other members do not see the 代表者's reservations, decision 0034)."""

import pytest
from django.core import mail

from reservations import services
from tests.conftest import make_member, make_reservation

pytestmark = pytest.mark.usefixtures("before_the_bid")


@pytest.fixture
def reservation(clerk):
    return make_reservation(company=clerk.membership.company, status="submitted", by=clerk)


def test_approval_mails_the_fee_the_last_day_and_where_to_download(
    reservation, clerk, staff, django_capture_on_commit_callbacks
):
    colleague = make_member(clerk.membership.company)
    make_member()  # another company's member hears nothing

    with django_capture_on_commit_callbacks(execute=True):
        services.approve_reservation(reservation=reservation, by=staff, fee=30_000)

    [message] = mail.outbox
    assert sorted(message.to) == sorted([clerk.email, colleague.email])
    assert message.subject == "[esure] 契約保証予約を承認しました（市道堅徳線道路改良工事（入札））"
    assert "予約手数料: 金30,000円" in message.body
    assert "有効期限: 令和7年4月20日まで" in message.body
    assert "契約保証予約証書は書面でお届けします" in message.body
    assert f"予約番号: Y-{reservation.pk:06d}" in message.body
    assert f"/reservations/{reservation.pk}/" in message.body


def test_a_decline_mails_the_reason(reservation, clerk, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.decline_reservation(reservation=reservation, by=staff, reason="与信枠の超過")

    [message] = mail.outbox
    assert message.to == [clerk.email]
    assert "お引き受けできない" in message.body and "与信枠の超過" in message.body


def test_a_refused_move_mails_nothing(clerk, staff, django_capture_on_commit_callbacks):
    draft = make_reservation(company=clerk.membership.company, by=clerk)  # not submitted
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(services.TransitionError):
        services.approve_reservation(reservation=draft, by=staff, fee=30_000)
    assert mail.outbox == []
