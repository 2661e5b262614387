"""`manage.py load_demo_api`: the demo token `make run` prints opens the demo guarantee;
loaded once, never outside DEBUG."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from api.models import ApiToken
from tests.api.conftest import api_client


def load():
    out = io.StringIO()
    call_command("load_demo", stdout=io.StringIO())
    call_command("load_demo_api", stdout=out)
    return out.getvalue()


def test_the_printed_token_opens_the_demo_guarantee(settings, db):
    settings.ESURE_DEMO_ALLOWED = True
    printed = load()
    token = printed.split("TOKEN=")[1].split()[0]
    number = printed.split("NUMBER=")[1].split()[0]
    key = printed.split("KEY=")[1].split()[0]
    client = api_client(token)
    assert client.get(f"/api/v1/guarantees/{number}").status_code == 200
    verified = client.post(
        "/api/v1/verify",
        json.dumps({"number": number, "key": key}),
        content_type="application/json",
    )
    assert verified.status_code == 200
    assert load() == printed  # idempotent: the same token, no second row
    assert ApiToken.objects.count() == 1


def test_refused_outside_debug(settings, db):
    settings.ESURE_DEMO_ALLOWED = False
    with pytest.raises(CommandError):
        call_command("load_demo_api", stdout=io.StringIO())
