"""Which hosts are the public internet: the rule behind fetching a caller's image_url
(herald.platforms.images) and refusing one early (herald.content_rules). Standard library only,
so the API's cold start does not pay for an HTTP client to ask it."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_public(address: str) -> bool:
    """A global unicast address: not private, loopback, link-local (the metadata endpoint),
    shared (100.64/10), multicast or reserved; an IPv4-mapped IPv6 address is judged as IPv4."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def literal_host_is_private(url: str) -> bool:
    """True when the URL's host is `localhost` or an address that is not public: what can be
    refused when a post is created, before any lookup."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not is_public(host)
    except ValueError:  # a name, judged when it is fetched
        return False
