"""Publish the platform's catalog agents (agents/catalog/<slug>/) through the submission pipeline."""

from django.core.management.base import BaseCommand, CommandError

from agentnexus.core.errors import ApplicationError
from agents.catalog_publish import DEFAULT_DEVELOPER_EMAIL, CatalogPublishResult, catalog_publish


class Command(BaseCommand):
    help = (
        "Submit every agents/catalog/<slug>/ as a developer upload, run the build, scan and smoke "
        "test here (no worker needed; Docker is), approve it and list it on chain. Agents whose "
        "current version is the manifest's are left unchanged. Safe to run repeatedly."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--only",
            action="append",
            default=[],
            metavar="SLUG",
            help="Publish this catalog directory only (repeatable).",
        )
        parser.add_argument(
            "--developer-email",
            default=DEFAULT_DEVELOPER_EMAIL,
            help=f"The developer account that owns the agents; created if missing "
            f"(default: {DEFAULT_DEVELOPER_EMAIL}).",
        )

    def handle(self, *args, only: list[str], developer_email: str, **options) -> None:
        def report(result: CatalogPublishResult) -> None:
            style = self.style.ERROR if result.failed else self.style.SUCCESS
            self.stdout.write(style(str(result)) if result.outcome != "unchanged" else str(result))

        try:
            results = catalog_publish(developer_email=developer_email, only=only, on_result=report)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        failed = [r for r in results if r.failed]
        if failed:
            raise CommandError(f"{len(failed)} of {len(results)} catalog agents failed.")
