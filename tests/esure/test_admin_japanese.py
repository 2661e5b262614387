"""The admin speaks Japanese throughout (issue 20): sections in the order of the work, every
section, model, column, filter and action name in Japanese, third-party apps included, and
dates of the work in 和暦."""

import re

import pytest
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.tasks import TaskResultStatus
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from esure.admin import OTHER, SECTIONS
from tests.conftest import make_staff, make_work

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")
# Names staff read as they are, Japanese or not.
TERMS = {"SHA-256", "PDF"}
# What the index used to show (issue 20): none of it may come back.
ENGLISH = ["Tasks Database Backend", "Task Result", "Authenticator", "MFA", "Email address"]


@pytest.fixture
def staff_client(client, db):
    staff = make_staff()
    client.force_login(staff)
    client.staff = staff
    return client


def _japanese(label):
    label = str(label)
    return label in TERMS or bool(JAPANESE.search(label))


def test_the_index_lists_the_sections_in_the_order_of_the_work(staff_client):
    response = staff_client.get(reverse("admin:index"))

    sections = [app["name"] for app in response.context["app_list"]]
    assert sections == ["申込", "保証契約", "D-Sure（発注者の確認）", "利用者", "設定"]
    assert OTHER not in sections  # every registered model has its place in SECTIONS


def test_the_index_shows_no_english_name(staff_client):
    response = staff_client.get(reverse("admin:index"))

    page = response.content.decode()
    # What staff read: the text between the tags. Inside them, a random CSP nonce or CSRF
    # token spells "MFA" now and then.
    text = re.sub(r"<[^>]*>", " ", page)
    for word in ENGLISH:
        assert word not in text
    for section in response.context["app_list"]:
        assert _japanese(section["name"])
        for model in section["models"]:
            assert _japanese(model["name"]), model["object_name"]
    assert "メール送信キュー" in page and "多要素認証" in page


def test_every_registered_model_has_its_place_in_a_section():
    placed = {key for _, _, keys in SECTIONS for key in keys}
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered == placed


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label_lower)
def test_every_list_names_its_columns_filters_and_actions_in_japanese(staff_client, model):
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = staff_client.staff

    assert _japanese(model._meta.verbose_name_plural)
    assert _japanese(model._meta.app_config.verbose_name)
    for name in model_admin.get_list_display(request):
        assert _japanese(label_for_field(name, model, model_admin)), name
    changelist = model_admin.get_changelist_instance(request)
    for spec in changelist.filter_specs:
        assert _japanese(spec.title), spec.title
    for action in model_admin.get_actions(request).values():
        text = str(action.description) % {"verbose_name_plural": model._meta.verbose_name_plural}
        assert _japanese(text), text


@pytest.mark.parametrize(
    "url",
    ["admin:django_tasks_database_dbtaskresult_changelist", "admin:mfa_authenticator_changelist"],
)
def test_the_mail_queue_and_mfa_lists_open_in_japanese(staff_client, url):
    DBTaskResult.objects.create(
        task_path="esure.mail.deliver_mail",
        args_kwargs={"args": [], "kwargs": {"subject": "件名の例", "recipients": ["a@example.jp"]}},
        backend_name="default",
        run_after=timezone.now(),
        status=TaskResultStatus.FAILED,
    )
    response = staff_client.get(reverse(url))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Task Result" not in page and "Authenticator" not in page
    assert "登録日時" in page


def test_an_app_page_keeps_its_own_models(staff_client):
    response = staff_client.get(reverse("admin:app_list", args=["certificates"]))

    assert response.status_code == 200
    names = [m["object_name"] for m in response.context["app_list"][0]["models"]]
    assert names[:2] == ["Guarantee", "Certificate"]  # in the sections' order


def test_the_works_list_shows_the_contract_day_in_wareki(staff_client):
    make_work(name="和暦の工事")

    response = staff_client.get(reverse("admin:certificates_work_changelist"))

    assert "令和6年10月1日" in response.content.decode()
