"""The sandbox's publishing endpoints for LinkedIn and X, and its own `/_sandbox/*` controls.

What each platform is sent is kept in the shared `SandboxState.posts` (by platform post id),
listed by `GET /_sandbox/posts[?platform=x]` and forgotten by `DELETE /_sandbox/posts`;
`POST /_sandbox/faults` makes the next calls fail (see faults.py, `DELETE` clears them);
`POST /_sandbox/config` turns duplicate detection off, slows Instagram's processing down or
makes every publishing call take `latency_seconds` to answer;
`GET /_sandbox/images/{name}` serves a small PNG for posts that need an image URL.
The platforms' quirks a publisher must cope with are reproduced: LinkedIn cuts a post short at the
first unescaped little-text character while still answering 201, X HTML-escapes text and rewrites
URLs to t.co when read back, and both refuse duplicates.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from datetime import datetime
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from herald.local.sandbox import graph
from herald.local.sandbox.faults import parse_fault
from herald.local.sandbox.records import (
    answer,
    bearer,
    faulted,
    keep,
    now_iso,
    posts_of,
    publishing,
    sandbox,
)
from herald.local.sandbox.state import Token

router = APIRouter()
router.include_router(graph.router)

# A 1x1 transparent PNG, served as the image a test post can reference.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


# --- LinkedIn ------------------------------------------------------------------------------
_LI_RESERVED = set("\\|{}@[]()<>#*_~")
_LI_URL_STOP = set("\\|{}@[]()<>")


def little_text(commentary: str) -> str:
    """What LinkedIn shows for a commentary: escapes resolved, cut at an unescaped reserved char."""
    out: list[str] = []
    i = 0
    while i < len(commentary):
        rest = commentary[i:]
        if rest.startswith(("http://", "https://")):
            j = i
            while j < len(commentary) and not commentary[j].isspace():
                if commentary[j] in _LI_URL_STOP:
                    break
                j += 1
            out.append(commentary[i:j])
            i = j
            continue
        char = commentary[i]
        if char == "\\" and i + 1 < len(commentary):
            out.append(commentary[i + 1])
            i += 2
            continue
        hashtag = re.match(r"#[^\W_]+", rest)
        if hashtag and (i == 0 or commentary[i - 1].isspace()):
            out.append(hashtag.group())
            i += len(hashtag.group())
            continue
        if char in _LI_RESERVED:
            break  # LinkedIn's silent truncation
        out.append(char)
        i += 1
    return "".join(out)


def linkedin_error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, "status": status, **extra}, status_code=status)


def linkedin_token(request: Request) -> Token | None:
    return sandbox(request).token_owner("linkedin", bearer(request))


@router.post("/rest/posts")
async def linkedin_post(request: Request) -> Response:
    state, token = sandbox(request), linkedin_token(request)
    state.calls["linkedin.posts"] += 1
    if token is None:
        return linkedin_error(401, "Invalid access token", serviceErrorCode=65600)
    if not request.headers.get("linkedin-version"):
        return linkedin_error(
            400,
            "A version must be present. Please specify a version by "
            "adding the LinkedIn-Version header.",
            code="VERSION_MISSING",
        )
    body = await request.json()
    missing = [
        k
        for k in ("author", "commentary", "visibility", "distribution", "lifecycleState")
        if k not in body
    ]
    if missing:
        return linkedin_error(422, f"missing fields: {', '.join(missing)}")
    author = str(body["author"])
    if author.startswith("urn:li:person:") and author != f"urn:li:person:{token.user_id}":
        return linkedin_error(
            403, "Not enough permissions to post as this author", serviceErrorCode=100
        )
    fault, refused = await faulted(request, "linkedin", author, bearer(request))
    if refused is not None:
        return refused
    text = little_text(str(body["commentary"]))
    if publishing(request).detect_duplicates:
        for post in posts_of(state, "linkedin", author):
            if post["text"] == text:
                return linkedin_error(
                    422, f"Content is a duplicate of {post['id']}", code="DUPLICATE_POST"
                )
    urn = f"urn:li:share:{7_000_000_000_000_000_000 + publishing(request).next_id()}"
    media = (body.get("content") or {}).get("media", {}).get("id")
    keep(
        state,
        {
            "id": urn,
            "platform": "linkedin",
            "account": author,
            "text": text,
            "commentary": body["commentary"],
            "image": media,
            "url": f"https://www.linkedin.com/feed/update/{urn}/",
            "request": body,
        },
    )
    return await answer(fault, Response(status_code=201, headers={"x-restli-id": urn}))


@router.get("/rest/posts")
async def linkedin_posts_by_author(request: Request) -> Response:
    state = sandbox(request)
    if linkedin_token(request) is None:
        return linkedin_error(401, "Invalid access token", serviceErrorCode=65600)
    if request.query_params.get("q") != "author":
        return linkedin_error(400, "only the author finder is supported here")
    author = request.query_params.get("author", "")
    count = int(request.query_params.get("count", "10"))
    start = int(request.query_params.get("start", "0"))
    everything = sorted(posts_of(state, "linkedin", author), key=lambda p: -p["created_at"])
    mine = everything[start : start + count]
    elements = [
        {
            "id": p["id"],
            "author": author,
            "commentary": p["commentary"],
            "publishedAt": int(p["created_at"] * 1000),
            "createdAt": int(p["created_at"] * 1000),
            "lifecycleState": "PUBLISHED",
        }
        for p in mine
    ]
    return JSONResponse(
        {"elements": elements, "paging": {"start": start, "count": count, "total": len(everything)}}
    )


@router.post("/rest/images")
async def linkedin_initialize_upload(request: Request) -> Response:
    if linkedin_token(request) is None:
        return linkedin_error(401, "Invalid access token", serviceErrorCode=65600)
    if request.query_params.get("action") != "initializeUpload":
        return linkedin_error(400, "action=initializeUpload is required")
    owner = (await request.json()).get("initializeUploadRequest", {}).get("owner")
    if not owner:
        return linkedin_error(422, "initializeUploadRequest.owner is required")
    image_id = f"D4E{publishing(request).next_id():010d}"
    urn = f"urn:li:image:{image_id}"
    publishing(request).uploads[urn] = {"owner": owner, "bytes": None}
    upload_url = str(request.base_url).rstrip("/") + f"/_sandbox/uploads/{urn}"
    return JSONResponse(
        {
            "value": {
                "uploadUrl": upload_url,
                "image": urn,
                "uploadUrlExpiresAt": int(sandbox(request).now() + 3600) * 1000,
            }
        }
    )


@router.put("/_sandbox/uploads/{urn}")
async def linkedin_upload(urn: str, request: Request) -> Response:
    upload = publishing(request).uploads.get(urn)
    if upload is None:
        return linkedin_error(404, "unknown upload")
    upload["bytes"] = len(await request.body())
    return Response(status_code=201)


# --- X ---------------------------------------------------------------------------------------
def x_problem(
    status: int, title: str, detail: str, kind: str = "about:blank", **extra: Any
) -> Response:
    body = {"title": title, "detail": detail, "type": kind, "status": status, **extra}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def x_invalid(message: str) -> Response:
    return x_problem(
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        "https://api.x.com/2/problems/invalid-request",
        errors=[{"message": message}],
    )


def x_user(request: Request) -> Token | None:
    return sandbox(request).token_owner("x", bearer(request))


def as_read_back(text: str, has_media: bool) -> str:
    """How X returns a tweet's text: `& < >` escaped, URLs as t.co, a t.co link for media."""

    def tco(match: re.Match[str]) -> str:
        return "https://t.co/" + hashlib.sha1(match.group().encode()).hexdigest()[:10]  # noqa: S324

    shown = re.sub(r"https?://\S+", tco, html.escape(text, quote=False))
    return f"{shown} https://t.co/media{len(text)}" if has_media else shown


