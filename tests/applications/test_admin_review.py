"""Staff review in Django admin: the queue, the read-only application page and the three
decisions (差戻し, 謝絶, 承認) posted to the review URL."""

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications import rules, services
from applications.models import Application, StatusChange
from esure.choices import GuaranteeKind
from tests.conftest import (
    MAX_ADVANCE,
    MIN_CONTRACT,
    make_application,
    make_applications_bulk,
    make_orderer,
    make_user,
    make_work,
)

S = Application.Status
CHANGELIST = reverse("admin:applications_application_changelist")
REASON = "前払金の保証金額が契約書の前払金額と一致しません。"
# Measured for one page of the queue (100 rows): session, user, TOTP check (staff MFA
# middleware), the orderers of the filter, the filtered and the total count, the page with
# company/work/orderer, its items (one prefetch), the membership (base template), and the
# two queries of the 提出日時 date hierarchy. Independent of the number of applications.
QUERY_BUDGET = 11


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def change_url(application):
    return reverse("admin:applications_application_change", args=[application.pk])


def review_url(application):
    return reverse("admin:applications_application_review", args=[application.pk])


def page_messages(response):
    return [str(m) for m in response.context["messages"]]


def listed(response):
    return {a.pk for a in response.context["cl"].result_list}


# --- The queue ------------------------------------------------------------------------------


@pytest.fixture
def queue(clerk, other_clerk, tsukumi):
    usuki = make_orderer("臼杵市", electronic_terms_name="")
    acme = clerk.membership.company
    return {
        "advance": make_application(
            work=make_work(acme, name="市道堅徳線道路改良工事", work_number="津土第R6-101号"),
            status=S.SUBMITTED,
        ),
        "both": make_application(
            work=make_work(acme, name="津久見港護岸補修工事", work_number="津港第R6-7号"),
            status=S.SUBMITTED,
            items={GuaranteeKind.ADVANCE: MAX_ADVANCE, GuaranteeKind.CONTRACT: MIN_CONTRACT},
        ),
        "usuki": make_application(
            work=make_work(
                other_clerk.membership.company,
                orderer=usuki,
                name="臼杵川河川改修工事",
                work_number="臼建第55号",
            ),
            status=S.SUBMITTED,
        ),
        "draft": make_application(work=make_work(acme, name="下書きの工事")),
        "usuki_orderer": usuki,
    }


def test_queue_lists_applications_with_their_figures(staff_client, queue):
    response = staff_client.get(CHANGELIST)

    assert response.status_code == 200
    page = response.content.decode()
    assert "市道堅徳線道路改良工事" in page
    assert "ACME建設株式会社" in page
    assert "前払金保証 4,900,000円 / 契約保証 1,234,500円" in page
    assert listed(response) == {queue[k].pk for k in ("advance", "both", "usuki", "draft")}


def test_queue_filters_by_status(staff_client, queue):
    response = staff_client.get(CHANGELIST, {"status__exact": S.DRAFT})

    assert listed(response) == {queue["draft"].pk}


def test_queue_filters_by_orderer(staff_client, queue):
    response = staff_client.get(CHANGELIST, {"work__orderer__id__exact": queue["usuki_orderer"].pk})

    assert listed(response) == {queue["usuki"].pk}


def test_queue_filters_by_kind(staff_client, queue):
    response = staff_client.get(CHANGELIST, {"items__kind__exact": GuaranteeKind.CONTRACT})

    assert listed(response) == {queue["both"].pk}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("他社建設", {"usuki"}),  # company name
        ("護岸補修", {"both"}),  # 工事名
        ("津土第R6-101号", {"advance"}),  # 工事番号
    ],
)
def test_queue_search(staff_client, queue, query, expected):
    response = staff_client.get(CHANGELIST, {"q": query})

    assert listed(response) == {queue[k].pk for k in expected}


def test_queue_query_count_is_the_same_for_150_and_1000(staff_client, clerk, tsukumi):
    company = clerk.membership.company
    counts = []
    for batch in (150, 850):
        make_applications_bulk(company, batch, orderer=tsukumi, by=clerk, statuses=("submitted",))
        with CaptureQueriesContext(connection) as queries:
            response = staff_client.get(CHANGELIST, {"status__exact": S.SUBMITTED})
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) == 100  # one page
        counts.append(len(queries))

    assert response.context["cl"].result_count == 1000
    assert counts[0] == counts[1] <= QUERY_BUDGET


def test_queue_stays_within_the_query_budget(
    staff_client, clerk, tsukumi, django_assert_max_num_queries
):
    make_applications_bulk(clerk.membership.company, 1000, orderer=tsukumi, by=clerk)

    with django_assert_max_num_queries(QUERY_BUDGET):
        staff_client.get(CHANGELIST)


# --- The application page -------------------------------------------------------------------


@pytest.mark.usefixtures("during_the_work")
def test_submitted_application_page_is_read_only_with_the_review_box(staff_client, queue):
    response = staff_client.get(change_url(queue["both"]))

    assert response.status_code == 200
    page = response.content.decode()
    assert '<div class="readonly">手続き中</div>' in page
    assert 'name="status"' not in page
    assert 'name="_save"' not in page
    assert 'name="_continue"' not in page
    assert "<h2>審査</h2>" in page
    assert f'action="{review_url(queue["both"])}"' in page
    assert "すべての規則を満たしています。" in page
    assert "津久見港護岸補修工事" in page


