"""`Idempotency-Key`: the same key and the same request within 24 h gets the first response,
and never does the work twice.

Stored in DynamoDB, not Redis, because the promise is about publishing: a key that vanished with
a Redis failover or eviction would let a retried request post a second time, and the post itself
lives in DynamoDB anyway. One conditional put is the in-flight lock; the table's `expires_at` TTL
removes the record after a day (TTL deletion lags, so expiry is also checked on read).

    first request:   begin -> (no record) key taken, bound to a new post id -> produce -> complete
    same, after:     begin -> done, same fingerprint ---------> the stored response, replayed
    same, meanwhile: begin -> in flight ----------------------> 409 problem
    same, after one that died or answered nothing final:
                     begin -> lock over, same fingerprint ----> produce again, resuming the same
                                                                post id
    other body:      begin -> another fingerprint ------------> 422 problem

The key is bound to the post its first request creates (the id is chosen when the key is taken
and kept in the record), not to the request: a request that dies after the platform accepted the
post, or that ends without an answer worth keeping (a 503, a 202 while a target is still held),
leaves the key bound to that post. The retry then resumes that post: the engine's claims and
reconciliation decide what is left to publish, and nothing creates a second post. A request that
ends with an exception lets the key go at once (`let_go`); a Lambda killed outright cannot, and
its lock is taken over after `LOCK_SECONDS`, longer than API Gateway's 29 s.

The fingerprint is a hash of method, path and the canonical JSON body (keys sorted), so
re-serialising the same request differently does not count as "another body". Keys are scoped
per business: two businesses may use the same key.
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


@dataclass(frozen=True)
class Taken:
    """This request holds the key."""

    bound_id: str  # the post the key is bound to, for the key's whole life
    resumed: bool  # an earlier request held the key and gave no final answer: its post may exist


class IdempotencyStore(Protocol):
    def begin(
        self,
        business_id: str,
        key: str,
        fingerprint: str,
        *,
        bound_id: str,
        now: int,
        ttl: int,
    ) -> StoredResponse | Taken:
        """Take the key for this request, or return the stored first response; raise
        IdempotencyConflict while another request holds it or when the fingerprint differs.
        `bound_id` is the id to bind a key taken for the first time to; a key taken again keeps
        the id it was bound to."""
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

    def let_go(self, business_id: str, key: str, fingerprint: str) -> None:
        """End the lock of a request that ended without a response worth replaying; the key
        stays bound to its post, and the next request with it resumes that post at once."""
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
    """Final answers are stored; answers that invite trying again later are not: a 429, a 202
    (a target is still held: the post is not finished) or an unexpected 5xx would otherwise be
    replayed for a day. A 502 is final (every platform refused, the post is stored as failed and
    is retried through its own route)."""
    if status == 502:
        return True
    return status < 500 and status not in (202, 429)