@router.post("/2/tweets")
async def x_tweet(request: Request) -> Response:
    from herald.content_rules import tweet_weight

    state, user = sandbox(request), x_user(request)
    state.calls["x.tweets"] += 1
    if user is None:
        return x_problem(401, "Unauthorized", "Unauthorized")
    body = await request.json()
    text = str(body.get("text", ""))
    reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
    media_ids = list((body.get("media") or {}).get("media_ids") or [])
    if not text and not media_ids:
        return x_invalid("text or media is required")
    if tweet_weight(text) > 280:
        return x_invalid("Your Tweet text is too long.")
    if reply_to and reply_to not in state.posts:
        return x_invalid(f"in_reply_to_tweet_id {reply_to} does not exist")
    if any(m not in publishing(request).uploads for m in media_ids):
        return x_invalid("media_ids must be uploaded first")
    fault, refused = await faulted(request, "x", user.user_id, bearer(request))
    if refused is not None:
        return refused
    mine = posts_of(state, "x", user.user_id)
    if publishing(request).detect_duplicates and text and any(p["text"] == text for p in mine):
        return x_problem(
            403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."
        )
    tweet_id = str(1_900_000_000_000_000_000 + publishing(request).next_id())
    username = state.users["x"].username if state.users["x"].user_id == user.user_id else "i"
    keep(
        state,
        {
            "id": tweet_id,
            "platform": "x",
            "account": user.user_id,
            "text": text,
            "reply_to": reply_to,
            "image": media_ids[0] if media_ids else None,
            "created_iso": now_iso(state),
            "url": f"https://x.com/{username}/status/{tweet_id}",
            "request": body,
        },
    )
    return await answer(fault, JSONResponse({"data": {"id": tweet_id, "text": text}}, 201))


