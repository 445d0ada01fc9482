"""A Facebook Page post with files of the media library: photos (one or several) or a video.

Photos (https://developers.facebook.com/docs/graph-api/photo-uploads, "multi-photo story"):
each is uploaded unpublished (`POST /{page-id}/photos`, `published=false`, the bytes as
`source`, its alt text as `alt_text_custom`, https://developers.facebook.com/docs/graph-api/
reference/photo/), then one `POST /{page-id}/feed` names them all in `attached_media`. The
bytes are sent, not a link: a photo is at most 10 MB, read from S3 whole (bounded) and posted.

Video (https://developers.facebook.com/docs/graph-api/video-uploads, resumable upload on
graph-video): `upload_phase=start` with the file size answers a session, the video id and the
first byte range; each `transfer` sends the bytes from `start_offset` (a chunk streamed from
S3) and answers the next range, until the two offsets meet; `finish` publishes it with the
post's text as its description. Facebook then processes the video: its `status.video_status`
is read (`processing`, `ready`, `error`) and the target answers `StillProcessing` until ready.

Every id is saved as it is had (`Progress.save_state`): a run after a crash, a duplicate
delivery or `StillProcessing` resumes at the next photo or byte range, and the feed post or
`finish` (the calls that publish) follow `about_to_post`, so a run that dies after them is
reconciled, never posted again.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from herald.accounts import Credentials
from herald.media.model import Attachment
from herald.platforms.base import (
    Content,
    ErrorKind,
    PlatformError,
    Progress,
    Published,
    StillProcessing,
)

if TYPE_CHECKING:
    from herald.platforms.meta import _Graph

PHOTO_MAX_BYTES = 10 * 1000 * 1000  # the Photo reference: "less than 10 MB"
# Facebook names the byte range of each transfer; Herald sends at most this much of it at a
# time (a later transfer goes on from the offset Facebook answers), so a chunk stays small.
TRANSFER_MAX_BYTES = 8 * 1024 * 1024
VIDEO_CHECK_AFTER_SECONDS = 20.0


def facebook_url(post_id: str) -> str:
    return f"https://www.facebook.com/{post_id}"


async def _as_upload(call: Any) -> dict[str, Any]:
    """An upload step publishes nothing: a timeout there is worth a retry, not a
    reconciliation (an unpublished photo or a byte range sent twice is never shown)."""
    try:
        result: dict[str, Any] = await call
    except PlatformError as exc:
        if exc.kind is ErrorKind.AMBIGUOUS:
            raise PlatformError(
                exc.platform, ErrorKind.TRANSIENT, f"upload: {exc.detail}", status=exc.status
            ) from exc
        raise
    return result


class FacebookMedia:
    def __init__(self, graph: _Graph, *, video_root: str) -> None:
        self._graph = graph
        self._video_root = f"{video_root.rstrip('/')}/{graph.version}"

    async def publish(self, creds: Credentials, content: Content, progress: Progress) -> Published:
        page_id = creds.details.get("page_id") or creds.external_id
        videos = [a for a in content.attachments if a.kind == "video"]
        if videos:  # a video is alone in its post (herald.media.limits)
            return await self._video(creds, page_id, content, videos[0], progress)
        return await self._photos(creds, page_id, content, progress)

    # --- photos ------------------------------------------------------------------------------
    async def _photos(
        self, creds: Credentials, page_id: str, content: Content, progress: Progress
    ) -> Published:
        photos: list[str] = [str(p) for p in progress.state.get("photos", [])]
        for attachment in content.attachments[len(photos) :]:
            photos.append(await self._upload_photo(creds, page_id, attachment))
            await progress.save_state({**progress.state, "photos": list(photos)})
        data = {
            f"attached_media[{index}]": json.dumps({"media_fbid": photo})
            for index, photo in enumerate(photos)
        }
        if content.text:
            data["message"] = content.text
        await progress.about_to_post()
        body = await self._graph.call("facebook", creds, "POST", f"{page_id}/feed", data=data)
        post_id = str(body.get("id") or "")
        if not post_id:
            raise PlatformError("facebook", ErrorKind.AMBIGUOUS, "answered 200 without an id")
        await progress.confirm(post_id)
        return Published(post_id, facebook_url(post_id), (post_id,))

    async def _upload_photo(self, creds: Credentials, page_id: str, item: Attachment) -> str:
        data = {"published": "false"}
        if item.alt_text:
            data["alt_text_custom"] = item.alt_text
        source = await item.read(PHOTO_MAX_BYTES)
        name = f"{item.media_id}.{item.content_type.rsplit('/', 1)[-1]}"
        body = await _as_upload(
            self._graph.call(
                "facebook",
                creds,
                "POST",
                f"{page_id}/photos",
                data=data,
                files={"source": (name, source, item.content_type)},
            )
        )
        photo_id = str(body.get("id") or "")
        if not photo_id:
            raise PlatformError("facebook", ErrorKind.TRANSIENT, "a photo came back without id")
        return photo_id

    # --- video -------------------------------------------------------------------------------
    async def _video(
        self,
        creds: Credentials,
        page_id: str,
        content: Content,
        item: Attachment,
        progress: Progress,
    ) -> Published:
        saved = progress.state.get("video")
        video: dict[str, Any] | None = dict(saved) if saved else None
        if video is None:
            body = await self._videos(
                creds, page_id, {"upload_phase": "start", "file_size": str(item.size)}
            )
            video = {
                "session": str(body.get("upload_session_id") or ""),
                "video_id": str(body.get("video_id") or ""),
                "start": int(body.get("start_offset", 0)),
                "end": int(body.get("end_offset", 0)),
            }
            if not video["session"] or not video["video_id"]:
                raise PlatformError("facebook", ErrorKind.TRANSIENT, "no upload session came back")
            await progress.save_state({**progress.state, "video": video})
        if not progress.state.get("finished"):
            await self._transfer(creds, page_id, item, video, progress)
            finish = {"upload_phase": "finish", "upload_session_id": video["session"]}
            if content.text:
                finish["description"] = content.text
            await progress.about_to_post()
            body = await self._graph.call(
                "facebook",
                creds,
                "POST",
                f"{page_id}/videos",
                data=finish,
                root=self._video_root,
            )
            if body.get("success") is not True:
                raise PlatformError(
                    "facebook", ErrorKind.AMBIGUOUS, "finishing the video upload said no success"
                )
            await progress.save_state({**progress.state, "finished": True})
        video_id = video["video_id"]
        body = await self._graph.call(
            "facebook", creds, "GET", video_id, params={"fields": "status"}
        )
        status = body.get("status") or {}
        state = str(status.get("video_status") or "")
        if state == "error":
            raise PlatformError(
                "facebook",
                ErrorKind.INVALID_CONTENT,
                "Facebook could not process the video",
                platform_code="video_status=error",
            )
        if state != "ready":
            raise StillProcessing(VIDEO_CHECK_AFTER_SECONDS, "video")
        await progress.confirm(video_id)
        return Published(video_id, facebook_url(video_id), (video_id,))

    async def _transfer(
        self,
        creds: Credentials,
        page_id: str,
        item: Attachment,
        video: dict[str, Any],
        progress: Progress,
    ) -> None:
        while video["start"] < video["end"]:
            start = video["start"]
            stop = min(video["end"], start + TRANSFER_MAX_BYTES)
            chunk = b"".join([c async for c in item.chunks(stop - start, start, stop)])
            body = await _as_upload(
                self._graph.call(
                    "facebook",
                    creds,
                    "POST",
                    f"{page_id}/videos",
                    data={
                        "upload_phase": "transfer",
                        "upload_session_id": video["session"],
                        "start_offset": str(start),
                    },
                    files={"video_file_chunk": ("chunk", chunk, "application/octet-stream")},
                    root=self._video_root,
                )
            )
            video["start"] = int(body.get("start_offset", stop))
            video["end"] = int(body.get("end_offset", video["end"]))
            await progress.save_state({**progress.state, "video": dict(video)})

    async def _videos(self, creds: Credentials, page_id: str, data: dict[str, str]) -> Any:
        return await _as_upload(
            self._graph.call(
                "facebook", creds, "POST", f"{page_id}/videos", data=data, root=self._video_root
            )
        )
