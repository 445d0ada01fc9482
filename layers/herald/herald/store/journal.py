"""The tick's dispatch journal: what closes the window between `queued` and the SQS send.

The tick moves a post `pending -> queued` (which takes it out of the due index) and then sends
its message. A tick that dies between the two would leave a post that nothing will ever send.
So before it queues a chunk of up to ten posts, the tick writes one journal item naming them,
and deletes it once their messages are sent:

    put journal(chunk)  ->  pending->queued x10 (conditional)  ->  SendMessageBatch  ->  delete

A journal item still there after `recover_after` belongs to a tick that died (or whose send
failed). The next tick claims it with a conditional write, re-sends the posts that are still
`queued` under that journal's dispatch id (posts another tick won, or that a worker already
picked up, are left alone) and deletes it. Cost on the happy path: two writes per ten posts.

A tick that dies after the send and before the delete makes the recovery send a second message
for the same post; the worker's conditional claims make that a no-op, as with any duplicate
delivery SQS itself may make.

The journal also holds the lead the parts of a tick agreed on for a burst's second
(`agree_lead`, herald.tick.Dispatcher.lead): one item per burst second, kept a day.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from herald.clock import isoformat
from herald.store.table import condition_failed

JOURNAL_PK = "DISPATCH"
LEAD_PK = "DISPATCH_LEAD"
_KEEP_SECONDS = 7 * 86_400  # TTL: a journal nobody could recover is not kept forever
_LEAD_KEEP_SECONDS = 86_400  # a second's lead matters until that second has passed


@dataclass(frozen=True)
class JournalEntry:
    sk: str
    dispatch_id: str
    recover_after: str
    posts: list[tuple[str, str, str]]  # (business_id, post_id, scheduled_for)


class DispatchJournal:
    def __init__(self, table: Any) -> None:
        self._table = table

    @property
    def _client(self) -> Any:
        return self._table.meta.client

    def _key(self, sk: str) -> dict[str, Any]:
        return {"pk": JOURNAL_PK, "sk": sk}

    def open(
        self,
        dispatch_id: str,
        chunk: int,
        posts: list[tuple[str, str, str]],
        now: datetime,
        stale_after: int,
    ) -> str:
        sk = f"{isoformat(now)}#{dispatch_id}#{chunk:06d}"
        recover_after = isoformat(now + timedelta(seconds=stale_after))
        self._client.put_item(
            TableName=self._table.name,
            Item={
                **self._key(sk),
                "type": "dispatch_journal",
                "dispatch_id": dispatch_id,
                "recover_after": recover_after,
                "posts": [list(post) for post in posts],
                "expires_at": int(time.time()) + _KEEP_SECONDS,
            },
        )
        return sk

    def agree_lead(self, second: str, lead: float) -> float:
        """The lead of the posts due in `second` (YYYY-MM-DDTHH:MM:SS): the first caller's
        `lead`, stored, whatever later callers propose. One conditional put, and a read for
        each caller after the first."""
        key = {"pk": LEAD_PK, "sk": second}
        try:
            self._client.put_item(
                TableName=self._table.name,
                Item={
                    **key,
                    "type": "dispatch_lead",
                    "lead": Decimal(str(lead)),
                    "expires_at": int(time.time()) + _LEAD_KEEP_SECONDS,
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except Exception as exc:
            if not condition_failed(exc):
                raise
            item = self._client.get_item(
                TableName=self._table.name, Key=key, ConsistentRead=True
            ).get("Item")
            return float(item["lead"]) if item else lead
        return lead

    def close(self, sk: str) -> None:
        self._client.delete_item(TableName=self._table.name, Key=self._key(sk))

    def stale(self, now: datetime) -> list[JournalEntry]:
        kwargs: dict[str, Any] = {
            "TableName": self._table.name,
            "KeyConditionExpression": "pk = :pk",
            "FilterExpression": "recover_after < :now",
            "ExpressionAttributeValues": {":pk": JOURNAL_PK, ":now": isoformat(now)},
            "ConsistentRead": True,
        }
        found: list[JournalEntry] = []
        while True:
            response = self._client.query(**kwargs)
            for item in response.get("Items", []):
                found.append(
                    JournalEntry(
                        sk=item["sk"],
                        dispatch_id=item["dispatch_id"],
                        recover_after=item["recover_after"],
                        posts=[(p[0], p[1], p[2]) for p in item["posts"]],
                    )
                )
            if "LastEvaluatedKey" not in response:
                return found
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def claim(self, entry: JournalEntry, now: datetime, stale_after: int) -> bool:
        """Push `recover_after` forward; only one of two recovering ticks succeeds."""
        try:
            self._client.update_item(
                TableName=self._table.name,
                Key=self._key(entry.sk),
                UpdateExpression="SET recover_after = :next",
                ConditionExpression="recover_after = :seen",
                ExpressionAttributeValues={
                    ":seen": entry.recover_after,
                    ":next": isoformat(now + timedelta(seconds=stale_after)),
                },
            )
        except Exception as exc:
            if condition_failed(exc):
                return False
            raise
        return True
