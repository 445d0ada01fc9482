"""The sandbox's X media upload, as https://docs.x.com/x-api/media documents it today.

- `POST /2/media/upload`, the one-shot: multipart `media` and `media_category` (tweet_image,
  dm_image or subtitles), `media_type` optional and without GIF or video; images of at most
  5 MB. `command` is refused: INIT, APPEND and FINALIZE have their own paths now.
- `POST /2/media/upload/initialize` (JSON `media_type`, `total_bytes`, `media_category`),
  `POST /2/media/upload/{id}/append` (multipart `media`, `segment_index` 0-999, a segment at
  most 8 MB), `POST /2/media/upload/{id}/finalize`, and `GET /2/media/upload?command=STATUS`.
  tweet_gif and videos are processed asynchronously: finalize answers `processing_info`
  pending, STATUS `in_progress` for `Publishing.x_processing_polls` reads, then `succeeded`.
- Size per category (https://docs.x.com/x-api/media/quickstart/best-practices): images 5 MB,
  GIFs 15 MB, Post video 8 GB, DM video 512 MB. An animated GIF must be tweet_gif (or dm_gif):
  sent as an image it would lose its animation, which the sandbox treats as the caller's error.
  A tweet_video must be an MP4 or MOV (ftyp), a tweet_image an image.
- `POST /2/media/metadata` (https://docs.x.com/x-api/media/create-media-metadata): `id` and
  `metadata.alt_text.text`, at most 1,000 characters, on an uploaded file.
- Controls (`POST /_sandbox/config`): `x_processing_polls`, `x_check_after_secs`, and
  `media_failures: {"x": n}` (the next n processed files end `failed`).

Segments are counted, not kept (a video may be gigabytes): only a GIF's bytes (15 MB at most) and
a file's first megabyte are, to check what they are.
"""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from herald.local.sandbox.records import bearer, publishing, sandbox
from herald.local.sandbox.state import Token
from herald.platforms.image_facts import GIF, describe

router = APIRouter()

MB = 1024 * 1024
GB = 1024 * MB
ONE_SHOT_CATEGORIES = frozenset({"tweet_image", "dm_image", "subtitles"})
ONE_SHOT_TYPES = frozenset(
    {"text/srt", "text/vtt", "image/jpeg", "image/bmp", "image/png", "image/webp", "image/pjpeg",
     "image/tiff"}
)  # fmt: skip
LIMITS = {
    "tweet_image": 5 * MB, "dm_image": 5 * MB, "tweet_gif": 15 * MB, "dm_gif": 15 * MB,
    "tweet_video": 8 * GB, "amplify_video": 8 * GB, "dm_video": 512 * MB, "subtitles": 5 * MB,
}  # fmt: skip
ASYNC_CATEGORIES = frozenset({"tweet_gif", "dm_gif", "tweet_video", "amplify_video", "dm_video"})
SEGMENT_MAX = 8 * MB
HEAD = MB
ALT_TEXT_MAX = 1000
MEDIA_BASE = 1_880_000_000_000_000_000


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> Response:
    body = {"title": title, "detail": detail, "type": kind, "status": status}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def invalid(message: str) -> Response:
    return problem(400, "Invalid Request", message, "https://api.x.com/2/problems/invalid-request")


def x_user(request: Request) -> Token | None:
    return sandbox(request).token_owner("x", bearer(request))


def unauthorized() -> Response:
    return problem(401, "Unauthorized", "Unauthorized")


async def multipart(request: Request) -> dict[str, bytes] | None:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return None
    raw = f"Content-Type: {content_type}\r\n\r\n".encode() + await request.body()
    message = BytesParser(policy=HTTP).parsebytes(raw)
    found: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            found[name] = payload
    return found


def _media(media_id: str, record: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": media_id,
        "media_key": f"{record['key_prefix']}_{media_id}",
        "size": record.get("received", 0),
        "expires_after_secs": 86400,
    }
    if record.get("processing") is not None:
        data["processing_info"] = record["processing"]
    return data


def _gif_problem(data: bytes, category: str) -> str | None:
    facts = describe(data)
    if (
        facts is not None
        and facts.format == GIF
        and facts.animated
        and category
        not in (
            "tweet_gif",
            "dm_gif",
        )
    ):
        return "an animated GIF takes media_category tweet_gif, through the chunked upload"
    return None


