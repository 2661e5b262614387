"""`{% url %}` in every template is Django's tag with each path worked out once per process
(esure/templatetags.py, decision 0043): the same output as `reverse`, errors as before, and
never a path of another URLconf or script prefix."""

from unittest import mock

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse, set_script_prefix

from esure import templatetags

NUMBER = "08100000012"


@pytest.fixture(autouse=True)
def _empty_cache():
    templatetags._reverse.cache_clear()
    yield
    templatetags._reverse.cache_clear()


def render(source, **context):
    return Template(source).render(Context(context))


def test_the_tag_gives_what_reverse_gives():
    assert render("{% url 'dsure:lookup' %}") == reverse("dsure:lookup")
    assert render("{% url 'dsure:document' n 2 %}", n=NUMBER) == reverse(
        "dsure:document", args=[NUMBER, 2]
    )
    assert render("{% url 'dsure:version' number=n version=3 %}", n=NUMBER) == reverse(
        "dsure:version", kwargs={"number": NUMBER, "version": 3}
    )
    assert render("{% url 'dsure:lookup' as to %}[{{ to }}]") == f"[{reverse('dsure:lookup')}]"


def test_a_path_is_worked_out_once_per_name_and_arguments():
    with mock.patch.object(templatetags, "reverse", wraps=reverse) as spy:
        for _ in range(3):
            render("{% url 'dsure:lookup' %}{% url 'dsure:document' n 1 %}", n=NUMBER)
        render("{% url 'dsure:document' n 2 %}", n=NUMBER)

    assert [call.args[0] for call in spy.call_args_list] == [
        "dsure:lookup",
        "dsure:document",
        "dsure:document",
    ]


def test_an_unknown_name_still_raises_and_is_empty_with_as():
    with pytest.raises(NoReverseMatch):
        render("{% url 'dsure:nowhere' %}")
    with pytest.raises(NoReverseMatch):
        render("{% url 'dsure:document' n 'x' %}", n=NUMBER)  # not a version
    assert render("{% url 'dsure:nowhere' as to %}[{{ to }}]") == "[]"


def test_another_urlconf_never_gets_a_cached_path(settings):
    assert render("{% url 'dsure:lookup' %}") == "/dsure/"
    with pytest.raises(NoReverseMatch):
        render("{% url 'bench_floors:viewer' n %}", n=NUMBER)

    settings.ROOT_URLCONF = "bench.urls"  # the product's routes plus the bench's floors
    assert render("{% url 'bench_floors:viewer' n %}", n=NUMBER) == reverse(
        "bench_floors:viewer", args=[NUMBER]
    )

    settings.ROOT_URLCONF = "esure.urls"
    with pytest.raises(NoReverseMatch):
        render("{% url 'bench_floors:viewer' n %}", n=NUMBER)


def test_a_script_prefix_is_part_of_the_path():
    assert render("{% url 'dsure:lookup' %}") == "/dsure/"
    set_script_prefix("/esure/")
    try:
        assert render("{% url 'dsure:lookup' %}") == "/esure/dsure/"
    finally:
        set_script_prefix("/")
    assert render("{% url 'dsure:lookup' %}") == "/dsure/"
