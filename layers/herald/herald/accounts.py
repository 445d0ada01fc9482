"""Connected social accounts: what a publisher needs to post as one of them.

A Facebook Page and an Instagram business account reached through it are two accounts, each with
its own id and token, so a post targets exactly the surfaces the business picked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

PlatformName = Literal["linkedin", "x", "facebook", "instagram", "threads"]
PLATFORMS: tuple[PlatformName, ...] = ("linkedin", "x", "facebook", "instagram", "threads")


class AccountStatus(StrEnum):
    CONNECTED = "connected"
    EXPIRING = "expiring"  # no way to refresh, and the token ends soon: a person must reconnect
    NEEDS_REAUTH = "needs_reauth"


@dataclass(frozen=True)
class Account:
    """An account as stored, tokens still encrypted (never leaves the package)."""

    account_id: str
    business_id: str
    platform: PlatformName
    external_id: str  # LinkedIn person/org URN, X user id, Page id, IG user id, Threads user id
    display_name: str
    status: AccountStatus
    scopes: tuple[str, ...] = ()
    access_token_enc: str = ""
    refresh_token_enc: str | None = None
    token_expires_at: str | None = None  # ISO 8601 UTC; None: does not expire
    refresh_token_expires_at: str | None = None
    status_reason: str | None = None
    # Platform details a publisher needs: {"author_urn": ...}, {"page_id": ...}, {"username": ...}
    details: dict[str, str] = field(default_factory=dict)
    connected_at: str = ""
    updated_at: str = ""
    version: int = 0  # bumped by every token write: refreshes use it as an optimistic lock


@dataclass(frozen=True)
class Credentials:
    """An account with its access token decrypted, for the one call that needs it."""

    account_id: str
    platform: PlatformName
    external_id: str
    access_token: str
    details: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # a stray log of the object must not print the token
        return f"Credentials(account_id={self.account_id!r}, platform={self.platform!r})"
