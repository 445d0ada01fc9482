"""Meta's Graph API: a Facebook Page post, an Instagram post through the container flow, and the
`{error: {code, error_subcode, ...}}` mapping both share.

Tokens travel in the `Authorization` header (Graph accepts it as well as the `access_token`
parameter) so they never end up in a URL a proxy or a log line might keep.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from datetime import datetime
from typing import Any

import httpx

from herald.accounts import Credentials, PlatformName
from herald.clock import parse_iso
from herald.platforms import errors
from herald.platforms.base import (
    RECONCILE_PAGES,
    Content,
    ErrorKind,
    PlatformError,
    Progress,
    Published,
    StillProcessing,
)

# Graph's codes as https://developers.facebook.com/docs/graph-api/guides/error-handling and
# https://developers.facebook.com/docs/graph-api/overview/rate-limiting document them: 4 app,
# 17 user, 32 page, 613 "calls within one hour exceeded", 800xx the business-use-case family
# (80001 Pages, 80002 Instagram, ...) are throttling: wait and retry.
_RATE_CODES = frozenset({4, 17, 32, 613})
_APP_LIMIT = 341  # "Application limit reached": temporary, wait and retry
_POLICY_BLOCK = 368  # "Temporarily blocked for policies violations": wait and retry
_DUPLICATE = 506  # "Duplicate Post": change the content, retrying the same cannot help
_AUTH_CODES = frozenset({102, 190})  # session invalid / token expired or revoked
_TRANSIENT_CODES = frozenset({1, 2, -1, -2})
# Instagram's codes (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/
# reference/error-codes): 4/2207051 is a publish held as suspected spam, not a rate limit, and
# Meta asks to be told if it is not spam; 9007/2207027 is a container not ready to publish
# ("try again 1-2 times in the next 30 seconds to 2 minutes"); 9/2207042 the daily post limit.
_SPAM_SUBCODE = 2207051
_NOT_READY_CODE = 9007
_IG_NOT_READY_SUBCODE = 2207027
_IG_DAILY_LIMIT = (9, 2207042)
# 368 names no duration: long enough that a retry is not simply refused again, short enough to
# fit the worker's redeliveries.
POLICY_BLOCK_WAIT_SECONDS = 600.0


def facebook_url(post_id: str) -> str:
    return f"https://www.facebook.com/{post_id}"


def _regain_seconds(response: httpx.Response) -> float | None:
    """The longest `estimated_time_to_regain_access` (minutes) in Meta's usage headers."""
    minutes = 0.0
    for name in ("x-business-use-case-usage", "x-app-usage", "x-ad-account-usage"):
        raw = response.headers.get(name)
        if not raw:
            continue
        try:
            usage = json.loads(raw)
        except ValueError:
            continue
        entries: list[object] = []
        if isinstance(usage, dict) and "call_count" not in usage:
            for value in usage.values():  # BUC: {business_id: [{type, ..., estimated_...}]}
                entries.extend(value if isinstance(value, list) else [value])
        else:
            entries.append(usage)
        for entry in entries:
            if isinstance(entry, dict):
                try:
                    minutes = max(minutes, float(entry.get("estimated_time_to_regain_access", 0)))
                except (TypeError, ValueError):
                    continue
    return minutes * 60 if minutes > 0 else None


