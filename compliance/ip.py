"""The client's IP address: the connection's peer, or X-Forwarded-For through trusted proxies only.

X-Forwarded-For is read only when the direct peer (REMOTE_ADDR) is in settings.TRUSTED_PROXIES
(a list of addresses or CIDRs, empty by default). The header is then walked from the right (each
proxy appends the address it received the request from) and the first address that is not itself
a trusted proxy is the client. Anything to its left was written by the client and can be forged,
so it is never used. A header sent by an untrusted peer is ignored entirely.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=65536)
def parse_ip(value: str | None) -> IPAddress | None:
    """An address from a header or REMOTE_ADDR; None when it is not one. IPv4-mapped IPv6
    addresses are unwrapped; a port on an IPv4 address ("1.2.3.4:5678") is dropped. Cached:
    the same few addresses come back on every request."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "192.0.2.1:443"
        value = value.split(":", 1)[0]
    value = value.split("%", 1)[0]  # zone id
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=4)
def _trusted_networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def trusted_proxies() -> tuple[IPNetwork, ...]:
    return _trusted_networks(tuple(getattr(settings, "TRUSTED_PROXIES", None) or ()))


def _is_trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_ip_from(remote_addr: str | None, forwarded_for: str | None) -> str | None:
    peer = parse_ip(remote_addr)
    if peer is None:
        return None
    networks = trusted_proxies()
    if not forwarded_for or not networks or not _is_trusted(peer, networks):
        return str(peer)
    client = peer
    for hop in reversed(forwarded_for.split(",")):
        address = parse_ip(hop)
        if address is None:
            break  # garbage written by the client: the last good hop is as far as we can trust
        client = address
        if not _is_trusted(address, networks):
            break
    return str(client)


def client_ip(request) -> str | None:
    """The address of the client that sent `request` (see the module docstring)."""
    return client_ip_from(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR"))


def is_local(address: str | IPAddress) -> bool:
    """Private, loopback, link-local and other non-routable addresses."""
    if isinstance(address, str):
        parsed = parse_ip(address)
        if parsed is None:
            return False
        address = parsed
    return not address.is_global


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs) -> None:
    if setting == "TRUSTED_PROXIES":
        _trusted_networks.cache_clear()
