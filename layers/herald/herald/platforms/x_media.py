"""X's media upload (v2), resumable across runs, for library attachments and `image_url`.

Endpoints (https://docs.x.com/x-api/media/quickstart/media-upload-chunked, .../upload-media,
.../create-media-metadata, all under https://api.x.com):

    POST /2/media/upload/initialize   JSON media_type, total_bytes, media_category -> data.id
    POST /2/media/upload/{id}/append  multipart media, segment_index (0-999, at most 5 MB each)
    POST /2/media/upload/{id}/finalize                      -> data.processing_info while X works
    GET  /2/media/upload?command=STATUS&media_id={id}       -> processing_info.state,
                                                               check_after_secs
    POST /2/media/metadata            JSON {"id", "metadata": {"alt_text": {"text"}}}
    POST /2/media/upload              the one-shot, multipart media + media_category=tweet_image

Categories (https://docs.x.com/x-api/media/quickstart/best-practices): a still image is
`tweet_image` (a GIF that does not move too), a moving GIF `tweet_gif`, a video `tweet_video`;
X processes the last two asynchronously. Every attachment goes through the chunked flow, read
from S3 a segment at a time (never whole in memory). What is uploaded is saved in the target's
media state as it happens, under `uploads` (library media id -> X's id, segments appended,
finalized, ready, alt text set) and `image_url`, so a later run never sends a segment twice
after it was recorded, and never uploads a finished file again. While X processes, the upload
answers `StillProcessing` with X's `check_after_secs`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from herald.accounts import Credentials
from herald.media.model import Attachment
from herald.platforms import errors
from herald.platforms.base import ErrorKind, PlatformError, Progress, StillProcessing

MB = 1024 * 1024
SEGMENT = 4 * MB  # append segments: "at or below 5 MB"
ALT_TEXT_MAX = 1000

Call = Callable[..., Awaitable[httpx.Response]]


def category(item: Attachment) -> str:
    if item.kind == "video":
        return "tweet_video"
    if item.kind == "gif" and item.facts.animated:
        return "tweet_gif"
    return "tweet_image"


def media_id(response: httpx.Response) -> str:
    found = (errors.json_body(response).get("data") or {}).get("id")
    if not found:
        raise PlatformError("x", ErrorKind.TRANSIENT, "the media upload answered without an id")
    return str(found)


def processing(response: httpx.Response) -> dict[str, Any] | None:
    body = errors.json_body(response)
    data = body.get("data") if isinstance(body.get("data"), dict) else body
    info = data.get("processing_info") if isinstance(data, dict) else None
    return info if isinstance(info, dict) else None


def settled(info: dict[str, Any] | None) -> float | None:
    """None when the media is ready; the seconds X asks to wait while it is processing. Raises
    when X could not process it (a refusal no retry fixes: nothing was posted)."""
    if info is None or info.get("state") == "succeeded":
        return None
    if info.get("state") == "failed":
        problem = info.get("error") or {}
        why = problem.get("message") or problem.get("name") or "failed"
        raise PlatformError(
            "x", ErrorKind.INVALID_CONTENT, f"X could not process the media: {why}",
            platform_code="media_processing_failed",
        )  # fmt: skip
    return float(info.get("check_after_secs") or 1)


class XUploads:
    """The uploads of one publish call; `call` is the publisher's media request (its errors
    mapped, a lost answer transient: an upload creates no post)."""

    def __init__(self, base: str, creds: Credentials, call: Call, progress: Progress) -> None:
        self._base = base
        self._auth = {"Authorization": f"Bearer {creds.access_token}"}
        self._call = call
        self._progress = progress

    async def _save(self, key: str, name: str, entry: dict[str, Any]) -> None:
        state = dict(self._progress.state)
        bucket = dict(state.get(key) or {}) if key == "uploads" else {}
        if key == "uploads":
            bucket[name] = entry
            state["uploads"] = bucket
        else:
            state[key] = entry
        await self._progress.save_state(state)

    def _entry(self, media: str) -> dict[str, Any]:
        return dict((self._progress.state.get("uploads") or {}).get(media) or {})

    async def attachments(self, items: tuple[Attachment, ...]) -> dict[str, str]:
        """X's media id for each attachment, once every one is uploaded and processed."""
        waits: list[float] = []
        ids: dict[str, str] = {}
        for item in items:
            entry = self._entry(item.media_id)
            if not entry.get("ready"):
                wait = await self._upload(item, entry)
                if wait is not None:
                    waits.append(wait)
                    continue
                entry = self._entry(item.media_id)
            if item.alt_text and not entry.get("alt"):
                await self._alt_text(entry["id"], item.alt_text)
                entry["alt"] = True
                await self._save("uploads", item.media_id, entry)
            ids[item.media_id] = str(entry["id"])
        if waits:
            raise StillProcessing(min(waits), "media")
        return ids

    async def _upload(self, item: Attachment, entry: dict[str, Any]) -> float | None:
        if "id" not in entry:
            started = await self._call(
                "POST", f"{self._base}/2/media/upload/initialize", headers=self._auth,
                json={"media_type": item.content_type, "total_bytes": item.size,
                      "media_category": category(item)},
            )  # fmt: skip
            entry = {"id": media_id(started), "next": 0}
            await self._save("uploads", item.media_id, entry)
        if not entry.get("finalized"):
            index = int(entry.get("next", 0))
            async for chunk in item.chunks(SEGMENT, start=index * SEGMENT):
                await self._append(entry["id"], index, chunk, item.content_type)
                index += 1
                entry["next"] = index
                await self._save("uploads", item.media_id, entry)
            finished = await self._call(
                "POST", f"{self._base}/2/media/upload/{entry['id']}/finalize", headers=self._auth
            )
            entry["finalized"] = True
            info = processing(finished)
        else:
            info = await self.status(entry["id"])
        wait = settled(info)
        entry["ready"] = wait is None
        await self._save("uploads", item.media_id, entry)
        return wait

    async def _append(self, upload: str, index: int, chunk: bytes, content_type: str) -> None:
        await self._call(
            "POST", f"{self._base}/2/media/upload/{upload}/append", headers=self._auth,
            data={"segment_index": str(index)}, files={"media": ("media", chunk, content_type)},
        )  # fmt: skip

    async def status(self, upload: str) -> dict[str, Any] | None:
        answer = await self._call(
            "GET", f"{self._base}/2/media/upload", headers=self._auth,
            params={"command": "STATUS", "media_id": upload},
        )  # fmt: skip
        return processing(answer)

    async def _alt_text(self, upload: str, text: str) -> None:
        await self._call(
            "POST", f"{self._base}/2/media/metadata", headers=self._auth,
            json={"id": upload, "metadata": {"alt_text": {"text": text[:ALT_TEXT_MAX]}}},
        )  # fmt: skip

    # --- image_url: bytes Herald downloaded, small enough to hold (15 MiB at most) ----------
    def image_started(self) -> bool:
        """An earlier run uploaded the image and X was processing it."""
        return bool((self._progress.state.get("image_url") or {}).get("id"))

    async def resume_image(self) -> str:
        saved = dict(self._progress.state.get("image_url") or {})
        if not saved.get("ready"):
            wait = settled(await self.status(saved["id"]))
            if wait is not None:
                raise StillProcessing(wait, "image")
            await self._save("image_url", "", {**saved, "ready": True})
        return str(saved["id"])

    async def image(self, data: bytes, media_type: str, category_name: str) -> str:
        """Upload the downloaded image; a GIF goes through the chunked flow, anything else the
        one-shot. Its id is saved only while X processes it (a GIF): one-shot uploads are
        ready at once, and redoing one costs an upload, never a post."""
        if media_type != "image/gif":
            answer = await self._call(
                "POST", f"{self._base}/2/media/upload", headers=self._auth,
                data={"media_category": "tweet_image"},
                files={"media": ("media", data, "application/octet-stream")},
            )  # fmt: skip
            return media_id(answer)
        started = await self._call(
            "POST", f"{self._base}/2/media/upload/initialize", headers=self._auth,
            json={"media_type": media_type, "total_bytes": len(data),
                  "media_category": category_name},
        )  # fmt: skip
        upload = media_id(started)
        for index, offset in enumerate(range(0, len(data), SEGMENT)):
            await self._append(upload, index, data[offset : offset + SEGMENT], media_type)
        finished = await self._call(
            "POST", f"{self._base}/2/media/upload/{upload}/finalize", headers=self._auth
        )
        wait = settled(processing(finished))
        if wait is not None:
            await self._save("image_url", "", {"id": upload, "ready": False})
            raise StillProcessing(wait, "image")
        return upload
