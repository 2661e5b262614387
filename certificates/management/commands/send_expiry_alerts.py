"""Daily: tell each office once about the guarantees in its list whose 保証期限 is near
(ESURE_EXPIRY_ALERT_DAYS). Safe to run twice: an alert exists once per period end."""

from django.core.management.base import BaseCommand

from certificates import services


class Command(BaseCommand):
    help = "Alert offices about guarantees ending within ESURE_EXPIRY_ALERT_DAYS (idempotent)."

    def handle(self, *args, **options):
        made = services.alert_expiring()
        self.stdout.write(f"expiry alerts made: {len(made)}")
