"""Daily: record every approved 契約保証予約 past its 有効期限 as 期限切れ (decision 0034).

The pages and the conversion already treat it as lapsed from the day after its last day; this
command writes the move into the status table's history and the audit trail."""

from django.core.management.base import BaseCommand

from reservations import services


class Command(BaseCommand):
    help = "有効期限を過ぎた契約保証予約を期限切れにします（毎日実行）。"

    def handle(self, *args, **options):
        count = services.lapse_reservations()
        self.stdout.write(f"期限切れにした契約保証予約: {count}件")
