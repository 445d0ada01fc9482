"""Which addresses are the public internet, IPv6 forms that carry an IPv4 address included."""

from __future__ import annotations

import pytest

from herald.addresses import is_public, literal_host_is_private


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_a_global_address_is_public(address: str) -> None:
    assert is_public(address)


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "127.0.0.1",
        "0.0.0.0",
        "169.254.169.254",  # the instance metadata endpoint
        "100.64.0.1",  # shared address space
        "224.0.0.1",
        "::1",
        "::",
        "fd00::1",
        "fe80::1%eth0",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::a9fe:a9fe",  # IPv4-compatible 169.254.169.254
        "::ffff:0:a9fe:a9fe",  # IPv4-translated
        "64:ff9b::a9fe:a9fe",  # NAT64 to the metadata endpoint
        "64:ff9b:1::a00:1",  # local-use NAT64
        "2002:a9fe:a9fe::1",  # 6to4 around 169.254.169.254
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    ],
)
def test_private_loopback_link_local_and_tunnelled_forms_are_not(address: str) -> None:
    assert not is_public(address)


def test_nat64_to_a_public_address_is_public() -> None:
    assert is_public("64:ff9b::5db8:d70e")  # 93.184.215.14


@pytest.mark.parametrize(
    ("url", "private"),
    [
        ("http://localhost/x.png", True),
        ("http://img.localhost/x.png", True),
        ("http://[::1]:8080/x.png", True),
        ("http://10.1.2.3/x.png", True),
        ("https://cdn.example.com/x.png", False),  # a name: judged when it is fetched
        ("https://93.184.215.14/x.png", False),
    ],
)
def test_a_literal_host_is_judged_without_a_lookup(url: str, private: bool) -> None:
    assert literal_host_is_private(url) is private