@router.post("/2/media/upload")
async def one_shot(request: Request) -> Response:
    if x_user(request) is None:
        return unauthorized()
    fields = await multipart(request)
    if fields is None:
        return invalid("the one-shot upload takes multipart/form-data")
    if "command" in fields:
        return invalid("command is not accepted: use /2/media/upload/initialize and its paths")
    media = fields.get("media")
    if not media:
        return invalid("media is required")
    category = fields.get("media_category", b"").decode()
    if category not in ONE_SHOT_CATEGORIES:
        return invalid(f"media_category must be one of {', '.join(sorted(ONE_SHOT_CATEGORIES))}")
    media_type = fields.get("media_type", b"").decode()
    if media_type and media_type not in ONE_SHOT_TYPES:
        return invalid(f"media_type {media_type} is not accepted by the one-shot upload")
    facts = describe(media)
    if facts is None and category != "subtitles":
        return invalid("media is not an image")
    if facts is not None and facts.format == GIF and facts.animated:
        return invalid(_gif_problem(media, category) or "")
    if len(media) > LIMITS[category]:
        return invalid(f"media is larger than {LIMITS[category] // MB} MB")
    uploads = publishing(request).uploads
    media_id = str(MEDIA_BASE + publishing(request).next_id())
    record = {"bytes": len(media), "received": len(media), "category": category,
              "key_prefix": "3", "state": "succeeded", "processing": None}  # fmt: skip
    uploads[media_id] = record
    return JSONResponse({"data": _media(media_id, record)})


@router.post("/2/media/upload/initialize")
async def initialize(request: Request) -> Response:
    if x_user(request) is None:
        return unauthorized()
    try:
        body = await request.json()
    except ValueError:
        return invalid("initialize takes a JSON body")
    category = str(body.get("media_category") or "")
    total = body.get("total_bytes")
    if category not in LIMITS:
        return invalid(f"media_category {category!r} is not one of {', '.join(sorted(LIMITS))}")
    if not isinstance(total, int) or total <= 0 or not body.get("media_type"):
        return invalid("media_type and total_bytes are required")
    if total > LIMITS[category]:
        return invalid(f"total_bytes is over {category}'s {LIMITS[category] // MB} MB")
    media_id = str(MEDIA_BASE + publishing(request).next_id())
    publishing(request).uploads[media_id] = {
        "bytes": total, "received": 0, "chunks": {}, "category": category,
        "media_type": body["media_type"], "key_prefix": "16" if "gif" in category else "7",
        "state": "initialized", "processing": None, "polls": 0,
    }  # fmt: skip
    return JSONResponse({"data": {"id": media_id, "media_key": f"16_{media_id}",
                                  "expires_after_secs": 86400}})  # fmt: skip


@router.post("/2/media/upload/{media_id}/append")
async def append(media_id: str, request: Request) -> Response:
    if x_user(request) is None:
        return unauthorized()
    record = publishing(request).uploads.get(media_id)
    if record is None or record.get("state") != "initialized":
        return invalid(f"media {media_id} is not an upload in progress")
    fields = await multipart(request)
    if fields is None or "media" not in fields or "segment_index" not in fields:
        return invalid("append takes multipart media and segment_index")
    index = int(fields["segment_index"] or b"-1")
    if not 0 <= index <= 999:
        return invalid("segment_index must be from 0 to 999")
    segment = fields["media"]
    if len(segment) > SEGMENT_MAX:
        return invalid("a segment is at most 8 MB")
    record["chunks"][index] = len(segment)
    if "gif" in record["category"]:
        record.setdefault("gif", {})[index] = segment
    elif index == 0:
        record["head"] = segment[:HEAD]
    return JSONResponse({"data": {"expires_at": int(sandbox(request).now()) + 86400}})


