"""Passwords of accounts without a second factor are at least 15 characters (NIST SP
800-63B-4); with TOTP, Django's 8 stay the minimum (decision 0009). The message is Japanese."""

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User
from accounts.validators import MSG_PASSWORD_TOO_SHORT
from tests.conftest import make_user

FOURTEEN = "kx9-Tq2m-Lp7vZ"
FIFTEEN = "kx9-Tq2m-Lp7vZr"


def messages_for(password, user=None):
    try:
        validate_password(password, user)
    except ValidationError as error:
        return error.messages
    return []


def test_the_boundary_without_a_second_factor(db):
    assert len(FOURTEEN) == 14 and len(FIFTEEN) == 15
    assert messages_for(FOURTEEN) == [MSG_PASSWORD_TOO_SHORT]
    assert messages_for(FIFTEEN) == []
    assert messages_for(FIFTEEN + "x") == []
    assert messages_for(FOURTEEN, make_user()) == [MSG_PASSWORD_TOO_SHORT]


def test_an_account_with_totp_keeps_the_minimum_of_eight(db):
    user = make_user()
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    assert messages_for(FOURTEEN, user) == []
    assert messages_for("kx9-Tq2m", user) == []  # 8
    assert "最低 8 文字以上必要です" in " ".join(messages_for("kx9-Tq2", user))  # 7: Django's


def test_recovery_codes_alone_are_not_a_second_factor(db):
    user = make_user()
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.RECOVERY_CODES, data={"seed": "00" * 20}
    )
    assert messages_for(FOURTEEN, user) == [MSG_PASSWORD_TOO_SHORT]


def test_sign_up_with_fourteen_characters_is_refused_in_japanese(db, client):
    email = "new-clerk@example.jp"
    response = client.post(
        reverse("account_signup"), {"email": email, "password1": FOURTEEN, "password2": FOURTEEN}
    )

    assert response.status_code == 200
    assert MSG_PASSWORD_TOO_SHORT in response.content.decode()
    assert f'value="{email}"' in response.content.decode()  # the input is kept
    assert not User.objects.filter(email=email).exists()


@pytest.mark.django_db
def test_sign_up_with_fifteen_characters_is_accepted(client):
    email = "new-clerk@example.jp"
    response = client.post(
        reverse("account_signup"), {"email": email, "password1": FIFTEEN, "password2": FIFTEEN}
    )

    assert response.status_code == 302
    assert User.objects.filter(email=email).exists()
