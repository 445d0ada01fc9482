"""The sandbox's LinkedIn Images, Videos and Documents APIs, as the current docs describe them
(https://learn.microsoft.com/linkedin/marketing/community-management/shares/images-api,
.../videos-api, .../documents-api), and the Posts API's media checks.

- `POST /rest/images?action=initializeUpload` -> uploadUrl + urn:li:image; PUT the file;
  `GET /rest/images/{urn}` -> WAITING_UPLOAD, then AVAILABLE (an image is not processed here).
- `POST /rest/videos?action=initializeUpload` (`owner`, `fileSizeBytes` from 75 KB to 500 MB)
  -> urn:li:video, an uploadToken and uploadInstructions in 4 MB parts; each part is PUT and
  answers an ETag; `POST /rest/videos?action=finalizeUpload` wants those ETags in order; then
  `GET /rest/videos/{urn}` says PROCESSING for `linkedin_processing_polls` reads, then
  AVAILABLE (or PROCESSING_FAILED for a file `media_failures: {"linkedin": n}` forced to fail).
- `POST /rest/documents?action=initializeUpload` -> uploadUrl + urn:li:document; PUT (PDF, at
  most 100 MB); status as a video's.

Uploads are counted as they stream in, never kept whole; a video's first part and a document's
first megabyte are kept to check what they are.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from herald.local.sandbox.publishing import (
    linkedin_error,
    linkedin_token,
    linkedin_version_refused,
)
from herald.local.sandbox.records import publishing, sandbox

router = APIRouter()

KB, MB = 1000, 1000 * 1000
PART = 4 * 1024 * 1024
VIDEO_MIN, VIDEO_MAX = 75 * KB, 500 * MB
DOCUMENT_MAX = 100 * MB
HEAD = 1024 * 1024


def _assets(request: Request) -> dict[str, dict[str, Any]]:
    return publishing(request).uploads


def _refused(request: Request) -> Response | None:
    if linkedin_token(request) is None:
        return linkedin_error(401, "Invalid access token", serviceErrorCode=65600)
    return linkedin_version_refused(request)


@router.post("/rest/videos")
async def videos_action(request: Request) -> Response:
    refused = _refused(request)
    if refused is not None:
        return refused
    action = request.query_params.get("action")
    body = await request.json()
    if action == "initializeUpload":
        return _initialize_video(request, body.get("initializeUploadRequest") or {})
    if action == "finalizeUpload":
        return _finalize_video(request, body.get("finalizeUploadRequest") or {})
    return linkedin_error(400, "action must be initializeUpload or finalizeUpload")


def _initialize_video(request: Request, ask: dict[str, Any]) -> Response:
    size = ask.get("fileSizeBytes")
    if not ask.get("owner") or not isinstance(size, int):
        return linkedin_error(422, "owner and fileSizeBytes are required")
    if not VIDEO_MIN <= size <= VIDEO_MAX:
        return linkedin_error(400, f"fileSizeBytes must be from {VIDEO_MIN} to {VIDEO_MAX}")
    urn = f"urn:li:video:C5F{publishing(request).next_id():010d}"
    base = str(request.base_url).rstrip("/")
    parts = [
        {"uploadUrl": f"{base}/_sandbox/uploads/video/{urn}/{i}", "firstByte": first,
         "lastByte": min(size, first + PART) - 1}
        for i, first in enumerate(range(0, size, PART))
    ]  # fmt: skip
    token = hashlib.sha256(urn.encode()).hexdigest()[:16]
    _assets(request)[urn] = {
        "kind": "video", "owner": ask["owner"], "bytes": size, "parts": parts, "etags": {},
        "token": token, "status": "WAITING_UPLOAD", "polls": 0,
    }  # fmt: skip
    return JSONResponse({"value": {
        "uploadUrlsExpireAt": int(sandbox(request).now() + 3600) * 1000, "video": urn,
        "uploadInstructions": parts, "uploadToken": token,
    }})  # fmt: skip


@router.put("/_sandbox/uploads/video/{urn}/{index}")
async def video_part(urn: str, index: int, request: Request) -> Response:
    video = _assets(request).get(urn)
    if video is None or video.get("kind") != "video" or not 0 <= index < len(video["parts"]):
        return linkedin_error(404, "unknown upload")
    part = video["parts"][index]
    size, digest, head = await _receive(request)
    if size != part["lastByte"] - part["firstByte"] + 1:
        return linkedin_error(400, f"part {index} must be bytes {part['firstByte']}-"
                                   f"{part['lastByte']}")  # fmt: skip
    if index == 0:
        video["head"] = head
    etag = f"/ambry-video/{digest[:24]}"
    video["etags"][index] = etag
    return Response(status_code=200, headers={"ETag": f'"{etag}"'})


def _finalize_video(request: Request, ask: dict[str, Any]) -> Response:
    video = _assets(request).get(str(ask.get("video")))
    if video is None or video.get("kind") != "video":
        return linkedin_error(404, "unknown video")
    if ask.get("uploadToken", "") != video["token"]:
        return linkedin_error(400, "uploadToken does not match the upload")
    expected = [video["etags"].get(i) for i in range(len(video["parts"]))]
    if None in expected or ask.get("uploadedPartIds") != expected:
        return linkedin_error(400, "uploadedPartIds must be every part's ETag, in order")
    if video.get("head", b"")[4:8] != b"ftyp":
        video["status"] = "PROCESSING_FAILED"
    else:
        video["status"] = "PROCESSING"
        video["fails"] = publishing(request).media_fails("linkedin")
    return Response(status_code=200)


@router.post("/rest/documents")
async def documents_action(request: Request) -> Response:
    refused = _refused(request)
    if refused is not None:
        return refused
    if request.query_params.get("action") != "initializeUpload":
        return linkedin_error(400, "action=initializeUpload is required")
    owner = ((await request.json()).get("initializeUploadRequest") or {}).get("owner")
    if not owner:
        return linkedin_error(422, "initializeUploadRequest.owner is required")
    urn = f"urn:li:document:D4D{publishing(request).next_id():010d}"
    _assets(request)[urn] = {"kind": "document", "owner": owner, "bytes": None,
                             "status": "WAITING_UPLOAD", "polls": 0}  # fmt: skip
    return JSONResponse({"value": {
        "uploadUrlExpiresAt": int(sandbox(request).now() + 3600) * 1000,
        "uploadUrl": str(request.base_url).rstrip("/") + f"/_sandbox/uploads/document/{urn}",
        "document": urn,
    }})  # fmt: skip


@router.put("/_sandbox/uploads/document/{urn}")
async def document_upload(urn: str, request: Request) -> Response:
    document = _assets(request).get(urn)
    if document is None or document.get("kind") != "document":
        return linkedin_error(404, "unknown upload")
    size, _, head = await _receive(request)
    if size > DOCUMENT_MAX:
        return linkedin_error(400, f"a document is at most {DOCUMENT_MAX} bytes")
    document["bytes"] = size
    if not head.startswith(b"%PDF-"):
        document["status"] = "PROCESSING_FAILED"
    else:
        document["status"] = "PROCESSING"
        document["fails"] = publishing(request).media_fails("linkedin")
    return Response(status_code=201)


async def _receive(request: Request) -> tuple[int, str, bytes]:
    """The body's size, digest and first megabyte, read as it streams in."""
    size, digest, head = 0, hashlib.sha256(), bytearray()
    async for chunk in request.stream():
        size += len(chunk)
        digest.update(chunk)
        if len(head) < HEAD:
            head.extend(chunk[: HEAD - len(head)])
    return size, digest.hexdigest(), bytes(head)


