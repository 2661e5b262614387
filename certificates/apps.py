from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = "保証契約・電子証書"

    def ready(self):
        from certificates import checks  # noqa: F401 — registers the eシール's system checks
