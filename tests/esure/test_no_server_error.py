"""Issue #12 item 7: inputs that used to raise (500) answer 404 or a form error instead."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from esure.forms import MSG_AMOUNT_FORMAT, MSG_AMOUNT_RANGE, YenField
from tests.conftest import make_member, make_registered_guarantee


@pytest.mark.parametrize(
    "url",
    [
        "/dsure/%00/",
        "/dsure/%00/v1/",
        "/dsure/%00/v1.pdf",
        "/dsure/%00/v1/receive/",
        "/dsure/" + "9" * 5000 + "/",
    ],
)
def test_dsure_pages_answer_404_to_a_hostile_number(client, db, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/certificates/%00/",
        "/certificates/%00/key/",
        "/certificates/%00/v1/certificate.pdf",
        "/applications/new/5/guarantees/%00/",
        "/advances/register/%00/",
        "/applications/" + "9" * 5000 + "/",
        "/applications/99999999999999999999/",
    ],
)
def test_clerk_pages_answer_404_to_a_hostile_segment(clerk_client, url):
    assert clerk_client.get(url).status_code == 404


def _refused(value):
    """A posted NUL is refused before any view (esure.middleware, 400); any other hostile id
    reaches the view, which answers as for a missing object (404)."""
    return 400 if "\x00" in value else 404


@pytest.fixture
def guarantee(clerk):
    return make_registered_guarantee(clerk.membership.company)


@pytest.mark.parametrize("office", ["abc", "\x00", "9" * 5000, "99999999999999999999", "-1"])
def test_a_hand_over_to_a_hostile_office_is_404(client, clerk, guarantee, office):
    client.force_login(clerk)
    url = reverse("certs:hand_over", args=[guarantee.number])
    assert client.post(url, {"office": office}).status_code == _refused(office)


@pytest.mark.parametrize("work", ["abc", "\x00", "9" * 5000, "99999999999999999999"])
def test_the_live_check_with_a_hostile_work_is_404(clerk_client, work):
    response = clerk_client.post(reverse("applications:check", args=["2"]), {"work": work})
    assert response.status_code == _refused(work)


@pytest.mark.parametrize("number", ["\x00", "9" * 5000, "../"])
def test_the_change_check_with_a_hostile_guarantee_is_404(clerk_client, number):
    response = clerk_client.post(reverse("applications:check_change"), {"guarantee": number})
    assert response.status_code == _refused(number)


# esure.forms.YenField: Python refuses int() of more than 4,300 digits (CVE-2020-10735); the
# field says "out of range" for any long run of digits before it gets there.
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("9" * 12, 999_999_999_999),  # the largest amount (12 digits)
        ("1" + "0" * 12, MSG_AMOUNT_RANGE),  # 13 digits
        ("9" * 4301, MSG_AMOUNT_RANGE),  # past Python's int() limit
        ("9" * 100_000, MSG_AMOUNT_RANGE),
        ("0" * 5000 + "1", 1),  # leading zeros are still 1円
        ("１２３", 123),
        ("١٢٣", MSG_AMOUNT_FORMAT),  # Arabic-Indic digits: isdigit() but not ours
        ("1\x002", MSG_AMOUNT_FORMAT),
    ],
)
def test_yen_field_caps_digits_before_int(typed, expected):
    field = YenField()
    if isinstance(expected, int):
        assert field.clean(typed) == expected
    else:
        with pytest.raises(ValidationError) as raised:
            field.clean(typed)
        assert raised.value.messages == [expected]


def test_an_application_form_with_5000_digits_keeps_input_and_says_why(clerk_client, tsukumi):
    from tests.conftest import menu1_post

    response = clerk_client.post(
        reverse("applications:new", args=["1"]), menu1_post(tsukumi, price="9" * 5000)
    )
    assert response.status_code == 400
    assert MSG_AMOUNT_RANGE in response.content.decode()


def test_a_member_of_another_company_gets_404_for_a_hostile_number(client, db):
    client.force_login(make_member())
    assert client.get("/certificates/%00/").status_code == 404


# esure.middleware.RefuseNulMiddleware: NUL anywhere in a request is a 400 before any view.
def test_nul_in_an_admin_list_filter_is_400_not_a_database_error(client, staff):
    client.force_login(staff)
    response = client.get(reverse("admin:accounts_company_changelist"), {"status__exact": "\x00"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_nul_in_a_posted_note_is_400_and_nothing_is_handed_over(client, clerk, guarantee):
    from certificates.models import Submission

    client.force_login(clerk)
    office = guarantee.orderer.offices.first()
    url = reverse("certs:hand_over", args=[guarantee.number])
    assert client.post(url, {"office": office.pk, "note": "a\x00b"}).status_code == 400
    assert not Submission.objects.exists()


def test_nul_in_a_parameter_name_is_400(clerk_client):
    assert clerk_client.get("/applications/", {"a\x00": "1"}).status_code == 400
    assert clerk_client.post("/applications/check/1/", {"a\x00": "1"}).status_code == 400


def test_a_request_without_nul_passes(clerk_client):
    assert clerk_client.get("/applications/", {"status": "draft"}).status_code == 200


@pytest.mark.parametrize("orderer", ["9" * 5000, "١٢٣", "１２３", "-1", "abc"])
def test_the_applications_list_ignores_a_hostile_orderer_filter(clerk_client, orderer):
    assert clerk_client.get("/applications/", {"orderer": orderer}).status_code == 200
