"""The sandbox's metrics endpoints for X and LinkedIn (posts lookup; member post analytics,
organization share statistics and social actions), Graph's in insights.py, and the controls of
the engagement model (engagement.py).

The endpoints check what the real ones check: the token, its scopes, the `LinkedIn-Version`
header, X's 30-day window for non-public metrics and its 100 ids per request, and X's per-user
window of lookups with its `x-rate-limit-*` headers.
"""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from herald.local.sandbox import insights
from herald.local.sandbox.engagement import controls, engagement, kept, metrics_fault, speed
from herald.local.sandbox.faults import parse_fault
from herald.local.sandbox.records import bearer, sandbox
from herald.local.sandbox.state import SandboxState, Token

router = APIRouter()
router.include_router(insights.router)

X_WINDOW_SECONDS = 900
X_LOOKUP_LIMIT = 5000  # per user per 15 minutes (docs.x.com/x-api/fundamentals/rate-limits)
X_NON_PUBLIC_DAYS = 30
LI_QUERY_TYPES = ("IMPRESSION", "MEMBERS_REACHED", "RESHARE", "REACTION", "COMMENT")


# --- X -----------------------------------------------------------------------------------------
def _x_problem(status: int, title: str, detail: str, kind: str, **extra: Any) -> JSONResponse:
    body = {"title": title, "detail": detail, "type": kind, "status": status, **extra}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


@router.get("/2/tweets")
async def x_lookup(request: Request) -> Response:
    state = sandbox(request)
    state.calls["x.tweets.lookup"] += 1
    token = state.token_owner("x", bearer(request))
    if token is None:
        return _x_problem(401, "Unauthorized", "Unauthorized", "about:blank")
    ids = [i for i in request.query_params.get("ids", "").split(",") if i]
    if not ids or len(ids) > 100 or not all(i.isdigit() for i in ids):
        return _x_problem(
            400,
            "Invalid Request",
            "One or more parameters to your request was invalid.",
            "https://api.x.com/2/problems/invalid-request",
            errors=[{"message": "The `ids` query parameter value must be 1 to 100 post ids"}],
        )
    window = controls(request).x_windows[bearer(request)]
    now = time.time()
    if now - window[0] >= X_WINDOW_SECONDS:
        window[0], window[1] = now, 0
    window[1] += 1
    reset = str(int(window[0] + X_WINDOW_SECONDS))
    headers = {
        "x-rate-limit-limit": str(X_LOOKUP_LIMIT),
        "x-rate-limit-remaining": str(max(0, X_LOOKUP_LIMIT - window[1])),
        "x-rate-limit-reset": reset,
    }
    if window[1] > X_LOOKUP_LIMIT:
        return _x_problem(429, "Too Many Requests", "Too Many Requests", "about:blank")
    faulted = await metrics_fault(request, "x", token.user_id)
    if faulted is not None:
        return faulted
    fields = set(request.query_params.get("tweet.fields", "").split(","))
    data, problems = [], []
    for tweet_id in ids:
        post = kept(state, tweet_id, "x")
        if post is None:
            problems.append(
                {
                    "value": tweet_id,
                    "detail": f"Could not find tweet with ids: [{tweet_id}].",
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                    "parameter": "ids",
                    "resource_id": tweet_id,
                    "type": "https://api.x.com/2/problems/resource-not-found",
                }
            )
            continue
        data.append(_tweet(state, request, token, post, fields, problems))
    body: dict[str, Any] = {}
    if data:
        body["data"] = data
    if problems:
        body["errors"] = problems
    return JSONResponse(body, headers=headers)


