"""Accounts a callback connected, held until the business that started the flow confirms them.

The callback is reached by whichever browser comes back from the platform, with no API key. The
state proves which business *started* the connection, not that the person who consented works
for it: a business could send its authorization URL to someone else and collect their account
(and then post as them). So a callback without a key stores no account. It keeps what it
exchanged (the tokens already encrypted) in Redis for a few minutes under a new one-time id, and
sends the browser to the dashboard with that id; the dashboard, holding its business's key,
confirms (`POST /oauth/{platform}/confirm`). The business and the platform are part of the Redis
key, so another business's key (or a confirm on another platform's path) finds nothing, and
cannot spend the id either.

    callback:  SET oauth:confirm:<business>:<platform>:<id> <json> EX <ttl> NX   one round trip
    confirm:   GETDEL oauth:confirm:<business>:<platform>:<id>                  one round trip

If the accounts cannot be stored once taken (DynamoDB out of reach, a 503), `give_back` holds
them again under the same id, so the dashboard's retry confirms them instead of asking the person
to connect again.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from herald.accounts import Account, AccountStatus
from herald.errors import HeraldError
from herald.oauth.state import redis_errors

if TYPE_CHECKING:
    import redis.asyncio as aioredis

KEY_PREFIX = "oauth:confirm:"
_ID_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class InvalidConfirmation(HeraldError):
    """Unknown, expired, already used, or held for another business. The API answers 400."""

    code = "invalid_confirmation"


class ConfirmationStore:
    def __init__(self, redis: aioredis.Redis, ttl_seconds: int) -> None:
        self._redis = redis
        self.ttl_seconds = ttl_seconds

    async def hold(self, business_id: str, provider: str, accounts: list[Account]) -> str:
        confirmation = secrets.token_urlsafe(32)
        value = json.dumps([asdict(a) for a in accounts], separators=(",", ":"))
        async with redis_errors("the connected accounts cannot be held"):
            key = _key(business_id, provider, confirmation)
            await self._redis.set(key, value, ex=self.ttl_seconds, nx=True)
        return confirmation

    async def take(self, business_id: str, provider: str, confirmation: str) -> list[Account]:
        if not _ID_SHAPE.match(confirmation or ""):
            raise InvalidConfirmation("the confirmation is malformed")
        async with redis_errors("the connection cannot be confirmed"):
            raw = await self._redis.getdel(_key(business_id, provider, confirmation))
        if raw is None:
            raise InvalidConfirmation(
                "the confirmation is unknown, expired, already used, or for another business or "
                "platform: connect the account again"
            )
        return [_account(a) for a in json.loads(raw)]

    async def give_back(
        self, business_id: str, provider: str, confirmation: str, accounts: list[Account]
    ) -> None:
        """Hold taken accounts again under the same id, for a full TTL (NX: a confirmation is
        never overwritten)."""
        value = json.dumps([asdict(a) for a in accounts], separators=(",", ":"))
        async with redis_errors("the connected accounts cannot be held again"):
            key = _key(business_id, provider, confirmation)
            await self._redis.set(key, value, ex=self.ttl_seconds, nx=True)


def _key(business_id: str, provider: str, confirmation: str) -> str:
    return f"{KEY_PREFIX}{business_id}:{provider}:{confirmation}"


def _account(item: dict[str, Any]) -> Account:
    return Account(
        **{
            **item,
            "status": AccountStatus(item["status"]),
            "scopes": tuple(item.get("scopes") or ()),
        }
    )
