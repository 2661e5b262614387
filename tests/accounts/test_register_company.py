"""会社情報の登録 (/company/register/): the signed-up clerk registers the company."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import services
from accounts.models import Company, Membership
from accounts.validators import MSG_CORPORATE_NUMBER_CHECK, MSG_CORPORATE_NUMBER_FORMAT
from tests.conftest import make_company, make_member, make_user

REGISTER = "/company/register/"

VALID = {
    "corporate_number": "7000012050002",
    "name": "株式会社津久見土木",
    "name_kana": "カブシキガイシャツクミドボク",
    "representative_title": "代表取締役",
    "representative_name": "津久見 花子",
    "postal_code": "879-2435",
    "address": "大分県津久見市宮本町20番15号",
    "phone": "0972-82-9511",
    "license_number": "大分県知事許可(般-6)第12345号",
}


@pytest.fixture
def newcomer(db):
    """Signed up and verified, not yet in any company."""
    return make_user(email="newcomer@tsukumi-doboku.example.jp")


@pytest.fixture
def newcomer_client(client, newcomer):
    client.force_login(newcomer)
    return client


def _field_errors(html, field):
    """The error list Django renders right before the field's input."""
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", match.group(1)) if match else []


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(REGISTER)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={REGISTER}"


def test_anonymous_post_creates_nothing(client, db):
    response = client.post(REGISTER, VALID)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not Company.objects.exists()


def test_user_without_company_sees_the_form(newcomer_client):
    response = newcomer_client.get(REGISTER)
    assert response.status_code == 200
    html = response.content.decode()
    assert "会社情報の登録" in html
    for field in VALID:
        assert f'name="{field}"' in html


def test_home_of_user_without_company_links_to_registration(newcomer_client):
    html = newcomer_client.get("/").content.decode()
    assert "会社情報を登録する" in html
    assert f'href="{REGISTER}"' in html


def test_valid_registration_makes_a_pending_company_with_the_user_as_admin(
    newcomer_client, newcomer
):
    response = newcomer_client.post(REGISTER, VALID)

    assert response.status_code == 302
    assert response["Location"] == "/company/"
    company = Company.objects.get()
    assert company.status == Company.Status.PENDING
    assert company.verified_at is None
    assert company.name == "株式会社津久見土木"
    membership = Membership.objects.get(user=newcomer)
    assert membership.company == company
    assert membership.role == Membership.Role.ADMIN
    assert not company.status_changes.exists()


def test_after_registration_the_company_page_says_awaiting_verification(newcomer_client):
    response = newcomer_client.post(REGISTER, VALID, follow=True)
    html = response.content.decode()
    assert response.redirect_chain == [("/company/", 302)]
    assert "確認待ち" in html
    assert "保証会社による確認が完了するまでお待ちください" in html
    assert "7000012050002" in html


def test_wrong_check_digit_is_shown_next_to_the_field_and_input_is_kept(newcomer_client):
    typed = {**VALID, "corporate_number": "7000012050003"}

    response = newcomer_client.post(REGISTER, typed)

    assert response.status_code == 200
    assert not Company.objects.exists()
    html = response.content.decode()
    assert _field_errors(html, "corporate_number") == [MSG_CORPORATE_NUMBER_CHECK]
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="id_corporate_number"', html)
    assert "入力内容に誤りがあります" in html
    # Everything the clerk typed is still there, including the wrong number to correct.
    for field, value in typed.items():
        assert re.search(rf'<input[^>]*name="{field}"[^>]*value="{re.escape(value)}"', html), field
    # The other fields carry no error.
    for field in VALID.keys() - {"corporate_number"}:
        assert _field_errors(html, field) == [], field


def test_twelve_digits_get_the_format_message(newcomer_client):
    response = newcomer_client.post(REGISTER, {**VALID, "corporate_number": "700001205000"})
    assert response.status_code == 200
    assert _field_errors(response.content.decode(), "corporate_number") == [
        MSG_CORPORATE_NUMBER_FORMAT
    ]


