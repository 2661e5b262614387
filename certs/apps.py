from django.apps import AppConfig


class CertsConfig(AppConfig):
    """電子証書の確認: the contractor's pages over the registry (a face of its own, importing
    neither the workflow nor D-Sure: tests/test_import_rule.py)."""

    name = "certs"
    verbose_name = "電子証書の確認"
