from __future__ import annotations

import geoip2.database
import geoip2.errors
from maxminddb import MODE_AUTO


class MaxMindCountryLookup:
    """A GeoIP2/GeoLite2 Country or City database (or any .mmdb with `country.iso_code`).

    The reader is opened once (memory-mapped where possible) and is thread-safe.
    """

    name = "mmdb"

    def __init__(self, path: str, mode: int = MODE_AUTO) -> None:
        self.path = path
        self._reader = geoip2.database.Reader(path, mode=mode)
        database_type = self._reader.metadata().database_type
        self._method = "city" if "City" in database_type else "country"

    def country(self, ip: str) -> str | None:
        try:
            record = getattr(self._reader, self._method)(ip)
        except (geoip2.errors.AddressNotFoundError, ValueError):
            return None
        code = record.country.iso_code or record.registered_country.iso_code
        return code.upper() if code else None

    def close(self) -> None:
        self._reader.close()
