"""Rate limits on API routes: one dependency per route group, headers on every limited response.

Usage in a router (the routes stay as they are; the limit is one entry in `dependencies`):

    from herald.api.ratelimit import RateLimit

    router = APIRouter(tags=["publish"], dependencies=[RateLimit("publish")])

    @router.post("/schedule", dependencies=[RateLimit("publish")])  # scheduling is publishing
    @router.get("/analytics/posts", dependencies=[RateLimit("analytics")])
    @router.get("/oauth/callback", dependencies=[RateLimit("oauth", by="address")])

`RateLimited` is the same factory under another name. Groups, with their settings (override per
deployment in the environment, e.g. RATE_LIMIT_PUBLISH="20/hour"; RATE_LIMIT_ENABLED=false turns
every limit off):

    oauth          RATE_LIMIT_OAUTH           10/minute
    publish        RATE_LIMIT_PUBLISH         20/hour    publishing and scheduling: both spend
                                                         platform quota and create posts
    analytics      RATE_LIMIT_ANALYTICS      100/minute
    default        RATE_LIMIT_DEFAULT        300/minute  the per-key ceiling: every limited
                                                         request counts here as well
    auth_failures  RATE_LIMIT_AUTH_FAILURES    5/minute  per address (herald.api.ratelimit_auth)

`by="business"` (the default) authenticates the request through `PrincipalDep`, which FastAPI
resolves once per request however many dependencies ask for it, and keys on the business;
`by="address"` keys on the client address, for routes that carry no API key. One group per route
is one Redis round trip; a group repeated by a router and its route runs once, and a second group
on the same route costs a second round trip but spends each policy (`default`) only once.

Headers on every response of a limited route, the 429 included (draft-ietf-httpapi-ratelimit-
headers, revisions 08 to 11: Structured Field lists, one item per policy that applied):

    RateLimit-Policy: "publish";q=20;w=3600, "default";q=300;w=60
    RateLimit: "publish";r=19;t=180, "default";r=299;t=1
    X-RateLimit-Limit: 20 / X-RateLimit-Remaining: 19 / X-RateLimit-Reset: 180

`t` and X-RateLimit-Reset are delta seconds (not an epoch time) until more quota is available,
as revision 10 of the draft defines `t` (https://datatracker.ietf.org/meeting/124/materials/
slides-124-httpapi-ratelimiting-update-00, issue #149: "until additional quota ... is made
available", for algorithms that refill before a whole window passes). A bucket refilled
continuously answers with the time to its next request: with none left, when the next one is
admitted. The X- fields describe the policy closest to refusing. A 429 is problem+json with
Retry-After, the seconds until the request would be admitted, which is then also the refusing
policy's `t` and X-RateLimit-Reset.

What an answer gives back (one more script call, only for these answers):

    a replayed Idempotency-Key (Idempotent-Replayed: true)   everything it spent: the work was
                                                             done, and paid for, the first time
    400 or 422 from a `publish` route                        the `publish` policy: nothing was
                                                             published; `default` stays spent,
                                                             the ceiling counts every request
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald import container as composition
from herald.api.deps import ContainerDep, PrincipalDep
from herald.api.problems import PROBLEM_JSON
from herald.api.ratelimit_auth import SCOPE_KEY, Slot, client_address, record, refusal
from herald.ratelimit import Decision, Policy, policies_from_settings

Key = Literal["business", "address"]


class _Check:
    group: str
    by: Key

    async def _hit(self, request: Request, container: Any, subject: str) -> None:
        limiter = container.ratelimiter
        policies = limiter.for_group(self.group)
        slot = request.scope.get(SCOPE_KEY)
        if isinstance(slot, Slot):
            policies = tuple(p for p in policies if (subject, p.name) not in slot.counted)
            if not policies:
                return
            slot.counted.update((subject, p.name) for p in policies)
        decision = await limiter.hit(subject, policies)
        if isinstance(slot, Slot) and decision.admitted:
            slot.limiter = limiter
            slot.spent += [(subject, p) for p in policies]
        if isinstance(slot, Slot) and slot.decision is not None:
            decision = Decision(
                admitted=decision.admitted,
                states=slot.decision.states + decision.states,
                degraded=decision.degraded or slot.decision.degraded,
            )
        record(request, decision)
        if not decision.admitted:
            raise refusal(decision)


class _BusinessCheck(_Check):
    def __init__(self, group: str) -> None:
        self.group, self.by = group, "business"

    async def __call__(
        self, request: Request, principal: PrincipalDep, container: ContainerDep
    ) -> None:
        if container.settings.rate_limit_enabled:
            await self._hit(request, container, "b:" + principal.business_id)


class _AddressCheck(_Check):
    def __init__(self, group: str) -> None:
        self.group, self.by = group, "address"

    async def __call__(self, request: Request, container: ContainerDep) -> None:
        if container.settings.rate_limit_enabled:
            await self._hit(request, container, "ip:" + client_address(request.scope))


def RateLimit(group: str = "default", *, by: Key = "business") -> Any:
    """The dependency that limits a route (or a router) by `group`; see the module docstring."""
    if group not in ("oauth", "publish", "analytics", "default"):
        raise ValueError(f"unknown rate limit group {group!r}")
    # One instance per (group, key): FastAPI then runs a check listed twice once per request.
    check = _CHECKS.get((group, by))
    if check is None:
        check = _CHECKS[group, by] = (
            _BusinessCheck(group) if by == "business" else _AddressCheck(group)
        )
    return Depends(check)


_CHECKS: dict[tuple[str, Key], _BusinessCheck | _AddressCheck] = {}


RateLimited = RateLimit


# --- headers ---------------------------------------------------------------------------------
def header_fields(decision: Decision) -> dict[str, str]:
    policy = ", ".join(
        f'"{s.policy.name}";q={s.policy.limit};w={s.policy.period}' for s in decision.states
    )
    current = ", ".join(
        f'"{s.policy.name}";r={s.remaining};t={math.ceil(s.more_in)}' for s in decision.states
    )
    closest = decision.closest
    return {
        "RateLimit-Policy": policy,
        "RateLimit": current,
        "X-RateLimit-Limit": str(closest.policy.limit),
        "X-RateLimit-Remaining": str(closest.remaining),
        "X-RateLimit-Reset": str(math.ceil(closest.more_in)),
    }


class RateLimitHeaders:
    """Adds the decision a check left in the scope to the response, whatever made the response
    (the route, a 429, or an error raised after the check)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        slot = Slot()
        scope[SCOPE_KEY] = slot

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and slot.decision is not None:
                headers = MutableHeaders(scope=message)
                await _give_back(slot, message["status"], headers)
                for name, value in header_fields(slot.decision).items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


