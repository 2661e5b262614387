"""GET /guarantees: the office inbox's rows (those opened with the key marked), filtered
(status, kind, updated_since, 工事番号), oldest update first, in pages behind a signed cursor
that only this office can use; the query count does not grow with the page."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api import selectors
from api.problems import MSG_BAD_CURSOR
from certificates import selectors as registry_selectors
from certificates import services as registry
from certificates.models import Submission
from esure.choices import GuaranteeKind
from tests.api.conftest import api_client, make_token
from tests.conftest import NOW, WORK_DATES, make_company, make_registered_guarantee, make_work

URL = "/api/v1/guarantees"


def delivered(
    office, *, at=None, channel=Submission.Channel.INBOX, kind=GuaranteeKind.ADVANCE, **work_fields
):
    """A registered guarantee (no PDFs) whose v1 reached `office` at `at` (default now)."""
    work = make_work(make_company(), orderer=office.orderer, **{**WORK_DATES, **work_fields})
    guarantee = make_registered_guarantee(work=work, kind=kind)
    registry.deliver(
        certificate=guarantee.certificates.get(), office=office, channel=channel, at=at
    )
    return guarantee


def listed(secret, **params):
    response = api_client(secret).get(URL, params)
    body = json.loads(response.content)
    return response, body


def numbers(body):
    return [item["number"] for item in body["items"]]


def test_the_list_holds_the_office_inbox(office, token, tsukumi):
    _, secret = token
    mine = delivered(office)
    handed = delivered(office, channel=Submission.Channel.HANDOVER)
    opened = delivered(office, channel=Submission.Channel.KEY)  # an office user typed the key
    other = tsukumi.offices.exclude(pk=office.pk).first()
    delivered(other)  # another office of the same orderer
    response, body = listed(secret)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert sorted(numbers(body)) == sorted([mine.number, handed.number, opened.number])
    # The same rows as the office's inbox in D-Sure: one selector for both (decision 0041).
    inbox = registry_selectors.office_list(office).values_list("number", flat=True)
    assert sorted(numbers(body)) == sorted(inbox)
    assert body["next"] is None and body["next_cursor"] is None
    item = next(i for i in body["items"] if i["number"] == mine.number)
    assert item["number_display"] == mine.number_display
    assert (item["kind"], item["status"], item["status_label"]) == ("advance", "valid", "有効")
    assert item["work_number"] == mine.work.work_number
    assert item["amount"] == mine.certificates.get().amount
    assert item["answer"] == {"status": "delivered", "version": 1}
    assert item["current_version"] == 1
    required = {i["number"]: i["key_required"] for i in body["items"]}
    assert required == {mine.number: False, handed.number: False, opened.number: True}


def test_a_guarantee_opened_with_the_key_is_listed_but_read_only_with_the_key(office, token):
    _, secret = token
    opened = delivered(office, channel=Submission.Channel.KEY)
    assert listed(secret)[1]["items"][0]["key_required"] is True
    # As in D-Sure: its content needs the key (POST /verify); by number alone it is a 404.
    detail = api_client(secret).get(f"{URL}/{opened.number}")
    assert detail.status_code == 404


def test_another_orderers_token_lists_nothing_of_ours(office, other_office_token):
    delivered(office)
    _, secret = other_office_token
    response, body = listed(secret)
    assert response.status_code == 200 and body["items"] == []


def test_filters_status_and_kind(office, token):
    _, secret = token
    advance = delivered(office)
    contract = delivered(office, kind=GuaranteeKind.CONTRACT)
    cancelled = delivered(office)
    type(cancelled).objects.filter(pk=cancelled.pk).update(cancelled_at=timezone.now())
    assert numbers(listed(secret, kind="contract")[1]) == [contract.number]
    assert sorted(numbers(listed(secret, status="valid")[1])) == sorted(
        [advance.number, contract.number]
    )
    assert numbers(listed(secret, status="cancelled")[1]) == [cancelled.number]
    assert listed(secret, status="expired")[1]["items"] == []
    response, body = listed(secret, status="void")
    assert response.status_code == 422 and body["errors"]


def test_filters_completed_as_the_registry_defines_it(office, token, staff, frozen):
    """完了 (decision 0026): one status table for the pages and the API."""
    from api.endpoints import StatusCode
    from certificates.selectors import Status

    assert set(StatusCode.__args__) == set(Status.CODES.values())
    _, secret = token
    running = delivered(office)
    completed = delivered(office)
    before = listed(secret)[1]["items"]
    frozen.shift(datetime.timedelta(hours=1))
    registry.record_completion(
        guarantee=completed, completed_on=NOW.date(), by=staff, note="完成通知"
    )
    assert numbers(listed(secret, status="completed")[1]) == [completed.number]
    assert numbers(listed(secret, status="valid")[1]) == [running.number]
    [item] = [i for i in listed(secret)[1]["items"] if i["number"] == completed.number]
    assert (item["status"], item["status_label"]) == ("completed", "完了")
    [was] = [i for i in before if i["number"] == completed.number]
    assert item["updated_at"] > was["updated_at"]  # a completion is an update


def test_work_number_matches_as_typed_in_full_width_with_any_dash(office, token):
    _, secret = token
    wanted = delivered(office, work_number="津土第R8-12号")
    delivered(office, work_number="津土第R8-123号")
    for typed in ("津土第R8-12号", "津土第Ｒ８－１２号", "津土第r8 12号", "津土第R8ー12号"):
        assert numbers(listed(secret, work_number=typed)[1]) == [wanted.number], typed
    assert listed(secret, work_number="津土第R8-1号")[1]["items"] == []


def test_updated_since_counts_issue_delivery_answer_and_cancellation(office, token, frozen):
    _, secret = token
    hour = datetime.timedelta(hours=1)
    old = delivered(office)
    answered = delivered(office)
    cancelled = delivered(office)
    frozen.shift(hour)
    since = timezone.now()
    frozen.shift(hour)
    fresh = delivered(office)
    user = make_office_user_of(office)
    registry.receive(certificate=answered.certificates.get(), office=office, by=user)
    type(cancelled).objects.filter(pk=cancelled.pk).update(cancelled_at=timezone.now())
    body = listed(secret, updated_since=since.isoformat())[1]
    assert sorted(numbers(body)) == sorted([fresh.number, answered.number, cancelled.number])
    assert old.number not in numbers(body)
    # The boundary: updated exactly at `updated_since` is in; a microsecond later is out.
    at = datetime.datetime.fromisoformat(body["items"][0]["updated_at"])
    assert body["items"][0]["number"] in numbers(listed(secret, updated_since=at.isoformat())[1])
    later = (at + datetime.timedelta(microseconds=1)).isoformat()
    assert body["items"][0]["number"] not in numbers(listed(secret, updated_since=later)[1])


def test_updated_since_without_an_offset_is_japan_time(office, token):
    _, secret = token
    g = delivered(office, at=NOW)  # 10:00 JST = 01:00 UTC
    assert numbers(listed(secret, updated_since="2026-11-30T10:00:00")[1]) == [g.number]
    assert listed(secret, updated_since="2026-11-30T10:00:01")[1]["items"] == []
    assert numbers(listed(secret, updated_since="2026-11-30T01:00:00Z")[1]) == [g.number]


def make_office_user_of(office):
    from tests.conftest import make_office_user

    return make_office_user(office)


def test_pages_follow_the_cursor_in_a_stable_order(office, token, frozen):
    _, secret = token
    made = []
    for _ in range(5):
        made.append(delivered(office).number)
        frozen.shift(datetime.timedelta(seconds=1))
    seen, url, pages = [], f"{URL}?limit=2&kind=advance", 0
    while url:
        response = api_client(secret).get(url)
        assert response.status_code == 200
        body = json.loads(response.content)
        assert len(body["items"]) <= 2
        seen += numbers(body)
        url, pages = body["next"], pages + 1
        if url:
            assert "kind=advance" in url and "limit=2" in url
    assert seen == made and pages == 3


def test_a_row_updated_while_paging_is_seen_again_not_skipped(office, token, frozen):
    _, secret = token
    first, second, third = (delivered(office) for _ in range(3))
    frozen.shift(datetime.timedelta(seconds=1))
    page = listed(secret, limit=2)[1]
    assert numbers(page) == [first.number, second.number]
    user = make_office_user_of(office)
    registry.receive(certificate=first.certificates.get(), office=office, by=user)
    rest = listed(secret, limit=2, cursor=page["next_cursor"])[1]
    assert numbers(rest) == [third.number, first.number]


def test_limit_boundaries(office, token):
    _, secret = token
    delivered(office)
    for limit, status in ((0, 422), (1, 200), (200, 200), (201, 422)):
        assert listed(secret, limit=limit)[0].status_code == status, limit


def test_a_bad_or_foreign_cursor_is_a_422_problem(office, token, other_office_token):
    _, secret = token
    delivered(office)
    delivered(office)
    cursor = listed(secret, limit=1)[1]["next_cursor"]
    assert cursor
    _, foreign = other_office_token
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    for client_secret, bad in ((secret, tampered), (secret, "garbage"), (foreign, cursor)):
        response, body = listed(client_secret, cursor=bad)
        assert response.status_code == 422
        assert response["Content-Type"].startswith("application/problem+json")
        assert body["detail"] == MSG_BAD_CURSOR


def test_a_cursor_made_for_another_office_is_refused_even_if_signed(office, tsukumi, token):
    """Signed for the other office: the scope check refuses it (not the signature)."""
    _, secret = token
    other = tsukumi.offices.exclude(pk=office.pk).first()
    foreign = delivered(other)
    foreign.updated_at = timezone.now()
    cursor = selectors.encode_cursor(other, foreign)
    assert listed(secret, cursor=cursor)[0].status_code == 422


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_a_wrong_method_is_a_405_problem(token, method):
    _, secret = token
    response = getattr(api_client(secret), method)(URL)
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/problem+json")


def test_without_a_token_the_list_is_401(db):
    response = api_client().get(URL)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")


def test_the_query_count_does_not_grow_with_the_page(office, frozen):
    _, secret = make_token(office)
    delivered(office, work_number="津土第R8-7号")
    api_client(secret).get(URL)  # stamp last_used_at: not part of what is measured

    def count(**params):
        with CaptureQueriesContext(connection) as queries:
            assert api_client(secret).get(URL, params).status_code == 200
        return len(queries)

    one = count(), count(work_number="津土第R8-7号")
    for _ in range(6):
        delivered(office, work_number="津土第R8-7号")
    assert (count(), count(work_number="津土第R8-7号")) == one
