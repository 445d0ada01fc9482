"""The sandbox's engagement model and the controls its metrics endpoints share.

Each post the publishing endpoints kept grows believable engagement as sandbox time passes: a
saturating curve (most of it in the first hours, as on the real networks) whose size, speed and
engagement mix come from the post's id, so two posts differ and one post's numbers only go up.
`POST /_sandbox/metrics/config {"speed": 3600}` runs that clock an hour per second. Failures made
with `POST /_sandbox/metrics/faults` (the shapes of faults.py, for metrics reads only, so a
publishing test's fault is never spent by a background sync) answer in each network's own shape.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from herald.local.sandbox.faults import DroppedResponse, Faults, Surface, refusal
from herald.local.sandbox.records import bearer
from herald.local.sandbox.state import SandboxState


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


def kept(state: SandboxState, post_id: str, platform: str) -> dict[str, Any] | None:
    post = state.posts.get(post_id)
    return post if post is not None and post["platform"] == platform else None


async def metrics_fault(request: Request, surface: Surface, account: str) -> Response | None:
    fault = controls(request).faults.take(surface, account, bearer(request))
    if fault is None:
        return None
    if fault.kind in ("timeout", "drop"):
        if fault.kind == "drop":
            return DroppedResponse()
        await asyncio.sleep(fault.delay)
        return None
    return refusal(surface, fault)
