from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "利用者・受注者・発注者・金融機関"

    def ready(self):
        from accounts import signals  # noqa: F401 — marks bank users' sessions at login
