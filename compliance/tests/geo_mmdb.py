"""A small MaxMind-format country database for tests and the bench, written with mmdb-writer."""

from __future__ import annotations

from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

# Public (is_global) test networks and the country each is placed in.
NETWORKS: dict[str, str] = {
    "5.10.0.0/16": "CU",  # blocked by the default rules
    "5.11.0.0/16": "IR",
    "5.20.0.0/16": "US",  # no rule
    "5.30.0.0/16": "DE",  # tests add a limited rule
    "5.40.0.0/16": "FR",  # tests add an anonymizer range inside
    "2a05:d000::/32": "GB",
    "2a05:d100::/32": "KP",
}

CUBA = "5.10.1.1"
IRAN = "5.11.1.1"
US = "5.20.1.1"
US_2 = "5.20.9.9"
GERMANY = "5.30.1.1"
FRANCE = "5.40.9.9"
FRANCE_TOR = "5.40.1.7"  # inside the test anonymizer range 5.40.1.0/24
UK_V6 = "2a05:d000::1"
NORTH_KOREA_V6 = "2a05:d100::1"
UNMAPPED = "5.99.1.1"


def write_country_mmdb(path: Path, networks: dict[str, str] | None = None) -> Path:
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="GeoIP2-Country",
        languages=["en"],
        description="AgentNexus test countries",
    )
    for network, code in (networks or NETWORKS).items():
        writer.insert_network(
            IPSet([network]),
            {"country": {"iso_code": code, "names": {"en": code}}},
        )
    writer.to_db_file(str(path))
    return path