@router.post("/2/media/upload/{media_id}/finalize")
async def finalize(media_id: str, request: Request) -> Response:
    if x_user(request) is None:
        return unauthorized()
    record = publishing(request).uploads.get(media_id)
    if record is None or record.get("state") != "initialized":
        return invalid(f"media {media_id} is not an upload in progress")
    chunks: dict[int, int] = record["chunks"]
    received = sum(chunks.values())
    if sorted(chunks) != list(range(len(chunks))) or received != record["bytes"]:
        return invalid(f"received {received} of total_bytes {record['bytes']} in order")
    gif_parts: dict[int, bytes] = record.pop("gif", {})
    head = b"".join(gif_parts[i] for i in sorted(gif_parts)) or record.get("head", b"")
    wrong = _gif_problem(head, record["category"]) or _kind_problem(head, record["category"])
    if wrong:
        record["state"] = "failed"
        return invalid(wrong)
    record["received"] = received
    if record["category"] in ASYNC_CATEGORIES:
        config = publishing(request)
        record["state"] = "processing"
        record["fails"] = config.media_fails("x")
        record["processing"] = {"state": "pending", "check_after_secs": config.x_check_after_secs}
    else:
        record["state"] = "succeeded"
    return JSONResponse({"data": _media(media_id, record)})


@router.get("/2/media/upload")
async def status(request: Request) -> Response:
    if x_user(request) is None:
        return unauthorized()
    if request.query_params.get("command") != "STATUS":
        return invalid("command=STATUS is required")
    media_id = request.query_params.get("media_id", "")
    record = publishing(request).uploads.get(media_id)
    if record is None:
        return problem(404, "Not Found Error", f"media {media_id} not found",
                       "https://api.x.com/2/problems/resource-not-found")  # fmt: skip
    if record["state"] == "processing":
        record["polls"] += 1
        config = publishing(request)
        if record["polls"] <= config.x_processing_polls:
            record["processing"] = {
                "state": "in_progress", "check_after_secs": config.x_check_after_secs,
                "progress_percent": 50,
            }  # fmt: skip
        elif record.get("fails"):
            record["state"] = "failed"
            record["processing"] = {"state": "failed", "progress_percent": 100, "error": {
                "code": 1, "name": "InvalidMedia", "message": "Unsupported video format",
            }}  # fmt: skip
        else:
            record["state"] = "succeeded"
            record["processing"] = {"state": "succeeded", "progress_percent": 100}
    return JSONResponse({"data": _media(media_id, record)})


@router.post("/2/media/metadata")
async def metadata(request: Request) -> Response:
    if x_user(request) is None:
        return unauthorized()
    try:
        body = await request.json()
    except ValueError:
        return invalid("metadata takes a JSON body")
    media_id = str(body.get("id") or "")
    record = publishing(request).uploads.get(media_id)
    if record is None or "category" not in record:
        return problem(404, "Not Found Error", f"media {media_id} not found",
                       "https://api.x.com/2/problems/resource-not-found")  # fmt: skip
    text = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
    if not isinstance(text, str) or not text:
        return invalid("metadata.alt_text.text is required")
    if len(text) > ALT_TEXT_MAX:
        return invalid(f"alt_text.text is longer than {ALT_TEXT_MAX} characters")
    record["alt_text"] = text
    return JSONResponse({"data": {"id": media_id, "associated_metadata": {
        "alt_text": {"text": text}}}})  # fmt: skip


def _kind_problem(head: bytes, category: str) -> str | None:
    if category in ("tweet_video", "amplify_video", "dm_video") and head[4:8] != b"ftyp":
        return "media is not an MP4 or MOV video"
    if category in ("tweet_image", "dm_image") and describe(head) is None:
        return "media is not an image"
    return None


def attached(request: Request, media_ids: list[str]) -> str | None:
    """Why these media ids cannot go on one Post ("up to 4 photos, 1 animated GIF or 1 video
    in a Post"), or None."""
    uploads = publishing(request).uploads
    categories = [str(uploads[m].get("category", "")) for m in media_ids if m in uploads]
    moving = [c for c in categories if "gif" in c or "video" in c]
    if len(media_ids) > 4:
        return "a Post takes at most 4 media"
    if moving and len(media_ids) > 1:
        return "a GIF or a video must be the only media of a Post"
    return None


def described(request: Request, media_ids: list[str]) -> list[dict[str, Any]]:
    uploads = publishing(request).uploads
    return [
        {"id": m, "category": uploads[m].get("category"), "bytes": uploads[m].get("received"),
         "alt_text": uploads[m].get("alt_text")}
        for m in media_ids
    ]  # fmt: skip


def ready(request: Request, media_id: str) -> bool:
    """Whether a media id may be attached to a Post: uploaded and, if processed, succeeded."""
    record = publishing(request).uploads.get(media_id)
    return record is not None and record.get("state") == "succeeded"
