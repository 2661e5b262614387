from django.apps import AppConfig


class DsureConfig(AppConfig):
    name = "dsure"
    verbose_name = "D-Sure (発注者用保証確認)"