def _tweet(
    state: SandboxState,
    request: Request,
    token: Token,
    post: dict[str, Any],
    fields: set[str],
    problems: list[dict[str, Any]],
) -> dict[str, Any]:
    counts = engagement(post, state.now(), speed(request))
    tweet: dict[str, Any] = {"id": post["id"], "text": post["text"]}
    if "created_at" in fields:
        tweet["created_at"] = post.get("created_iso")
    if "public_metrics" in fields:
        tweet["public_metrics"] = {
            "retweet_count": counts["shares"],
            "reply_count": counts["comments"],
            "like_count": counts["reactions"],
            "quote_count": counts["quotes"],
            "bookmark_count": counts["bookmarks"],
            "impression_count": counts["impressions"],
        }
    private = {"non_public_metrics", "organic_metrics"} & fields
    if private:
        recent = state.now() - float(post["created_at"]) < X_NON_PUBLIC_DAYS * 86_400
        if post["account"] != token.user_id or not recent:
            for name in sorted(private):
                problems.append(
                    {
                        "value": post["id"],
                        "detail": f"Sorry, you are not authorized to access '{name}' on a Tweet.",
                        "title": "Field Authorization Error",
                        "resource_type": "tweet",
                        "field": name,
                        "section": "data",
                        "resource_id": post["id"],
                        "type": "https://api.x.com/2/problems/not-authorized-for-field",
                    }
                )
        else:
            non_public = {
                "impression_count": counts["impressions"],
                "user_profile_clicks": counts["profile_clicks"],
            }
            if counts["link_clicks"]:
                non_public["url_link_clicks"] = counts["link_clicks"]
            if "non_public_metrics" in fields:
                tweet["non_public_metrics"] = non_public
            if "organic_metrics" in fields:
                tweet["organic_metrics"] = {
                    **non_public,
                    "retweet_count": counts["shares"],
                    "reply_count": counts["comments"],
                    "like_count": counts["reactions"],
                }
    return tweet


# --- LinkedIn ------------------------------------------------------------------------------------
def _li_error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"status": status, "message": message, **extra}, status_code=status)


def _li_token(request: Request) -> Token | JSONResponse:
    token = sandbox(request).token_owner("linkedin", bearer(request))
    if token is None:
        return _li_error(401, "Invalid access token", serviceErrorCode=65600)
    if not request.headers.get("linkedin-version"):
        return _li_error(400, "A version must be present.", code="VERSION_MISSING")
    return token


def _li_denied(resource: str) -> JSONResponse:
    return _li_error(
        403,
        f"Not enough permissions to access: {resource}",
        serviceErrorCode=100,
        code="ACCESS_DENIED",
    )


_ENTITY = re.compile(r"^\((share|ugc):(urn:li:(?:share|ugcPost):\d+)\)$")


@router.get("/rest/memberCreatorPostAnalytics")
async def linkedin_member_analytics(request: Request) -> Response:
    state = sandbox(request)
    state.calls["linkedin.memberCreatorPostAnalytics"] += 1
    token = _li_token(request)
    if not isinstance(token, Token):
        return token
    if "r_member_postAnalytics" not in token.scopes:
        return _li_denied("memberCreatorPostAnalytics.FINDER-entity")
    q = request.query_params
    match = _ENTITY.match(q.get("entity", ""))
    query_type = q.get("queryType", "")
    if q.get("q") != "entity" or not match or query_type not in LI_QUERY_TYPES:
        return _li_error(400, "q=entity, an entity (share:urn) or (ugc:urn) and a queryType")
    urn = match.group(2)
    post = kept(state, urn, "linkedin")
    if post is None or post["account"] != f"urn:li:person:{token.user_id}":
        return _li_error(404, f"Entity {urn} not found")
    faulted = await metrics_fault(request, "linkedin", post["account"])
    if faulted is not None:
        return faulted
    counts = engagement(post, state.now(), speed(request))
    name = {
        "IMPRESSION": "impressions",
        "MEMBERS_REACHED": "reach",
        "RESHARE": "shares",
        "REACTION": "reactions",
        "COMMENT": "comments",
    }[query_type]
    element = {
        "count": counts[name],
        "metricType": query_type,
        "targetEntity": {match.group(1): urn},
    }
    return JSONResponse({"paging": {"start": 0, "count": 10, "links": []}, "elements": [element]})


def _restli_list(value: str | None) -> list[str]:
    if not value:
        return []
    inner = value[5:-1] if value.startswith("List(") and value.endswith(")") else value
    return [v for v in inner.split(",") if v]


