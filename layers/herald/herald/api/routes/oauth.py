"""Connecting accounts: `GET /oauth/{platform}/authorize`, the platform's `.../callback`, and
`POST /oauth/{platform}/confirm`.

The callback is the one route without an API key: it is reached by the person's browser coming
back from the platform, and the one-time state says which business started it, not that the
person who consented belongs to it. So a callback without a key stores nothing: it holds the
accounts and sends the browser to the dashboard (FRONTEND_URL) with a one-time confirmation,
which only that business's key can redeem (`/confirm`). A callback that carries the business's
key (a server-side client asking for JSON) stores them at once. The redirect target comes from
settings only, so nothing in the request can send the browser elsewhere.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, RedirectResponse, Response

from herald.accounts import Account
from herald.api import problems
from herald.api.deps import ContainerDep, PrincipalDep
from herald.api.fields import Plain
from herald.api.ratelimit import RateLimit
from herald.api.ratelimit_auth import authenticate_limited
from herald.errors import DependencyUnavailable
from herald.platforms.base import ErrorKind, PlatformError

router = APIRouter(tags=["oauth"])

PLATFORM_DESCRIPTION = (
    "`linkedin`, `x`, `meta` (a Meta login connects Facebook Pages and "
    "their Instagram business accounts), or `threads`"
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
    connected: list[ConnectedAccountOut] = Field(description="stored now")
    awaiting_confirmation: list[ConnectedAccountOut] = Field(
        default_factory=list,
        description="exchanged, stored only once the business confirms them",
    )
    confirmation: str | None = Field(
        None,
        description="for `POST /oauth/{platform}/confirm` with the business's key, within "
        "`confirmation_expires_in` seconds",
    )
    confirmation_expires_in: int | None = None


class ConfirmIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"confirmation": "kVb1P3uYdA0d6l2d2Qe0c8Xq0y4mXqK9Zr7m1eWc2lo"}]
        },
    )

    confirmation: Plain = Field(max_length=64)


def _shown(accounts: list[Account]) -> list[ConnectedAccountOut]:
    return [
        ConnectedAccountOut(
            account_id=a.account_id, platform=a.platform, display_name=a.display_name
        )
        for a in accounts
    ]


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

    started = await start(container.oauth_ports, principal.business_id, platform)
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
    description="Ends with a 302 to the dashboard: `?confirm=<confirmation>&platform=<p>` (the "
    "dashboard confirms with its key; nothing is stored before) or `?error=<code>&platform=<p>`. "
    "With `Accept: application/json`, JSON instead; with the key of the business that started "
    "the flow too, the accounts are stored at once (`connected`). An unknown, expired, reused, "
    "other-platform or other-business state is a 400 problem and nothing is stored.",
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
    from herald.oauth.service import AuthorizationDenied, complete, hold
    from herald.oauth.state import InvalidState

    json_wanted = _wants_json(accept)
    try:
        if authorization:
            # A caller that presents a key must be the business that started the flow; it has
            # proved it, so the accounts are stored now.
            principal = await authenticate_limited(request, container, authorization)
            accounts = await complete(
                container.oauth_ports,
                platform,
                state=state,
                code=code,
                error=error,
                expected_business=principal.business_id,
            )
            if json_wanted:
                return JSONResponse(
                    CallbackOut(platform=platform, connected=_shown(accounts)).model_dump()
                )
            ids = ",".join(a.account_id for a in accounts)
            return _to_frontend(container, {"connected": ids, "platform": platform})
        held = await hold(container.oauth_ports, platform, state=state, code=code, error=error)
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
            connected=[],
            awaiting_confirmation=_shown(held.accounts),
            confirmation=held.confirmation,
            confirmation_expires_in=held.expires_in,
        )
        return JSONResponse(body.model_dump())
    return _to_frontend(container, {"confirm": held.confirmation, "platform": platform})


@router.post(
    "/oauth/{platform}/confirm",
    response_model=CallbackOut,
    summary="Store the accounts a callback held, with the key of the business that started it",
    description="The dashboard calls this with the `confirm` it was sent back with. Another "
    "business's key, a used or expired confirmation, or another platform's is a 400 "
    "(`invalid_confirmation`), and nothing is stored.",
    dependencies=[RateLimit("oauth")],
)
async def confirm(
    platform: str, body: ConfirmIn, principal: PrincipalDep, container: ContainerDep
) -> Response:
    from herald.oauth.confirmations import InvalidConfirmation
    from herald.oauth.service import confirm as redeem

    try:
        accounts = await redeem(
            container.oauth_ports, principal.business_id, platform, body.confirmation
        )
    except InvalidConfirmation as exc:
        return problems.problem(400, "Invalid confirmation", exc.detail, code=exc.code)
    return JSONResponse(CallbackOut(platform=platform, connected=_shown(accounts)).model_dump())


def _to_frontend(container: Any, outcome: dict[str, str]) -> RedirectResponse:
    base = container.settings.frontend_url
    sep = "&" if "?" in base else "?"
    return RedirectResponse(f"{base}{sep}{urlencode(outcome)}", status_code=302)