@router.post("/2/media/upload")
async def x_media_upload(request: Request) -> Response:
    if x_user(request) is None:
        return x_problem(401, "Unauthorized", "Unauthorized")
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return x_invalid("the one-shot upload takes multipart/form-data")
    raw = f"Content-Type: {content_type}\r\n\r\n".encode() + await request.body()
    message = BytesParser(policy=HTTP).parsebytes(raw)
    fields = {
        part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
        for part in message.iter_parts()
    }
    media = fields.get("media")
    if not isinstance(media, bytes) or not media:
        return x_invalid("media is required")
    raw_category = fields.get("media_category")
    category = raw_category.decode() if isinstance(raw_category, bytes) else ""
    if category not in ("tweet_image", "tweet_gif", "tweet_video", "dm_image", "subtitles"):
        return x_invalid("media_category is required")
    media_id = str(1_880_000_000_000_000_000 + publishing(request).next_id())
    publishing(request).uploads[media_id] = {"bytes": len(media), "category": category}
    return JSONResponse(
        {
            "data": {
                "id": media_id,
                "media_key": f"3_{media_id}",
                "size": len(media),
                "expires_after_secs": 86400,
                "image": {"image_type": "image/png", "w": 1, "h": 1},
            }
        }
    )


@router.get("/2/users/{user_id}/tweets")
async def x_user_tweets(user_id: str, request: Request) -> Response:
    state = sandbox(request)
    if x_user(request) is None:
        return x_problem(401, "Unauthorized", "Unauthorized")
    since = request.query_params.get("start_time")
    cutoff = datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp() if since else 0.0
    limit = int(request.query_params.get("max_results", "10"))
    # X's pagination token is opaque; here it is the offset of the next page.
    offset = int(request.query_params.get("pagination_token") or 0)
    mine = [p for p in posts_of(state, "x", user_id) if p["created_at"] >= cutoff]
    mine.sort(key=lambda p: (p["created_at"], int(p["id"])), reverse=True)
    data = [
        {
            "id": p["id"],
            "text": as_read_back(p["text"], bool(p["image"])),
            "created_at": p["created_iso"],
        }
        for p in mine[offset : offset + limit]
    ]
    meta: dict[str, Any] = {"result_count": len(data)}
    if offset + limit < len(mine):
        meta["next_token"] = str(offset + limit)
    return JSONResponse({"data": data, "meta": meta} if data else {"meta": meta})


# --- sandbox controls ------------------------------------------------------------------------
@router.get("/_sandbox/posts")
async def list_posts(request: Request) -> Response:
    platform = request.query_params.get("platform")
    posts = [
        {k: v for k, v in p.items() if k != "request"}
        for p in sandbox(request).posts.values()
        if platform in (None, p["platform"])
    ]
    return JSONResponse({"posts": posts})


@router.delete("/_sandbox/posts")
async def forget_posts(request: Request) -> Response:
    sandbox(request).posts.clear()
    return Response(status_code=204)


@router.post("/_sandbox/config")
async def configure(request: Request) -> Response:
    """`{"detect_duplicates": false, "ig_processing_polls": 2, "ig_quota_total": 25,
    "latency_seconds": 0.2}`, any of."""
    given = await request.json()
    config = publishing(request)
    if "detect_duplicates" in given:
        config.detect_duplicates = bool(given["detect_duplicates"])
    for name in ("ig_processing_polls", "ig_quota_total"):
        if name in given:
            setattr(config, name, int(given[name]))
    if "latency_seconds" in given:
        config.latency_seconds = max(0.0, float(given["latency_seconds"]))
    return JSONResponse(
        {
            "detect_duplicates": config.detect_duplicates,
            "ig_processing_polls": config.ig_processing_polls,
            "ig_quota_total": config.ig_quota_total,
            "latency_seconds": config.latency_seconds,
        }
    )


@router.post("/_sandbox/faults")
async def add_fault(request: Request) -> Response:
    try:
        fault = parse_fault(await request.json())
    except (ValueError, TypeError) as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    publishing(request).faults.add(fault)
    return JSONResponse({"pending": len(publishing(request).faults.pending)}, status_code=201)


@router.delete("/_sandbox/faults")
async def clear_faults(request: Request) -> Response:
    publishing(request).faults.clear()
    return Response(status_code=204)


@router.get("/_sandbox/images/{name}")
async def test_image(name: str) -> Response:
    return Response(PNG, media_type="image/png")
