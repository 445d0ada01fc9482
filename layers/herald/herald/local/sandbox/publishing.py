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

import hashlib
import html
import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from herald.local.sandbox import comments, graph, x_media
from herald.local.sandbox.faults import parse_fault, reply_refused
from herald.local.sandbox.images import image_for
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
from herald.platforms.versions import linkedin_version_active

router = APIRouter()
router.include_router(comments.router)
router.include_router(graph.router)
router.include_router(x_media.router)


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


def linkedin_version_refused(request: Request) -> Response | None:
    """LinkedIn's answer when the LinkedIn-Version header is missing, or names a version that
    was sunset or never released (herald.platforms.versions dates them)."""
    version = request.headers.get("linkedin-version", "")
    if not version:
        return linkedin_error(
            400,
            "A version must be present. Please specify a version by "
            "adding the LinkedIn-Version header.",
            code="VERSION_MISSING",
        )
    today = datetime.fromtimestamp(sandbox(request).now(), UTC).date()
    if not linkedin_version_active(version, today):
        return linkedin_error(
            426, f"Requested version {version} is not active", code="NONEXISTENT_VERSION"
        )
    return None


@router.post("/rest/posts")
async def linkedin_post(request: Request) -> Response:
    state, token = sandbox(request), linkedin_token(request)
    state.calls["linkedin.posts"] += 1
    if token is None:
        return linkedin_error(401, "Invalid access token", serviceErrorCode=65600)
    refused = linkedin_version_refused(request)
    if refused is not None:
        return refused
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
    from herald.local.sandbox.linkedin_media import media_problem

    content = body.get("content") or {}
    if (why := media_problem(request, content)) is not None:
        return linkedin_error(422, why)
    urn = f"urn:li:share:{7_000_000_000_000_000_000 + publishing(request).next_id()}"
    media = (content.get("media") or {}).get("id")
    images = (content.get("multiImage") or {}).get("images") or []
    keep(
        state,
        {
            "id": urn,
            "platform": "linkedin",
            "account": author,
            "text": text,
            "commentary": body["commentary"],
            "image": media,
            "media": [
                {"id": m.get("id"), "alt_text": m.get("altText"), "title": m.get("title")}
                for m in (images or ([content["media"]] if media else []))
            ],
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
    refused = linkedin_version_refused(request)
    if refused is not None:
        return refused
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
    refused = linkedin_version_refused(request)
    if refused is not None:
        return refused
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
    from herald.content_rules import invalid_tweet_characters, tweet_weight

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
    if invalid_tweet_characters(text):
        return x_invalid("Your Tweet text contains an invalid character.")
    if reply_to and reply_to not in state.posts:
        return x_invalid(f"in_reply_to_tweet_id {reply_to} does not exist")
    if any(not x_media.ready(request, m) for m in media_ids):
        return x_invalid("media_ids must be uploaded and processed first")
    if (why := x_media.attached(request, media_ids)) is not None:
        return x_invalid(why)
    fault, refused = await faulted(request, "x", user.user_id, bearer(request))
    if refused is not None:
        return refused
    if reply_to and state.posts[reply_to]["account"] != user.user_id:
        # Since 2026-02-23 a self-serve app may reply only where the author summoned it; the
        # sandbox's authors never do, and a thread's replies to its own tweets stay allowed.
        return reply_refused()
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
            "media": x_media.described(request, media_ids),
            "created_iso": now_iso(state),
            "url": f"https://x.com/{username}/status/{tweet_id}",
            "request": body,
        },
    )
    return await answer(fault, JSONResponse({"data": {"id": tweet_id, "text": text}}, 201))


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
            **(
                {"referenced_tweets": [{"type": "replied_to", "id": p["reply_to"]}]}
                if p.get("reply_to")
                else {}
            ),
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
    "x_processing_polls": 3, "x_check_after_secs": 5, "linkedin_processing_polls": 2,
    "media_failures": {"x": 1, "linkedin": 1}, "latency_seconds": 0.2}`, any of."""
    given = await request.json()
    config = publishing(request)
    if "detect_duplicates" in given:
        config.detect_duplicates = bool(given["detect_duplicates"])
    for name in ("ig_processing_polls", "ig_quota_total", "x_processing_polls",
                 "x_check_after_secs", "linkedin_processing_polls"):  # fmt: skip
        if name in given:
            setattr(config, name, int(given[name]))
    if isinstance(given.get("media_failures"), dict):
        config.media_failures.update({str(k): int(v) for k, v in given["media_failures"].items()})
    if "latency_seconds" in given:
        config.latency_seconds = max(0.0, float(given["latency_seconds"]))
    return JSONResponse(
        {
            "detect_duplicates": config.detect_duplicates,
            "ig_processing_polls": config.ig_processing_polls,
            "ig_quota_total": config.ig_quota_total,
            "x_processing_polls": config.x_processing_polls,
            "x_check_after_secs": config.x_check_after_secs,
            "linkedin_processing_polls": config.linkedin_processing_polls,
            "media_failures": config.media_failures,
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
async def test_image(name: str, request: Request) -> Response:
    """Real images to post (herald.local.sandbox.images): `.jpg` a JPEG of `?w=&h=` (1080x1080
    by default, `?pad=` bytes longer), `.gif` a GIF of `?frames=`, anything else a 1x1 PNG."""
    data, media_type = image_for(name, dict(request.query_params))
    return Response(data, media_type=media_type)
