from django.core.management.base import BaseCommand

from compliance.geo import access_log_purge


class Command(BaseCommand):
    help = "Delete access-decision log rows older than COMPLIANCE_ACCESS_LOG_DAYS (default 90)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=None, help="Override the retention.")

    def handle(self, *args, days: int | None, **options) -> None:
        deleted = access_log_purge(days=days)
        self.stdout.write(f"Deleted {deleted} access-decision log row(s).")
