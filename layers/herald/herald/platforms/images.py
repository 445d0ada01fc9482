"""Fetching the image a post names, for the platforms that take bytes (LinkedIn and X).

The URL is the caller's, and the function that fetches it runs inside the VPC, beside Redis and
the instance metadata endpoint. So before any byte leaves, the host must resolve only to public
addresses; the connection actually made is checked again before the body is read (a DNS answer
can change between the two: rebinding); redirects are followed by hand, each hop checked the
same way; and the body is read up to a cap, never whole. Instagram is not fetched here: Meta's
servers fetch its image themselves.

`allow_private` turns the address checks off, for the local sandbox, which serves its images on
127.0.0.1.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from herald.accounts import PlatformName
from herald.addresses import is_public, literal_host_is_private
from herald.platforms import errors
from herald.platforms.base import ErrorKind, PlatformError

Resolver = Callable[[str, int], Awaitable[list[str]]]

MAX_BYTES = 15 * 1024 * 1024  # X's limit for a GIF; its still images stop at 5 MB
MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# What an image starts with, for hosts that serve one as application/octet-stream.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class ImageFetcher:
    http: httpx.AsyncClient
    max_bytes: int = MAX_BYTES
    allow_private: bool = False
    resolve: Resolver = field(default=system_resolver)

    async def fetch(self, platform: PlatformName, url: str) -> tuple[bytes, str]:
        """The image's bytes and content type, or a PlatformError that says what was wrong."""
        for _ in range(MAX_REDIRECTS + 1):
            await self._check_host(platform, url)
            try:
                response = await self.http.send(self.http.build_request("GET", url), stream=True)
            except httpx.TransportError as exc:
                raise errors.from_transport(platform, "GET", exc) from exc
            try:
                self._check_peer(platform, response)
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                return await self._read(platform, response)
            finally:
                await response.aclose()
        raise _invalid(platform, f"image_url redirected more than {MAX_REDIRECTS} times")

    async def _check_host(self, platform: PlatformName, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _invalid(platform, "image_url must be an http(s) URL")
        if self.allow_private:
            return
        if literal_host_is_private(url):
            raise _private(platform, parts.hostname)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = await self.resolve(parts.hostname, port)
        except OSError as exc:  # a lookup that failed now may answer on the next try
            raise PlatformError(
                platform, ErrorKind.TRANSIENT, f"image host {parts.hostname} did not resolve"
            ) from exc
        if not addresses or not all(is_public(a) for a in addresses):
            raise _private(platform, parts.hostname)

    def _check_peer(self, platform: PlatformName, response: httpx.Response) -> None:
        if self.allow_private:
            return
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if peer and not is_public(str(peer[0])):
            raise _private(platform, response.request.url.host)

    async def _read(self, platform: PlatformName, response: httpx.Response) -> tuple[bytes, str]:
        status = response.status_code
        if status >= 500:
            raise PlatformError(platform, ErrorKind.TRANSIENT, f"image host answered {status}")
        if status != 200:
            raise _invalid(platform, f"image_url could not be fetched (HTTP {status})")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise _too_large(platform, self.max_bytes)
        body = bytearray()
        try:
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > self.max_bytes:
                    raise _too_large(platform, self.max_bytes)
        except httpx.TransportError as exc:
            raise errors.from_transport(platform, "GET", exc) from exc
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if not content_type.startswith("image/"):
            sniffed = sniff(bytes(body[:12]))
            if sniffed is None:
                shown = content_type or "no content type"
                raise _invalid(platform, f"image_url did not answer with an image ({shown})")
            content_type = sniffed
        return bytes(body), content_type


def _invalid(platform: PlatformName, reason: str) -> PlatformError:
    return PlatformError(platform, ErrorKind.INVALID_CONTENT, reason)


def _private(platform: PlatformName, host: str | None) -> PlatformError:
    return _invalid(
        platform,
        f"image_url's host {host} is not a public address: images are fetched only from the "
        "public internet",
    )


def _too_large(platform: PlatformName, limit: int) -> PlatformError:
    return _invalid(platform, f"image_url is larger than {limit // (1024 * 1024)} MiB")
