"""X through API v2: `POST /2/tweets`, threads as a reply chain, images through `/2/media/upload`.

A thread is resumable: each tweet's id is confirmed through `Progress` the moment X answers, and a
retry starts after the last confirmed one, replying to it, so no tweet is ever posted twice.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from herald.accounts import Credentials, PlatformName
from herald.platforms import errors
from herald.platforms.base import (
    RECONCILE_PAGES,
    Content,
    ErrorKind,
    PlatformError,
    Progress,
    Published,
)
from herald.platforms.images import ImageFetcher

_URL = re.compile(r"https?://\S+")
_SPACE = re.compile(r"\s+")


def tweet_url(username: str | None, tweet_id: str) -> str:
    # x.com/i/status/{id} redirects to the author's own URL, so a missing username still works.
    return f"https://x.com/{username or 'i'}/status/{tweet_id}"


def _comparable(text: str) -> str:
    """Text as X gives it back, reduced to what survives the round trip: X HTML-escapes `& < >`,
    rewrites every URL to t.co and appends a t.co link for attached media."""
    return _SPACE.sub(" ", _URL.sub("", html.unescape(text))).strip()


class XPublisher:
    platform: PlatformName = "x"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_base: str,
        now: Callable[[], datetime] | None = None,
        images: ImageFetcher | None = None,
    ) -> None:
        self._http = http
        self._images = images or ImageFetcher(http)
        self._base = api_base.rstrip("/")
        self._now = now or (lambda: datetime.now(UTC))

    @staticmethod
    def _auth(creds: Credentials) -> dict[str, str]:
        return {"Authorization": f"Bearer {creds.access_token}"}

    async def publish(self, creds: Credentials, content: Content, progress: Progress) -> Published:
        parts = content.parts
        start = len(progress.part_ids)
        media_ids: list[str] = []
        if content.image_url and start == 0:
            media_ids.append(await self._upload_image(creds, content.image_url))
        for index in range(start, len(parts)):
            body: dict[str, Any] = {"text": parts[index]}
            if progress.part_ids:
                body["reply"] = {"in_reply_to_tweet_id": progress.part_ids[-1]}
            if index == 0 and media_ids:
                body["media"] = {"media_ids": media_ids}
            response = await errors.send(
                self._http,
                "x",
                "POST",
                f"{self._base}/2/tweets",
                headers=self._auth(creds),
                json=body,
            )
            if response.status_code not in (200, 201):
                raise self.error(response, part=index if len(parts) > 1 else None)
            tweet_id = errors.json_body(response).get("data", {}).get("id")
            if not tweet_id:
                raise errors.unexpected("x", response, "data.id")
            await progress.confirm(str(tweet_id))
        ids = tuple(progress.part_ids)
        return Published(ids[0], tweet_url(creds.details.get("username"), ids[0]), ids)

    async def _upload_image(self, creds: Credentials, image_url: str) -> str:
        data, content_type = await self._images.fetch("x", image_url)
        # The one-shot v2 upload: raw bytes in the multipart `media` field, no INIT/APPEND/FINALIZE
        # (those are for video and files over 5 MB).
        response = await errors.send(
            self._http,
            "x",
            "POST",
            f"{self._base}/2/media/upload",
            headers=self._auth(creds),
            data={"media_category": "tweet_image", "media_type": content_type},
            files={"media": ("image", data, content_type)},
        )
        if response.status_code not in (200, 201):
            raise self.error(response)
        media_id = errors.json_body(response).get("data", {}).get("id")
        if not media_id:
            raise errors.unexpected("x", response, "data.id for the media")
        return str(media_id)

    async def find_recent(
        self, creds: Credentials, content: Content, since: datetime
    ) -> Published | None:
        params = {
            "start_time": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "max_results": "100",
            "tweet.fields": "created_at,text",
        }
        url = f"{self._base}/2/users/{creds.external_id}/tweets"
        # Follow next_token back to start_time (base.RECONCILE_PAGES says why, and how far).
        pages: list[dict[str, Any]] = []
        for _ in range(RECONCILE_PAGES):
            response = await errors.send(
                self._http, "x", "GET", url, headers=self._auth(creds), params=params
            )
            if response.status_code != 200:
                raise self.error(response)
            body = errors.json_body(response)
            pages.extend(t for t in body.get("data", []) if isinstance(t, dict))
            next_token = (body.get("meta") or {}).get("next_token")
            if not next_token:
                break
            params["pagination_token"] = str(next_token)
        # Newest first from X; a thread went out oldest first.
        tweets = list(reversed(pages))
        wanted = [_comparable(part) for part in content.parts]
        found: list[str] = []
        for tweet in tweets:
            if len(found) == len(wanted):
                break
            if _comparable(str(tweet.get("text", ""))) == wanted[len(found)]:
                found.append(str(tweet["id"]))
        # A thread counts only when every tweet is there: a partial one proves nothing about the
        # tweet whose answer was lost, so the engine leaves it to a person.
        if len(found) != len(wanted):
            return None
        return Published(found[0], tweet_url(creds.details.get("username"), found[0]), tuple(found))

    def error(self, response: httpx.Response, part: int | None = None) -> PlatformError:
        """X's problem+json (`title, detail, type, status`) and `errors[]` in the error model."""
        body = errors.json_body(response)
        messages = [
            str(e.get("message", "")) for e in body.get("errors", []) if isinstance(e, dict)
        ]
        detail = str(
            body.get("detail") or "; ".join(m for m in messages if m) or body.get("title", "")
        )
        if part is not None:
            detail = f"tweet {part + 1} of the thread: {detail}"
        kind = str(body.get("type", ""))
        problem = kind.rsplit("/", 1)[-1] if kind.startswith("http") else None
        status = response.status_code
        if status == 403 and "duplicate content" in detail.lower():
            # X sends no code for this one: `type` is about:blank and only the text tells it apart
            # from the other 403s (missing scope, suspended app).
            return PlatformError(
                "x", ErrorKind.DUPLICATE, detail, status=403, platform_code="duplicate"
            )
        if status == 429:
            return errors.by_status(
                "x", response, detail, platform_code=problem, retry_after=self._reset(response)
            )
        return errors.by_status("x", response, detail, platform_code=problem)

    def _reset(self, response: httpx.Response) -> float | None:
        headers = response.headers
        now = self._now()
        # The per-user 24-hour posting cap has its own pair of headers and outlasts the window.
        if headers.get("x-user-limit-24hour-remaining") == "0":
            reset = errors.seconds_until_epoch(headers.get("x-user-limit-24hour-reset"), now)
            if reset is not None:
                return reset
        reset = errors.seconds_until_epoch(headers.get("x-rate-limit-reset"), now)
        if reset is not None:
            return reset
        return errors.parse_retry_after(headers.get("retry-after"), now)
