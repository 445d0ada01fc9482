"""`Idempotency-Key`: the same key and the same request within 24 h gets the first response.

Stored in DynamoDB, not Redis, because the promise is about publishing: a key that vanished with
a Redis failover or eviction would let a retried request post a second time, and the post itself
lives in DynamoDB anyway. One conditional put is the in-flight lock; the table's `expires_at` TTL
removes the record after a day (TTL deletion lags, so expiry is also checked on read).

    first request:   begin -> (no record) lock taken ---------> produce -> complete(response)
    same, after:     begin -> done, same fingerprint ---------> the stored response, replayed
    same, meanwhile: begin -> in flight ----------------------> 409 problem
    other body:      begin -> another fingerprint ------------> 422 problem

The fingerprint is a hash of method, path and the canonical JSON body (keys sorted), so
re-serialising the same request differently does not count as "another body". Keys are scoped
per business: two businesses may use the same key. A lock left by a request that died (Lambda
timeout) is taken over after `LOCK_SECONDS`, longer than API Gateway's 29 s.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Protocol

from herald.errors import FieldError, InvalidInput

LOCK_SECONDS = 60
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


class IdempotencyStore(Protocol):
    def begin(
        self, business_id: str, key: str, fingerprint: str, *, now: int, ttl: int
    ) -> StoredResponse | None:
        """Take the key for this request (None), or return the stored first response; raise
        IdempotencyConflict while the first is in flight or when the fingerprint differs."""
        ...

    def complete(
        self,
        business_id: str,
        key: str,
        fingerprint: str,
        response: StoredResponse,
        *,
        now: int,
        ttl: int,
    ) -> None: ...

    def release(self, business_id: str, key: str, fingerprint: str) -> None:
        """Drop the lock of a request that ended without a response worth replaying."""
        ...


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            "invalid Idempotency-Key",
            [FieldError("Idempotency-Key", f"1 to {MAX_KEY_LENGTH} printable characters")],
        )
    return key


def fingerprint(method: str, path: str, body: bytes) -> str:
    try:
        canonical = json.dumps(
            json.loads(body or b"null"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except ValueError:
        canonical = body  # not JSON: the bytes as sent
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), canonical):
        digest.update(part)
        digest.update(b"\x1f")
    return digest.hexdigest()


def worth_replaying(status: int) -> bool:
    """Final answers are stored; answers that invite trying again later are not: a 429 or an
    unexpected 5xx would otherwise be replayed for a day. A 502 is final (every platform
    refused, the post is stored as failed and is retried through its own route)."""
    if status == 502:
        return True
    return status < 500 and status != 429
