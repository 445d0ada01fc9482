"""The OAuth state store, in Redis so a state made by one Lambda is checkable in any other.

    authorize:  SET oauth:state:<state> <json> EX 600 NX   one round trip
    callback:   GETDEL oauth:state:<state>                 one round trip, atomic

GETDEL is what makes a state single-use: of two callbacks racing with one state, Redis hands the
value to exactly one and `nil` to the other. There is no in-memory fallback: a state only this
process could check would break the first time the callback lands on another Lambda.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from herald.errors import DependencyUnavailable, HeraldError

if TYPE_CHECKING:
    import redis.asyncio as aioredis

KEY_PREFIX = "oauth:state:"
# token_urlsafe(32): 256 bits in 43 characters; anything else was not made here.
_STATE_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class InvalidState(HeraldError):
    """Unknown, expired, already used, or made for another platform. The API answers 400."""

    code = "invalid_oauth_state"


@dataclass(frozen=True)
class PendingAuthorization:
    business_id: str
    provider: str  # linkedin | x | meta
    redirect_uri: str
    created_at: str
    code_verifier: str | None = None


@asynccontextmanager
async def redis_errors(action: str) -> AsyncIterator[None]:
    """Translate the Redis client's failures into DependencyUnavailable (a 503)."""
    try:
        yield
    except Exception as exc:
        from redis.exceptions import RedisError  # imported on failure only: cold starts

        if isinstance(exc, RedisError | OSError):
            raise DependencyUnavailable(
                f"Redis is unreachable, so the OAuth state cannot be {action}; try again shortly",
                component="redis",
            ) from exc
        raise


class StateStore:
    def __init__(self, redis: aioredis.Redis, ttl_seconds: int) -> None:
        self._redis = redis
        self.ttl_seconds = ttl_seconds

    async def create(self, pending: PendingAuthorization) -> str:
        state = secrets.token_urlsafe(32)
        value = json.dumps(asdict(pending), separators=(",", ":"))
        async with redis_errors("saved"):
            await self._redis.set(KEY_PREFIX + state, value, ex=self.ttl_seconds, nx=True)
        return state

    async def consume(self, state: str) -> PendingAuthorization:
        if not _STATE_SHAPE.match(state or ""):
            raise InvalidState("the OAuth state is malformed")
        async with redis_errors("checked"):
            raw = await self._redis.getdel(KEY_PREFIX + state)
        if raw is None:
            raise InvalidState("the OAuth state is unknown, expired or already used")
        return PendingAuthorization(**json.loads(raw))
