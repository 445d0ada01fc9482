"""Fetching a post's image_url over real HTTP: what only a real socket shows, the address a
connection went to and the name its certificate was checked against."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from herald.platforms.images import ImageFetcher
from tests.fakes.local_http import serving

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def resolving_to(*addresses: str) -> object:
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


class _Image(BaseHTTPRequestHandler):
    hosts: list[str] = []

    def do_GET(self) -> None:
        _Image.hosts.append(self.headers["Host"])
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[int]:
    with serving(_Image) as port:
        yield port


async def test_a_name_is_fetched_from_the_address_it_was_checked_at(
    local_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # images.test resolves nowhere on this machine: the image arriving proves the connection
    # went to the address the check resolved (made to pass as public here), not to a second
    # lookup that could answer differently.
    monkeypatch.setattr("herald.platforms.images.is_public", lambda address: True)
    async with httpx.AsyncClient() as http:
        fetcher = ImageFetcher(http, resolve=resolving_to("127.0.0.1"))  # type: ignore[arg-type]
        data, _ = await fetcher.fetch("x", f"http://images.test:{local_server}/x.png")

    assert data == PNG
    assert _Image.hosts[-1] == f"images.test:{local_server}"


async def test_a_real_fetch_from_an_allowed_local_host_reads_the_image(local_server: int) -> None:
    async with httpx.AsyncClient() as http:
        data, content_type = await ImageFetcher(http, allow_private=True).fetch(
            "x", f"http://127.0.0.1:{local_server}/x.png"
        )

    assert (data, content_type) == (PNG, "image/png")


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, ssl.SSLContext]]:
    """An HTTPS server on 127.0.0.1 whose certificate names only images.test, and a client
    context that trusts it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "images.test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("images.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    with serving(_Image, tls=server_context) as port:
        yield port, ssl.create_default_context(cafile=str(cert_file))


async def test_over_https_the_certificate_is_checked_against_the_host_name_not_the_address(
    tls_server: tuple[int, ssl.SSLContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, trusting = tls_server
    monkeypatch.setattr("herald.platforms.images.is_public", lambda address: True)
    async with httpx.AsyncClient(verify=trusting) as http:
        fetcher = ImageFetcher(http, resolve=resolving_to("127.0.0.1"))  # type: ignore[arg-type]
        data, _ = await fetcher.fetch("x", f"https://images.test:{port}/x.png")

    assert data == PNG
