"""What every platform's OAuth flow offers, the shared pieces, and which flow serves a provider.

A flow is built (`FlowPorts`) with the container's `httpx.AsyncClient`, the base URLs from
settings and the app's client credentials, so tests hand in a MockTransport and the local stack
points it at the sandbox: the code is the same for all of them. Platform failures become
`PlatformError`s here, at the boundary, classified by status and error code (never by message
text).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

import httpx
from starlette.concurrency import run_in_threadpool

from herald.accounts import PlatformName
from herald.errors import DependencyUnavailable, NotFound
from herald.platforms.base import ErrorKind, PlatformError
from herald.redaction import redact_text

if TYPE_CHECKING:
    from herald.clock import Clock
    from herald.settings import Settings

Provider = Literal["linkedin", "x", "meta", "threads"]
PROVIDERS: tuple[Provider, ...] = ("linkedin", "x", "meta", "threads")
# The platform a provider's errors are reported under (Meta's are Facebook Login's).
PROVIDER_PLATFORM: dict[str, PlatformName] = {
    "linkedin": "linkedin",
    "x": "x",
    "meta": "facebook",
    "facebook": "facebook",
    "instagram": "facebook",
    "threads": "threads",
}
PLATFORM_PROVIDER: dict[str, Provider] = {
    "linkedin": "linkedin",
    "x": "x",
    "facebook": "meta",
    "instagram": "meta",
    "threads": "threads",
}


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class TokenSet:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConnectedIdentity:
    """One account a callback produced, tokens still in clear (encrypted before storing)."""

    platform: PlatformName
    external_id: str
    display_name: str
    tokens: TokenSet
    details: dict[str, str] = field(default_factory=dict)


class Flow(Protocol):
    provider: Provider
    uses_pkce: bool

    def authorization_url(
        self, *, state: str, redirect_uri: str, code_challenge: str | None
    ) -> str: ...

    async def exchange(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> list[ConnectedIdentity]: ...

    async def refresh(self, refresh_token: str) -> TokenSet: ...

    async def revoke(
        self, access_token: str, refresh_token: str | None, details: dict[str, str]
    ) -> bool:
        """Revoke at the platform; False when the platform offers no revocation."""
        ...


# --- shared helpers -----------------------------------------------------------------------
def split_scopes(value: Any) -> tuple[str, ...]:
    # LinkedIn answers "a,b,c", X "a b c": accept either.
    if not value:
        return ()
    return tuple(s for s in str(value).replace(",", " ").split() if s)


def token_set(body: dict[str, Any], now: datetime, requested: tuple[str, ...]) -> TokenSet:
    def after(seconds: Any) -> datetime | None:
        return now + timedelta(seconds=int(seconds)) if seconds else None

    return TokenSet(
        access_token=str(body["access_token"]),
        refresh_token=body.get("refresh_token") or None,
        expires_at=after(body.get("expires_in")),
        refresh_expires_at=after(body.get("refresh_token_expires_in")),
        scopes=split_scopes(body.get("scope")) or requested,
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


# OAuth's error codes that say the grant (code or refresh token) is dead, not our request.
_DEAD_GRANT = {"invalid_grant", "invalid_token", "expired_token"}


def platform_error(
    platform: PlatformName, response: httpx.Response, *, refreshing: bool = False
) -> PlatformError:
    """Classify a refusal from a token, userinfo or revoke endpoint."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    code: str | None = None
    message = ""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):  # Graph: {"error": {"message", "type", "code", "error_subcode"}}
            code = str(err.get("code")) if err.get("code") is not None else None
            message = str(err.get("message", ""))
        elif isinstance(err, str):  # RFC 6749: {"error", "error_description"}
            code = err
            message = str(body.get("error_description", ""))
        else:  # X API v2 problems: {"title", "detail", "status"}
            message = str(body.get("detail") or body.get("title") or "")
    detail = redact_text(message or f"HTTP {status}")
    if status == 429 or code in {"4", "17", "32", "613"}:
        kind = ErrorKind.RATE_LIMITED
    elif status >= 500 or code in {"1", "2"}:
        kind = ErrorKind.TRANSIENT
    elif code in _DEAD_GRANT or code == "190":
        kind = ErrorKind.AUTH_REVOKED
    elif refreshing and code == "invalid_request":
        # X (and LinkedIn) answer a used or revoked refresh token with invalid_request, not
        # invalid_grant; on a refresh there is nothing else in our request that could be wrong.
        kind = ErrorKind.AUTH_REVOKED
    elif status == 401 and code not in {"invalid_client", "unauthorized_client"}:
        kind = ErrorKind.AUTH_REVOKED
    else:
        kind = ErrorKind.PLATFORM_ERROR
    return PlatformError(
        platform,
        kind,
        detail,
        status=status,
        platform_code=code,
        retry_after=_retry_after(response),
    )


