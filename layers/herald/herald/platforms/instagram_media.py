"""An Instagram post with files of the media library: one image, a carousel (2 to 10 images and
videos), a Reel (one video) or a Story (`Content.story`, one image or video).

https://developers.facebook.com/docs/instagram-platform/content-publishing/ (containers,
carousels: item containers with `is_carousel_item=true`, then a `CAROUSEL` container naming
them as `children`, then `media_publish`; `alt_text` for images, "Reels and stories are not
supported"); https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/
reference/ig-user/media (`media_type` REELS, STORIES, VIDEO for a carousel item);
https://developers.facebook.com/documentation/instagram-platform/content-publishing/
resumable-uploads (`upload_type=resumable`, then the bytes to rupload.facebook.com with the
`offset` and `file_size` headers and `Authorization: OAuth`; status by
`GET /{container-id}?fields=status_code`: IN_PROGRESS, FINISHED, ERROR, EXPIRED, PUBLISHED).

How the bytes get there, per kind:
- images: Instagram only takes an `image_url` it fetches itself, so it gets a presigned S3 GET
  link that lives `media_url_seconds` (15 minutes): long enough for Meta's fetch when the
  container is made, short enough that a leaked link soon dies.
- videos: streamed from S3 to rupload in one request (one chunk in memory at a time), so no
  link to the file ever leaves Herald.

Containers are the state: each id is saved the moment Instagram answers it, with which videos
are uploaded and which containers are FINISHED. A container still IN_PROGRESS answers
`StillProcessing` (the message comes back later; no Lambda waits on a transcoder). A later run,
a duplicate delivery or one after a crash, resumes from the saved ids: no container is made
twice, and `media_publish` comes after `about_to_post`, so a run that dies after it is
reconciled, never published again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from herald.accounts import Credentials
from herald.media.model import Attachment
from herald.platforms import errors
from herald.platforms.base import (
    Content,
    ErrorKind,
    PlatformError,
    Progress,
    StillProcessing,
)

if TYPE_CHECKING:
    from herald.platforms.meta import _Graph

# Instagram asks to query a container's status at most once a minute for video; images are
# usually FINISHED on the first read, so they are asked again sooner.
IMAGE_CHECK_AFTER_SECONDS = 5.0
VIDEO_CHECK_AFTER_SECONDS = 30.0


def _mode(content: Content) -> str:
    if content.story:
        return "story"
    return "carousel" if len(content.attachments) > 1 else "single"


class InstagramMedia:
    def __init__(self, graph: _Graph, *, rupload_base: str, url_seconds: int) -> None:
        self._graph = graph
        self._rupload = f"{rupload_base.rstrip('/')}/ig-api-upload/{graph.version}"
        self._url_seconds = url_seconds

    async def container(
        self,
        creds: Credentials,
        content: Content,
        progress: Progress,
        check_quota: Callable[[Credentials], Awaitable[None]],
    ) -> str:
        """The container to publish, once it and every item in it is FINISHED."""
        mode = _mode(content)
        items = content.attachments[:1] if mode == "story" else content.attachments
        if not progress.state:
            await check_quota(creds)  # before anything is made: a full quota makes nothing
        children = [str(c) for c in progress.state.get("children", [])]
        for item in items[len(children) :]:
            children.append(await self._create(creds, self._fields(item, content, mode)))
            await progress.save_state({**progress.state, "children": list(children)})
        uploaded = [str(c) for c in progress.state.get("uploaded", [])]
        for container, item in zip(children, items, strict=True):
            if item.kind == "video" and container not in uploaded:
                await self._upload(creds, container, item)
                uploaded.append(container)
                await progress.save_state({**progress.state, "uploaded": list(uploaded)})
        await self._all_finished(creds, children, items, progress)
        if mode != "carousel":
            return children[0]
        parent = str(progress.state.get("container") or "")
        if not parent:
            fields = {"media_type": "CAROUSEL", "children": ",".join(children)}
            if content.text:
                fields["caption"] = content.text
            parent = await self._create(creds, fields)
            await progress.save_state({**progress.state, "container": parent})
        if parent not in progress.state.get("finished", []):
            await self._finished(creds, parent, IMAGE_CHECK_AFTER_SECONDS)
            finished = [*progress.state.get("finished", []), parent]
            await progress.save_state({**progress.state, "finished": finished})
        return parent

    def _fields(self, item: Attachment, content: Content, mode: str) -> dict[str, str]:
        fields: dict[str, str] = {}
        if item.kind == "video":
            media_type = {"story": "STORIES", "single": "REELS", "carousel": "VIDEO"}[mode]
            fields.update({"media_type": media_type, "upload_type": "resumable"})
        else:
            fields["image_url"] = item.url(self._url_seconds)
            if mode == "story":
                fields["media_type"] = "STORIES"
            elif item.alt_text:
                fields["alt_text"] = item.alt_text
        if mode == "carousel":
            fields["is_carousel_item"] = "true"
        elif mode == "single" and content.text:
            fields["caption"] = content.text
        return fields

    async def _create(self, creds: Credentials, fields: dict[str, str]) -> str:
        body = await self._graph.call(
            "instagram", creds, "POST", f"{creds.external_id}/media", data=fields
        )
        container = str(body.get("id") or "")
        if not container:
            # Nothing is published until media_publish; an unused container expires by itself.
            raise PlatformError("instagram", ErrorKind.TRANSIENT, "no container id was returned")
        return container

    async def _upload(self, creds: Credentials, container: str, item: Attachment) -> None:
        response = await errors.send(
            self._graph.http,
            "instagram",
            "POST",
            f"{self._rupload}/{container}",
            headers={
                "Authorization": f"OAuth {creds.access_token}",
                "offset": "0",
                "file_size": str(item.size),
                "Content-Length": str(item.size),
                "Content-Type": "application/octet-stream",
            },
            content=item.chunks(),
        )
        if response.status_code != 200 or errors.json_body(response).get("success") is not True:
            from herald.platforms.meta import graph_error

            failure = graph_error("instagram", response)
            if failure.kind is ErrorKind.AMBIGUOUS:
                failure.kind = ErrorKind.TRANSIENT  # an upload publishes nothing
            raise failure

    async def _all_finished(
        self,
        creds: Credentials,
        children: list[str],
        items: tuple[Attachment, ...],
        progress: Progress,
    ) -> None:
        finished: list[str] = [str(c) for c in progress.state.get("finished", [])]
        waiting: float | None = None
        for container, item in zip(children, items, strict=True):
            if container in finished:
                continue
            after = VIDEO_CHECK_AFTER_SECONDS if item.kind == "video" else IMAGE_CHECK_AFTER_SECONDS
            try:
                await self._finished(creds, container, after)
            except StillProcessing as wait:
                waiting = min(waiting or wait.after_seconds, wait.after_seconds)
                continue
            finished.append(container)
        if finished != progress.state.get("finished", []):
            await progress.save_state({**progress.state, "finished": finished})
        if waiting is not None:
            raise StillProcessing(
                waiting, "video" if any(i.kind == "video" for i in items) else "media"
            )

    async def _finished(self, creds: Credentials, container: str, after: float) -> None:
        body: dict[str, Any] = await self._graph.call(
            "instagram", creds, "GET", container, params={"fields": "status_code,status"}
        )
        from herald.platforms.meta import container_finished

        if container_finished(body):
            return
        raise StillProcessing(after, "media")