@router.get("/rest/videos/{urn}")
async def video_status(urn: str, request: Request) -> Response:
    return _status(request, urn, "video")


@router.get("/rest/documents/{urn}")
async def document_status(urn: str, request: Request) -> Response:
    return _status(request, urn, "document")


@router.get("/rest/images/{urn}")
async def image_status(urn: str, request: Request) -> Response:
    refused = _refused(request)
    if refused is not None:
        return refused
    image = _assets(request).get(urn)
    if image is None or not urn.startswith("urn:li:image:"):
        return linkedin_error(404, f"{urn} not found")
    status = "AVAILABLE" if image.get("bytes") else "WAITING_UPLOAD"
    return JSONResponse({"id": urn, "owner": image["owner"], "status": status})


def _status(request: Request, urn: str, kind: str) -> Response:
    refused = _refused(request)
    if refused is not None:
        return refused
    asset = _assets(request).get(urn)
    if asset is None or asset.get("kind") != kind:
        return linkedin_error(404, f"{urn} not found")
    if asset["status"] == "PROCESSING":
        asset["polls"] += 1
        if asset["polls"] > publishing(request).linkedin_processing_polls:
            asset["status"] = "PROCESSING_FAILED" if asset.get("fails") else "AVAILABLE"
    return JSONResponse({"id": urn, "owner": asset["owner"], "status": asset["status"]})


def media_problem(request: Request, content: dict[str, Any]) -> str | None:
    """Why the Posts API would refuse this `content`'s media, or None."""
    assets = _assets(request)

    def available(urn: object, kinds: tuple[str, ...]) -> bool:
        asset = assets.get(str(urn))
        if asset is None or not any(str(urn).startswith(f"urn:li:{k}:") for k in kinds):
            return False
        if str(urn).startswith("urn:li:image:"):
            return bool(asset.get("bytes"))
        return asset.get("status") == "AVAILABLE"

    if "multiImage" in content:
        images = (content["multiImage"] or {}).get("images") or []
        if not 2 <= len(images) <= 20:
            return "multiImage takes 2 to 20 images"
        if not all(available(i.get("id"), ("image",)) for i in images):
            return "every multiImage image must be uploaded and AVAILABLE"
        return None
    media = content.get("media")
    if media is None:
        return None
    urn = str(media.get("id", ""))
    if not available(urn, ("image", "video", "document")):
        return f"{urn} is not an uploaded, AVAILABLE image, video or document"
    if urn.startswith("urn:li:document:") and not media.get("title"):
        return "a document post needs content.media.title"
    return None
