"""Failed authentication, limited per client address; and the request plumbing the limits share.

Why a valid key still works from an address that is over its failure budget: addresses are
shared (offices behind one NAT, mobile carriers), and one misconfigured client must not lock
every business behind that address out. A brute force gains nothing from that rule: keys carry
256 bits, and an attacker who had a valid key would not need to guess. So failures are counted
per address, and once the `auth_failures` policy refuses, a request from that address whose
credentials do not authenticate gets a 429 instead of a 401. Credentials that are missing or
malformed are refused before the DynamoDB lookup while this instance knows the address is
refused; a well-formed key is still looked up, since it may be valid.

The client address is API Gateway's `requestContext.http.sourceIp` (Mangum hands the event over
in the ASGI scope), or the socket peer under uvicorn; never a header a client can write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool

from herald import errors
from herald.auth import Principal, authenticate, bearer_key

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import Scope

    from herald.container import Container
    from herald.ratelimit import Decision, Policy, RateLimiter

SCOPE_KEY = "herald.ratelimit"


@dataclass
class Slot:
    """Put in the ASGI scope by the headers middleware; the checks leave their decision here."""

    decision: Decision | None = None
    # (subject, policy) pairs already counted for this request, so that a route limited twice
    # (by its router and by itself) spends each policy once.
    counted: set[tuple[str, str]] = field(default_factory=set)
    # What this request spent, by subject, so that the answer can give it back (see
    # herald.api.ratelimit: a replay, a publish refused as invalid).
    spent: list[tuple[str, Policy]] = field(default_factory=list)
    limiter: RateLimiter | None = None


def client_address(scope: Scope) -> str:
    event: Any = scope.get("aws.event")
    if isinstance(event, dict):
        source = event.get("requestContext", {}).get("http", {}).get("sourceIp")
        if source:
            return str(source)
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def record(request: Request, decision: Decision) -> None:
    slot = request.scope.get(SCOPE_KEY)
    if isinstance(slot, Slot):
        slot.decision = decision


def refusal(decision: Decision) -> errors.RateLimited:
    name = decision.closest.policy.name
    exc = errors.RateLimited(
        f"rate limit '{name}' exceeded; retry after the time in Retry-After",
        retry_after=decision.retry_after,
    )
    exc.extra["policy"] = name
    return exc


def _malformed(authorization: str | None) -> bool:
    try:
        bearer_key(authorization)
    except errors.Unauthorized:
        return True
    return False


async def authenticate_limited(
    request: Request,
    container: Container,
    authorization: str | None,
    accounts: Sequence[str] = (),
) -> Principal:
    """`herald.auth.authenticate`, with failures counted against the address's budget."""
    check = partial(
        authenticate,
        authorization,
        container.businesses,
        accounts=accounts,
        verified=container.verified_keys,
    )
    if not container.settings.rate_limit_enabled:
        return await run_in_threadpool(check)
    limiter = container.ratelimiter
    subject = "ip:" + client_address(request.scope)
    policies = limiter.for_group("auth_failures")
    known = limiter.known_refusal(subject, policies)
    if known is not None and _malformed(authorization):
        record(request, known)
        raise refusal(known)
    try:
        # boto3 is synchronous: the lookup runs in a worker thread so the loop keeps serving.
        return await run_in_threadpool(check)
    except errors.Unauthorized:
        decision = known or await limiter.hit(subject, policies)
        record(request, decision)
        if not decision.admitted:
            raise refusal(decision) from None
        raise
