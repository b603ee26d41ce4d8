"""Country lookup behind one function, `country_for_ip`, cached in process.

The backend is a MaxMind-format .mmdb database through geoip2 when settings.GEOIP_MMDB_PATH is
set, the bundled default (iptocc) otherwise. Private, loopback and other non-global addresses map
to settings.GEOIP_LOCAL_COUNTRY (default None: unknown) without asking the backend.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from compliance.geoip.base import CountryLookup
from compliance.ip import is_local, parse_ip

__all__ = ["CountryLookup", "country_for_ip", "get_lookup", "reset"]

_lock = threading.Lock()
_lookup: CountryLookup | None = None


def get_lookup() -> CountryLookup:
    global _lookup
    if _lookup is None:
        with _lock:
            if _lookup is None:
                path = getattr(settings, "GEOIP_MMDB_PATH", None)
                if path:
                    from compliance.geoip.mmdb import MaxMindCountryLookup

                    _lookup = MaxMindCountryLookup(str(path))
                else:
                    from compliance.geoip.bundled import BundledCountryLookup

                    _lookup = BundledCountryLookup()
    return _lookup


def _local_country() -> str | None:
    code = getattr(settings, "GEOIP_LOCAL_COUNTRY", None)
    return code.upper() if code else None


@lru_cache(maxsize=65536)
def _country(ip: str) -> str | None:
    address = parse_ip(ip)
    if address is None:
        return None
    if is_local(address):
        return _local_country()
    return get_lookup().country(str(address))


def country_for_ip(ip: str | None) -> str | None:
    """ISO code of the country `ip` is placed in, or None when unknown."""
    if not ip:
        return None
    return _country(ip)


def reset() -> None:
    """Forget the backend and the cached answers (settings changed, database replaced)."""
    global _lookup
    with _lock:
        if _lookup is not None and hasattr(_lookup, "close"):
            _lookup.close()
        _lookup = None
    _country.cache_clear()


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs) -> None:
    if setting in {"GEOIP_MMDB_PATH", "GEOIP_LOCAL_COUNTRY"}:
        reset()