def graph_error(platform: PlatformName, response: httpx.Response) -> PlatformError:
    """Graph's `{error: {message, type, code, error_subcode, fbtrace_id}}` in the error model."""
    error = errors.json_body(response).get("error")
    if not isinstance(error, dict):
        return errors.by_status(platform, response, f"HTTP {response.status_code}")
    code = _as_int(error.get("code")) or 0
    subcode = _as_int(error.get("error_subcode"))
    message = str(error.get("error_user_msg") or error.get("message") or "")
    platform_code = f"{code}/{subcode}" if subcode else str(code)
    status = response.status_code

    def made(kind: ErrorKind, retry_after: float | None = None, why: str = "") -> PlatformError:
        return PlatformError(
            platform,
            kind,
            f"{message} ({why})" if why and message else why or message,
            status=status,
            platform_code=platform_code,
            retry_after=retry_after,
        )

    if code == 4 and subcode == _SPAM_SUBCODE:
        # Checked before the rate codes: the code is 4, but waiting changes nothing.
        why = "held as suspected spam: not retried; if it is not spam, tell Meta"
        return made(ErrorKind.SPAM_SUSPECTED, why=why)
    if code in _AUTH_CODES or code == 10 or 200 <= code <= 299:
        # 10 and 2xx are missing permissions: reconnecting with the right scopes is the fix.
        return made(ErrorKind.AUTH_REVOKED)
    if code in _RATE_CODES or 80000 <= code <= 80099 or (code, subcode) == _IG_DAILY_LIMIT:
        return made(ErrorKind.RATE_LIMITED, _regain_seconds(response))
    if code == _APP_LIMIT:
        return made(ErrorKind.RATE_LIMITED, _regain_seconds(response), "the app's limit")
    if code == _POLICY_BLOCK:
        # Not a duplicate: the block lifts by itself, and the same post may then go out.
        wait = _regain_seconds(response) or POLICY_BLOCK_WAIT_SECONDS
        return made(ErrorKind.POLICY_BLOCKED, wait, "temporarily blocked by Meta: tried later")
    if code == _DUPLICATE:
        return made(ErrorKind.DUPLICATE)
    if code == _NOT_READY_CODE or subcode == _IG_NOT_READY_SUBCODE:
        return made(ErrorKind.TRANSIENT)
    if code in _TRANSIENT_CODES or error.get("is_transient") is True or status >= 500:
        return made(
            ErrorKind.TRANSIENT, errors.parse_retry_after(response.headers.get("retry-after"))
        )
    if code == 100 and subcode == 33:  # the Page or IG account itself cannot be reached
        return made(ErrorKind.PLATFORM_ERROR)
    if code == 100 or 36000 <= code <= 36999 or code in (324, 352):
        return made(ErrorKind.INVALID_CONTENT)
    return made(ErrorKind.PLATFORM_ERROR)


def _as_int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _not_ready(exc: PlatformError) -> bool:
    code, _, subcode = (exc.platform_code or "").partition("/")
    return code == str(_NOT_READY_CODE) or subcode == str(_IG_NOT_READY_SUBCODE)


def container_finished(body: dict[str, Any]) -> bool:
    """An Instagram container's `status_code`: True when it can be published, False while it is
    still processing; a container in ERROR or EXPIRED is the post's failure."""
    status = body.get("status_code")
    if status in ("FINISHED", "PUBLISHED"):
        return True
    if status == "ERROR":
        raise PlatformError(
            "instagram",
            ErrorKind.INVALID_CONTENT,
            f"the media could not be processed: {body.get('status') or 'ERROR'}",
            platform_code="ERROR",
        )
    if status == "EXPIRED":
        raise PlatformError(
            "instagram",
            ErrorKind.PLATFORM_ERROR,
            "the container expired before it was published",
            platform_code="EXPIRED",
        )
    return False


class _Graph:
    def __init__(self, http: httpx.AsyncClient, graph_base: str, version: str) -> None:
        self.http = http
        self.version = version
        self._root = f"{graph_base.rstrip('/')}/{version}"

    async def call(
        self,
        platform: PlatformName,
        creds: Credentials,
        method: str,
        path: str,
        *,
        data: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        root: str | None = None,
    ) -> dict[str, Any]:
        response = await errors.send(
            self.http,
            platform,
            method,
            f"{root or self._root}/{path}",
            headers={"Authorization": f"Bearer {creds.access_token}"},
            data=data,
            params=params,
            files=files,
        )
        if response.status_code != 200:
            raise graph_error(platform, response)
        return errors.json_body(response)

    async def listed(
        self, platform: PlatformName, creds: Credentials, path: str, params: dict[str, str]
    ) -> AsyncGenerator[dict[str, Any]]:
        """A Graph edge's items, newest first, following its `after` cursor for at most
        RECONCILE_PAGES pages."""
        for _ in range(RECONCILE_PAGES):
            body = await self.call(platform, creds, "GET", path, params=params)
            data = body.get("data")
            for item in data if isinstance(data, list) else []:
                if isinstance(item, dict):
                    yield item
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return
            params = {**params, "after": str(after)}