# Spent only by work that was done: a request refused as invalid published nothing.
_GIVEN_BACK_WHEN_INVALID = frozenset({"publish"})
_INVALID = frozenset({400, 422})


async def _give_back(slot: Slot, status: int, headers: MutableHeaders) -> None:
    if slot.limiter is None or slot.decision is None or not slot.decision.admitted:
        return
    if headers.get("idempotent-replayed") == "true":
        back = slot.spent
    elif status in _INVALID:
        back = [(s, p) for s, p in slot.spent if p.name in _GIVEN_BACK_WHEN_INVALID]
    else:
        return
    for subject in dict.fromkeys(s for s, _ in back):
        await slot.limiter.refund(subject, [p for s, p in back if s == subject])
    slot.decision = slot.decision.given_back({p.name for _, p in back})


# --- OpenAPI ---------------------------------------------------------------------------------
def _checks(route: Any) -> Iterator[_Check]:
    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, _Check):
            yield dependant.call
        stack.extend(dependant.dependencies)


def _too_many() -> dict[str, Any]:
    def header(description: str) -> dict[str, Any]:
        return {"description": description, "schema": {"type": "string"}}

    return {
        "description": "Too Many Requests: a rate limit refused the request; nothing was counted.",
        "headers": {
            "Retry-After": header("seconds until the request would be admitted"),
            "RateLimit": header("remaining quota per policy (IETF draft)"),
            "RateLimit-Policy": header("the policies that apply (IETF draft)"),
        },
        "content": {PROBLEM_JSON: {"schema": {"type": "object"}}},
    }


def _document(schema: dict[str, Any], app: FastAPI) -> None:
    settings = (app.state.container or composition.get_container()).settings
    policies = policies_from_settings(settings)
    # Included routers are resolved lazily; their route contexts carry the router's dependencies.
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute):
            continue
        checks = {(c.group, c.by) for c in _checks(route)}
        if not checks:
            continue
        applied: list[tuple[Policy, Key]] = []
        for group, by in sorted(checks):
            applied.append((policies[group], by))
            if group != "default":
                applied.append((policies["default"], by))
        limits = [
            {"policy": p.name, "limit": p.limit, "window_seconds": p.period, "key": by}
            for p, by in dict.fromkeys(applied)
        ]
        text = "; ".join(f"{x['policy']}: {x['limit']} per {x['window_seconds']} s" for x in limits)
        for method in route.methods or ():
            operation = schema.get("paths", {}).get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            operation["x-ratelimit"] = limits
            operation["description"] = (
                operation.get("description", "") + f"\n\nRate limits ({text})."
            ).strip()
            operation.setdefault("responses", {})["429"] = _too_many()


def install(app: FastAPI) -> None:
    """Headers on every limited response, and the limits in the OpenAPI description."""
    app.add_middleware(RateLimitHeaders)
    generate: Callable[[], dict[str, Any]] = app.openapi
    documented: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        # FastAPI caches the schema and rebuilds it when routes change; document each build once.
        schema = generate()
        if not documented or documented[0] is not schema:
            _document(schema, app)
            documented[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
