from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The staff console on the admin: the work queue, 業務状況 charts, reports (issue 20).
    Reads every app; no app imports it (decision 0020)."""

    name = "console"
    verbose_name = "業務コンソール"

    def ready(self):
        from console import queue

        queue.install_filters()
