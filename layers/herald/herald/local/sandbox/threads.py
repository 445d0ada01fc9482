"""The sandbox's Threads: its Authorization Window, token endpoints and Graph API, under
`/threads` (Threads' Graph paths are versioned like Meta's, which would otherwise shadow them).

It checks what Threads documents: the app and its exact redirect URI, codes that work once within
the hour, short-lived tokens (1 hour) exchanged for long-lived ones (60 days) that refresh only
once a day old and before they end; containers (text, image, video, carousel of 2 to 20 items,
replies to the user's own posts) whose videos answer IN_PROGRESS for `video_polls` status reads,
500 characters with emoji as bytes and at most 5 links, and the moving 24-hour publishing limit
(`quota_total` posts, `reply_quota_total` replies). Errors are Graph's shapes; faults (faults.py)
apply to `threads_publish` with platform "threads".

    POST /_sandbox/threads/config {"video_polls": 2, "quota_total": 3, "reply_quota_total": 10,
                                   "media_error": true}
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from herald.content_rules import THREADS_MAX, threads_length, threads_links
from herald.local.sandbox.graph import graph_error, graph_page, graph_time, params
from herald.local.sandbox.oauth import _authorize
from herald.local.sandbox.records import answer, bearer, faulted, keep, posts_of, sandbox
from herald.local.sandbox.state import Token

THREADS_CODE_SECONDS = 3600
THREADS_SHORT_SECONDS = 3600
THREADS_LONG_SECONDS = 60 * 86_400
REFRESH_MIN_AGE_SECONDS = 86_400
DAY = 86_400

api = APIRouter(prefix="/threads")
router = APIRouter()  # the app includes this one: `api` and the sandbox's own control


@dataclass
class ThreadsSandbox:
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    issued_at: dict[str, float] = field(default_factory=dict)  # long-lived token -> when
    video_polls: int = 0
    media_error: bool = False  # image and video containers end in ERROR (forced failure)
    quota_total: int = 250
    reply_quota_total: int = 1000
    next_id: int = 1

    def new_id(self, base: int) -> str:
        self.next_id += 1
        return str(base + self.next_id)


def _threads(request: Request) -> ThreadsSandbox:
    app_state = request.app.state
    if not hasattr(app_state, "threads"):
        app_state.threads = ThreadsSandbox()
    found: ThreadsSandbox = app_state.threads
    return found


def _token(request: Request, given: dict[str, str]) -> tuple[str, Token | None]:
    value = bearer(request) or given.get("access_token", "")
    return value, sandbox(request).token_owner("threads", value)


def _invalid_token() -> JSONResponse:
    return graph_error("Error validating access token: Session has expired or is invalid.", 190)


# --- OAuth -----------------------------------------------------------------------------------
@api.get("/oauth/authorize")
async def authorize(request: Request) -> Response:
    scopes = request.query_params.get("scope", "").replace(",", " ").split()
    if "threads_basic" not in scopes:
        return graph_error("threads_basic is required", 100)
    return _authorize(request, "threads", THREADS_CODE_SECONDS, pkce_required=False)


@api.post("/oauth/access_token")
async def code_exchange(request: Request) -> Response:
    state, given = sandbox(request), await params(request)
    state.calls["threads.access_token"] += 1
    client = state.client("threads", given.get("client_id", ""))
    if client is None:
        return graph_error("Error validating application. Invalid application ID.", 101)
    if not hmac.compare_digest(client.client_secret, given.get("client_secret", "")):
        return graph_error("Error validating client secret.", 1)
    if given.get("grant_type") != "authorization_code":
        return graph_error("Unsupported grant_type", 100)
    grant = state.take_code(given.get("code", ""))
    if grant is None or grant.platform != "threads" or grant.client_id != client.client_id:
        return graph_error("Invalid verification code format or code already used.", 100, 400)
    if grant.expires_at <= state.now():
        return graph_error("This authorization code has expired.", 100, subcode=36007)
    if grant.redirect_uri != given.get("redirect_uri"):
        return graph_error("Error validating verification code: redirect_uri differs", 100)
    short = state.issue_token(
        Token(
            "threads",
            client.client_id,
            grant.user_id,
            grant.scopes,
            state.now() + THREADS_SHORT_SECONDS,
            grant=secrets.token_hex(8),
        ),
        "THQS",
    )
    return JSONResponse({"access_token": short, "user_id": int(grant.user_id)})


def _long_lived(request: Request, old: Token) -> JSONResponse:
    state = sandbox(request)
    value = state.issue_token(
        Token(
            "threads",
            old.client_id,
            old.user_id,
            old.scopes,
            state.now() + THREADS_LONG_SECONDS,
            long_lived=True,
            grant=old.grant,
        ),
        "THQL",
    )
    _threads(request).issued_at[value] = state.now()
    return JSONResponse(
        {"access_token": value, "token_type": "bearer", "expires_in": THREADS_LONG_SECONDS}
    )


@api.get("/access_token")
async def long_lived(request: Request) -> Response:
    state, q = sandbox(request), request.query_params
    state.calls["threads.exchange"] += 1
    if q.get("grant_type") != "th_exchange_token":
        return graph_error("Unsupported grant_type", 100)
    short = state.token_owner("threads", q.get("access_token", ""))
    if short is None or short.long_lived:
        return _invalid_token()
    client = state.client("threads", short.client_id)
    if client is None or not hmac.compare_digest(client.client_secret, q.get("client_secret", "")):
        return graph_error("Error validating client secret.", 1)
    return _long_lived(request, short)


@api.get("/refresh_access_token")
async def refresh(request: Request) -> Response:
    state, q = sandbox(request), request.query_params
    state.calls["threads.refresh"] += 1
    if q.get("grant_type") != "th_refresh_token":
        return graph_error("Unsupported grant_type", 100)
    value = q.get("access_token", "")
    token = state.token_owner("threads", value)
    if token is None or not token.long_lived:
        return _invalid_token()
    if state.now() - _threads(request).issued_at.get(value, 0) < REFRESH_MIN_AGE_SECONDS:
        return graph_error("The token must be at least 24 hours old to be refreshed.", 10)
    return _long_lived(request, token)


@api.get("/{version}/me")
async def me(request: Request, version: str) -> Response:
    state, given = sandbox(request), await params(request)
    state.calls["threads.me"] += 1
    _, token = _token(request, given)
    if token is None:
        return _invalid_token()
    user = state.users["threads"]
    return JSONResponse({"id": token.user_id, "username": user.username, "name": user.name})


# --- publishing ------------------------------------------------------------------------------
CONTAINER_BASE = 18_100_000_000_000_000
MEDIA_BASE = 18_200_000_000_000_000


def _owner(request: Request, given: dict[str, str], user_id: str) -> Token | JSONResponse:
    _, token = _token(request, given)
    if token is None:
        return _invalid_token()
    if token.user_id != user_id and user_id != "me":
        return graph_error("(#10) Application does not have permission for this action", 10)
    return token


def _refuse_content(given: dict[str, str]) -> JSONResponse | None:
    text = given.get("text", "")
    if threads_length(text) > THREADS_MAX:
        return graph_error("(#100) The post's text is longer than 500 characters", 100)
    if threads_links(text, given.get("link_attachment")) > 5:
        return graph_error("THREADS_API__LINK_LIMIT_EXCEEDED: more than 5 links", 100)
    return None


@api.post("/{version}/{user_id}/threads")
async def create_container(request: Request, version: str, user_id: str) -> Response:
    state, given, th = sandbox(request), await params(request), _threads(request)
    state.calls["threads.container"] += 1
    token = _owner(request, given, user_id)
    if isinstance(token, JSONResponse):
        return token
    if "threads_content_publish" not in token.scopes:
        return graph_error("(#10) threads_content_publish is required", 10, 403)
    kind = given.get("media_type", "")
    refused = _refuse_content(given)
    if refused is not None:
        return refused
    entry: dict[str, Any] = {"user": token.user_id, "media_type": kind, "polls": 0, "given": given}
    if kind == "TEXT":
        if not given.get("text"):
            return graph_error("(#100) text is required for a TEXT post", 100)
    elif kind in ("IMAGE", "VIDEO"):
        url = given.get("image_url" if kind == "IMAGE" else "video_url", "")
        if not url.startswith(("http://", "https://")):
            return graph_error("(#100) The media could not be fetched from this URI", 100)
        # https://developers.facebook.com/documentation/threads/posts: alt_text, 1,000 at most
        if len(given.get("alt_text", "")) > 1000:
            return graph_error("(#100) alt_text is longer than 1000 characters", 100)
        entry["error"] = th.media_error
    elif kind == "CAROUSEL":
        children = [c for c in given.get("children", "").split(",") if c]
        if not 2 <= len(children) <= 20:
            return graph_error("(#100) A carousel takes 2 to 20 children", 100)
        for child in children:
            item = th.containers.get(child)
            if (
                item is None
                or item["user"] != token.user_id
                or item["given"].get("is_carousel_item") not in ("true", "1")
            ):
                return graph_error(f"(#100) {child} is not a carousel item of this user", 100)
    else:
        return graph_error("(#100) media_type must be TEXT, IMAGE, VIDEO or CAROUSEL", 100)
    reply_to = given.get("reply_to_id")
    if reply_to:
        parent = state.posts.get(reply_to)
        if parent is None or parent["platform"] != "threads":
            return graph_error(f"(#100) {reply_to} does not exist", 100, subcode=33)
        if "threads_manage_replies" not in token.scopes:
            return graph_error("(#10) threads_manage_replies is required to reply", 10, 403)
    container = th.new_id(CONTAINER_BASE)
    th.containers[container] = entry
    return JSONResponse({"id": container})


def _status(th: ThreadsSandbox, entry: dict[str, Any]) -> str:
    if entry.get("media_id"):
        return "PUBLISHED"
    if entry.get("error"):
        return "ERROR"
    if entry["media_type"] == "VIDEO" and entry["polls"] <= th.video_polls:
        return "IN_PROGRESS"
    return "FINISHED"


def _window(request: Request, user_id: str, replies: bool) -> list[dict[str, Any]]:
    state = sandbox(request)
    since = state.now() - DAY
    return [
        p
        for p in posts_of(state, "threads", user_id)
        if p["created_at"] >= since and bool(p.get("reply_to")) == replies
    ]


@api.post("/{version}/{user_id}/threads_publish")
async def publish(request: Request, version: str, user_id: str) -> Response:
    state, given, th = sandbox(request), await params(request), _threads(request)
    state.calls["threads.publish"] += 1
    token = _owner(request, given, user_id)
    if isinstance(token, JSONResponse):
        return token
    entry = th.containers.get(given.get("creation_id", ""))
    if entry is None or entry["user"] != token.user_id:
        return graph_error("(#24) The requested resource does not exist", 24, subcode=4279009)
    if entry.get("media_id"):
        return graph_error("(#100) The container has already been published", 100)
    if _status(th, entry) != "FINISHED":
        return graph_error("(#24) The media is not ready to be published", 24, subcode=4279009)
    if entry["given"].get("is_carousel_item") in ("true", "1"):
        return graph_error("(#100) A carousel item is published through its carousel", 100)
    reply_to = entry["given"].get("reply_to_id")
    total = th.reply_quota_total if reply_to else th.quota_total
    if len(_window(request, token.user_id, bool(reply_to))) >= total:
        return graph_error("(#4) The publishing limit for the last 24 hours is reached", 4)
    fault, refused = await faulted(request, "threads", token.user_id, bearer(request))
    if refused is not None:
        return refused
    media_id = th.new_id(MEDIA_BASE)
    entry["media_id"] = media_id
    g = entry["given"]
    children = [
        {k: v for k, v in th.containers[c]["given"].items() if k.endswith("_url")}
        for c in g.get("children", "").split(",")
        if c
    ]
    username = state.users["threads"].username
    keep(
        state,
        {
            "id": media_id,
            "platform": "threads",
            "account": token.user_id,
            "text": g.get("text", ""),
            "media_type": entry["media_type"],
            "image": g.get("image_url"),
            "video": g.get("video_url"),
            "children": children,
            "link": g.get("link_attachment"),
            "reply_to": reply_to,
            "url": f"https://www.threads.com/@{username}/post/Sbx{media_id[-6:]}",
            "request": g,
        },
    )
    return await answer(fault, JSONResponse({"id": media_id}))


@api.get("/{version}/{user_id}/threads_publishing_limit")
async def publishing_limit(request: Request, version: str, user_id: str) -> Response:
    given, th = await params(request), _threads(request)
    sandbox(request).calls["threads.limit"] += 1
    token = _owner(request, given, user_id)
    if isinstance(token, JSONResponse):
        return token
    fields = given.get("fields", "quota_usage,config").split(",")
    entry: dict[str, Any] = {}
    if "quota_usage" in fields:
        entry["quota_usage"] = len(_window(request, token.user_id, False))
    if "config" in fields:
        entry["config"] = {"quota_total": th.quota_total, "quota_duration": DAY}
    if "reply_quota_usage" in fields:
        entry["reply_quota_usage"] = len(_window(request, token.user_id, True))
    if "reply_config" in fields:
        entry["reply_config"] = {"quota_total": th.reply_quota_total, "quota_duration": DAY}
    return JSONResponse({"data": [entry]})


def _listing(request: Request, given: dict[str, str], user_id: str, replies: bool) -> Response:
    state = sandbox(request)
    since = float(given.get("since") or 0)
    mine = [
        p
        for p in posts_of(state, "threads", user_id)
        if p["created_at"] >= since and bool(p.get("reply_to")) == replies
    ]
    mine.sort(key=lambda p: p["created_at"], reverse=True)
    data = []
    for p in mine:
        item: dict[str, Any] = {
            "id": p["id"],
            "media_product_type": "THREADS",
            "media_type": "TEXT_POST" if p["media_type"] == "TEXT" else p["media_type"],
            "text": p["text"],
            "timestamp": graph_time(p["created_at"]),
            "permalink": p["url"],
            "username": state.users["threads"].username,
        }
        if replies:
            item["replied_to"] = {"id": p["reply_to"]}
        data.append(item)
    return JSONResponse(graph_page(request, given, data))


@api.get("/{version}/{user_id}/threads")
async def user_threads(request: Request, version: str, user_id: str) -> Response:
    given = await params(request)
    token = _owner(request, given, user_id)
    if isinstance(token, JSONResponse):
        return token
    return _listing(request, given, token.user_id, replies=False)


@api.get("/{version}/{user_id}/replies")
async def user_replies(request: Request, version: str, user_id: str) -> Response:
    given = await params(request)
    token = _owner(request, given, user_id)
    if isinstance(token, JSONResponse):
        return token
    return _listing(request, given, token.user_id, replies=True)


@api.get("/{version}/{node_id}")
async def node(request: Request, version: str, node_id: str) -> Response:
    state, given, th = sandbox(request), await params(request), _threads(request)
    _, token = _token(request, given)
    if token is None:
        return _invalid_token()
    entry = th.containers.get(node_id)
    if entry is not None and entry["user"] == token.user_id:
        entry["polls"] += 1
        status = _status(th, entry)
        found = {"id": node_id, "status": status}
        if status == "ERROR":
            found["error_message"] = "FAILED_PROCESSING_VIDEO"
        return JSONResponse(found)
    post = state.posts.get(node_id)
    if post is None or post["platform"] != "threads":
        return graph_error(f"Object with ID '{node_id}' does not exist", 100, subcode=33)
    return JSONResponse(
        {
            "id": node_id,
            "permalink": post["url"],
            "text": post["text"],
            "timestamp": graph_time(post["created_at"]),
        }
    )


@router.post("/_sandbox/threads/config")
async def configure(request: Request) -> Response:
    """`{"video_polls": 2, "quota_total": 3, "reply_quota_total": 10, "media_error": true}`,
    any of."""
    given, th = await request.json(), _threads(request)
    for name in ("video_polls", "quota_total", "reply_quota_total"):
        if name in given:
            setattr(th, name, int(given[name]))
    if "media_error" in given:
        th.media_error = bool(given["media_error"])
    return JSONResponse(
        {
            "video_polls": th.video_polls,
            "quota_total": th.quota_total,
            "reply_quota_total": th.reply_quota_total,
        }
    )


router.include_router(api)
