"""Idempotency records in the single table: pk=BUSINESS#<biz>, sk=IDEMPOTENCY#<key>.

state=in_flight, fingerprint, locked_until, expires_at     (the lock, one conditional put)
state=done, fingerprint, status, body, headers, expires_at (the first response)
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from herald.errors import IdempotencyConflict
from herald.idempotency import LOCK_SECONDS, StoredResponse
from herald.observability import logger
from herald.store.table import TTL_ATTRIBUTE, business_pk, idempotency_sk

_IN_FLIGHT = "in_flight"
_DONE = "done"


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoIdempotencyStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _key(business_id: str, key: str) -> dict[str, str]:
        return {"pk": business_pk(business_id), "sk": idempotency_sk(key)}

    def begin(
        self, business_id: str, key: str, fingerprint: str, *, now: int, ttl: int
    ) -> StoredResponse | None:
        try:
            self._table.put_item(
                Item={
                    **self._key(business_id, key),
                    "type": "idempotency",
                    "state": _IN_FLIGHT,
                    "fingerprint": fingerprint,
                    "locked_until": now + LOCK_SECONDS,
                    TTL_ATTRIBUTE: now + ttl,
                },
                # Free, expired (TTL deletes lazily), or locked by a request that died.
                ConditionExpression=(
                    "attribute_not_exists(pk) OR #exp < :now OR "
                    "(#state = :in_flight AND locked_until < :now AND fingerprint = :fp)"
                ),
                ExpressionAttributeNames={"#exp": TTL_ATTRIBUTE, "#state": "state"},
                ExpressionAttributeValues={
                    ":now": now,
                    ":in_flight": _IN_FLIGHT,
                    ":fp": fingerprint,
                },
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
        else:
            return None
        item = self._table.get_item(Key=self._key(business_id, key), ConsistentRead=True).get(
            "Item"
        )
        if item is None:  # deleted between our put and get: a release; the client may retry
            raise IdempotencyConflict("a request with this Idempotency-Key is in progress", True)
        if item["fingerprint"] != fingerprint:
            raise IdempotencyConflict(
                "this Idempotency-Key was used with another request body in the last 24 hours"
            )
        if item["state"] != _DONE:
            raise IdempotencyConflict(
                "a request with this Idempotency-Key is still in progress", in_flight=True
            )
        return StoredResponse(
            status=int(item["status"]),
            body=str(item.get("body", "")),
            headers={str(k): str(v) for k, v in (item.get("headers") or {}).items()},
        )

    def complete(
        self,
        business_id: str,
        key: str,
        fingerprint: str,
        response: StoredResponse,
        *,
        now: int,
        ttl: int,
    ) -> None:
        try:
            self._put_done(business_id, key, fingerprint, response, now=now, ttl=ttl)
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            # Our lock was taken over (this request outlived LOCK_SECONDS): the response
            # stands, only it will not be replayed.
            logger.warning("idempotency record taken over before completion")

    def _put_done(
        self,
        business_id: str,
        key: str,
        fingerprint: str,
        response: StoredResponse,
        *,
        now: int,
        ttl: int,
    ) -> None:
        self._table.put_item(
            Item={
                **self._key(business_id, key),
                "type": "idempotency",
                "state": _DONE,
                "fingerprint": fingerprint,
                "status": response.status,
                "body": response.body,
                "headers": response.headers,
                TTL_ATTRIBUTE: now + ttl,
            },
            ConditionExpression="fingerprint = :fp AND #state = :in_flight",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":fp": fingerprint, ":in_flight": _IN_FLIGHT},
        )

    def release(self, business_id: str, key: str, fingerprint: str) -> None:
        try:
            self._table.delete_item(
                Key=self._key(business_id, key),
                ConditionExpression="fingerprint = :fp AND #state = :in_flight",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={":fp": fingerprint, ":in_flight": _IN_FLIGHT},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
