"""Fetching the image a post names, for the platforms that take bytes (LinkedIn and X).

The URL is the caller's, and the function that fetches it runs inside the VPC, beside Redis and
the instance metadata endpoint. So:

- the host is resolved here, every address it resolves to must be public, and the request goes
  to one of those checked addresses (the URL's host is replaced by it; the `Host` header and the
  TLS server name stay the host's), so a second lookup cannot answer differently (rebinding);
- redirects are followed by hand, each hop resolved and checked the same way;
- the body is asked for and read uncompressed (`Accept-Encoding: identity`; anything compressed
  is refused, since a few hundred gzipped bytes can decompress to gigabytes), up to a cap;
- the whole fetch has a deadline, so a host that drips a byte at a time cannot hold a Lambda.

Every way it can fail is a PlatformError, raised before anything was posted: never a reason to
think the post may be out. Instagram is not fetched here: Meta's servers fetch its image.
`allow_private` turns the address checks off, for the local sandbox, which serves its images on
127.0.0.1.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from herald.accounts import PlatformName
from herald.addresses import is_address, is_public
from herald.platforms import errors
from herald.platforms.base import ErrorKind, PlatformError

Resolver = Callable[[str, int], Awaitable[list[str]]]

MAX_BYTES = 15 * 1024 * 1024  # X's limit for a GIF; its still images stop at 5 MB
MAX_REDIRECTS = 3
TIMEOUT_SECONDS = 20.0
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_BUSY = frozenset({408, 425, 429})
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
    timeout_seconds: float = TIMEOUT_SECONDS

    async def fetch(self, platform: PlatformName, url: str) -> tuple[bytes, str]:
        """The image's bytes and content type, or a PlatformError that says what was wrong."""
        try:
            async with asyncio.timeout(self.timeout_seconds):
                return await self._follow(platform, url)
        except TimeoutError as exc:
            seconds = f"{self.timeout_seconds:g}"
            raise PlatformError(
                platform, ErrorKind.TRANSIENT, f"image_url took over {seconds} s to download"
            ) from exc
        except (ValueError, httpx.InvalidURL, httpx.DecodingError) as exc:
            raise _invalid(platform, f"image_url cannot be fetched: {exc}") from exc

    async def _follow(self, platform: PlatformName, url: str) -> tuple[bytes, str]:
        target = httpx.URL(url)
        for _ in range(MAX_REDIRECTS + 1):
            request = await self._request(platform, target)
            try:
                response = await self.http.send(request, stream=True)
            except httpx.TransportError as exc:
                raise errors.from_transport(platform, "GET", exc) from exc
            try:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    target = target.join(response.headers["location"])
                    continue
                return await self._read(platform, response)
            finally:
                await response.aclose()
        raise _invalid(platform, f"image_url redirected more than {MAX_REDIRECTS} times")

    async def _request(self, platform: PlatformName, url: httpx.URL) -> httpx.Request:
        """A GET for `url`, sent to an address checked here (unless private hosts are allowed)."""
        if url.scheme not in ("http", "https") or not url.host:
            raise _invalid(platform, "image_url must be an http(s) URL")
        if url.port is not None and not 0 < url.port < 65536:
            raise _invalid(platform, f"image_url's port {url.port} does not exist")
        headers = {"Accept": "image/*", "Accept-Encoding": "identity"}
        if self.allow_private:
            return self.http.build_request("GET", url, headers=headers)
        host = url.raw_host.decode("ascii")  # as the connection would look it up (IDNA 2008)
        try:
            addresses = (
                [host.strip("[]")]
                if is_address(host)
                else await self.resolve(host, url.port or (443 if url.scheme == "https" else 80))
            )
        except OSError as exc:  # a lookup that failed now may answer on the next try
            raise PlatformError(
                platform, ErrorKind.TRANSIENT, f"image host {url.host} did not resolve"
            ) from exc
        if not addresses or not all(is_public(a) for a in addresses):
            raise _private(platform, url.host)
        pinned = url.copy_with(host=addresses[0])
        headers["Host"] = url.netloc.decode("ascii")
        return self.http.build_request(
            "GET", pinned, headers=headers, extensions={"sni_hostname": host}
        )

    async def _read(self, platform: PlatformName, response: httpx.Response) -> tuple[bytes, str]:
        status = response.status_code
        if status >= 500 or status in _BUSY:
            raise PlatformError(platform, ErrorKind.TRANSIENT, f"image host answered {status}")
        if status != 200:
            raise _invalid(platform, f"image_url could not be fetched (HTTP {status})")
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise _invalid(platform, f"image_url answered compressed ({encoding}): not an image")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise _too_large(platform, self.max_bytes)
        body = bytearray()
        try:
            # No decoder runs: any Content-Encoding but identity was refused above.
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
    return PlatformError(
        platform,
        ErrorKind.INVALID_CONTENT,
        f"image_url is larger than {limit // (1024 * 1024)} MiB",
        platform_code="too_large",
    )
