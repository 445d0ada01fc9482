"""Connecting accounts: `GET /oauth/{platform}/authorize` and the platform's `.../callback`.

The callback is the one route without an API key: it is reached by the person's browser coming
back from the platform, and the one-time state binds it to the business that started it. It ends
with a redirect to the dashboard (FRONTEND_URL) carrying the outcome; a client that asks for
JSON gets JSON. The redirect target comes from settings only, so nothing in the request can send
the browser elsewhere.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse, Response

from herald.api import problems
from herald.api.deps import ContainerDep, PrincipalDep
from herald.api.ratelimit import RateLimit
from herald.auth import authenticate
from herald.errors import DependencyUnavailable
from herald.platforms.base import ErrorKind, PlatformError

router = APIRouter(tags=["oauth"])

PLATFORM_DESCRIPTION = (
    "`linkedin`, `x`, or `meta` (a Meta login connects Facebook Pages and "
    "their Instagram business accounts)"
)


class AuthorizationOut(BaseModel):
    authorization_url: str
    state_expires_in: int


class ConnectedAccountOut(BaseModel):
    account_id: str
    platform: str
    display_name: str


class CallbackOut(BaseModel):
    platform: str
    connected: list[ConnectedAccountOut]


def _wants_html(accept: str | None) -> bool:
    return bool(accept) and "text/html" in (accept or "")


def _wants_json(accept: str | None) -> bool:
    accept = accept or ""
    return "application/json" in accept or "application/problem+json" in accept


@router.get(
    "/oauth/{platform}/authorize",
    response_model=AuthorizationOut,
    summary="Start connecting an account",
    description=f"Platform: {PLATFORM_DESCRIPTION}. JSON by default; a 302 to the platform "
    "with `?redirect=true` or `Accept: text/html`. The state expires after 10 minutes.",
    responses={302: {"description": "Redirect to the platform's consent page"}},
    dependencies=[RateLimit("oauth")],
)
async def authorize(
    platform: str,
    principal: PrincipalDep,
    container: ContainerDep,
    redirect: Annotated[bool, Query(description="answer with a 302 to the platform")] = False,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    from herald.oauth.service import authorize as start

    started = await start(container, principal.business_id, platform)
    if redirect or _wants_html(accept):
        return RedirectResponse(started.authorization_url, status_code=302)
    return JSONResponse(
        AuthorizationOut(
            authorization_url=started.authorization_url,
            state_expires_in=started.state_expires_in,
        ).model_dump()
    )


def _error_code(exc: Exception) -> tuple[int, str]:
    from herald.oauth.service import AuthorizationDenied

    if isinstance(exc, AuthorizationDenied):
        return 400, "access_denied"
    if isinstance(exc, PlatformError):
        if exc.platform_code == "no_pages":
            return 400, "no_pages"
        if exc.kind.retryable or exc.kind is ErrorKind.AMBIGUOUS:
            return 502, "platform_unavailable"
        return 400, "token_exchange_failed"
    return 500, "internal_error"


@router.get(
    "/oauth/{platform}/callback",
    response_model=CallbackOut,
    summary="Where the platform sends the person back (no API key: bound by the state)",
    description="Ends with a 302 to the dashboard: `?connected=<account ids>&platform=<p>` or "
    "`?error=<code>&platform=<p>`. With `Accept: application/json`, JSON instead. An unknown, "
    "expired, reused or other-platform state is a 400 problem and nothing is stored.",
    responses={302: {"description": "Redirect to the dashboard with the outcome"}},
    dependencies=[RateLimit("oauth", by="address")],
)
async def callback(
    request: Request,
    platform: str,
    container: ContainerDep,
    state: Annotated[str, Query(max_length=256)] = "",
    code: Annotated[str | None, Query(max_length=2048)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    from herald.oauth.service import AuthorizationDenied, complete
    from herald.oauth.state import InvalidState

    expected_business = None
    if authorization:
        # A caller that does present a key must be the business that started the flow.
        principal = await run_in_threadpool(authenticate, authorization, container.businesses)
        expected_business = principal.business_id
    json_wanted = _wants_json(accept)
    try:
        accounts = await complete(
            container,
            platform,
            state=state,
            code=code,
            error=error,
            expected_business=expected_business,
        )
    except InvalidState as exc:
        return problems.problem(400, "Invalid OAuth state", exc.detail, code=exc.code)
    except DependencyUnavailable:
        raise
    except (AuthorizationDenied, PlatformError) as exc:
        status, error_code = _error_code(exc)
        detail = exc.reason() if isinstance(exc, PlatformError) else exc.detail
        if json_wanted:
            return problems.problem(
                status, "Account not connected", detail, code=error_code, platform=platform
            )
        return _to_frontend(container, {"error": error_code, "platform": platform})
    if json_wanted:
        body = CallbackOut(
            platform=platform,
            connected=[
                ConnectedAccountOut(
                    account_id=a.account_id, platform=a.platform, display_name=a.display_name
                )
                for a in accounts
            ],
        )
        return JSONResponse(body.model_dump())
    ids = ",".join(a.account_id for a in accounts)
    return _to_frontend(container, {"connected": ids, "platform": platform})


def _to_frontend(container: Any, outcome: dict[str, str]) -> RedirectResponse:
    base = container.settings.frontend_url
    sep = "&" if "?" in base else "?"
    return RedirectResponse(f"{base}{sep}{urlencode(outcome)}", status_code=302)
