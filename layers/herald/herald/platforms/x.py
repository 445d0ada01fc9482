"""X through API v2: `POST /2/tweets`, threads as a reply chain, media through the v2 upload.

A thread is resumable: each tweet's id is confirmed through `Progress` the moment X answers, and a
retry starts after the last confirmed one, replying to it, so no tweet is ever posted twice.

Media (herald.platforms.x_media has the endpoints and their documentation): a post's library
attachments go with the tweet their `part` names (`media.media_ids`, up to 4 images or 1 GIF or
1 video per tweet, https://docs.x.com/x-api/media/quickstart/best-practices), `image_url` with
the first. Every file of every tweet is uploaded and processed before the first tweet is sent,
so a thread never goes out with a tweet whose media X then refuses; while X processes, the
publisher answers `StillProcessing` and the next run resumes from the saved media state. A lost
answer during an upload is only a lost upload, never a post: it is retried as transient rather
than reconciled.
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
from herald.platforms.image_facts import GIF, describe
from herald.platforms.images import ImageFetcher
from herald.platforms.x_media import XUploads

MB = 1024 * 1024
STILL_IMAGE_MAX = 5 * MB  # tweet_image, one-shot or chunked
GIF_MAX = 15 * MB  # tweet_gif

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
        media: dict[int, list[str]] = {}
        if start == 0:
            # Everything uploaded and processed before the first tweet: StillProcessing until
            # then, resumed from the saved state by the next run.
            uploads = XUploads(self._base, creds, self._media_call, progress)
            if content.image_url:
                media.setdefault(0, []).append(await self._upload_image(uploads, content.image_url))
            ids = await uploads.attachments(content.attachments)
            await progress.about_to_post()
        else:
            # A thread resumed after its first tweets: their media is up, its ids are saved.
            saved = progress.state.get("uploads") or {}
            ids = {m: str(e["id"]) for m, e in saved.items() if e.get("id")}
        for item in content.attachments:
            if item.media_id in ids:
                media.setdefault(item.part, []).append(ids[item.media_id])
        for index in range(start, len(parts)):
            body: dict[str, Any] = {"text": parts[index]}
            if progress.part_ids:
                body["reply"] = {"in_reply_to_tweet_id": progress.part_ids[-1]}
            if media.get(index):
                body["media"] = {"media_ids": media[index]}
            response = await errors.send(
                self._http,
                "x",
                "POST",
                f"{self._base}/2/tweets",
                headers=self._auth(creds),
                json=body,
            )
            if response.status_code not in (200, 201):
                raise self.error(
                    response, part=index if len(parts) > 1 else None, reply="reply" in body
                )
            tweet_id = errors.json_body(response).get("data", {}).get("id")
            if not tweet_id:
                raise errors.unexpected("x", response, "data.id")
            await progress.confirm(str(tweet_id))
        ids_out = tuple(progress.part_ids)
        return Published(ids_out[0], tweet_url(creds.details.get("username"), ids_out[0]), ids_out)

    async def _upload_image(self, uploads: XUploads, image_url: str) -> str:
        if uploads.image_started():
            # Downloaded and uploaded by an earlier run, X was processing it: no new download.
            return await uploads.resume_image()
        data, content_type = await self._images.fetch("x", image_url)
        facts = describe(data)
        media_type = facts.format if facts else content_type
        if media_type == GIF:
            # Through the chunked flow either way: the one-shot's media_type has no GIF, and
            # tweet_gif is what makes X process an animation asynchronously.
            animated = facts is not None and facts.animated
            category, limit = (
                ("tweet_gif", GIF_MAX) if animated else ("tweet_image", STILL_IMAGE_MAX)
            )
            _check_size("an animated GIF" if animated else "a still image", len(data), limit)
            return await uploads.image(data, GIF, category)
        _check_size("a still image", len(data), STILL_IMAGE_MAX)
        return await uploads.image(data, media_type, "tweet_image")

    async def _media_call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await errors.send(self._http, "x", method, url, **kwargs)
        except PlatformError as exc:
            if exc.kind is ErrorKind.AMBIGUOUS:
                # An upload creates no post: a lost answer here is simply worth another try.
                raise PlatformError(
                    "x", ErrorKind.TRANSIENT, f"media upload: {exc.detail}"
                ) from exc
            raise
        if response.status_code not in (200, 201, 202, 204):
            raise self.error(response)
        return response

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

    # --- first comment -------------------------------------------------------------------------
    async def comment(self, creds: Credentials, parent_id: str, text: str) -> str:
        """A self-reply: POST /2/tweets with reply.in_reply_to_tweet_id, the account's own tweet
        (https://docs.x.com/x-api/posts/create-post). Replying to one's own post stays allowed
        under the 2026-02-23 reply restriction, which is about other authors' posts."""
        body = {"text": text, "reply": {"in_reply_to_tweet_id": parent_id}}
        response = await errors.send(
            self._http, "x", "POST", f"{self._base}/2/tweets", headers=self._auth(creds), json=body
        )
        if response.status_code not in (200, 201):
            raise self.error(response, reply=True)
        tweet_id = errors.json_body(response).get("data", {}).get("id")
        if not tweet_id:
            raise errors.unexpected("x", response, "data.id")
        return str(tweet_id)

    async def find_comment(
        self, creds: Credentials, parent_id: str, text: str, since: datetime
    ) -> str | None:
        params = {
            "start_time": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "max_results": "100",
            "tweet.fields": "created_at,text,referenced_tweets",
        }
        url = f"{self._base}/2/users/{creds.external_id}/tweets"
        wanted = _comparable(text)
        for _ in range(RECONCILE_PAGES):
            response = await errors.send(
                self._http, "x", "GET", url, headers=self._auth(creds), params=params
            )
            if response.status_code != 200:
                raise self.error(response)
            body = errors.json_body(response)
            for tweet in body.get("data", []):
                replied = {
                    str(r.get("id"))
                    for r in tweet.get("referenced_tweets") or []
                    if r.get("type") == "replied_to"
                }
                if parent_id in replied and _comparable(str(tweet.get("text", ""))) == wanted:
                    return str(tweet["id"])
            next_token = (body.get("meta") or {}).get("next_token")
            if not next_token:
                return None
            params["pagination_token"] = str(next_token)
        return None

    def error(
        self, response: httpx.Response, part: int | None = None, *, reply: bool = False
    ) -> PlatformError:
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
        if status == 402:
            # Pay-per-use: credits are bought ahead and each request spends them
            # (https://docs.x.com/x-api/getting-started/pricing); with none left X answers 402
            # `CreditsDepleted` ("Your enrolled account ... does not have any credits to fulfill
            # this request."). Nothing goes out until someone buys more, so no retry.
            return PlatformError(
                "x",
                ErrorKind.CREDITS_EXHAUSTED,
                f"X API credits are used up ({detail or 'payment required'}); buy credits in the "
                "X developer console, then retry the post",
                status=402,
                platform_code=str(body.get("title") or "") or problem or "payment_required",
            )
        if status == 403 and reply and "reply" in detail.lower():
            # Since 2026-02-23 X lets a self-serve app reply only when the author of the post
            # replied to mentioned or quoted it (https://docs.x.com/changelog; the 403 detail is
            # "Reply to this conversation is not allowed because you have not been mentioned or
            # otherwise engaged by the author of the post you are replying to."). Like the
            # duplicate below, `type` is about:blank and only the text tells it apart.
            return PlatformError(
                "x",
                ErrorKind.REPLY_FORBIDDEN,
                f"X refused the reply: {detail}",
                status=403,
                platform_code="reply_not_allowed",
            )
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


def _check_size(what: str, size: int, limit: int) -> None:
    if size > limit:
        raise PlatformError(
            "x",
            ErrorKind.INVALID_CONTENT,
            f"X takes {what} up to {limit // MB} MB; image_url is {size / MB:.2f} MB",
            platform_code="media_too_large",
        )
