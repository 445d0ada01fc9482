"""The sandbox's metrics endpoints: X posts lookup, LinkedIn member post analytics, organization
share statistics and social actions, Facebook post fields and insights, Instagram media insights.

Each post the publishing endpoints kept grows believable engagement as sandbox time passes: a
saturating curve (most of it in the first hours, as on the real networks) whose size, speed and
engagement mix come from the post's id, so two posts differ and one post's numbers only go up.
`POST /_sandbox/metrics/config {"speed": 3600}` runs that clock an hour per second.

The endpoints check what the real ones check: the token, its scopes or permissions, the fields
and metric names each network accepts today (a retired Graph metric is refused with code 100),
X's 30-day window for non-public metrics and its 100 ids per request. Failures made with
`POST /_sandbox/metrics/faults` (the shapes of faults.py, for metrics reads only, so a publishing
test's fault is never spent by a background sync) answer in each network's own error shape.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.convertors import Convertor, register_url_convertor

from herald.local.sandbox.faults import Faults, parse_fault, refusal
from herald.local.sandbox.records import bearer, sandbox
from herald.local.sandbox.state import SandboxState, Token

router = APIRouter()

X_WINDOW_SECONDS = 900
X_LOOKUP_LIMIT = 5000  # per user per 15 minutes (docs.x.com/x-api/fundamentals/rate-limits)
X_NON_PUBLIC_DAYS = 30
FB_POST_METRICS = ("post_media_view", "post_total_media_view_unique", "post_clicks")
FB_RETIRED = ("post_impressions", "post_impressions_unique", "post_engaged_users")
IG_MEDIA_METRICS = ("views", "reach", "likes", "comments", "shares", "saved", "total_interactions")
IG_RETIRED = ("impressions", "plays", "video_views", "clips_replays_count", "engagement")
LI_QUERY_TYPES = ("IMPRESSION", "MEMBERS_REACHED", "RESHARE", "REACTION", "COMMENT")


@dataclass
class MetricsControls:
    faults: Faults = field(default_factory=Faults)
    # X's per-user lookup window: token -> (window start, calls in it)
    x_windows: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    speed: float = 1.0  # sandbox seconds of engagement per real second


def controls(request: Request) -> MetricsControls:
    app_state = request.app.state
    if not hasattr(app_state, "metrics_controls"):
        app_state.metrics_controls = MetricsControls()
    found: MetricsControls = app_state.metrics_controls
    return found


def speed(request: Request) -> float:
    return controls(request).speed


# --- the growth model ------------------------------------------------------------------------
def _unit(post_id: str, salt: str) -> float:
    digest = hashlib.blake2b(f"{post_id}:{salt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def engagement(post: dict[str, Any], now: float, pace: float = 1.0) -> dict[str, int]:
    """Lifetime counts of a kept post at sandbox time `now`: all grow with the same saturating
    curve, so they never go down between two reads."""
    post_id = str(post["id"])
    age = max(0.0, (now - float(post.get("created_at", now))) * pace)
    ceiling = 300 + 4700 * _unit(post_id, "size")  # impressions it will end up with
    half_life = 1800 + 5 * 3600 * _unit(post_id, "pace")  # 30 min to 5.5 h
    # A fresh post is seen within seconds: the curve starts steep.
    grown = 1 - math.exp(-age / half_life)
    impressions = int(ceiling * grown)
    rate = 0.01 + 0.07 * _unit(post_id, "rate")  # 1% to 8% engage

    def share(salt: str, weight: float) -> int:
        return int(impressions * rate * weight * (0.6 + 0.8 * _unit(post_id, salt)))

    return {
        "impressions": impressions,
        "reach": int(impressions * (0.55 + 0.3 * _unit(post_id, "reach"))),
        "reactions": share("reactions", 0.55),
        "comments": share("comments", 0.12),
        "shares": share("shares", 0.08),
        "quotes": share("quotes", 0.02),
        "bookmarks": share("bookmarks", 0.04),
        "saves": share("saves", 0.05),
        "link_clicks": share("link_clicks", 0.15)
        if post.get("link") or "http" in str(post.get("text", ""))
        else 0,
        "profile_clicks": share("profile_clicks", 0.06),
        "clicks": share("clicks", 0.2),
    }


def _kept(state: SandboxState, post_id: str, platform: str) -> dict[str, Any] | None:
    post = state.posts.get(post_id)
    return post if post is not None and post["platform"] == platform else None


async def _fault(request: Request, surface: str, account: str) -> Response | None:
    fault = controls(request).faults.take(surface, account, bearer(request))  # type: ignore[arg-type]
    if fault is None:
        return None
    if fault.kind in ("timeout", "drop"):
        import asyncio

        from herald.local.sandbox.faults import DroppedResponse

        if fault.kind == "drop":
            return DroppedResponse()
        await asyncio.sleep(fault.delay)
        return None
    return refusal(surface, fault)  # type: ignore[arg-type]


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
    faulted = await _fault(request, "x", token.user_id)
    if faulted is not None:
        return faulted
    fields = set(request.query_params.get("tweet.fields", "").split(","))
    data, problems = [], []
    for tweet_id in ids:
        post = _kept(state, tweet_id, "x")
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
    post = _kept(state, urn, "linkedin")
    if post is None or post["account"] != f"urn:li:person:{token.user_id}":
        return _li_error(404, f"Entity {urn} not found")
    faulted = await _fault(request, "linkedin", post["account"])
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
    faulted = await _fault(request, "linkedin", organization)
    if faulted is not None:
        return faulted
    elements = []
    for kind, urns in (
        ("share", _restli_list(q.get("shares"))),
        ("ugcPost", _restli_list(q.get("ugcPosts"))),
    ):
        for urn in urns:
            post = _kept(state, urn, "linkedin")
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
    post = _kept(state, urn, "linkedin")
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


# --- Meta Graph ----------------------------------------------------------------------------------
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
    faulted = await _fault(request, surface, post["account"])
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
    post = _kept(state, post_id, "facebook")
    if post is None:
        return _graph_error(
            f"Unsupported get request. Object with ID '{post_id}' does not exist", 100, subcode=33
        )
    faulted = await _fault(request, "facebook", post["account"])
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
