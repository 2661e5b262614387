"""Keys derive from the number, the key version and a random per-guarantee salt (issue #12
item 10, decision 0009): a number given again after a restore lost its conclusion never opens
with the old key notice; guarantees concluded before salts existed keep their keys."""

import hashlib
import hmac
import re

import pytest
from django.test import Client
from django.urls import reverse

from certificates import integrity, keys
from certificates import services as registry
from certificates.models import Guarantee
from dsure import services as dsure_services
from esure.choices import GuaranteeKind
from tests.conftest import MAX_ADVANCE, MIN_CONTRACT, WORK_DATES, dsure_lookup, make_concluded

pytestmark = pytest.mark.usefixtures("frozen")
SECRET = "test-secret-for-vectors"
NUMBER = "08100000125"


@pytest.fixture
def pair(clerk, tsukumi):
    items = {GuaranteeKind.ADVANCE: MAX_ADVANCE, GuaranteeKind.CONTRACT: MIN_CONTRACT}
    return make_concluded(company=clerk.membership.company, items=items, **WORK_DATES)


def without_salt(guarantee):
    """The guarantee as concluded before salts existed (the migration leaves theirs empty)."""
    Guarantee.objects.filter(pk=guarantee.pk).update(key_salt="")
    guarantee.refresh_from_db()
    return guarantee


def test_the_salt_is_part_of_the_hmac_message():
    salt = "0123456789abcdef" * 2
    mac = hmac.new(SECRET.encode(), f"{NUMBER}:1:{salt}".encode(), hashlib.sha256).digest()
    bits = int.from_bytes(mac[:10], "big")
    expected = "".join(keys.CROCKFORD_ALPHABET[(bits >> s) & 31] for s in range(75, -1, -5))

    assert keys.derive_key(NUMBER, 1, SECRET, salt=salt) == expected
    assert keys.derive_key(NUMBER, 1, SECRET, salt="f" * 32) != expected
    assert keys.derive_key(NUMBER, 1, SECRET) != expected  # no salt: the formula of before


@pytest.mark.parametrize("salt", [None, "0" * 31, "0" * 33, "g" * 32, "A" * 32, 12])
def test_a_malformed_salt_is_refused(salt):
    with pytest.raises(ValueError):
        keys.derive_key(NUMBER, 1, SECRET, salt=salt)


def test_each_new_guarantee_gets_its_own_random_salt(pair):
    a, b = pair

    assert re.fullmatch(r"[0-9a-f]{32}", a.key_salt) and re.fullmatch(r"[0-9a-f]{32}", b.key_salt)
    assert a.key_salt != b.key_salt
    key = registry.current_key(a)
    assert keys.verify_key(a.number, 1, key, salt=a.key_salt)
    assert not keys.verify_key(a.number, 1, key)  # the unsalted key is another one


def test_a_number_given_again_does_not_open_with_the_old_key_notice(pair):
    """A restore lost a conclusion and its number was issued again: the new guarantee has
    the same number and key version but a new salt, so the old notice's key is wrong."""
    old, _ = pair
    old_key = registry.current_key(old)
    Guarantee.objects.filter(pk=old.pk).update(key_salt=keys.new_salt())  # the new conclusion
    old.refresh_from_db()

    response = dsure_lookup(Client(), old.number_display, old_key)

    assert response.status_code == 200
    assert dsure_services.MSG_NO_MATCH in response.content.decode()
    assert registry.current_key(old) != old_key
    assert dsure_lookup(Client(), old.number_display, registry.current_key(old)).status_code == 302


def test_a_guarantee_from_before_salts_keeps_its_key(pair):
    old = without_salt(pair[0])
    handed_out = keys.format_key(keys.derive_key(old.number, 1))  # as derived before salts

    response = dsure_lookup(Client(), old.number_display, handed_out)

    assert registry.current_key(old) == handed_out
    assert response.status_code == 302
    assert response["Location"] == reverse("dsure:viewer", args=[old.number])


def test_a_reissue_of_an_unsalted_guarantee_keeps_it_unsalted(pair, staff):
    old = without_salt(pair[0])

    registry.reissue_key(guarantee=old, by=staff)

    old.refresh_from_db()
    assert old.key_salt == ""
    assert registry.current_key(old) == keys.format_key(keys.derive_key(old.number, 2))


def test_the_key_check_covers_salted_and_unsalted_guarantees(pair):
    without_salt(pair[0])
    lines = list(integrity.key_check_lines())

    report = integrity.verify_key_check(lines)
    wrong_secret = integrity.verify_key_check(lines, secret="another-secret")

    assert (report.ok, report.failed) == (2, 0)
    assert (wrong_secret.ok, wrong_secret.failed) == (0, 2)
