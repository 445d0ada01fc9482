"""Idempotency records in the single table: pk=BUSINESS#<biz>, sk=IDEMPOTENCY#<key>.

state=in_flight, fingerprint, bound_id, locked_until, expires_at     (the lock)
state=done, fingerprint, bound_id, status, body, headers, expires_at (the first response)

    begin, first time      Put     if no record, or the record expired
    begin, lock over       Update  locked_until, if still in flight, same fingerprint and the
                                   lock is the one we read (two retries cannot both take it)
    complete               Update  to done with the response, if in flight with our fingerprint
    let_go                 Update  locked_until = 0, if in flight with our fingerprint
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from herald.errors import IdempotencyConflict
from herald.idempotency import LOCK_SECONDS, StoredResponse, Taken
from herald.observability import logger
from herald.store.table import TTL_ATTRIBUTE, business_pk, condition_failed, idempotency_sk

_IN_FLIGHT = "in_flight"
_DONE = "done"


def _in_flight() -> IdempotencyConflict:
    return IdempotencyConflict(
        "a request with this Idempotency-Key is still in progress", in_flight=True
    )


class DynamoIdempotencyStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _key(business_id: str, key: str) -> dict[str, str]:
        return {"pk": business_pk(business_id), "sk": idempotency_sk(key)}

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
        try:
            self._table.put_item(
                Item={
                    **self._key(business_id, key),
                    "type": "idempotency",
                    "state": _IN_FLIGHT,
                    "fingerprint": fingerprint,
                    "bound_id": bound_id,
                    "locked_until": now + LOCK_SECONDS,
                    TTL_ATTRIBUTE: now + ttl,
                },
                # Free, or expired (TTL deletes lazily).
                ConditionExpression="attribute_not_exists(pk) OR #exp < :now",
                ExpressionAttributeNames={"#exp": TTL_ATTRIBUTE},
                ExpressionAttributeValues={":now": now},
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
        else:
            return Taken(bound_id, resumed=False)
        item = self._table.get_item(Key=self._key(business_id, key), ConsistentRead=True).get(
            "Item"
        )
        if item is None:  # expired and deleted between our put and get: the client may retry
            raise _in_flight()
        if item["fingerprint"] != fingerprint:
            raise IdempotencyConflict(
                "this Idempotency-Key was used with another request body in the last 24 hours"
            )
        if item["state"] == _DONE:
            return StoredResponse(
                status=int(item["status"]),
                body=str(item.get("body", "")),
                headers={str(k): str(v) for k, v in (item.get("headers") or {}).items()},
            )
        if int(item["locked_until"]) >= now:
            raise _in_flight()
        return self._take_over(business_id, key, item, bound_id, now)

    def _take_over(
        self, business_id: str, key: str, item: dict[str, Any], bound_id: str, now: int
    ) -> Taken:
        """The lock of a request that died or let the key go: taken again, with the post it
        is bound to (a record written before keys were bound has none: ours binds it now)."""
        bound = str(item.get("bound_id") or bound_id)
        try:
            self._table.update_item(
                Key=self._key(business_id, key),
                UpdateExpression="SET locked_until = :until, bound_id = :bound",
                ConditionExpression="#state = :in_flight AND locked_until = :seen",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":until": now + LOCK_SECONDS,
                    ":bound": bound,
                    ":in_flight": _IN_FLIGHT,
                    ":seen": item["locked_until"],
                },
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
            raise _in_flight() from exc  # another retry took it first
        return Taken(bound, resumed=True)

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
            self._table.update_item(
                Key=self._key(business_id, key),
                UpdateExpression=(
                    "SET #state = :done, #status = :status, body = :body, headers = :headers, "
                    "#exp = :exp REMOVE locked_until"
                ),
                ConditionExpression="fingerprint = :fp AND #state = :in_flight",
                ExpressionAttributeNames={
                    "#state": "state",
                    "#status": "status",
                    "#exp": TTL_ATTRIBUTE,
                },
                ExpressionAttributeValues={
                    ":done": _DONE,
                    ":status": response.status,
                    ":body": response.body,
                    ":headers": response.headers,
                    ":exp": now + ttl,
                    ":fp": fingerprint,
                    ":in_flight": _IN_FLIGHT,
                },
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
            # A request that outlived its lock, whose retry already answered: both answers are
            # about the same post; the first one stored is the one replayed.
            logger.warning("idempotency record completed by another request first")

    def let_go(self, business_id: str, key: str, fingerprint: str) -> None:
        try:
            self._table.update_item(
                Key=self._key(business_id, key),
                UpdateExpression="SET locked_until = :over",
                ConditionExpression="fingerprint = :fp AND #state = :in_flight",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":fp": fingerprint,
                    ":in_flight": _IN_FLIGHT,
                    ":over": 0,
                },
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
