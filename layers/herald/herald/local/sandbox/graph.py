"""The sandbox's Meta Graph publishing endpoints: Page feed and photos, Instagram containers.

Instagram behaves as documented: a container answers `IN_PROGRESS` for
`Publishing.ig_processing_polls` status reads before `FINISHED`, `media_publish` before then is
refused with 9007/2207027, and `content_publishing_limit` counts the account's posts in the last
24 hours against `Publishing.ig_quota_total`. Creating a container reads the image as Meta's
servers would and refuses what the IG User Media reference does not take: larger than 8 MiB
(36000/2207004, documented), not a JPEG, or an aspect ratio outside 4:5 to 1.91:1. For those two
the error-codes page in hand gives no code; the sandbox answers in the same 36000 family
(36001/2207005 and 36003/2207009), which Herald reads as invalid content whatever the subcode.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.convertors import Convertor, register_url_convertor

from herald.local.sandbox.images import image_for
from herald.local.sandbox.records import (
    answer,
    bearer,
    faulted,
    keep,
    posts_of,
    publishing,
    sandbox,
)
from herald.platforms.image_facts import JPEG, describe

CONTAINER_BASE = 17_990_000_000_000_000
IG_IMAGE_MAX = 8 * 1024 * 1024
MEDIA_BASE = 17_950_000_000_000_000


class SandboxNodeConvertor(Convertor[str]):
    """Only ids this module hands out, so `GET /{version}/{id}` cannot shadow the OAuth routes
    (`/me`, a Page's `instagram_business_account`, ...) whatever order the routers are in."""

    regex = r"179[59]\d{13}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class GraphVersionConvertor(SandboxNodeConvertor):
    regex = r"v[0-9]+\.[0-9]+"


register_url_convertor("sandbox_node", SandboxNodeConvertor())
register_url_convertor("sandbox_graph_version", GraphVersionConvertor())

router = APIRouter()


def graph_error(
    message: str, code: int, status: int = 400, subcode: int | None = None
) -> JSONResponse:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "Sandbox",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return JSONResponse({"error": error}, status_code=status)


def invalid_token() -> JSONResponse:
    return graph_error("Error validating access token: the token is invalid.", 190)


async def params(request: Request) -> dict[str, str]:
    """Graph takes parameters in the query, a form body or a JSON body alike."""
    found = dict(request.query_params)
    raw = await request.body()
    if raw:
        if request.headers.get("content-type", "").startswith("application/json"):
            found.update({k: str(v) for k, v in json.loads(raw).items()})
        else:
            found.update(parse_qsl(raw.decode()))
    return found


def token_of(request: Request, given: dict[str, str]) -> str:
    return bearer(request) or given.get("access_token", "")


def valid(request: Request, given: dict[str, str]) -> bool:
    return sandbox(request).token_owner("meta", token_of(request, given)) is not None


def graph_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


# --- Facebook Page -------------------------------------------------------------------------
async def page_post(request: Request, page_id: str, kind: str) -> Response:
    state, given = sandbox(request), await params(request)
    state.calls[f"facebook.{kind}"] += 1
    if not valid(request, given):
        return invalid_token()
    text = given.get("message") or given.get("caption") or ""
    if kind == "photos" and not given.get("url"):
        return graph_error("(#100) url or source is required", 100)
    if kind == "feed" and not (text or given.get("link")):
        return graph_error("(#100) Either message or link must be supplied", 100)
    fault, refused = await faulted(request, "facebook", page_id, token_of(request, given))
    if refused is not None:
        return refused
    mine = posts_of(state, "facebook", page_id)
    if publishing(request).detect_duplicates and text and any(p["text"] == text for p in mine):
        return graph_error("(#506) Duplicate status message", 506)
    number = publishing(request).next_id()
    post_id = f"{page_id}_{100_000 + number}"
    keep(
        state,
        {
            "id": post_id,
            "platform": "facebook",
            "account": page_id,
            "text": text,
            "link": given.get("link"),
            "image": given.get("url"),
            "url": f"https://www.facebook.com/{post_id}",
            "request": given,
        },
    )
    body = {"id": post_id} if kind == "feed" else {"id": str(900_000 + number), "post_id": post_id}
    return await answer(fault, JSONResponse(body))


@router.post("/{version:sandbox_graph_version}/{page_id}/feed")
async def facebook_feed(version: str, page_id: str, request: Request) -> Response:
    return await page_post(request, page_id, "feed")


@router.post("/{version:sandbox_graph_version}/{page_id}/photos")
async def facebook_photos(version: str, page_id: str, request: Request) -> Response:
    return await page_post(request, page_id, "photos")


def graph_page(request: Request, given: dict[str, str], items: list[Any]) -> dict[str, Any]:
    """One page of an edge, with Graph's cursor paging (the cursor is the next offset here)."""
    limit = int(given.get("limit", 25))
    offset = int(given.get("after") or 0)
    page: dict[str, Any] = {"data": items[offset : offset + limit]}
    if offset + limit < len(items):
        after = str(offset + limit)
        page["paging"] = {
            "cursors": {"before": str(offset), "after": after},
            "next": str(request.url.include_query_params(after=after)),
        }
    return page


@router.get("/{version:sandbox_graph_version}/{page_id}/posts")
async def facebook_posts(version: str, page_id: str, request: Request) -> Response:
    state, given = sandbox(request), await params(request)
    if not valid(request, given):
        return invalid_token()
    since = float(given.get("since", 0))
    mine = [p for p in posts_of(state, "facebook", page_id) if p["created_at"] >= since]
    mine.sort(key=lambda p: p["created_at"], reverse=True)
    data = [
        {
            "id": p["id"],
            "message": p["text"],
            "created_time": graph_time(p["created_at"]),
            "permalink_url": p["url"],
        }
        for p in mine
    ]
    return JSONResponse(graph_page(request, given, data))


# --- Instagram -----------------------------------------------------------------------------
def used_quota(request: Request, ig_id: str) -> int:
    state = sandbox(request)
    day_ago = state.now() - 86_400
    return sum(1 for p in posts_of(state, "instagram", ig_id) if p["created_at"] >= day_ago)


@router.get("/{version:sandbox_graph_version}/{ig_id}/content_publishing_limit")
async def instagram_limit(version: str, ig_id: str, request: Request) -> Response:
    given = await params(request)
    if not valid(request, given):
        return invalid_token()
    total = publishing(request).ig_quota_total
    return JSONResponse(
        {
            "data": [
                {
                    "config": {"quota_total": total, "quota_duration": 86400},
                    "quota_usage": used_quota(request, ig_id),
                }
            ]
        }
    )


@router.post("/{version:sandbox_graph_version}/{ig_id}/media")
async def instagram_container(version: str, ig_id: str, request: Request) -> Response:
    given = await params(request)
    sandbox(request).calls["instagram.media"] += 1
    if not valid(request, given):
        return invalid_token()
    if not given.get("image_url", "").startswith(("http://", "https://")):
        return graph_error("The media could not be fetched from this URI", 9004, subcode=2207052)
    data = await fetch_image(given["image_url"])
    if data is None:
        return graph_error("The media could not be fetched from this URI", 9004, subcode=2207052)
    refused = image_refusal(data)
    if refused is not None:
        return refused
    container = str(CONTAINER_BASE + publishing(request).next_id())
    publishing(request).containers[container] = {
        "ig": ig_id,
        "image_url": given["image_url"],
        "caption": given.get("caption", ""),
        "polls": 0,
        "media_id": None,
    }
    return JSONResponse({"id": container})


async def fetch_image(url: str) -> bytes | None:
    """The image as Meta's servers would download it. The sandbox's own images are made here
    rather than fetched, so in-process tests need no socket."""
    parsed = urlsplit(url)
    if parsed.path.startswith("/_sandbox/images/"):
        name = parsed.path.rsplit("/", 1)[-1]
        return image_for(name, dict(parse_qsl(parsed.query)))[0]
    try:
        async with httpx.AsyncClient(timeout=5.0, follow_redirects=True) as client:
            response = await client.get(url)
    except httpx.HTTPError:
        return None
    return response.content if response.status_code == 200 else None


def image_refusal(data: bytes) -> JSONResponse | None:
    if len(data) > IG_IMAGE_MAX:
        return graph_error("The image size is too large.", 36000, subcode=2207004)
    facts = describe(data)
    if facts is None or facts.format != JPEG:
        return graph_error("The image format is not supported.", 36001, subcode=2207005)
    ratio = facts.ratio
    if ratio is not None and not 4 / 5 <= ratio <= 1.91:
        return graph_error(
            f"The submitted image with aspect ratio ('{facts.width}/{facts.height}') cannot be "
            "published. Please submit an image with a valid aspect ratio.",
            36003,
            subcode=2207009,
        )
    return None


@router.get("/{version:sandbox_graph_version}/{ig_id}/media")
async def instagram_media_list(version: str, ig_id: str, request: Request) -> Response:
    state, given = sandbox(request), await params(request)
    if not valid(request, given):
        return invalid_token()
    mine = sorted(posts_of(state, "instagram", ig_id), key=lambda p: -p["created_at"])
    data = [
        {
            "id": p["id"],
            "caption": p["text"],
            "timestamp": graph_time(p["created_at"]),
            "permalink": p["url"],
        }
        for p in mine
    ]
    return JSONResponse(graph_page(request, given, data))


@router.post("/{version:sandbox_graph_version}/{ig_id}/media_publish")
async def instagram_publish(version: str, ig_id: str, request: Request) -> Response:
    state, given = sandbox(request), await params(request)
    state.calls["instagram.media_publish"] += 1
    if not valid(request, given):
        return invalid_token()
    container = publishing(request).containers.get(given.get("creation_id", ""))
    if container is None or container["ig"] != ig_id:
        return graph_error("Media builder not found", 24, subcode=2207008)
    if container["media_id"] is not None:
        return graph_error("(#100) The container has already been published", 100)
    processing = publishing(request).ig_processing_polls
    if processing and container["polls"] <= processing:  # never seen FINISHED yet
        return graph_error("Media ID is not available", 9007, subcode=2207027)
    fault, refused = await faulted(request, "instagram", ig_id, token_of(request, given))
    if refused is not None:
        return refused
    if used_quota(request, ig_id) >= publishing(request).ig_quota_total:
        return graph_error("Application request limit reached", 9, 403, subcode=2207042)
    media_id = str(MEDIA_BASE + publishing(request).next_id())
    container["media_id"] = media_id
    keep(
        state,
        {
            "id": media_id,
            "platform": "instagram",
            "account": ig_id,
            "text": container["caption"],
            "image": container["image_url"],
            "container": given["creation_id"],
            "url": f"https://www.instagram.com/p/Sbx{media_id[-6:]}/",
            "request": given,
        },
    )
    return await answer(fault, JSONResponse({"id": media_id}))


@router.get("/{version:sandbox_graph_version}/{node_id:sandbox_node}")
async def instagram_node(version: str, node_id: str, request: Request) -> Response:
    given = await params(request)
    if not valid(request, given):
        return invalid_token()
    container = publishing(request).containers.get(node_id)
    if container is not None:
        container["polls"] += 1
        if container["media_id"] is not None:
            status = "PUBLISHED"
        elif container.get("error"):  # forced by /_sandbox/meta_media/config
            status = "ERROR"
        elif container["polls"] > publishing(request).ig_processing_polls:
            status = "FINISHED"
        else:
            status = "IN_PROGRESS"
        return JSONResponse({"status_code": status, "status": status, "id": node_id})
    post = sandbox(request).posts.get(node_id)
    if post is None:
        return graph_error(
            f"Unsupported get request. Object with ID '{node_id}' does not exist", 100, subcode=33
        )
    return JSONResponse({"id": node_id, "permalink": post["url"], "caption": post["text"]})
