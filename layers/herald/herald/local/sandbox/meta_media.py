"""The sandbox's Meta upload protocols for files of the media library.

Facebook Page (https://developers.facebook.com/docs/graph-api/photo-uploads and
.../graph-api/video-uploads):
    POST /{v}/{page}/photos  multipart `source`, published=false  -> {id}: an unpublished photo
    POST /{v}/{page}/feed    attached_media[i]={"media_fbid": id}  -> the post (each photo once)
    POST /{v}/{page}/videos  upload_phase=start|transfer|finish     (graph-video's resumable
                             upload: a transfer must start at the offset last answered)
    GET  /{v}/{video}?fields=status  processing for `fb_video_polls` reads, then ready (or
                             error when `fb_video_error` is set)
Instagram (https://developers.facebook.com/documentation/instagram-platform/content-publishing/
resumable-uploads): containers with upload_type=resumable (REELS, STORIES, VIDEO carousel
items) stay IN_PROGRESS until their bytes arrive at
    POST /ig-api-upload/{v}/{container}   Authorization: OAuth <token>, offset, file_size
which must carry exactly `file_size` bytes; then `ig_processing_polls` reads as for images.
CAROUSEL containers take 2 to 10 carousel items of the same account; alt_text is refused on
Reels and Stories ("not supported").

    POST /_sandbox/meta_media/config {"fb_video_polls": 2, "fb_video_error": true,
                                      "ig_container_error": true}
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.convertors import register_url_convertor

from herald.local.sandbox import graph
from herald.local.sandbox.records import answer, faulted, keep, publishing, sandbox


class SandboxVideoConvertor(graph.SandboxNodeConvertor):
    regex = r"1797\d{13}"  # the video ids this module hands out, and nothing else


register_url_convertor("sandbox_video", SandboxVideoConvertor())
router = APIRouter()
VIDEO_BASE = 17_970_000_000_000_000
PHOTO_BASE = 17_960_000_000_000_000
TRANSFER_BYTES = 1024 * 1024  # the range the sandbox names per transfer


def media_state(request: Request) -> dict[str, Any]:
    app = request.app.state
    if not hasattr(app, "meta_media"):
        app.meta_media = {
            "ig_container_error": False,
            "photos": {},
            "sessions": {},
            "videos": {},
            "fb_video_polls": 1,
            "fb_video_error": False,
        }
    found: dict[str, Any] = app.meta_media
    return found


async def multipart(request: Request) -> tuple[dict[str, str], dict[str, bytes]]:
    """A multipart/form-data body's fields and files, read with the standard library (the
    sandbox needs no python-multipart for this)."""
    boundary = request.headers["content-type"].split("boundary=", 1)[1].strip('"').encode()
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in (await request.body()).split(b"--" + boundary):
        head, found, value = part.partition(b"\r\n\r\n")
        if not found or b'name="' not in head:
            continue
        name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
        value = value.removesuffix(b"\r\n")
        if b"filename=" in head:
            files[name] = value
        else:
            fields[name] = value.decode()
    return fields, files


def _is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("multipart/form-data")


@router.post("/{version:sandbox_graph_version}/{page_id}/photos")
async def photos(version: str, page_id: str, request: Request) -> Response:
    if not _is_multipart(request):
        return await graph.page_post(request, page_id, "photos")
    fields, files = await multipart(request)
    if not graph.valid(request, fields):
        return graph.invalid_token()
    if not files.get("source"):
        return graph.graph_error("(#100) url or source is required", 100)
    if len(files["source"]) >= 10 * 1000 * 1000:
        return graph.graph_error("(#100) The photo is larger than 10 MB", 100)
    if fields.get("published") != "false":
        return graph.graph_error("(#100) the sandbox takes uploaded photos unpublished", 100)
    photo_id = str(PHOTO_BASE + publishing(request).next_id())
    media_state(request)["photos"][photo_id] = {
        "page": page_id,
        "size": len(files["source"]),
        "alt_text": fields.get("alt_text_custom"),
        "used": False,
    }
    sandbox(request).calls["facebook.photo_upload"] += 1
    return JSONResponse({"id": photo_id})


@router.post("/{version:sandbox_graph_version}/{page_id}/feed")
async def feed(version: str, page_id: str, request: Request) -> Response:
    given = await graph.params(request)
    attached = sorted(k for k in given if k.startswith("attached_media["))
    if not attached:
        return await graph.page_post(request, page_id, "feed")
    state = sandbox(request)
    state.calls["facebook.feed"] += 1
    if not graph.valid(request, given):
        return graph.invalid_token()
    known = media_state(request)["photos"]
    ids = []
    for key in attached:
        photo_id = str(json.loads(given[key]).get("media_fbid", ""))
        photo = known.get(photo_id)
        if photo is None or photo["page"] != page_id or photo["used"]:
            return graph.graph_error(f"(#100) {photo_id} is no unpublished photo of this Page", 100)
        ids.append(photo_id)
    fault, refused = await faulted(request, "facebook", page_id, graph.token_of(request, given))
    if refused is not None:
        return refused
    for photo_id in ids:
        known[photo_id]["used"] = True
    post_id = f"{page_id}_{100_000 + publishing(request).next_id()}"
    keep(
        state,
        {
            "id": post_id,
            "platform": "facebook",
            "account": page_id,
            "text": given.get("message", ""),
            "photos": ids,
            "alt_texts": [known[i]["alt_text"] for i in ids],
            "url": f"https://www.facebook.com/{post_id}",
            "request": given,
        },
    )
    return await answer(fault, JSONResponse({"id": post_id}))


@router.post("/{version:sandbox_graph_version}/{page_id}/videos")
async def videos(version: str, page_id: str, request: Request) -> Response:
    fields, files = await multipart(request) if _is_multipart(request) else ({}, {})
    if not fields:
        fields = await graph.params(request)
    if not graph.valid(request, fields):
        return graph.invalid_token()
    media = media_state(request)
    phase = fields.get("upload_phase")
    if phase == "start":
        size = int(fields.get("file_size", 0))
        if size <= 0:
            return graph.graph_error("(#100) file_size is required", 100)
        number = publishing(request).next_id()
        session, video_id = str(900_000 + number), str(VIDEO_BASE + number)
        media["sessions"][session] = {
            "page": page_id,
            "size": size,
            "at": 0,
            "video": video_id,
            "done": False,
        }
        return JSONResponse(
            {
                "upload_session_id": session,
                "video_id": video_id,
                "start_offset": "0",
                "end_offset": str(min(size, TRANSFER_BYTES)),
            }
        )
    entry = media["sessions"].get(fields.get("upload_session_id", ""))
    if entry is None or entry["page"] != page_id:
        return graph.graph_error("(#100) Invalid upload_session_id", 100, subcode=1363019)
    if phase == "transfer":
        chunk = files.get("video_file_chunk", b"")
        if int(fields.get("start_offset", -1)) != entry["at"] or not chunk:
            return graph.graph_error("(#100) start_offset does not match", 100, subcode=1363037)
        entry["at"] = min(entry["size"], entry["at"] + len(chunk))
        sandbox(request).calls["facebook.video_transfer"] += 1
        end = min(entry["size"], entry["at"] + TRANSFER_BYTES)
        return JSONResponse({"start_offset": str(entry["at"]), "end_offset": str(end)})
    if phase == "finish":
        if entry["at"] != entry["size"] or entry["done"]:
            return graph.graph_error("(#100) The upload is not complete", 100, subcode=1363030)
        fault, refused = await faulted(
            request, "facebook", page_id, graph.token_of(request, fields)
        )
        if refused is not None:
            return refused
        entry["done"] = True
        media["videos"][entry["video"]] = {"polls": 0}
        keep(
            sandbox(request),
            {
                "id": entry["video"],
                "platform": "facebook",
                "account": page_id,
                "text": fields.get("description", ""),
                "video": entry["size"],
                "url": f"https://www.facebook.com/{entry['video']}",
                "request": fields,
            },
        )
        return await answer(fault, JSONResponse({"success": True}))
    return graph.graph_error("(#100) upload_phase must be start, transfer or finish", 100)


@router.get("/{version:sandbox_graph_version}/{video_id:sandbox_video}")
async def video_status(version: str, video_id: str, request: Request) -> Response:
    given = await graph.params(request)
    if not graph.valid(request, given):
        return graph.invalid_token()
    media = media_state(request)
    video = media["videos"].get(video_id)
    if video is None:
        return graph.graph_error(f"Object with ID '{video_id}' does not exist", 100, subcode=33)
    video["polls"] += 1
    if media["fb_video_error"]:
        status = "error"
    else:
        status = "ready" if video["polls"] > media["fb_video_polls"] else "processing"
    return JSONResponse({"id": video_id, "status": {"video_status": status}})


# --- Instagram -------------------------------------------------------------------------------
@router.post("/{version:sandbox_graph_version}/{ig_id}/media")
async def instagram_container(version: str, ig_id: str, request: Request) -> Response:
    given = await graph.params(request)
    kind = given.get("media_type", "")
    if (
        kind not in ("REELS", "STORIES", "VIDEO", "CAROUSEL")
        and given.get("is_carousel_item") != "true"
    ):
        return await graph.instagram_container(version, ig_id, request)
    sandbox(request).calls["instagram.media"] += 1
    if not graph.valid(request, given):
        return graph.invalid_token()
    if given.get("alt_text") and kind in ("REELS", "STORIES"):
        return graph.graph_error("(#100) alt_text is not supported for Reels and Stories", 100)
    containers = publishing(request).containers
    entry: dict[str, Any] = {
        "ig": ig_id,
        "caption": given.get("caption", ""),
        "polls": 0,
        "media_id": None,
        "media_type": kind or "IMAGE",
        "given": given,
        "image_url": given.get("image_url"),
    }
    if kind == "CAROUSEL":
        children = [c for c in given.get("children", "").split(",") if c]
        if not 2 <= len(children) <= 10:
            return graph.graph_error("(#100) A carousel takes 2 to 10 children", 100)
        for child in children:
            item = containers.get(child)
            if (
                item is None
                or item["ig"] != ig_id
                or item.get("given", {}).get("is_carousel_item") != "true"
            ):
                return graph.graph_error(f"(#100) {child} is not a carousel item", 100)
        entry["children"] = children
    elif given.get("upload_type") == "resumable":
        entry["polls"] = -(10**9)  # IN_PROGRESS until its bytes arrive
        entry["awaiting_bytes"] = True
    elif given.get("image_url"):
        data = await graph.fetch_image(given["image_url"])
        if data is None:
            return graph.graph_error(
                "The media could not be fetched from this URI", 9004, subcode=2207052
            )
        refused = graph.image_refusal(data)
        if refused is not None:
            return refused
    else:
        return graph.graph_error("(#100) image_url or upload_type=resumable is required", 100)
    entry["error"] = media_state(request)["ig_container_error"]
    container = str(graph.CONTAINER_BASE + publishing(request).next_id())
    containers[container] = entry
    return JSONResponse({"id": container})


async def _rupload(request: Request, container_id: str) -> Response:
    containers = publishing(request).containers
    entry = containers.get(container_id)
    auth = request.headers.get("authorization", "")
    token = auth.removeprefix("OAuth ").strip() if auth.startswith("OAuth ") else ""
    if sandbox(request).token_owner("meta", token) is None:
        return graph.invalid_token()
    if entry is None or not entry.get("awaiting_bytes"):
        return graph.graph_error("(#100) no resumable container with this id", 100)
    size = int(request.headers.get("file_size", "-1"))
    if request.headers.get("offset") != "0":
        return graph.graph_error("(#100) offset must be where the upload stands (0)", 100)
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
    if received != size:
        return graph.graph_error(f"(#100) file_size says {size}, {received} bytes came", 100)
    sandbox(request).calls["instagram.rupload"] += 1
    entry["awaiting_bytes"] = False
    entry["polls"] = 0
    entry["bytes"] = received
    return JSONResponse({"success": True, "message": "Upload successful."})


@router.post("/ig-api-upload/{version:sandbox_graph_version}/{container_id}")
async def rupload_versioned(version: str, container_id: str, request: Request) -> Response:
    return await _rupload(request, container_id)


@router.post("/ig-api-upload/{container_id}")
async def rupload(container_id: str, request: Request) -> Response:
    return await _rupload(request, container_id)


@router.post("/_sandbox/meta_media/config")
async def configure(request: Request) -> Response:
    """`{"fb_video_polls": 2, "fb_video_error": true, "ig_container_error": true}`, any of:
    how long a Page video processes, that it ends in error, that Instagram's resumable and
    carousel containers end in ERROR."""
    given, media = await request.json(), media_state(request)
    if "fb_video_polls" in given:
        media["fb_video_polls"] = int(given["fb_video_polls"])
    for flag in ("fb_video_error", "ig_container_error"):
        if flag in given:
            media[flag] = bool(given[flag])
    names = ("fb_video_polls", "fb_video_error", "ig_container_error")
    return JSONResponse({k: media[k] for k in names})
