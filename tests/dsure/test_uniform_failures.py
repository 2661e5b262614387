"""One answer for every failure that could tell an attacker something (DESIGN.md §4 D-Sure,
docs/decisions/0004): an unknown number, a wrong key and a re-issued (old) key give the same
page after the same work, each logged once (never the key). A number whose check digit fails
or a key that is not 16 symbols gets a typing hint instead, before any lookup, uncounted."""

import re
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from certificates import keys
from certificates import services as registry
from certificates.numbering import format_number, make_number
from dsure import services
from dsure.models import AccessLog
from esure.choices import GuaranteeKind
from tests.conftest import dsure_lookup

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
# A wrong key that is well-formed (16 Crockford symbols), printed as on the notice.
WRONG_KEY = "ABCD-EFGH-JKMN-PQRS"
# A number of the right shape whose check digit holds, never issued in these tests.
UNKNOWN = make_number(8, GuaranteeKind.ADVANCE, 9_999_999)


def wrong_check_digit(number):
    """The number with its check digit replaced by another: Damm says no."""
    last = (int(number[-1]) + 1) % 10
    return number[:-1] + str(last)


def page_of(response, *typed):
    """The page as the browser reads it, with the CSRF token and the echo of what was typed
    taken out (they differ from request to request by design)."""
    html = CSRF_RE.sub('name="csrfmiddlewaretoken" value=""', response.content.decode())
    for i, text in enumerate(typed):
        html = html.replace(text, f"[typed {i}]")
    return html


def test_unknown_number_wrong_key_and_old_key_look_the_same(guarantee, staff):
    old_key = registry.current_key(guarantee)
    registry.reissue_key(guarantee=guarantee, by=staff, reason="お知らせの誤送信")
    number = guarantee.number_display
    unknown = format_number(UNKNOWN)
    assert WRONG_KEY.replace("-", "") != keys.derive_key(
        guarantee.number, 2, salt=guarantee.key_salt
    )

    responses = {
        "unknown number": (dsure_lookup(Client(), unknown, WRONG_KEY), unknown, WRONG_KEY),
        "wrong key": (dsure_lookup(Client(), number, WRONG_KEY), number, WRONG_KEY),
        "old key": (dsure_lookup(Client(), number, old_key), number, old_key),
    }

    statuses = {name: r.status_code for name, (r, *_) in responses.items()}
    assert set(statuses.values()) == {200}, statuses
    pages = {name: page_of(r, *typed) for name, (r, *typed) in responses.items()}
    assert pages["unknown number"] == pages["wrong key"] == pages["old key"]
    assert services.MSG_NO_MATCH in pages["wrong key"]
    for response, _, key in responses.values():
        # The typed key is not echoed into the page (the number is, to correct a typo).
        assert key not in response.content.decode()
        assert "Location" not in response
        assert "sessionid" not in response.cookies  # nothing granted, nothing stored


def test_each_answer_is_said_once(guarantee):
    """One message, once: the page's summary box (role="alert") — not again above the fields,
    which a screen reader would read out twice."""
    cases = {
        services.MSG_NO_MATCH: (guarantee.number_display, WRONG_KEY),
        services.MSG_NUMBER_FORMAT: (wrong_check_digit(guarantee.number), WRONG_KEY),
        services.MSG_KEY_FORMAT: (guarantee.number_display, "ABCD"),
    }
    counts = {
        message[:12]: dsure_lookup(Client(), *typed).content.decode().count(message)
        for message, typed in cases.items()
    }
    assert counts == {message[:12]: 1 for message in cases}


def test_a_number_whose_check_digit_fails_gets_a_hint_and_is_not_counted(guarantee):
    key = registry.current_key(guarantee)
    typo = wrong_check_digit(guarantee.number)

    response = dsure_lookup(Client(), format_number(typo), key)

    assert response.status_code == 200
    assert services.MSG_NUMBER_FORMAT in response.content.decode()
    assert services.MSG_NO_MATCH not in response.content.decode()
    assert not AccessLog.objects.exists()


def test_a_number_of_the_wrong_length_gets_the_same_hint(guarantee):
    key = registry.current_key(guarantee)
    for typo in (guarantee.number[:-1], guarantee.number + "0", "", "保証契約番号"):
        response = dsure_lookup(Client(), typo, key)
        assert response.status_code == 200
        if typo:  # an empty field is a form error ("required"), before the service
            assert services.MSG_NUMBER_FORMAT in response.content.decode()
    assert not AccessLog.objects.exists()


def test_a_malformed_key_gets_a_hint_and_is_not_counted(guarantee):
    key = registry.current_key(guarantee).replace("-", "")
    for typo in (key[:-1], key + "0", key[:15] + "U", key[:15] + "!", "認証キー"):
        response = dsure_lookup(Client(), guarantee.number_display, typo)
        assert response.status_code == 200
        html = response.content.decode()
        assert services.MSG_KEY_FORMAT in html, typo
        assert services.MSG_NO_MATCH not in html
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("case", ["unknown number", "wrong key", "old key"])
def test_every_failure_is_one_insert_without_the_key(guarantee, staff, case):
    old_key = registry.current_key(guarantee)
    registry.reissue_key(guarantee=guarantee, by=staff)
    number, key = {
        "unknown number": (format_number(UNKNOWN), WRONG_KEY),
        "wrong key": (guarantee.number_display, WRONG_KEY),
        "old key": (guarantee.number_display, old_key),
    }[case]

    with CaptureQueriesContext(connection) as queries:
        response = dsure_lookup(Client(), number, key)

    assert services.MSG_NO_MATCH in response.content.decode()
    inserts = [q["sql"] for q in queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1 and 'INTO "dsure_accesslog"' in inserts[0], inserts
    [row] = AccessLog.objects.all()
    assert row.outcome == AccessLog.Outcome.FAILURE
    assert row.number == number.replace("-", "")
    assert row.guarantee is None
    plain = key.replace("-", "")
    for sql in (q["sql"] for q in queries):
        assert plain not in sql.upper().replace("-", "")
    values = [str(v) for v in AccessLog.objects.values_list().get()]
    assert not any(plain in v.upper().replace("-", "") for v in values)


def test_an_unknown_number_costs_the_same_work_as_a_wrong_key(guarantee):
    cases = {
        "unknown number": format_number(UNKNOWN),
        "wrong key": guarantee.number_display,
    }
    work = {}
    for name, number in cases.items():
        with (
            mock.patch("certificates.keys.derive_key", wraps=keys.derive_key) as derive,
            CaptureQueriesContext(connection) as queries,
        ):
            response = dsure_lookup(Client(), number, WRONG_KEY)
        assert services.MSG_NO_MATCH in response.content.decode()
        work[name] = (derive.call_count, len(queries))
    assert work["unknown number"] == work["wrong key"], work
    assert work["wrong key"][0] == 1
