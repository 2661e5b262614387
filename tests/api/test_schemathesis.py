"""Property-based tests of the whole API schema against the live test server
(schemathesis): for every operation, generated requests — with a valid token, for a
guarantee that reached the office and for anything else — get no 5xx, and every answer
matches the schema (status documented, content type, body). Bounded examples: lean."""

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.api.conftest import deliver, make_token
from tests.conftest import WORK_DATES, advance_office, make_company, make_concluded, make_member

EXAMPLES = 10

pytestmark = pytest.mark.django_db(transaction=True)

# positive_data_acceptance (a request the schema allows is not refused with 422) holds for
# every operation but two, where a string of the schema's shape may still be refused:
# - /verify: a number whose Damm check digit fails, or a key that cannot be one, gets
#   D-Sure's typing hint (422); no JSON Schema states a check digit.
# - GET /guarantees: `cursor` is opaque and signed; a string esure did not sign is a 422.
NOT_ACCEPTANCE_CHECKED = {"POST /api/v1/verify", "GET /api/v1/guarantees"}
# 受領 and 返戻 change state: the real guarantee's first answer is 200, the next one 409.
ANSWERS = ("/receipt", "/return")


def property_of(operation, base_url, token):
    """The property test of one operation: generated requests keep to the schema."""
    excluded = [positive_data_acceptance] if operation.label in NOT_ACCEPTANCE_CHECKED else []
    fresh_key = operation.path.endswith(ANSWERS)

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        headers = dict(token)
        if fresh_key:
            # A fresh key per request: the same generated key with another generated body is
            # rightly refused (422), which is not what this property is about.
            headers["Idempotency-Key"] = str(uuid.uuid4())
        case.call_and_validate(base_url=base_url, headers=headers, excluded_checks=excluded)

    return run


@pytest.fixture
def world(tsukumi):
    office = advance_office(tsukumi)
    clerk = make_member(make_company())
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    deliver(guarantee, office, clerk)
    _, secret = make_token(office)
    return guarantee, secret


def test_every_operation_keeps_to_its_schema(live_server, world):
    guarantee, secret = world
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    token = {"Authorization": f"Bearer {secret}"}
    ran, answered = [], []
    for result in schema.get_all_operations():
        operation = result.ok()
        ran.append(operation.label)
        property_of(operation, live_server.url, token)()
        if "{number}" in operation.path:  # and the real guarantee, which chance never names
            params = {"number": guarantee.number, **({"n": 1} if "{n}" in operation.path else {})}
            headers, extra = dict(token), {}
            if operation.path.endswith(ANSWERS):
                headers["Idempotency-Key"] = str(uuid.uuid4())
                reason = {"reason": "工事番号の誤り"} if operation.path.endswith("/return") else {}
                extra = {"body": reason, "media_type": "application/json"}
            case = operation.Case(path_parameters=params, **extra)
            response = case.call_and_validate(base_url=live_server.url, headers=headers)
            if operation.path.endswith(ANSWERS):
                answered.append(response.status_code)
            else:
                assert response.status_code == 200, operation.label
    assert sorted(answered) == [200, 409]
    assert len(ran) == 7, ran
