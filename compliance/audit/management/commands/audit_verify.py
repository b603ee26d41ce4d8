"""Walk the audit chain and report the first edited, deleted or reordered entry.

Exit status 0 when the chain is intact, 1 when it is broken. Record the printed head
(`SEQ:HASH`) somewhere outside the database and pass it back with `--head` to also catch entries
removed from the end of the chain.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from compliance.audit.services import verify_chain


def _parse_head(value: str) -> tuple[int, str]:
    seq, sep, digest = value.partition(":")
    if not sep or not seq.isdigit() or len(digest) != 64:
        raise CommandError("--head must look like SEQ:HASH (a sequence number and 64 hex digits).")
    return int(seq), digest.lower()


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exit non-zero at the first broken entry."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--head",
            help="A head recorded earlier, SEQ:HASH; also detects entries removed from the end.",
        )

    def handle(self, *args, **options) -> None:
        expected = _parse_head(options["head"]) if options.get("head") else None
        report = verify_chain(expected_head=expected)
        if report.problem is not None:
            problem = report.problem
            raise CommandError(
                f"Audit chain BROKEN at entry {problem.seq} ({problem.kind}): "
                f"{problem.message}. {report.checked} entries verified before it.",
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {report.checked} entries. "
                f"Head {report.head_seq}:{report.head_hash}"
            )
        )