class FacebookPublisher:
    platform: PlatformName = "facebook"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        graph_base: str,
        version: str,
        video_base: str = "https://graph-video.facebook.com",
    ) -> None:
        from herald.platforms.facebook_media import FacebookMedia

        self._graph = _Graph(http, graph_base, version)
        self._media = FacebookMedia(self._graph, video_root=video_base)

    async def publish(self, creds: Credentials, content: Content, progress: Progress) -> Published:
        if progress.part_ids:  # confirmed by an earlier attempt: never post it twice
            post_id = progress.part_ids[0]
            return Published(post_id, facebook_url(post_id), (post_id,))
        if content.attachments:  # files of the media library (herald.platforms.facebook_media)
            return await self._media.publish(creds, content, progress)
        page_id = creds.details.get("page_id") or creds.external_id
        if content.image_url:
            data = {"url": content.image_url}
            if content.text:
                data["caption"] = content.text
            body = await self._graph.call("facebook", creds, "POST", f"{page_id}/photos", data=data)
        else:
            data = {"message": content.text}
            if content.link:
                data["link"] = content.link
            body = await self._graph.call("facebook", creds, "POST", f"{page_id}/feed", data=data)
        # /photos answers {id: <photo id>, post_id: <page post id>}; /feed answers {id: <post id>}.
        answered = body.get("post_id") or body.get("id")
        if not answered:
            raise PlatformError("facebook", ErrorKind.AMBIGUOUS, "answered 200 without an id")
        await progress.confirm(str(answered))
        return Published(str(answered), facebook_url(str(answered)), (str(answered),))

    async def comment(self, creds: Credentials, parent_id: str, text: str) -> str:
        """A comment by the Page on its own post: POST /{post-id}/comments with `message`
        (https://developers.facebook.com/docs/graph-api/reference/object/comments)."""
        body = await self._graph.call(
            "facebook", creds, "POST", f"{parent_id}/comments", data={"message": text}
        )
        if not body.get("id"):
            raise PlatformError("facebook", ErrorKind.AMBIGUOUS, "commented without an id")
        return str(body["id"])

    async def find_comment(
        self, creds: Credentials, parent_id: str, text: str, since: datetime
    ) -> str | None:
        return await _find_graph_comment(
            self._graph, "facebook", creds, parent_id, text, since, "message", "created_time"
        )

    async def find_recent(
        self, creds: Credentials, content: Content, since: datetime
    ) -> Published | None:
        page_id = creds.details.get("page_id") or creds.external_id
        params = {
            "since": str(int(since.timestamp())),
            "fields": "id,message,created_time,permalink_url",
            "limit": "25",
        }
        posts = self._graph.listed("facebook", creds, f"{page_id}/posts", params)
        async with aclosing(posts):
            async for post in posts:
                if str(post.get("message", "")).strip() == content.text.strip() and post.get("id"):
                    url = str(post.get("permalink_url") or facebook_url(str(post["id"])))
                    return Published(str(post["id"]), url, (str(post["id"]),))
        return None


