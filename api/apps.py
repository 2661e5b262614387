from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API（発注機関のシステム連携）"
