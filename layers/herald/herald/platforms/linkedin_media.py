"""LinkedIn's media uploads for library attachments, resumable across runs.

The APIs (versioned REST, the same LinkedIn-Version header as the Posts API):

- Images API, https://learn.microsoft.com/linkedin/marketing/community-management/shares/
  images-api: `POST /rest/images?action=initializeUpload` with `{"initializeUploadRequest":
  {"owner"}}` answers `value.uploadUrl` and `value.image` (urn:li:image:...); the file is PUT to
  the uploadUrl; `GET /rest/images/{urn}` says `status`: PROCESSING, AVAILABLE,
  PROCESSING_FAILED (or WAITING_UPLOAD). JPG, GIF (up to 250 frames) and PNG.
- Videos API, .../shares/videos-api: `POST /rest/videos?action=initializeUpload` with
  `{"initializeUploadRequest": {"owner", "fileSizeBytes", "uploadCaptions": false,
  "uploadThumbnail": false}}` answers `value.video`, `value.uploadToken` and
  `value.uploadInstructions` ([{uploadUrl, firstByte, lastByte}], parts of 4 MB); each part is
  PUT as application/octet-stream and answers an `ETag`; `POST /rest/videos?action=
  finalizeUpload` with `{"finalizeUploadRequest": {"video", "uploadToken", "uploadedPartIds":
  [ETags in order]}}`; `GET /rest/videos/{urn}` says `status` (PROCESSING, AVAILABLE,
  PROCESSING_FAILED, WAITING_UPLOAD).
- Documents API, .../shares/documents-api: `POST /rest/documents?action=initializeUpload`
  (`owner`) answers `value.uploadUrl` and `value.document`; the file is PUT; `GET
  /rest/documents/{urn}` says `status` (PROCESSING, AVAILABLE, PROCESSING_FAILED).

Each file is read from S3 a range at a time (a video part, or chunks streamed into one PUT), and
its URN, upload instructions and part ETags are saved in the target's media state as they come,
so a resumed run PUTs only the parts it has no ETag for and never initializes a file twice.
LinkedIn gives no "ask again in": while an asset is PROCESSING the publisher answers
`StillProcessing(PROCESSING_RECHECK_SECONDS)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import quote

import httpx

from herald.media.model import Attachment
from herald.platforms import errors
from herald.platforms.base import ErrorKind, PlatformError, Progress, StillProcessing

PROCESSING_RECHECK_SECONDS = 10.0
STREAM_CHUNK = 1024 * 1024

Call = Callable[..., Awaitable[httpx.Response]]
_API = {"image": "images", "gif": "images", "video": "videos", "document": "documents"}
_URN_FIELD = {"images": "image", "videos": "video", "documents": "document"}


class LinkedInUploads:
    """The uploads of one publish call. `call(method, url, **kw)` sends a request with the
    publisher's error mapping (a non-2xx raises); `headers` are the versioned REST headers."""

    def __init__(
        self,
        base: str,
        headers: dict[str, str],
        token: str,
        owner: str,
        call: Call,
        progress: Progress,
    ) -> None:
        self._base = base
        self._headers = headers
        self._token = token
        self._owner = owner
        self._call = call
        self._progress = progress

    def _entry(self, media: str) -> dict[str, Any]:
        return dict((self._progress.state.get("uploads") or {}).get(media) or {})

    async def _save(self, media: str, entry: dict[str, Any]) -> None:
        uploads = dict(self._progress.state.get("uploads") or {})
        uploads[media] = entry
        await self._progress.save_state({**self._progress.state, "uploads": uploads})

    async def attachments(self, items: tuple[Attachment, ...]) -> dict[str, str]:
        """Each attachment's URN, once every one is uploaded and AVAILABLE."""
        urns: dict[str, str] = {}
        waiting = False
        for item in items:
            entry = self._entry(item.media_id)
            if not entry.get("ready"):
                entry = await self._upload(item, entry)
                if not entry.get("ready"):
                    waiting = True
                    continue
            urns[item.media_id] = str(entry["urn"])
        if waiting:
            raise StillProcessing(PROCESSING_RECHECK_SECONDS, "media")
        return urns

    async def _upload(self, item: Attachment, entry: dict[str, Any]) -> dict[str, Any]:
        api = _API[item.kind]
        if "urn" not in entry:
            entry = await self._initialize(api, item)
            await self._save(item.media_id, entry)
        if api == "videos":
            if not entry.get("finalized"):
                await self._video_parts(item, entry)
                await self._call(
                    "POST", f"{self._base}/rest/videos", params={"action": "finalizeUpload"},
                    headers=self._headers,
                    json={"finalizeUploadRequest": {
                        "video": entry["urn"], "uploadToken": entry.get("token", ""),
                        "uploadedPartIds": entry["etags"],
                    }},
                )  # fmt: skip
                entry["finalized"] = True
                await self._save(item.media_id, entry)
        elif not entry.get("put"):
            await self._put_whole(item, str(entry["url"]))
            entry["put"] = True
            await self._save(item.media_id, entry)
        status = await self._status(api, str(entry["urn"]))
        if status == "PROCESSING_FAILED":
            raise PlatformError(
                "linkedin", ErrorKind.INVALID_CONTENT,
                f"LinkedIn could not process {item.media_id} ({item.content_type})",
                platform_code="PROCESSING_FAILED",
            )  # fmt: skip
        if status == "AVAILABLE":
            entry["ready"] = True
            await self._save(item.media_id, entry)
        return entry

    async def _initialize(self, api: str, item: Attachment) -> dict[str, Any]:
        request: dict[str, Any] = {"owner": self._owner}
        if api == "videos":
            request |= {"fileSizeBytes": item.size, "uploadCaptions": False,
                        "uploadThumbnail": False}  # fmt: skip
        answer = await self._call(
            "POST", f"{self._base}/rest/{api}", params={"action": "initializeUpload"},
            headers=self._headers, json={"initializeUploadRequest": request},
        )  # fmt: skip
        value = errors.json_body(answer).get("value") or {}
        urn = value.get(_URN_FIELD[api])
        if not urn:
            raise errors.unexpected("linkedin", answer, f"value.{_URN_FIELD[api]}")
        if api != "videos":
            if not value.get("uploadUrl"):
                raise errors.unexpected("linkedin", answer, "value.uploadUrl")
            return {"urn": str(urn), "url": str(value["uploadUrl"])}
        parts: list[tuple[str, int, int]] = [
            (str(p["uploadUrl"]), int(p["firstByte"]), int(p["lastByte"]))
            for p in value.get("uploadInstructions") or []
        ]
        covered = sum(last - first + 1 for _, first, last in parts)
        if not parts or covered != item.size:
            raise errors.unexpected("linkedin", answer, "uploadInstructions covering the file")
        return {"urn": str(urn), "token": str(value.get("uploadToken") or ""),
                "parts": [list(p) for p in parts], "etags": []}  # fmt: skip

    async def _video_parts(self, item: Attachment, entry: dict[str, Any]) -> None:
        etags: list[str] = list(entry.get("etags") or [])
        for url, first, last in entry["parts"][len(etags) :]:
            data = bytearray()
            async for chunk in item.chunks(last - first + 1, start=first, end=last + 1):
                data.extend(chunk)
            answer = await self._call(
                "PUT", url, content=bytes(data),
                headers={"Content-Type": "application/octet-stream"},
            )  # fmt: skip
            etag = answer.headers.get("etag")
            if not etag:
                raise errors.unexpected("linkedin", answer, "an ETag for the part")
            etags.append(etag.strip('"'))
            entry["etags"] = etags
            await self._save(item.media_id, entry)

    async def _put_whole(self, item: Attachment, url: str) -> None:
        async def body() -> AsyncIterator[bytes]:
            async for chunk in item.chunks(STREAM_CHUNK):
                yield chunk

        await self._call(
            "PUT", url, content=body(),
            headers={"Authorization": f"Bearer {self._token}",
                     "Content-Type": "application/octet-stream",
                     "Content-Length": str(item.size)},
        )  # fmt: skip

    async def _status(self, api: str, urn: str) -> str:
        answer = await self._call(
            "GET", f"{self._base}/rest/{api}/{quote(urn, safe='')}", headers=self._headers
        )
        return str(errors.json_body(answer).get("status") or "")


def post_content(
    items: tuple[Attachment, ...], urns: dict[str, str], image_url_urn: str | None, title: str
) -> dict[str, Any] | None:
    """The Posts API `content` for the post's media (https://learn.microsoft.com/linkedin/
    marketing/community-management/shares/posts-api): one image, video or document is
    `media` (`altText` on an image; a document needs a `title`), two to twenty images are
    `multiImage.images` (https://learn.microsoft.com/linkedin/marketing/community-management/
    shares/multiimage-post-api)."""
    images: list[dict[str, Any]] = []
    if image_url_urn:
        images.append({"id": image_url_urn})
    for item in items:
        if item.kind in ("image", "gif"):
            image: dict[str, Any] = {"id": urns[item.media_id]}
            if item.alt_text:
                image["altText"] = item.alt_text
            images.append(image)
        elif item.kind == "video":
            return {"media": {"id": urns[item.media_id]}}
        else:
            return {"media": {"id": urns[item.media_id], "title": title}}
    if len(images) == 1:
        return {"media": images[0]}
    if images:
        return {"multiImage": {"images": images}}
    return None
