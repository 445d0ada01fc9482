"""Failures the sandbox can be told to produce, each in the platform's own shape.

`POST /_sandbox/faults {"platform": "x", "kind": "429", "count": 2, "retry_after": 1}` makes the
next two publishing calls to X answer 429 with X's rate-limit headers. A fault can be narrowed to
one account (LinkedIn author URN or member id, X user id, Page id, Instagram or Threads user id)
or to one bearer token, and can let the first `after` matching calls through. Kinds:

- `429`: the platform's rate-limit answer and headers (`retry_after` seconds, default 60)
- `500`: the platform's server error
- `401`: the platform's revoked-token answer
- `duplicate`: the platform's duplicate-content refusal
A fault with `"call": "comment"` hits only the first-comment endpoints (comments.py: LinkedIn,
Facebook, Instagram), `"call": "post"` only the others; X and Threads comment with a reply
through their publishing endpoints, where `after` picks the call to fail.

- `timeout`: the post is recorded (the request reached the platform) and the answer comes after
  `delay` seconds, past the client's timeout
- `drop`: the post is recorded and the connection is cut before the answer is complete

And the refusals one platform documents (the `platform` must be named):

- `426` (LinkedIn): the LinkedIn-Version was sunset, `NONEXISTENT_VERSION`
- `402` (X): pay-per-use credits used up, `CreditsDepleted`
- `reply_forbidden` (X): the 403 a self-serve app's reply gets where it was not summoned
- `341` (Meta): application limit reached; `368` (Meta): temporarily blocked for policy
- `spam` (Meta): Instagram's 4/2207051, the publish held as suspected spam
- `not_ready` (Meta): Instagram's 9007/2207027, the container not ready to publish
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from fastapi.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

FaultKind = Literal[
    "429", "500", "401", "duplicate", "timeout", "drop",
    "426", "402", "reply_forbidden", "341", "368", "spam", "not_ready",
]  # fmt: skip
Surface = Literal["linkedin", "x", "facebook", "instagram", "threads"]
COMMON_KINDS = frozenset({"429", "500", "401", "duplicate", "timeout", "drop"})
# The refusals only one platform documents, and the platforms a fault of each may name.
PLATFORM_KINDS = {
    "426": {"linkedin"},
    "402": {"x"},
    "reply_forbidden": {"x"},
    "341": {"meta", "facebook", "instagram"},
    "368": {"meta", "facebook", "instagram"},
    "spam": {"meta", "instagram"},
    "not_ready": {"meta", "instagram"},
}
REPLY_REFUSED = (
    "Reply to this conversation is not allowed because you have not been mentioned or otherwise "
    "engaged by the author of the post you are replying to."
)


@dataclass
class Fault:
    kind: FaultKind
    # linkedin | x | facebook | instagram | threads | meta (Facebook and Instagram)
    platform: str | None = None
    account: str | None = None
    token: str | None = None
    count: int | None = 1  # None: until cleared
    after: int = 0  # matching calls let through first: `after: 1` fails a thread's 2nd tweet
    retry_after: float = 60.0
    delay: float = 11.0  # the default client timeout is 10 s
    # "comment": only a first comment's call (comments.py); "post": every other publishing call
    call: str | None = None

    def matches(self, surface: Surface, account: str, token: str, call: str = "post") -> bool:
        if self.call and self.call != call:
            return False
        if self.platform and self.platform not in (surface, "meta" if surface in _META else ""):
            return False
        if self.account and self.account not in (account, account.rsplit(":", 1)[-1]):
            return False
        return not (self.token and self.token != token)


_META = ("facebook", "instagram")


class Faults:
    def __init__(self) -> None:
        self.pending: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self.pending.append(fault)

    def clear(self) -> None:
        self.pending.clear()

    def take(self, surface: Surface, account: str, token: str, call: str = "post") -> Fault | None:
        """The first fault for this call, used up by it."""
        for fault in self.pending:
            if fault.matches(surface, account, token, call):
                if fault.after > 0:
                    fault.after -= 1
                    return None
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self.pending.remove(fault)
                return fault
        return None


def refusal(surface: Surface, fault: Fault) -> Response:
    """The answer for a fault that refuses the call (429, 500, 401, duplicate)."""
    reset = math.ceil(time.time() + fault.retry_after)
    if surface == "linkedin" and fault.kind == "426":
        sunset = {"status": 426, "code": "NONEXISTENT_VERSION",
                  "message": "Requested version is not active"}  # fmt: skip
        return JSONResponse(sunset, status_code=426)
    if surface == "x" and fault.kind == "402":
        credits = {
            "type": "https://api.twitter.com/2/problems/credits", "title": "CreditsDepleted",
            "detail": "Your enrolled account does not have any credits to fulfill this request.",
        }  # fmt: skip
        return JSONResponse(credits, status_code=402, media_type="application/problem+json")
    if surface == "x" and fault.kind == "reply_forbidden":
        return reply_refused()
    if surface == "linkedin":
        linkedin = {
            "429": (
                429,
                "Resource level throttle APPLICATION DAY limit for calls to this "
                "resource is reached.",
                None,
            ),
            "500": (500, "Internal Server Error", None),
            "401": (401, "Invalid access token", 65600),
            "duplicate": (422, "Content is a duplicate of urn:li:share:0", None),
        }[fault.kind]
        status, message, service_code = linkedin
        body: dict[str, Any] = {"message": message, "status": status}
        if service_code:
            body["serviceErrorCode"] = service_code
        if fault.kind == "duplicate":
            body["code"] = "DUPLICATE_POST"
        headers = {"Retry-After": str(math.ceil(fault.retry_after))} if status == 429 else {}
        return JSONResponse(body, status_code=status, headers=headers)
    if surface == "x":
        x = {
            "429": (429, "Too Many Requests", "Too Many Requests"),
            "500": (500, "Internal Server Error", "Internal Server Error"),
            "401": (401, "Unauthorized", "Unauthorized"),
            "duplicate": (
                403,
                "Forbidden",
                "You are not allowed to create a Tweet with duplicate content.",
            ),
        }[fault.kind]
        status, title, detail = x
        headers = {}
        if status == 429:
            headers = {
                "x-rate-limit-limit": "100",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(reset),
            }
        problem = {"title": title, "detail": detail, "type": "about:blank", "status": status}
        return JSONResponse(
            problem, status_code=status, headers=headers, media_type="application/problem+json"
        )
    return graph_failure(surface, fault)


def reply_refused() -> Response:
    problem = {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": REPLY_REFUSED}
    return JSONResponse(problem, status_code=403, media_type="application/problem+json")


# Graph's documented refusals (https://developers.facebook.com/docs/graph-api/guides/
# error-handling, .../instagram-graph-api/reference/error-codes): (status, code, subcode, message)
GRAPH_REFUSALS: dict[str, tuple[int, int, int | None, str]] = {
    "341": (400, 341, None, "(#341) Application limit reached"),
    "368": (400, 368, None, "(#368) Temporarily blocked for policies violations"),
    "spam": (400, 4, 2207051, "We restrict certain activity to protect our community. "
             "Tell us if you think we made a mistake."),
    "not_ready": (400, 9007, 2207027, "Media ID is not available"),
}  # fmt: skip


def graph_failure(surface: Surface, fault: Fault) -> Response:
    headers: dict[str, str] = {}
    if fault.kind in GRAPH_REFUSALS:
        status, code, subcode, text = GRAPH_REFUSALS[fault.kind]
        error: dict[str, Any] = {"message": text, "type": "OAuthException", "code": code,
                                 "fbtrace_id": "Sandbox"}  # fmt: skip
        if subcode is not None:
            error["error_subcode"] = subcode
        return JSONResponse({"error": error}, status_code=status)
    if fault.kind == "429" and surface == "threads":
        # Threads counts calls per app and user (4800 x impressions a day): Graph's code 4 with
        # the app-usage header.
        minutes = max(1, math.ceil(fault.retry_after / 60))
        app_usage = {"call_count": 100, "estimated_time_to_regain_access": minutes}
        headers["X-App-Usage"] = json.dumps(app_usage)
        code, status, message = 4, 400, "(#4) Application request limit reached"
    elif fault.kind == "429":
        code = 80002 if surface == "instagram" else 80001
        # Meta only says when in whole minutes.
        minutes = max(1, math.ceil(fault.retry_after / 60))
        usage = {
            "0": [
                {
                    "type": "instagram" if surface == "instagram" else "pages",
                    "call_count": 100,
                    "total_cputime": 25,
                    "total_time": 25,
                    "estimated_time_to_regain_access": minutes,
                }
            ]
        }
        headers["X-Business-Use-Case-Usage"] = json.dumps(usage)
        status, message = 400, "There have been too many calls to this Page account."
    elif fault.kind == "500":
        code, status = 2, 500
        message = "An unexpected error has occurred. Please retry your request later."
    elif fault.kind == "401":
        code, status = 190, 400
        message = "Error validating access token: The session has been invalidated."
    else:
        code, status, message = 506, 400, "(#506) Duplicate status message"
    body = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Sandbox"}
    return JSONResponse({"error": body}, status_code=status, headers=headers)


class DroppedResponse(Response):
    """Starts the answer, then cuts the connection: what a proxy reset looks like to a client.

    Under uvicorn the half-sent response ends the connection; under httpx's ASGITransport the
    error reaches the client as the transport error a real drop would raise.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"512")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"data":', "more_body": True})
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


async def after_recording(fault: Fault, answer: Response) -> Response:
    """For `timeout` and `drop`: the post is already kept; only the answer goes wrong."""
    if fault.kind == "drop":
        return DroppedResponse()
    await asyncio.sleep(fault.delay)
    return answer


def parse_fault(payload: MutableMapping[str, Any]) -> Fault:
    kind = str(payload.get("kind", ""))
    if kind not in COMMON_KINDS and kind not in PLATFORM_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}")
    if kind in PLATFORM_KINDS and payload.get("platform") not in PLATFORM_KINDS[kind]:
        names = ", ".join(sorted(PLATFORM_KINDS[kind]))
        raise ValueError(f"a {kind} fault is for {names}: name it as the platform")
    count = payload.get("count", 1)
    call = payload.get("call")
    if call not in (None, "post", "comment"):
        raise ValueError(f"call is post or comment, not {call!r}")
    return Fault(
        kind=kind,  # type: ignore[arg-type]
        platform=payload.get("platform"),
        account=payload.get("account"),
        token=payload.get("token"),
        count=None if count is None else int(count),
        after=int(payload.get("after", 0)),
        retry_after=float(payload.get("retry_after", 60)),
        delay=float(payload.get("delay", 11)),
        call=call,
    )
