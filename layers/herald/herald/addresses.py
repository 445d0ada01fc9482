"""Which hosts are the public internet: the rule behind fetching a caller's image_url
(herald.platforms.images) and refusing one early (herald.content_rules). Standard library only,
so the API's cold start does not pay for an HTTP client to ask it."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

# IPv6 forms that carry an IPv4 address in their last 32 bits, and reach it: IPv4-compatible,
# IPv4-translated and NAT64's well-known prefix. (Mapped and 6to4 have their own properties.)
_CARRIES_IPV4 = tuple(
    ipaddress.IPv6Network(n) for n in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96")
)
# Local-use NAT64 (RFC 8215): translated by the network's own gateway, to anywhere.
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def is_public(address: str) -> bool:
    """A global unicast address: not private, loopback, link-local (the metadata endpoint),
    shared (100.64/10), multicast or reserved. An IPv6 address that carries an IPv4 one (mapped,
    compatible, 6to4, NAT64) is judged by the IPv4 address it would reach."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
        address.split("%", 1)[0]
    )
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _LOCAL_NAT64 or ip.teredo is not None:
            return False
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
        elif any(ip in network for network in _CARRIES_IPV4):
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.is_global and not ip.is_multicast


def is_address(host: str) -> bool:
    """An IP address (IPv6 with or without its brackets) rather than a name."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def literal_host_is_private(url: str) -> bool:
    """True when the URL's host is `localhost` or an address that is not public: what can be
    refused when a post is created, before any lookup."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    # A name is judged when it is fetched, by the addresses it resolves to.
    return is_address(host) and not is_public(host)
