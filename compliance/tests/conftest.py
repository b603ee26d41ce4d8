"""Geo-fencing fixtures: a test .mmdb, the middleware switched on, clean in-process state."""

import pytest

from compliance import geo, geoip
from compliance.tests.geo_mmdb import write_country_mmdb

GEO_MIDDLEWARE = "compliance.middleware.GeoFenceMiddleware"


@pytest.fixture(scope="session")
def country_mmdb(tmp_path_factory):
    return write_country_mmdb(tmp_path_factory.mktemp("geoip") / "countries.mmdb")


@pytest.fixture(autouse=True)
def _geo_state():
    # Rows made by a test are rolled back without a signal: never carry a snapshot over.
    geo.reset_rules()
    geoip.reset()
    yield
    geo.reset_rules()
    geoip.reset()


@pytest.fixture
def geo_settings(settings, country_mmdb):
    """The test database, no trusted proxies, the middleware on, /restricted routed."""
    settings.GEOIP_MMDB_PATH = str(country_mmdb)
    settings.GEOIP_LOCAL_COUNTRY = None
    settings.TRUSTED_PROXIES = []
    middleware = list(settings.MIDDLEWARE)
    if GEO_MIDDLEWARE not in middleware:
        index = middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")
        middleware.insert(index + 1, GEO_MIDDLEWARE)
    settings.MIDDLEWARE = middleware
    settings.ROOT_URLCONF = "compliance.tests.urls"
    return settings
