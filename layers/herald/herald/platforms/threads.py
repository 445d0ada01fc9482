"""Threads through its Graph API (graph.threads.net): a media container, then `threads_publish`.

    text | one image | one video | 2-20 images and videos (a carousel: one container per item,
    then a CAROUSEL container naming them as children)
      --POST /{user}/threads--> container --status FINISHED--> POST /{user}/threads_publish

https://developers.facebook.com/documentation/threads/posts (the flow, 500 characters, carousels)
https://developers.facebook.com/docs/threads/troubleshooting (container status: IN_PROGRESS,
FINISHED, ERROR with an error_message, EXPIRED after 24 hours unpublished)
https://developers.facebook.com/documentation/threads/retrieve-and-manage-replies/create-replies

A post's `thread` goes out as a chain: each later part is a reply (`reply_to_id`) to the one
before. Each part's id is confirmed through `Progress` the moment Threads answers, and a retry
starts after the last confirmed one, so no part is posted twice. Containers are cheap to abandon:
one never published expires by itself, so a retry that starts a part over is safe.

The publishing limit (250 posts and 1,000 replies per moving 24 hours when this was written) is
read from `threads_publishing_limit` before publishing, never assumed:
https://developers.facebook.com/documentation/threads/overview
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from herald.accounts import Credentials, PlatformName
from herald.clock import isoformat, parse_iso
from herald.media.model import Attachment
from herald.platforms import errors
from herald.platforms.base import (
    RECONCILE_PAGES,
    Content,
    ErrorKind,
    MediaItem,
    PlatformError,
    Progress,
    Published,
    StillProcessing,
)
from herald.platforms.meta import graph_error

_LIST_LIMIT = "100"  # the edge's documented maximum page size
# Threads suggests reading a video container's status about once a minute; images are
# usually FINISHED at once, so they are asked again sooner.
_IMAGE_CHECK_AFTER = 5.0
_VIDEO_CHECK_AFTER = 30.0


@dataclass(frozen=True)
class Quota:
    """One of the publishing-limit counters: `used` of `total` in the last `window_seconds`."""

    used: int
    total: int
    window_seconds: int

    @property
    def left(self) -> int:
        return max(0, self.total - self.used)


@dataclass(frozen=True)
class PublishingLimit:
    posts: Quota
    replies: Quota | None = None


def profile_url(username: str | None) -> str:
    return f"https://www.threads.com/@{username}" if username else "https://www.threads.com/"


async def _default_sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def _quota(used: Any, config: Any) -> Quota | None:
    if not isinstance(config, dict):
        return None
    total, window = config.get("quota_total"), config.get("quota_duration", 86_400)
    if not isinstance(used, int) or not isinstance(total, int) or not isinstance(window, int):
        return None
    return Quota(used, total, window)


class ThreadsPublisher:
    platform: PlatformName = "threads"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        graph_base: str,
        version: str,
        sleep: Callable[[float], Awaitable[None]] = _default_sleep,
        # About 14 s of waiting at most: with the calls around it, an immediate publish stays
        # inside API Gateway's 29 s. A video still processing then fails the attempt as
        # transient and a later one starts it over (Threads suggests polling once a minute for up
        # to 5 minutes, which no synchronous caller here can afford).
        poll_interval: float = 2.0,
        max_polls: int = 8,
        now: Callable[[], datetime] | None = None,
        url_seconds: int = 900,
    ) -> None:
        self._url_seconds = url_seconds
        self._http = http
        self._root = f"{graph_base.rstrip('/')}/{version}"
        self._sleep = sleep
        self._interval = poll_interval
        self._max_polls = max_polls
        self._now = now or (lambda: datetime.now(UTC))

    async def _call(
        self,
        creds: Credentials,
        method: str,
        path: str,
        *,
        data: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = await errors.send(
            self._http,
            "threads",
            method,
            f"{self._root}/{path}",
            headers={"Authorization": f"Bearer {creds.access_token}"},
            data=data,
            params=params,
        )
        if response.status_code != 200:
            raise graph_error("threads", response)
        return errors.json_body(response)

    # --- publishing ------------------------------------------------------------------------
    async def publish(self, creds: Credentials, content: Content, progress: Progress) -> Published:
        parts = content.parts
        start = len(progress.part_ids)
        if start < len(parts):
            await self._check_limit(creds, posts=1 if start == 0 else 0, replies=len(parts) - 1)
        for index in range(start, len(parts)):
            if content.attachments_of(index):
                # Files of the media library: containers as saved state, no waiting here.
                await self._publish_media_part(creds, content, index, progress)
                continue
            try:
                if index == 0:
                    container = await self._root_container(creds, content, parts[0])
                else:
                    container = await self._container(
                        creds,
                        {
                            "media_type": "TEXT",
                            "text": parts[index],
                            "reply_to_id": progress.part_ids[-1],
                        },
                    )
                await self._wait_finished(creds, container)
                body = await self._call(
                    creds,
                    "POST",
                    f"{creds.external_id}/threads_publish",
                    data={"creation_id": container},
                )
            except PlatformError as exc:
                if len(parts) == 1:
                    raise
                raise PlatformError(
                    "threads",
                    exc.kind,
                    f"part {index + 1} of the thread: {exc.detail}",
                    status=exc.status,
                    platform_code=exc.platform_code,
                    retry_after=exc.retry_after,
                ) from exc
            media_id = body.get("id")
            if not media_id:
                raise PlatformError("threads", ErrorKind.AMBIGUOUS, "published without an id")
            await progress.confirm(str(media_id))
        ids = tuple(progress.part_ids)
        return Published(ids[0], await self._permalink(creds, ids[0]), ids)

    async def _publish_media_part(
        self, creds: Credentials, content: Content, index: int, progress: Progress
    ) -> None:
        """One part of the post (or of the thread) with its uploaded files: one container per
        file (a carousel item each when there are several), then the part's own container, each
        id saved as Threads answers it; a container still processing answers StillProcessing
        and the next run resumes from the saved ids. Threads fetches the files itself, so each
        gets a presigned S3 link that lives `url_seconds`."""
        try:
            container = await self._media_container(creds, content, index, progress)
            await progress.about_to_post()
            try:
                body = await self._call(
                    creds,
                    "POST",
                    f"{creds.external_id}/threads_publish",
                    data={"creation_id": container},
                )
            except PlatformError as exc:
                if exc.platform_code and exc.platform_code.startswith("24/"):
                    raise StillProcessing(_IMAGE_CHECK_AFTER, "media") from exc
                raise
        except PlatformError as exc:
            if len(content.parts) == 1:
                raise
            raise PlatformError(
                "threads",
                exc.kind,
                f"part {index + 1} of the thread: {exc.detail}",
                status=exc.status,
                platform_code=exc.platform_code,
                retry_after=exc.retry_after,
            ) from exc
        media_id = body.get("id")
        if not media_id:
            raise PlatformError("threads", ErrorKind.AMBIGUOUS, "published without an id")
        await progress.confirm(str(media_id))
        # This part is out: the next one starts its own uploads, resumable again.
        rest = {k: v for k, v in progress.state.items() if k not in ("posting", "part")}
        await progress.save_state(rest)

    async def _media_container(
        self, creds: Credentials, content: Content, index: int, progress: Progress
    ) -> str:
        items = content.attachments_of(index)
        saved = progress.state.get("part") or {}
        part: dict[str, Any] = dict(saved) if saved.get("index") == index else {"index": index}
        carousel = len(items) > 1
        children = [str(c) for c in part.get("children", [])]
        for item in items[len(children) :]:
            fields = self._item_fields(item)
            if carousel:
                fields["is_carousel_item"] = "true"
            else:
                fields.update(self._part_fields(content, index, progress))
            children.append(await self._container(creds, fields))
            part["children"] = list(children)
            await progress.save_state({**progress.state, "part": dict(part)})
        await self._children_finished(creds, children, items, part, progress)
        if not carousel:
            return children[0]
        parent = str(part.get("container") or "")
        if not parent:
            fields = {"media_type": "CAROUSEL", "children": ",".join(children)}
            fields.update(self._part_fields(content, index, progress))
            parent = await self._container(creds, fields)
            part["container"] = parent
            await progress.save_state({**progress.state, "part": dict(part)})
        if parent not in part.get("finished", []):
            await self._status_once(creds, parent, _IMAGE_CHECK_AFTER)
            part["finished"] = [*part.get("finished", []), parent]
            await progress.save_state({**progress.state, "part": dict(part)})
        return parent

    def _item_fields(self, item: Attachment) -> dict[str, str]:
        url = item.url(self._url_seconds)
        if item.kind == "video":
            fields = {"media_type": "VIDEO", "video_url": url}
        else:
            fields = {"media_type": "IMAGE", "image_url": url}
        if item.alt_text:
            fields["alt_text"] = item.alt_text
        return fields

    def _part_fields(self, content: Content, index: int, progress: Progress) -> dict[str, str]:
        fields: dict[str, str] = {}
        text = content.parts[index]
        if text:
            fields["text"] = text
        if index > 0:
            fields["reply_to_id"] = progress.part_ids[-1]
        return fields

    async def _children_finished(
        self,
        creds: Credentials,
        children: list[str],
        items: tuple[Attachment, ...],
        part: dict[str, Any],
        progress: Progress,
    ) -> None:
        finished = [str(c) for c in part.get("finished", [])]
        waiting: float | None = None
        for container, item in zip(children, items, strict=True):
            if container in finished:
                continue
            after = _VIDEO_CHECK_AFTER if item.kind == "video" else _IMAGE_CHECK_AFTER
            try:
                await self._status_once(creds, container, after)
            except StillProcessing as wait:
                waiting = min(waiting or wait.after_seconds, wait.after_seconds)
                continue
            finished.append(container)
        if finished != part.get("finished", []):
            part["finished"] = finished
            await progress.save_state({**progress.state, "part": dict(part)})
        if waiting is not None:
            raise StillProcessing(waiting, "media")

    async def _status_once(self, creds: Credentials, container: str, after: float) -> None:
        """One status read: FINISHED returns, ERROR and EXPIRED fail, anything else (IN_PROGRESS)
        is StillProcessing. https://developers.facebook.com/docs/threads/troubleshooting"""
        body = await self._call(
            creds, "GET", container, params={"fields": "id,status,error_message"}
        )
        if not _container_finished(body):
            raise StillProcessing(after, "media")

    async def _root_container(self, creds: Credentials, content: Content, text: str) -> str:
        media = list(content.media)
        if content.image_url:
            media.insert(0, MediaItem(content.image_url, "image"))
        if len(media) > 1:
            children = [
                await self._container(creds, {**_media_fields(item), "is_carousel_item": "true"})
                for item in media
            ]
            for child in children:  # every item is processed before the carousel is made
                await self._wait_finished(creds, child)
            fields = {"media_type": "CAROUSEL", "children": ",".join(children)}
        elif media:
            fields = _media_fields(media[0])
        else:
            fields = {"media_type": "TEXT"}
            if content.link:
                fields["link_attachment"] = content.link
        if text:
            fields["text"] = text
        return await self._container(creds, fields)

    async def _container(self, creds: Credentials, fields: dict[str, str]) -> str:
        body = await self._call(creds, "POST", f"{creds.external_id}/threads", data=fields)
        container = str(body.get("id") or "")
        if not container:
            # Nothing is published until threads_publish: starting over is safe.
            raise PlatformError("threads", ErrorKind.TRANSIENT, "no container id was returned")
        return container

    async def _wait_finished(self, creds: Credentials, container: str) -> None:
        for attempt in range(self._max_polls):
            body = await self._call(
                creds, "GET", container, params={"fields": "id,status,error_message"}
            )
            if _container_finished(body):
                return
            if attempt < self._max_polls - 1:
                await self._sleep(self._interval)
        raise PlatformError(
            "threads",
            ErrorKind.TRANSIENT,
            "the media was still being processed",
            platform_code="IN_PROGRESS",
        )

    async def _permalink(self, creds: Credentials, media_id: str) -> str:
        try:
            body = await self._call(creds, "GET", media_id, params={"fields": "id,permalink"})
        except PlatformError:
            # The post is out; a missing link must not turn a success into a failure.
            return profile_url(creds.details.get("username"))
        return str(body.get("permalink") or profile_url(creds.details.get("username")))

    # --- first comment ---------------------------------------------------------------------
    async def comment(self, creds: Credentials, parent_id: str, text: str) -> str:
        """A reply: a TEXT container with `reply_to_id`, then threads_publish, as for a
        thread's later parts (https://developers.facebook.com/documentation/threads/
        retrieve-and-manage-replies/create-replies)."""
        container = await self._container(
            creds, {"media_type": "TEXT", "text": text, "reply_to_id": parent_id}
        )
        await self._wait_finished(creds, container)
        body = await self._call(
            creds, "POST", f"{creds.external_id}/threads_publish", data={"creation_id": container}
        )
        if not body.get("id"):
            raise PlatformError("threads", ErrorKind.AMBIGUOUS, "published without an id")
        return str(body["id"])

    async def find_comment(
        self, creds: Credentials, parent_id: str, text: str, since: datetime
    ) -> str | None:
        replies = self._listed(creds, "replies", since, "id,text,timestamp,replied_to")
        async with aclosing(replies):
            async for reply in replies:
                replied_to = str((reply.get("replied_to") or {}).get("id", ""))
                if replied_to == parent_id and _same_text(reply, text) and reply.get("id"):
                    return str(reply["id"])
        return None

    # --- the publishing limit --------------------------------------------------------------
    async def publishing_limit(self, creds: Credentials) -> PublishingLimit:
        body = await self._call(
            creds,
            "GET",
            f"{creds.external_id}/threads_publishing_limit",
            params={"fields": "quota_usage,config,reply_quota_usage,reply_config"},
        )
        data = body.get("data")
        entry = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        posts = _quota(entry.get("quota_usage"), entry.get("config"))
        if posts is None:
            raise PlatformError(
                "threads", ErrorKind.PLATFORM_ERROR, "the publishing limit came without its quota"
            )
        return PublishingLimit(
            posts, _quota(entry.get("reply_quota_usage"), entry.get("reply_config"))
        )

    async def _check_limit(self, creds: Credentials, *, posts: int, replies: int) -> None:
        limit = await self.publishing_limit(creds)
        for quota, needed, edge, noun in (
            (limit.posts, posts, "threads", "posts"),
            (limit.replies, replies, "replies", "replies"),
        ):
            if quota is None or needed == 0 or quota.left >= needed:
                continue
            frees_at = await self.frees_at(creds, edge, quota)
            retry_after = max(60.0, (frees_at - self._now()).total_seconds()) if frees_at else 3600
            when = f"; the next frees up at {isoformat(frees_at)}" if frees_at else ""
            raise PlatformError(
                "threads",
                ErrorKind.RATE_LIMITED,
                f"Threads' publishing limit is used up ({quota.used} of {quota.total} {noun} "
                f"in {quota.window_seconds // 3600} hours){when}",
                platform_code="threads_publishing_limit",
                retry_after=retry_after,
            )

    async def frees_at(self, creds: Credentials, edge: str, quota: Quota) -> datetime | None:
        """When the oldest post still in the moving window leaves it, from the account's own
        list (the limit endpoint says how many, not when)."""
        window = timedelta(seconds=quota.window_seconds)
        since = self._now() - window
        oldest: datetime | None = None
        items = self._listed(creds, edge, since, "id,timestamp")
        async with aclosing(items):
            async for item in items:
                when = _when(item)
                if when is not None and when >= since and (oldest is None or when < oldest):
                    oldest = when
        return oldest + window if oldest is not None else None

    # --- reconciliation ----------------------------------------------------------------------
    async def _listed(
        self, creds: Credentials, edge: str, since: datetime, fields: str
    ) -> AsyncGenerator[dict[str, Any]]:
        """The user's threads (or replies) since `since`, newest first, following the `after`
        cursor for at most RECONCILE_PAGES pages."""
        params = {"fields": fields, "since": str(int(since.timestamp())), "limit": _LIST_LIMIT}
        for _ in range(RECONCILE_PAGES):
            body = await self._call(creds, "GET", f"{creds.external_id}/{edge}", params=params)
            data = body.get("data")
            for item in data if isinstance(data, list) else []:
                if isinstance(item, dict):
                    yield item
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return
            params = {**params, "after": str(after)}

    async def find_recent(
        self, creds: Credentials, content: Content, since: datetime
    ) -> Published | None:
        parts = content.parts
        root: dict[str, Any] | None = None
        posts = self._listed(creds, "threads", since, "id,text,timestamp,permalink")
        async with aclosing(posts):
            async for post in posts:
                if _same_text(post, parts[0]) and post.get("id"):
                    root = post
                    break
        if root is None:
            return None
        found = [str(root["id"])]
        if len(parts) > 1:
            # A chain counts only when every part is there, each replying to the one before: a
            # partial one proves nothing about the part whose answer was lost.
            replies: list[dict[str, Any]] = []
            listed = self._listed(creds, "replies", since, "id,text,timestamp,replied_to")
            async with aclosing(listed):
                replies = [r async for r in listed]
            for part in parts[1:]:
                match = next(
                    (
                        r
                        for r in replies
                        if _same_text(r, part)
                        and str((r.get("replied_to") or {}).get("id", "")) == found[-1]
                    ),
                    None,
                )
                if match is None:
                    return None
                found.append(str(match["id"]))
        url = str(root.get("permalink") or profile_url(creds.details.get("username")))
        return Published(found[0], url, tuple(found))


