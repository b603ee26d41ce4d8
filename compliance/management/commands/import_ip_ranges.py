"""Load a plain file of addresses / CIDRs (one per line, `#` comments) into an anonymizer list.

manage.py import_ip_ranges tor-exits.txt --list "Tor exit nodes" --kind tor --replace
curl -s https://check.torproject.org/torbulkexitlist | manage.py import_ip_ranges - --list tor
"""

import ipaddress
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from compliance.geo import rules_changed
from compliance.models import IpRange, IpRangeList


def parse_ranges(lines) -> tuple[list[str], list[tuple[int, str]]]:
    """Normalised CIDRs (deduplicated, in file order) and the (line number, text) rejected."""
    ranges: dict[str, None] = {}
    rejected: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            ranges[str(ipaddress.ip_network(text, strict=False))] = None
        except ValueError:
            rejected.append((number, text))
    return list(ranges), rejected


class Command(BaseCommand):
    help = "Import addresses/CIDRs from a file (or - for stdin) into an anonymizer range list."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="A text file, one address or CIDR per line; - for stdin.")
        parser.add_argument("--list", dest="list_name", required=True, help="The list's name.")
        parser.add_argument(
            "--kind", choices=[kind.value for kind in IpRangeList.Kind], default=None
        )
        parser.add_argument(
            "--replace", action="store_true", help="Remove the list's ranges missing from the file."
        )

    def handle(self, *args, path: str, list_name: str, kind, replace: bool, **options) -> None:
        if path == "-":
            ranges, rejected = parse_ranges(sys.stdin)
        else:
            try:
                with open(path, encoding="utf-8") as handle:
                    ranges, rejected = parse_ranges(handle)
            except OSError as exc:
                raise CommandError(f"Cannot read {path}: {exc}") from exc
        for number, text in rejected[:20]:
            self.stderr.write(f"line {number}: not an address or network: {text!r}")
        if len(rejected) > 20:
            self.stderr.write(f"... and {len(rejected) - 20} more rejected line(s)")

        with transaction.atomic():
            range_list, created = IpRangeList.objects.get_or_create(
                name=list_name, defaults={"kind": kind or IpRangeList.Kind.OTHER}
            )
            if kind and not created and range_list.kind != kind:
                range_list.kind = kind
                range_list.save(update_fields=["kind", "updated_at"])
            existing = set(range_list.ranges.values_list("cidr", flat=True))
            removed = 0
            if replace:
                stale = existing.difference(ranges)
                removed, _ = range_list.ranges.filter(cidr__in=stale).delete()
            new = [IpRange(list=range_list, cidr=cidr) for cidr in ranges if cidr not in existing]
            IpRange.objects.bulk_create(new, batch_size=5000, ignore_conflicts=True)
            transaction.on_commit(rules_changed)  # bulk_create sends no signals
        rules_changed()
        self.stdout.write(
            f"{range_list.name}: {len(new)} added, {removed} removed, "
            f"{len(ranges) - len(new)} already present, {len(rejected)} rejected."
        )
