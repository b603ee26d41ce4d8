"""The country-lookup interface. Implementations: mmdb.MaxMindCountryLookup (a MaxMind-format
.mmdb file through geoip2) and bundled.BundledCountryLookup (iptocc's embedded RIR data)."""

from __future__ import annotations

from typing import Protocol


class CountryLookup(Protocol):
    name: str

    def country(self, ip: str) -> str | None:
        """ISO 3166-1 alpha-2 code (upper case) of a public address, None when unknown."""
        ...