def _media_fields(item: MediaItem) -> dict[str, str]:
    if item.kind == "video":
        return {"media_type": "VIDEO", "video_url": item.url}
    return {"media_type": "IMAGE", "image_url": item.url}


def _same_text(item: dict[str, Any], text: str) -> bool:
    return str(item.get("text") or "").strip() == text.strip()


def _when(item: dict[str, Any]) -> datetime | None:
    try:
        return parse_iso(str(item.get("timestamp") or ""))  # Graph: 2026-12-03T10:00:00+0000
    except ValueError:
        return None


def _container_finished(body: dict[str, Any]) -> bool:
    """A Threads container's `status`: True when it can be published, False while it is still
    processing; ERROR and EXPIRED are the post's failure.
    https://developers.facebook.com/docs/threads/troubleshooting"""
    status = body.get("status")
    if status in ("FINISHED", "PUBLISHED"):
        return True
    if status == "ERROR":
        reason = body.get("error_message") or "ERROR"
        raise PlatformError(
            "threads",
            ErrorKind.INVALID_CONTENT,
            f"the media could not be processed: {reason}",
            platform_code=str(reason),
        )
    if status == "EXPIRED":
        raise PlatformError(
            "threads",
            ErrorKind.PLATFORM_ERROR,
            "the container expired before it was published",
            platform_code="EXPIRED",
        )
    return False