@router.get("/rest/organizationalEntityShareStatistics")
async def linkedin_org_statistics(request: Request) -> Response:
    state = sandbox(request)
    state.calls["linkedin.organizationalEntityShareStatistics"] += 1
    token = _li_token(request)
    if not isinstance(token, Token):
        return token
    if "rw_organization_admin" not in token.scopes:
        return _li_denied("organizationalEntityShareStatistics.FINDER-organizationalEntity")
    q = request.query_params
    organization = q.get("organizationalEntity", "")
    if q.get("q") != "organizationalEntity" or not organization.startswith("urn:li:organization:"):
        return _li_error(400, "q=organizationalEntity and an organization URN are required")
    faulted = await metrics_fault(request, "linkedin", organization)
    if faulted is not None:
        return faulted
    elements = []
    for kind, urns in (
        ("share", _restli_list(q.get("shares"))),
        ("ugcPost", _restli_list(q.get("ugcPosts"))),
    ):
        for urn in urns:
            post = kept(state, urn, "linkedin")
            if post is None or post["account"] != organization:
                continue
            counts = engagement(post, state.now(), speed(request))
            engaged = counts["reactions"] + counts["comments"] + counts["shares"] + counts["clicks"]
            elements.append(
                {
                    "organizationalEntity": organization,
                    kind: urn,
                    "totalShareStatistics": {
                        "uniqueImpressionsCount": counts["reach"],
                        "shareCount": counts["shares"],
                        "engagement": engaged / counts["impressions"]
                        if counts["impressions"]
                        else 0.0,
                        "clickCount": counts["clicks"],
                        "likeCount": counts["reactions"],
                        "impressionCount": counts["impressions"],
                        "commentCount": counts["comments"],
                    },
                }
            )
    return JSONResponse({"paging": {"start": 0, "count": 10, "links": []}, "elements": elements})


@router.get("/rest/socialActions/{urn}")
async def linkedin_social_actions(urn: str, request: Request) -> Response:
    state = sandbox(request)
    state.calls["linkedin.socialActions"] += 1
    token = _li_token(request)
    if not isinstance(token, Token):
        return token
    if not {"r_member_social", "r_organization_social"} & set(token.scopes):
        return _li_denied("socialActions.GET")
    post = kept(state, urn, "linkedin")
    if post is None:
        return _li_error(404, f"Entity {urn} not found")
    counts = engagement(post, state.now(), speed(request))
    return JSONResponse(
        {
            "$URN": f"urn:li:socialActions:{urn}",
            "target": urn,
            "likesSummary": {
                "totalLikes": counts["reactions"],
                "aggregatedTotalLikes": counts["reactions"],
                "likedByCurrentUser": False,
            },
            "commentsSummary": {
                "totalFirstLevelComments": counts["comments"],
                "aggregatedTotalComments": counts["comments"],
            },
        }
    )


# --- sandbox controls ---------------------------------------------------------------------------
@router.post("/_sandbox/metrics/faults")
async def add_metrics_fault(request: Request) -> Response:
    try:
        fault = parse_fault(await request.json())
    except (ValueError, TypeError) as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    controls(request).faults.add(fault)
    return JSONResponse({"pending": len(controls(request).faults.pending)}, status_code=201)


@router.post("/_sandbox/metrics/config")
async def configure_metrics(request: Request) -> Response:
    """`{"speed": 3600}`: engagement grows an hour for every second (1 by default)."""
    given = await request.json()
    if "speed" in given:
        controls(request).speed = max(0.0, float(given["speed"]))
    return JSONResponse({"speed": controls(request).speed})


@router.delete("/_sandbox/metrics/faults")
async def clear_metrics_faults(request: Request) -> Response:
    controls(request).faults.clear()
    return Response(status_code=204)


@router.get("/_sandbox/metrics/{post_id:path}")
async def show_engagement(post_id: str, request: Request) -> Response:
    """What the sandbox would report for a kept post now (for tests and people)."""
    post = sandbox(request).posts.get(post_id)
    if post is None:
        return JSONResponse({"detail": "no such post"}, status_code=404)
    return JSONResponse(engagement(post, sandbox(request).now(), speed(request)))
