"""The sandbox's Threads media insights: `GET /threads/{version}/{media-id}/insights`.

As Threads documents (https://developers.facebook.com/docs/threads/insights): the metrics are
`views`, `likes`, `replies`, `reposts`, `quotes` and `shares`, any other is refused with code
100; the token needs `threads_manage_insights` (code 10 without) and must be the post's owner's;
the answer is `{data: [{name, period: "lifetime", values: [{value}], title, description, id}]}`.
The counts grow with sandbox time as every network's do here (engagement.py), and a post with no
views yet answers an empty list. Metrics faults (`POST /_sandbox/metrics/faults` with platform
"threads") answer in Graph's shapes.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from herald.local.sandbox.engagement import engagement, metrics_fault, speed
from herald.local.sandbox.graph import graph_error, params
from herald.local.sandbox.records import bearer, sandbox

router = APIRouter(prefix="/threads")

THREADS_MEDIA_METRICS = ("views", "likes", "replies", "reposts", "quotes", "shares")
_VERSION = re.compile(r"^v\d+\.\d+$")
_TITLES = {
    "views": "Views",
    "likes": "Likes",
    "replies": "Replies",
    "reposts": "Reposts",
    "quotes": "Quotes",
    "shares": "Shares",
}


def _insight(media_id: str, name: str, value: int) -> dict[str, Any]:
    return {
        "name": name,
        "period": "lifetime",
        "values": [{"value": value}],
        "title": _TITLES[name],
        "description": f"The number of {name} on your post.",
        "id": f"{media_id}/insights/{name}/lifetime",
    }


@router.get("/{version}/{media_id}/insights")
async def media_insights(version: str, media_id: str, request: Request) -> Response:
    state, given = sandbox(request), await params(request)
    if not _VERSION.match(version):
        return graph_error("Unknown path components", 2500)
    token = state.token_owner("threads", bearer(request) or given.get("access_token", ""))
    if token is None:
        return graph_error("Error validating access token: Session has expired or is invalid.", 190)
    wanted = [m for m in given.get("metric", "").split(",") if m]
    if not wanted:
        return graph_error("(#100) The parameter metric is required", 100)
    post = state.posts.get(media_id)
    if post is None or post["platform"] != "threads":
        return graph_error(f"Object with ID '{media_id}' does not exist", 100, subcode=33)
    state.calls["threads.insights"] += 1
    if "threads_manage_insights" not in token.scopes:
        return graph_error(
            "(#10) Application does not have permission for this action (threads_manage_insights)",
            10,
            403,
        )
    if post["account"] != token.user_id:
        return graph_error("(#10) Application does not have permission for this action", 10, 403)
    for metric in wanted:
        if metric not in THREADS_MEDIA_METRICS:
            allowed = ", ".join(THREADS_MEDIA_METRICS)
            return graph_error(
                f"(#100) metric[0] must be one of the following values: {allowed}", 100
            )
    faulted = await metrics_fault(request, "threads", post["account"])
    if faulted is not None:
        return faulted
    counts = engagement(post, state.now(), speed(request))
    by_name = {
        "views": counts["impressions"],
        "likes": counts["reactions"],
        "replies": counts["comments"],
        "reposts": counts["shares"],
        "quotes": counts["quotes"],
        # Sent to someone else: a fraction of the reposts, grown the same way.
        "shares": counts["bookmarks"],
    }
    data = [_insight(media_id, m, by_name[m]) for m in wanted if counts["impressions"] > 0]
    return JSONResponse({"data": data})
