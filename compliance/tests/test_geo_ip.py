"""Client IP: X-Forwarded-For only through trusted proxies; spoofed headers are ignored."""

import pytest
from django.test import RequestFactory

from compliance.ip import client_ip, client_ip_from, is_local, parse_ip
from compliance.tests.geo_mmdb import CUBA, US


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip_from(US, CUBA) == US


def test_spoofed_header_from_an_untrusted_client_is_ignored(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    # A client on the Internet claims to be forwarding for someone else.
    assert client_ip_from(US, f"{CUBA}, 10.0.0.9") == US


def test_trusted_proxy_chain_takes_the_rightmost_untrusted_address(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.168.5.5"]
    # client wrote "1.2.3.4" itself; the edge proxy (192.168.5.5) saw 5.10.1.1 and appended it;
    # the internal proxy 10.0.0.5 appended the edge proxy; the peer is 10.0.0.2.
    header = f"1.2.3.4, {CUBA}, 192.168.5.5"
    assert client_ip_from("10.0.0.2", header) == CUBA


def test_chain_of_only_trusted_addresses_uses_the_leftmost(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip_from("10.0.0.2", "10.1.1.1, 10.0.0.3") == "10.1.1.1"


def test_garbage_in_the_header_stops_the_walk(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip_from("10.0.0.2", f"{CUBA}, not-an-ip, 10.0.0.3") == "10.0.0.3"
    assert client_ip_from("10.0.0.2", "") == "10.0.0.2"


def test_request_reads_remote_addr_and_header(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=US)
    assert client_ip(request) == US
    settings.TRUSTED_PROXIES = []
    assert client_ip(request) == "127.0.0.1"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5.20.1.1", "5.20.1.1"),
        (" 5.20.1.1:443 ", "5.20.1.1"),
        ("[2a05:d000::1]:443", "2a05:d000::1"),
        ("::ffff:5.20.1.1", "5.20.1.1"),
        ("fe80::1%eth0", "fe80::1"),
        ("nonsense", None),
        ("", None),
    ],
)
def test_parse_ip(raw, expected):
    parsed = parse_ip(raw)
    assert (str(parsed) if parsed else None) == expected


def test_local_addresses():
    assert is_local("127.0.0.1") and is_local("10.1.2.3") and is_local("::1")
    assert is_local("fd00::1") and is_local("169.254.1.1")
    assert not is_local(US)