async def _find_graph_comment(
    graph: _Graph,
    platform: PlatformName,
    creds: Credentials,
    parent_id: str,
    text: str,
    since: datetime,
    text_field: str,
    time_field: str,
) -> str | None:
    """A comment `text` under `parent_id` since `since`: Facebook names its text `message` and
    its time `created_time`, Instagram `text` and `timestamp`."""
    params = {"fields": f"id,{text_field},{time_field}", "limit": "50"}
    listed = graph.listed(platform, creds, f"{parent_id}/comments", params)
    async with aclosing(listed):
        async for item in listed:
            try:
                when = parse_iso(str(item.get(time_field) or ""))
            except ValueError:
                continue
            said = str(item.get(text_field) or "").strip()
            if when >= since and said == text.strip() and item.get("id"):
                return str(item["id"])
    return None


async def _default_sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


class InstagramPublisher:
    """Container flow: create (image_url + caption), poll `status_code` to FINISHED, publish."""

    platform: PlatformName = "instagram"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        graph_base: str,
        version: str,
        sleep: Callable[[float], Awaitable[None]] = _default_sleep,
        poll_interval: float = 1.0,
        max_polls: int = 10,
        rupload_base: str = "https://rupload.facebook.com",
        url_seconds: int = 900,
    ) -> None:
        from herald.platforms.instagram_media import InstagramMedia

        self._graph = _Graph(http, graph_base, version)
        self._sleep = sleep
        self._interval = poll_interval
        self._max_polls = max_polls
        self._media = InstagramMedia(
            self._graph, rupload_base=rupload_base, url_seconds=url_seconds
        )

    async def publish(self, creds: Credentials, content: Content, progress: Progress) -> Published:
        if progress.part_ids:
            media_id = progress.part_ids[0]
            return Published(media_id, await self._permalink(creds, media_id), (media_id,))
        if content.attachments:  # files of the media library (herald.platforms.instagram_media)
            return await self._publish_media(creds, content, progress)
        ig = creds.external_id
        if not content.image_url:
            raise PlatformError("instagram", ErrorKind.INVALID_CONTENT, "an image is required")
        await self._check_quota(creds)
        created = await self._graph.call(
            "instagram",
            creds,
            "POST",
            f"{ig}/media",
            data={"image_url": content.image_url, "caption": content.text},
        )
        container = str(created.get("id") or "")
        if not container:
            raise PlatformError("instagram", ErrorKind.TRANSIENT, "no container id was returned")
        await self._wait_finished(creds, container)
        media_id = await self._publish_container(creds, container)
        await progress.confirm(media_id)
        return Published(media_id, await self._permalink(creds, media_id), (media_id,))

    async def _publish_media(
        self, creds: Credentials, content: Content, progress: Progress
    ) -> Published:
        container = await self._media.container(creds, content, progress, self._check_quota)
        await progress.about_to_post()
        try:
            body = await self._graph.call(
                "instagram",
                creds,
                "POST",
                f"{creds.external_id}/media_publish",
                data={"creation_id": container},
            )
        except PlatformError as exc:
            # "Media ID is not available" even after FINISHED at times: come back shortly. A
            # container publishes at most once, so asking again cannot post twice.
            if _not_ready(exc):
                raise StillProcessing(5.0, "media") from exc
            raise
        media_id = str(body.get("id") or "")
        if not media_id:
            raise PlatformError("instagram", ErrorKind.AMBIGUOUS, "published without an id")
        await progress.confirm(media_id)
        return Published(media_id, await self._permalink(creds, media_id), (media_id,))

    async def _check_quota(self, creds: Credentials) -> None:
        # Meta has changed this number several times (25, 50, 100 a day): read it, don't assume it.
        body = await self._graph.call(
            "instagram",
            creds,
            "GET",
            f"{creds.external_id}/content_publishing_limit",
            params={"fields": "config,quota_usage"},
        )
        data = body.get("data")
        entry = data[0] if isinstance(data, list) and data else {}
        config = entry.get("config") or {}
        total, used = config.get("quota_total"), entry.get("quota_usage")
        if isinstance(total, int) and isinstance(used, int) and used >= total:
            # The window is a rolling 24 hours: the oldest post leaves it at a time we do not
            # know without another read, so ask for a re-check in an hour.
            raise PlatformError(
                "instagram",
                ErrorKind.RATE_LIMITED,
                f"publishing quota used up ({used} of {total} in 24 hours)",
                platform_code="content_publishing_limit",
                retry_after=3600.0,
            )

    async def _wait_finished(self, creds: Credentials, container: str) -> None:
        for attempt in range(self._max_polls):
            body = await self._graph.call(
                "instagram", creds, "GET", container, params={"fields": "status_code,status"}
            )
            if container_finished(body):
                return
            if attempt < self._max_polls - 1:
                await self._sleep(self._interval)
        # An unpublished container simply expires after 24 hours, so starting over is safe.
        raise PlatformError(
            "instagram",
            ErrorKind.TRANSIENT,
            "the media was still being processed",
            platform_code="IN_PROGRESS",
        )

    async def _publish_container(self, creds: Credentials, container: str) -> str:
        for attempt in range(self._max_polls):
            try:
                body = await self._graph.call(
                    "instagram",
                    creds,
                    "POST",
                    f"{creds.external_id}/media_publish",
                    data={"creation_id": container},
                )
            except PlatformError as exc:
                # "Media ID is not available": published too early, even after FINISHED at times.
                # A container publishes at most once, so asking again cannot post twice.
                if _not_ready(exc) and attempt < self._max_polls - 1:
                    await self._sleep(self._interval)
                    continue
                raise
            media_id = body.get("id")
            if not media_id:
                raise PlatformError("instagram", ErrorKind.AMBIGUOUS, "published without an id")
            return str(media_id)
        raise PlatformError("instagram", ErrorKind.TRANSIENT, "the container never became ready")

    async def _permalink(self, creds: Credentials, media_id: str) -> str:
        try:
            body = await self._graph.call(
                "instagram", creds, "GET", media_id, params={"fields": "permalink"}
            )
        except PlatformError:
            # The post is out; a missing link must not turn a success into a failure.
            return f"https://www.instagram.com/{creds.details.get('username', '')}"
        return str(body.get("permalink") or "https://www.instagram.com/")

    async def comment(self, creds: Credentials, parent_id: str, text: str) -> str:
        """A comment by the account on its own media: POST /{ig-media-id}/comments with
        `message` (https://developers.facebook.com/documentation/instagram-platform/
        instagram-graph-api/reference/ig-media/comments)."""
        body = await self._graph.call(
            "instagram", creds, "POST", f"{parent_id}/comments", data={"message": text}
        )
        if not body.get("id"):
            raise PlatformError("instagram", ErrorKind.AMBIGUOUS, "commented without an id")
        return str(body["id"])

    async def find_comment(
        self, creds: Credentials, parent_id: str, text: str, since: datetime
    ) -> str | None:
        return await _find_graph_comment(
            self._graph, "instagram", creds, parent_id, text, since, "text", "timestamp"
        )

    async def find_recent(
        self, creds: Credentials, content: Content, since: datetime
    ) -> Published | None:
        params = {"fields": "id,caption,timestamp,permalink", "limit": "25"}
        path = f"{creds.external_id}/media"
        media_list = self._graph.listed("instagram", creds, path, params)
        async with aclosing(media_list):  # leaving early must not leave the pager suspended
            async for media in media_list:
                stamp = str(media.get("timestamp") or "")
                try:
                    when = parse_iso(stamp)  # Graph writes 2026-11-25T12:00:00+0000
                except ValueError:
                    continue
                if when < since:
                    break  # newest first: everything after this is older still
                if str(media.get("caption", "")).strip() == content.text.strip() and media.get(
                    "id"
                ):
                    url = str(media.get("permalink") or "https://www.instagram.com/")
                    return Published(str(media["id"]), url, (str(media["id"]),))
        return None