@pytest.mark.parametrize("status", [S.DRAFT, S.RETURNED, S.APPROVED, S.DECLINED, S.WITHDRAWN])
def test_review_box_only_for_submitted_applications(staff_client, clerk, tsukumi, status):
    application = make_application(company=clerk.membership.company, status=status)

    page = staff_client.get(change_url(application)).content.decode()

    assert f'<div class="readonly">{S(status).label}</div>' in page
    assert "<h2>審査</h2>" not in page
    assert review_url(application) not in page


def test_rule_check_shows_what_is_wrong(staff_client, clerk, tsukumi):
    application = make_application(
        company=clerk.membership.company,
        status=S.SUBMITTED,
        items={GuaranteeKind.ADVANCE: 5_000_000},
    )

    page = staff_client.get(change_url(application)).content.decode()

    assert rules.MSG_ADVANCE_OVER_MAX.format(ratio=40, max="4,900,000円") in page


# --- Decisions ------------------------------------------------------------------------------


@pytest.fixture
def submitted(clerk, tsukumi):
    return make_application(company=clerk.membership.company, status=S.SUBMITTED)


def review(client, application, **data):
    return client.post(review_url(application), data, follow=True)


def test_return_with_a_reason(
    staff_client, staff, clerk, submitted, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = review(staff_client, submitted, decision="return", reason=REASON)

    assert response.redirect_chain == [(change_url(submitted), 302)]
    assert f"申込番号 {submitted.pk} を差し戻しました。" in page_messages(response)
    submitted.refresh_from_db()
    assert submitted.status == S.RETURNED
    change = StatusChange.objects.get(application=submitted)
    assert (change.new_status, change.by, change.note) == (S.RETURNED, staff, REASON)
    [message] = mail.outbox
    assert message.to == [clerk.email]
    assert REASON in message.body


@pytest.mark.parametrize("decision", ["return", "decline"])
def test_return_or_decline_without_a_reason_is_refused(
    staff_client, submitted, decision, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = review(staff_client, submitted, decision=decision, reason="  ")

    assert response.redirect_chain == [(change_url(submitted), 302)]
    assert services.MSG_REASON_REQUIRED in page_messages(response)
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED
    assert not StatusChange.objects.exists()
    assert mail.outbox == []
    assert "<h2>審査</h2>" in response.content.decode()  # still to review


def test_decline_with_a_reason(staff_client, submitted, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = review(staff_client, submitted, decision="decline", reason=REASON)

    assert f"申込番号 {submitted.pk} を謝絶しました。" in page_messages(response)
    submitted.refresh_from_db()
    assert submitted.status == S.DECLINED
    assert StatusChange.objects.get(application=submitted).note == REASON
    [message] = mail.outbox
    assert "謝絶" in message.subject
    assert REASON in message.body


@pytest.mark.usefixtures("during_the_work")
def test_approve(staff_client, staff, submitted, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = review(staff_client, submitted, decision="approve", reason="")

    assert f"申込番号 {submitted.pk} を承認しました（保証料の入金待ち）。" in page_messages(
        response
    )
    submitted.refresh_from_db()
    assert submitted.status == S.APPROVED
    change = StatusChange.objects.get(application=submitted)
    assert (change.old_status, change.new_status, change.by) == (S.SUBMITTED, S.APPROVED, staff)
    [message] = mail.outbox
    assert "承認しました" in message.subject
    assert "<h2>審査</h2>" not in response.content.decode()


@pytest.mark.usefixtures("during_the_work")
def test_approve_refused_when_a_rule_is_broken(staff_client, clerk, tsukumi):
    application = make_application(
        company=clerk.membership.company,
        status=S.SUBMITTED,
        items={GuaranteeKind.ADVANCE: 5_000_000},
    )

    response = review(staff_client, application, decision="approve")

    message = rules.MSG_ADVANCE_OVER_MAX.format(ratio=40, max="4,900,000円")
    assert message in page_messages(response)
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


@pytest.mark.usefixtures("during_the_work")
def test_a_second_decision_is_refused(staff_client, submitted):
    review(staff_client, submitted, decision="approve")

    response = review(staff_client, submitted, decision="decline", reason=REASON)

    message = services.MSG_TRANSITION.format(old=S.APPROVED.label, new=S.DECLINED.label)
    assert message in page_messages(response)
    submitted.refresh_from_db()
    assert submitted.status == S.APPROVED
    assert StatusChange.objects.filter(application=submitted).count() == 1


def test_an_unknown_decision_is_refused(staff_client, submitted):
    response = review(staff_client, submitted, decision="conclude")

    assert "判断を選んでください。" in page_messages(response)
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED


def test_review_url_is_post_only(staff_client, submitted):
    assert staff_client.get(review_url(submitted)).status_code == 405


def test_a_clerk_cannot_reach_the_review_url(clerk_client, submitted):
    response = clerk_client.post(review_url(submitted), {"decision": "approve"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED
    assert not StatusChange.objects.exists()


def test_staff_without_the_change_permission_cannot_decide(client, submitted):
    viewer = make_user(is_staff=True)
    Authenticator.objects.create(
        user=viewer, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    client.force_login(viewer)

    response = client.post(review_url(submitted), {"decision": "approve"})

    assert response.status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED


def test_the_clerk_reads_the_staff_reason_after_a_return(
    staff_client, client_for, clerk, submitted
):
    review(staff_client, submitted, decision="return", reason=REASON)

    page = client_for(clerk).get(reverse("applications:detail", args=[submitted.pk]))

    assert REASON in page.content.decode()
