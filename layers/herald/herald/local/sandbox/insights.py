"""The sandbox's Graph metrics endpoints: a Page post's own counts (`/{post-id}?fields=...`) and
insights (`/{post-id}/insights`), an Instagram media's insights (`/{ig-media-id}/insights`).

They accept only the metric names Meta serves today (`post_media_view`,
`post_total_media_view_unique`, `post_clicks`; `views`, `reach`, `likes`, `comments`, `shares`,
`saved`, `total_interactions`) and refuse a retired one (`post_impressions`, `impressions`, ...)
with code 100, want `read_insights` / `instagram_manage_insights` (code 10 without), and leave a
metric out of the answer while a post has no data yet, as Meta does.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.convertors import Convertor, register_url_convertor

from herald.local.sandbox.engagement import engagement, kept, metrics_fault, speed
from herald.local.sandbox.records import bearer, sandbox
from herald.local.sandbox.state import Token

router = APIRouter()

FB_POST_METRICS = ("post_media_view", "post_total_media_view_unique", "post_clicks")
IG_MEDIA_METRICS = ("views", "reach", "likes", "comments", "shares", "saved", "total_interactions")


_VERSION = re.compile(r"^v\d+\.\d+$")


def _graph_error(
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


def _graph_token(request: Request) -> Token | None:
    given = bearer(request) or request.query_params.get("access_token", "")
    return sandbox(request).token_owner("meta", given)


def _insight(node: str, name: str, value: int) -> dict[str, Any]:
    return {
        "name": name,
        "period": "lifetime",
        "values": [{"value": value}],
        "title": name.replace("_", " ").capitalize(),
        "description": f"Lifetime: {name}",
        "id": f"{node}/insights/{name}/lifetime",
    }


@router.get("/{version}/{node}/insights")
async def graph_insights(version: str, node: str, request: Request) -> Response:
    state = sandbox(request)
    if not _VERSION.match(version):
        return _graph_error("Unknown path components", 2500)
    token = _graph_token(request)
    if token is None:
        return _graph_error("Error validating access token: the token is invalid.", 190)
    wanted = [m for m in request.query_params.get("metric", "").split(",") if m]
    if not wanted:
        return _graph_error("No metric was specified to be fetched.", 3001, subcode=1504028)
    post = state.posts.get(node)
    if post is None or post["platform"] not in ("facebook", "instagram"):
        return _graph_error(
            f"Unsupported get request. Object with ID '{node}' does not exist", 100, subcode=33
        )
    surface = post["platform"]
    state.calls[f"{surface}.insights"] += 1
    allowed = FB_POST_METRICS if surface == "facebook" else IG_MEDIA_METRICS
    permission = "read_insights" if surface == "facebook" else "instagram_manage_insights"
    if permission not in token.scopes:
        return _graph_error(
            f"(#10) Application does not have permission for this action ({permission})", 10, 403
        )
    if surface == "facebook" and token.page_id not in (None, post["account"]):
        return _graph_error("(#200) The page token does not belong to this Page", 200, 403)
    for metric in wanted:
        if metric not in allowed:
            if surface == "facebook":
                return _graph_error("(#100) The value must be a valid insights metric", 100)
            return _graph_error(
                f"(#100) metric[0] must be one of the following values: {', '.join(allowed)}", 100
            )
    faulted = await metrics_fault(request, surface, post["account"])
    if faulted is not None:
        return faulted
    counts = engagement(post, state.now(), speed(request))
    by_name = {
        "post_media_view": counts["impressions"],
        "post_total_media_view_unique": counts["reach"],
        "post_clicks": counts["clicks"],
        "views": counts["impressions"],
        "reach": counts["reach"],
        "likes": counts["reactions"],
        "comments": counts["comments"],
        "shares": counts["shares"],
        "saved": counts["saves"],
        "total_interactions": counts["reactions"]
        + counts["comments"]
        + counts["shares"]
        + counts["saves"],
    }
    # A brand-new post has no data yet: Meta leaves the metric out rather than answer 0.
    data = [_insight(node, m, by_name[m]) for m in wanted if counts["impressions"] > 0]
    return JSONResponse({"data": data, "paging": {"previous": "", "next": ""}})


class FacebookPostId(Convertor[str]):
    """Only Page post ids (`<page id>_<n>`), so this route never shadows another Graph node."""

    regex = r"[0-9]+_[0-9]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("sandbox_fb_post", FacebookPostId())


@router.get("/{version}/{post_id:sandbox_fb_post}")
async def facebook_post(version: str, post_id: str, request: Request) -> Response:
    """A Page post's own counts (`fields=shares,reactions.summary(...),comments.summary(...)`)."""
    state = sandbox(request)
    if not _VERSION.match(version):
        return _graph_error("Unknown path components", 2500)
    state.calls["facebook.post_fields"] += 1
    token = _graph_token(request)
    if token is None:
        return _graph_error("Error validating access token: the token is invalid.", 190)
    post = kept(state, post_id, "facebook")
    if post is None:
        return _graph_error(
            f"Unsupported get request. Object with ID '{post_id}' does not exist", 100, subcode=33
        )
    faulted = await metrics_fault(request, "facebook", post["account"])
    if faulted is not None:
        return faulted
    counts = engagement(post, state.now(), speed(request))
    fields = request.query_params.get("fields", "")
    body: dict[str, Any] = {"id": post_id}
    if re.search(r"(^|,)shares", fields) and counts["shares"]:
        body["shares"] = {"count": counts["shares"]}
    if "reactions" in fields:
        body["reactions"] = {
            "data": [],
            "summary": {"total_count": counts["reactions"], "viewer_reaction": "NONE"},
        }
    if "comments" in fields:
        body["comments"] = {
            "data": [],
            "summary": {"order": "ranked", "total_count": counts["comments"], "can_comment": True},
        }
    return JSONResponse(body)
