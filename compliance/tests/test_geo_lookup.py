"""Country lookup: the .mmdb backend, the bundled default, local addresses, the cache."""

from compliance import geoip
from compliance.geoip import country_for_ip, get_lookup
from compliance.tests.geo_mmdb import CUBA, NORTH_KOREA_V6, UK_V6, UNMAPPED, US


def test_mmdb_backend(settings, country_mmdb):
    settings.GEOIP_MMDB_PATH = str(country_mmdb)
    assert get_lookup().name == "mmdb"
    assert country_for_ip(CUBA) == "CU"
    assert country_for_ip(US) == "US"
    assert country_for_ip(UK_V6) == "GB"
    assert country_for_ip(NORTH_KOREA_V6) == "KP"
    assert country_for_ip(f"::ffff:{CUBA}") == "CU"
    assert country_for_ip(UNMAPPED) is None
    assert country_for_ip("not an ip") is None
    assert country_for_ip(None) is None


def test_bundled_backend_without_a_path(settings):
    settings.GEOIP_MMDB_PATH = None
    assert get_lookup().name == "bundled"
    assert country_for_ip("8.8.8.8") == "US"  # RIR data: Google's block is assigned to the US


def test_local_addresses_map_to_the_configured_country(settings, country_mmdb):
    settings.GEOIP_MMDB_PATH = str(country_mmdb)
    settings.GEOIP_LOCAL_COUNTRY = None
    assert country_for_ip("127.0.0.1") is None
    settings.GEOIP_LOCAL_COUNTRY = "de"
    assert country_for_ip("127.0.0.1") == "DE"
    assert country_for_ip("192.168.1.20") == "DE"
    assert country_for_ip("::1") == "DE"


def test_lookups_are_cached_in_process(settings, country_mmdb):
    settings.GEOIP_MMDB_PATH = str(country_mmdb)
    calls = []
    backend = get_lookup()
    original = backend.country

    def counting(ip):
        calls.append(ip)
        return original(ip)

    backend.country = counting
    for _ in range(5):
        assert country_for_ip(CUBA) == "CU"
    assert calls == [CUBA]
    geoip.reset()
    assert get_lookup() is not backend
