"""What the sandbox's publishing endpoints share: their memory, token lookup, and fault checks."""

from __future__ import annotations

import itertools
from asyncio import sleep
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from herald.accounts import PlatformName
from herald.local.sandbox.faults import Fault, Faults, after_recording, refusal
from herald.local.sandbox.state import SandboxState


@dataclass
class Publishing:
    """The publishing side's own memory; the posts themselves live in `SandboxState.posts`."""

    faults: Faults = field(default_factory=Faults)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)  # LinkedIn images, X media
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)  # Instagram
    comments: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # LinkedIn, Meta (comments.py)
    detect_duplicates: bool = True
    ig_processing_polls: int = 0  # status polls a container answers IN_PROGRESS before FINISHED
    ig_quota_total: int = 100
    x_processing_polls: int = 1  # STATUS reads an X GIF or video answers in_progress
    x_check_after_secs: int = 1  # the check_after_secs X's processing_info says
    # Media processing that fails (X's processing_info `failed`, LinkedIn's PROCESSING_FAILED):
    # how many of the next processed files fail, per platform.
    media_failures: dict[str, int] = field(default_factory=dict)
    linkedin_processing_polls: int = 1  # status reads a LinkedIn video or document is PROCESSING
    # How long each publishing call takes to answer, as a real platform's does (benchmarks).
    latency_seconds: float = 0.0

    def next_id(self) -> int:
        return next(self.ids)

    def media_fails(self, platform: str) -> bool:
        """Whether the file now being processed on `platform` is one forced to fail."""
        left = self.media_failures.get(platform, 0)
        if left <= 0:
            return False
        self.media_failures[platform] = left - 1
        return True


def sandbox(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def publishing(request: Request) -> Publishing:
    app_state = request.app.state
    if not hasattr(app_state, "publishing"):
        app_state.publishing = Publishing()
    found: Publishing = app_state.publishing
    return found


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def now_iso(state: SandboxState) -> str:
    return datetime.fromtimestamp(state.now(), UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def keep(state: SandboxState, record: dict[str, Any]) -> dict[str, Any]:
    record.setdefault("created_at", state.now())
    state.posts[str(record["id"])] = record
    return record


def posts_of(state: SandboxState, platform: PlatformName, account: str) -> list[dict[str, Any]]:
    return [
        p for p in state.posts.values() if p["platform"] == platform and p["account"] == account
    ]


async def faulted(
    request: Request, surface: PlatformName, account: str, token: str, *, call: str = "post"
) -> tuple[Fault | None, Response | None]:
    """The fault for this call, and the refusal to answer with when it refuses outright. Every
    publishing call passes here first, so it also takes the configured latency."""
    latency = publishing(request).latency_seconds
    if latency > 0:
        await sleep(latency)
    fault = publishing(request).faults.take(surface, account, token, call)
    if fault is not None and fault.kind not in ("timeout", "drop"):
        return fault, refusal(surface, fault)
    return fault, None


async def answer(fault: Fault | None, response: Response) -> Response:
    return response if fault is None else await after_recording(fault, response)
