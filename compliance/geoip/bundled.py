from __future__ import annotations

from iptocc import country_code


class BundledCountryLookup:
    """iptocc: the five RIRs' delegation files compiled into the wheel; no download, no file.

    RIR data names the country a block was *assigned* to, not where it is used; it agrees with
    MaxMind for ~95% of IPv4 space. Configure GEOIP_MMDB_PATH in production for better data.
    """

    name = "bundled"

    def country(self, ip: str) -> str | None:
        try:
            code = country_code(ip)
        except (ValueError, TypeError):
            return None
        return code.upper() if code else None
