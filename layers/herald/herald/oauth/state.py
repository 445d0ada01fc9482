"""The OAuth state store, in Redis so a state made by one Lambda is checkable in any other.

    authorize:  SET oauth:state:<state> <json> EX 600 NX         one round trip
    callback:   EVALSHA consume: GET, check, DEL, in one script   one round trip, atomic

The script is what makes a state single-use: of two callbacks racing with one state, Redis hands
the value to exactly one. It deletes the state only when the callback may use it (the platform
in its path, and the business of a key it carries, are the state's), so a callback on the wrong
path or with another business's key cannot spend someone's state. There is no in-memory
fallback: a state only this process could check would break the first time the callback lands
on another Lambda.
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
_CONSUME = """
local raw = redis.call('GET', KEYS[1])
if not raw then return {'missing'} end
local pending = cjson.decode(raw)
if pending['provider'] ~= ARGV[1] then return {'provider'} end
if ARGV[2] ~= '' and pending['business_id'] ~= ARGV[2] then return {'business'} end
redis.call('DEL', KEYS[1])
return {'ok', raw}
"""
_REFUSALS = {
    b"missing": "the OAuth state is unknown, expired or already used",
    b"provider": "the OAuth state was issued for another platform",
    b"business": "the OAuth state belongs to another business",
}
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
async def redis_errors(consequence: str) -> AsyncIterator[None]:
    """Translate the Redis client's failures into DependencyUnavailable (a 503) that says what
    could not be done: "Redis is unreachable, so <consequence>; try again shortly"."""
    try:
        yield
    except Exception as exc:
        from redis.exceptions import RedisError  # imported on failure only: cold starts

        if isinstance(exc, RedisError | OSError):
            raise DependencyUnavailable(
                f"Redis is unreachable, so {consequence}; try again shortly",
                component="redis",
            ) from exc
        raise


class StateStore:
    def __init__(self, redis: aioredis.Redis, ttl_seconds: int) -> None:
        self._redis = redis
        self.ttl_seconds = ttl_seconds
        self._consume = redis.register_script(_CONSUME)

    async def create(self, pending: PendingAuthorization) -> str:
        state = secrets.token_urlsafe(32)
        value = json.dumps(asdict(pending), separators=(",", ":"))
        async with redis_errors("the OAuth state cannot be saved"):
            await self._redis.set(KEY_PREFIX + state, value, ex=self.ttl_seconds, nx=True)
        return state

    async def consume(
        self, state: str, provider: str, business_id: str | None = None
    ) -> PendingAuthorization:
        """The state's authorization, spent; refused, and left as it was, when it was issued for
        another platform or (if `business_id` is given) another business."""
        if not _STATE_SHAPE.match(state or ""):
            raise InvalidState("the OAuth state is malformed")
        async with redis_errors("the OAuth state cannot be checked"):
            args = [provider, business_id or ""]
            reply = await self._consume(keys=[KEY_PREFIX + state], args=args)
        verdict = reply[0].encode() if isinstance(reply[0], str) else reply[0]
        if verdict != b"ok":
            raise InvalidState(_REFUSALS[verdict])
        return PendingAuthorization(**json.loads(reply[1]))