async def send(
    http: httpx.AsyncClient, platform: PlatformName, request: httpx.Request
) -> httpx.Response:
    """Send one request, turning transport failures into PlatformErrors."""
    try:
        return await http.send(request)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise PlatformError(
            platform, ErrorKind.TRANSIENT, f"cannot reach {platform}: {type(exc).__name__}"
        ) from exc
    except httpx.TimeoutException as exc:
        # The request may have arrived: an X refresh token may already be spent.
        raise PlatformError(
            platform, ErrorKind.AMBIGUOUS, f"{platform} did not answer in time"
        ) from exc
    except httpx.HTTPError as exc:
        raise PlatformError(
            platform, ErrorKind.TRANSIENT, f"{platform} request failed: {type(exc).__name__}"
        ) from exc


async def send_json(
    http: httpx.AsyncClient,
    platform: PlatformName,
    request: httpx.Request,
    *,
    refreshing: bool = False,
) -> dict[str, Any]:
    response = await send(http, platform, request)
    if response.status_code >= 400:
        raise platform_error(platform, response, refreshing=refreshing)
    try:
        body = response.json()
    except ValueError as exc:
        raise PlatformError(
            platform, ErrorKind.PLATFORM_ERROR, "the platform answered with something not JSON"
        ) from exc
    if not isinstance(body, dict):
        raise PlatformError(platform, ErrorKind.PLATFORM_ERROR, "unexpected response shape")
    return body


# --- wiring -------------------------------------------------------------------------------
@dataclass(frozen=True)
class FlowPorts:
    """What a flow is built with, from `Container.flow_ports`. The HTTP client and the secrets
    provider are made on first use: a token that needs no refresh builds neither, and the app's
    credentials are read from Secrets Manager only when settings hold none."""

    settings: Settings
    clock: Clock
    http: Callable[[], httpx.AsyncClient]
    secrets: Callable[[], Any]  # Powertools' SecretsProvider, which caches for max_age


def provider_of(name: str) -> Provider:
    if name not in PROVIDERS:
        raise NotFound(f"unknown platform {name!r}; expected one of {', '.join(PROVIDERS)}")
    return name


async def client_credentials(ports: FlowPorts, provider: Provider) -> ClientCredentials:
    """The app's client id and secret: from settings, else from Secrets Manager."""
    s = ports.settings
    client_id: str = getattr(s, f"{provider}_client_id")
    secret = getattr(s, f"{provider}_client_secret")
    if client_id and secret is not None and secret.get_secret_value():
        return ClientCredentials(client_id, secret.get_secret_value())
    if s.platform_secret_prefix:
        name = f"{s.platform_secret_prefix}{provider}"
        try:
            value = await run_in_threadpool(
                ports.secrets().get,
                name,
                max_age=s.secrets_max_age_seconds,
                transform="json",
            )
        except Exception as exc:
            raise DependencyUnavailable(
                f"the {provider} app credentials cannot be read", component="secrets"
            ) from exc
        if value.get("client_id") and value.get("client_id") != "REPLACE_ME":
            return ClientCredentials(str(value["client_id"]), str(value["client_secret"]))
    raise DependencyUnavailable(
        f"the {provider} app credentials are not configured", component="secrets"
    )


async def flow_for(ports: FlowPorts, provider: Provider) -> Flow:
    from herald.oauth.linkedin import LinkedInFlow
    from herald.oauth.meta import MetaFlow
    from herald.oauth.threads import ThreadsFlow
    from herald.oauth.x import XFlow

    client = await client_credentials(ports, provider)
    classes: dict[str, type[LinkedInFlow | XFlow | MetaFlow | ThreadsFlow]] = {
        "linkedin": LinkedInFlow,
        "x": XFlow,
        "meta": MetaFlow,
        "threads": ThreadsFlow,
    }
    flow: Flow = classes[provider](ports.http(), ports.settings, client, ports.clock)
    return flow
