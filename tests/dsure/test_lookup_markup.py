"""The lookup page's two fields are written out in templates/dsure/lookup.html for the pages
that show them unbound — the entry page and every refusal (the typed number kept, never the
key; bench/README.md: ~1 ms of the wrong key's page). They must stay what LookupForm renders
itself, byte for byte: labels, autocomplete, inputmode, maxlength, required, the number's
escaping. A form with errors (an empty field) is still rendered by the form, with
aria-invalid and aria-describedby."""

import pytest
from django.test import Client

from dsure import services
from dsure.forms import LookupForm
from tests.conftest import dsure_lookup

WRONG_KEY = "ABCD-EFGH-JKMN-PQRS"


def fields_of(response):
    """The page's markup between the error summary (or the CSRF token) and the button."""
    html = response.content.decode()
    start = html.index('<label for="id_number">')
    return html[start : html.index('<p class="actions">', start)].rstrip()


def rendered_by_the_form(number):
    form = LookupForm(initial={"number": number})
    return "".join(str(field.as_field_group()) for field in form)


@pytest.mark.parametrize("number", ["", "08-1-0000001-2", "<b>\"08\"</b> & '1'", "０８−１"])
def test_the_entry_page_shows_the_fields_as_the_form_renders_them(number):
    response = Client().get("/dsure/", {"number": number})

    assert response.status_code == 200
    assert fields_of(response) == rendered_by_the_form(number)


def test_a_long_number_in_the_link_is_cut_to_the_field_s_length():
    response = Client().get("/dsure/", {"number": "1" * 50})

    assert fields_of(response) == rendered_by_the_form("1" * 40)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("number", services.MSG_NO_MATCH),
        ('08-1-<i>"0"</i>', services.MSG_NUMBER_FORMAT),
        ("key", services.MSG_KEY_FORMAT),
    ],
)
def test_a_refusal_shows_the_fields_as_the_form_renders_them_with_the_number_kept(
    guarantee, typed, message
):
    number = guarantee.number_display if typed in ("number", "key") else typed
    key = "ABCD" if typed == "key" else WRONG_KEY

    response = dsure_lookup(Client(), number, key)

    assert message in response.content.decode()
    assert fields_of(response) == rendered_by_the_form(number)
    assert key not in response.content.decode()


def test_an_empty_field_is_named_beside_it_by_the_form():
    response = dsure_lookup(Client(), "", WRONG_KEY)

    html = fields_of(response)
    assert '<ul class="errorlist" id="id_number_error">' in html
    assert 'aria-invalid="true" aria-describedby="id_number_error" id="id_number"' in html
    form = LookupForm({"number": "", "key": WRONG_KEY})
    assert html == "".join(str(field.as_field_group()) for field in form)


@pytest.mark.parametrize(
    "number", ["", "1" * 41], ids=["empty number", "number over the field's 40 characters"]
)
def test_a_form_refused_for_its_number_never_shows_the_typed_key_back(number):
    response = dsure_lookup(Client(), number, WRONG_KEY)

    assert response.status_code == 200
    assert 'aria-invalid="true" aria-describedby="id_number_error" id="id_number"' in (
        fields_of(response)
    )
    assert WRONG_KEY not in response.content.decode()
    assert '<input type="text" name="key"' in fields_of(response)


def test_a_key_over_the_field_s_length_is_named_and_not_shown_back():
    key = "A" * 41
    response = dsure_lookup(Client(), "08-1-0000001-2", key)

    html = fields_of(response)
    assert 'aria-invalid="true" aria-describedby="id_key_error" id="id_key"' in html
    assert key not in response.content.decode()
    assert 'value="08-1-0000001-2"' in html  # the number is kept