def test_missing_fields_are_each_reported(newcomer_client):
    response = newcomer_client.post(REGISTER, {**VALID, "name": "", "address": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert _field_errors(html, "name")
    assert _field_errors(html, "address")
    assert not Company.objects.exists()


def test_taken_corporate_number_gets_the_service_message(newcomer_client):
    make_company(corporate_number="7000012050002", name="先に登録した会社")

    response = newcomer_client.post(REGISTER, VALID)

    assert response.status_code == 200
    assert _field_errors(response.content.decode(), "corporate_number") == [
        services.MSG_CORPORATE_NUMBER_TAKEN
    ]
    assert Company.objects.count() == 1
    assert not Membership.objects.exists()


def test_taken_corporate_number_typed_full_width_gets_the_service_message(newcomer_client):
    make_company(corporate_number="7000012050002")
    response = newcomer_client.post(
        REGISTER, {**VALID, "corporate_number": "７００００１２０５０００２"}
    )
    assert response.status_code == 200
    assert _field_errors(response.content.decode(), "corporate_number") == [
        services.MSG_CORPORATE_NUMBER_TAKEN
    ]


def test_user_who_already_has_a_company_is_sent_to_it(clerk_client, clerk):
    assert clerk_client.get(REGISTER)["Location"] == "/company/"

    response = clerk_client.post(REGISTER, VALID)

    assert response.status_code == 302
    assert response["Location"] == "/company/"
    assert not Company.objects.filter(corporate_number="7000012050002").exists()
    assert Membership.objects.get(user=clerk).company.name == "ACME建設株式会社"


def test_full_width_input_is_stored_canonical(newcomer_client):
    typed = {
        **VALID,
        "corporate_number": "７００００１２０５０００２",
        "postal_code": "８７９２４３５",
        "phone": "０９７２－８２－９５１１",
        "license_number": "大分県知事許可（般－６）第１２３４５号",
    }

    response = newcomer_client.post(REGISTER, typed)

    assert response.status_code == 302
    company = Company.objects.get()
    assert company.corporate_number == "7000012050002"
    assert company.postal_code == "879-2435"
    assert company.phone == "0972-82-9511"
    assert company.license_number == "大分県知事許可(般-6)第12345号"


@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        ("corporate_number", "7000-0120-50002", "7000012050002"),
        ("corporate_number", "７０００－０１２０－５０００２", "7000012050002"),
        ("postal_code", "〒879-2435", "879-2435"),
        ("postal_code", "〒８７９－２４３５", "879-2435"),
    ],
)
def test_identifiers_typed_with_dashes_fit_the_form(newcomer_client, field, typed, stored):
    # The help text promises 「全角・ハイフン入りでも入力できます」: the typed value may be
    # longer than the stored one, so the form must not cut it at the column's max_length.
    html = newcomer_client.get(REGISTER).content.decode()
    tag = re.search(rf'<input[^>]*name="{field}"[^>]*>', html).group(0)
    maxlength = re.search(r'maxlength="(\d+)"', tag)
    assert maxlength is None or int(maxlength.group(1)) >= len(typed)

    response = newcomer_client.post(REGISTER, {**VALID, field: typed})

    assert response.status_code == 302, _field_errors(response.content.decode(), field)
    assert getattr(Company.objects.get(), field) == stored


def test_free_text_is_not_rewritten(newcomer_client):
    # NFKC is for identifiers only: a name with ㈱ or full-width letters stays as typed.
    response = newcomer_client.post(REGISTER, {**VALID, "name": "㈱ＡＢＣ建設"})
    assert response.status_code == 302
    assert Company.objects.get().name == "㈱ＡＢＣ建設"


# The service, for callers other than the view (load_demo, future imports) -------------


def test_service_refuses_a_second_company_for_a_member(db):
    user = make_member()
    with pytest.raises(ValidationError) as caught:
        services.register_company(user=user, **VALID)
    assert caught.value.messages == [services.MSG_ALREADY_MEMBER]
    assert not Company.objects.filter(corporate_number=VALID["corporate_number"]).exists()


def test_service_refuses_a_taken_corporate_number(db):
    make_company(corporate_number=VALID["corporate_number"])
    with pytest.raises(ValidationError) as caught:
        services.register_company(user=make_user(), **VALID)
    assert caught.value.message_dict == {"corporate_number": [services.MSG_CORPORATE_NUMBER_TAKEN]}
