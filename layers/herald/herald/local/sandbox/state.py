"""Everything the sandbox remembers, in memory: clients, codes, tokens, the people who log in, and
the posts the publishing endpoints receive. One object per sandbox app, shared by its routers."""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from herald.settings import Settings

SandboxPlatform = Literal["linkedin", "x", "meta", "threads"]

# Lifetimes the real platforms document.
LINKEDIN_ACCESS_SECONDS = 60 * 86_400
LINKEDIN_REFRESH_SECONDS = 365 * 86_400
LINKEDIN_CODE_SECONDS = 30 * 60
X_ACCESS_SECONDS = 2 * 3600
X_CODE_SECONDS = 30
META_SHORT_SECONDS = 2 * 3600
META_LONG_SECONDS = 60 * 86_400
META_CODE_SECONDS = 10 * 60


@dataclass
class Client:
    platform: SandboxPlatform
    client_id: str
    client_secret: str
    redirect_uris: set[str]


@dataclass
class Grant:
    """An authorization code, single-use and short-lived."""

    platform: SandboxPlatform
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    user_id: str
    expires_at: float
    code_challenge: str | None = None
    code_challenge_method: str | None = None


@dataclass
class Token:
    platform: SandboxPlatform
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    expires_at: float | None  # None: does not expire (Meta Page tokens)
    kind: Literal["user", "page", "refresh"] = "user"
    page_id: str | None = None
    long_lived: bool = False
    grant: str = ""  # tokens descending from one authorization share it (X revokes them together)


@dataclass
class Identity:
    user_id: str
    name: str
    username: str = ""


@dataclass
class Page:
    page_id: str
    name: str
    instagram_id: str | None = None
    instagram_username: str | None = None
    tasks: tuple[str, ...] = ("ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MODERATE", "MANAGE")


@dataclass
class SandboxState:
    clients: dict[tuple[str, str], Client] = field(default_factory=dict)
    codes: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    refresh_tokens: dict[str, Token] = field(default_factory=dict)
    users: dict[str, Identity] = field(
        default_factory=lambda: {
            "linkedin": Identity("sandboxMember01", "Sandbox Member"),
            "x": Identity("1500000000000000001", "Herald Sandbox", "herald_sandbox"),
            "meta": Identity("10000000000000001", "Sandbox Owner"),
            "threads": Identity("25000000000000001", "Sandbox Bakery", "sandbox.bakery"),
        }
    )
    pages: list[Page] = field(
        default_factory=lambda: [
            Page("200000000000001", "Sandbox Bakery", "17841400000000001", "sandbox.bakery"),
            Page("200000000000002", "Sandbox Bakery Outlet"),
        ]
    )
    # Spent X refresh tokens, by grant: presenting one again ends the whole grant.
    spent_refresh_tokens: dict[str, str] = field(default_factory=dict)
    # Only apps LinkedIn approves for it get refresh tokens; most do not.
    linkedin_refresh_tokens: bool = False
    # What the publishing endpoints received, by platform post id.
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Requests per endpoint ("x.token", "meta.accounts", ...), for tests that count platform calls.
    calls: Counter[str] = field(default_factory=Counter)
    clock: Callable[[], float] = time.time

    @classmethod
    def for_settings(cls, settings: Settings) -> SandboxState:
        """A sandbox that knows the app Herald is configured with, and its exact redirect URIs."""
        state = cls()
        for platform, client_id, secret in (
            ("linkedin", settings.linkedin_client_id, settings.linkedin_client_secret),
            ("x", settings.x_client_id, settings.x_client_secret),
            ("meta", settings.meta_client_id, settings.meta_client_secret),
            ("threads", settings.threads_client_id, settings.threads_client_secret),
        ):
            if client_id and secret is not None:
                state.register_client(
                    platform,  # type: ignore[arg-type]
                    client_id,
                    secret.get_secret_value(),
                    {settings.oauth_redirect_uri(platform)},
                )
        return state

    def register_client(
        self, platform: SandboxPlatform, client_id: str, secret: str, redirect_uris: set[str]
    ) -> Client:
        client = Client(platform, client_id, secret, set(redirect_uris))
        self.clients[(platform, client_id)] = client
        return client

    def client(self, platform: SandboxPlatform, client_id: str) -> Client | None:
        return self.clients.get((platform, client_id))

    def now(self) -> float:
        return self.clock()

    # --- codes and tokens ----------------------------------------------------------------
    def issue_code(self, grant: Grant) -> str:
        code = secrets.token_urlsafe(24)
        self.codes[code] = grant
        return code

    def take_code(self, code: str) -> Grant | None:
        """A code works once, even when the exchange then fails (as on the real platforms)."""
        return self.codes.pop(code, None)

    def issue_token(self, token: Token, prefix: str) -> str:
        value = f"{prefix}{secrets.token_urlsafe(24)}"
        if token.kind == "refresh":
            self.refresh_tokens[value] = token
        else:
            self.tokens[value] = token
        return value

    def token_owner(self, platform: SandboxPlatform, access_token: str) -> Token | None:
        """The live token behind a bearer value, or None (unknown, expired, revoked)."""
        token = self.tokens.get(access_token)
        if token is None or token.platform != platform:
            return None
        if token.expires_at is not None and token.expires_at <= self.now():
            return None
        return token

    def revoke_grant(self, grant: str) -> None:
        for store in (self.tokens, self.refresh_tokens):
            for value in [v for v, t in store.items() if t.grant == grant]:
                store.pop(value)

    def revoke_user(self, platform: SandboxPlatform, user_id: str) -> int:
        """Revoke every token of a user (Meta's DELETE /permissions); returns how many."""
        doomed = [
            v
            for v, t in {**self.tokens, **self.refresh_tokens}.items()
            if t.platform == platform and t.user_id == user_id
        ]
        for value in doomed:
            self.tokens.pop(value, None)
            self.refresh_tokens.pop(value, None)
        return len(doomed)
