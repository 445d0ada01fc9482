"""Scheduled posts in DynamoDB: create, calendar listing, edit, cancel, and the tick's queries.
The post item is herald.store.posts' (read and created through its PostRepository); this module
adds the due-index keys that only a pending post carries.

Every state change is one conditional write, built from herald.posts.lifecycle's moves, so the
API, two ticks and the worker can race on a post and exactly one of them wins:

    create              Put      if the key is new
    edit / reschedule   Update   if status is pending or queued and version = the version the
                                 edit read (a new time: back to pending, with due keys)
    cancel              Update   if status is pending or queued   (REMOVE the due keys)
    queue (tick)        Update   if status = pending and due_sk = what the tick saw (REMOVE them)
    miss (tick)         Update   if status = pending and due_sk = what the tick saw (REMOVE them)

The due index is KEYS_ONLY: `pk` names the business, `sk` the post and `due_sk` the scheduled
time, which is all the tick needs, so it reads no post item.

Expressions are plain strings (no `boto3.dynamodb.conditions`, here or in herald.store.posts):
the tick's handler module must import fast, and boto3 is only imported when the container first
builds a client.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from herald.clock import Clock, isoformat
from herald.errors import Conflict, FieldError, InvalidInput
from herald.posts.lifecycle import CANCEL, EDIT, EDITABLE_POST_STATES, MISS, QUEUE, Move
from herald.posts.model import Post, PostStatus
from herald.settings import Settings
from herald.store.conditions import Condition, may_move
from herald.store.post_items import calendar_sk, post_from_item, post_to_item
from herald.store.table import (
    CALENDAR_INDEX,
    DUE_INDEX,
    batch_get,
    business_pk,
    condition_failed,
    due_pk,
    post_sk,
)

if TYPE_CHECKING:
    from herald.store.posts import PostRepository


@dataclass(frozen=True)
class DueEntry:
    business_id: str
    post_id: str
    scheduled_for: str
    due_sk: str
    account_ids: tuple[str, ...] = ()  # known once the post is queued (its message names them)


@dataclass(frozen=True)
class Page:
    posts: list[Post]
    cursor: str | None


def due_sk(scheduled_for: str, post_id: str) -> str:
    return f"{scheduled_for}#{post_id}"


def due_keys(post: Post, shards: int) -> dict[str, str]:
    """The due-index keys, which only a pending post carries."""
    if post.status == PostStatus.PENDING and post.scheduled_for:
        return {
            "due_pk": due_pk(post.post_id, shards),
            "due_sk": due_sk(post.scheduled_for, post.post_id),
        }
    return {}


def scheduled_item(post: Post, shards: int) -> dict[str, Any]:
    """The engine's post item plus its due-index keys (for a batch write of many posts)."""
    return {**post_to_item(post), **due_keys(post, shards)}


_CURSOR_KEYS = ("pk", "sk", "cal_pk", "cal_sk")


def encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str, business_id: str) -> dict[str, Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("invalid cursor", [FieldError("cursor", "not a cursor")]) from exc
    # A cursor is only ever valid for the business that received it, and holds exactly the
    # index's and the table's keys as strings: anything else would reach DynamoDB as a
    # ValidationException (a 500), not as the client's mistake.
    mine = business_pk(business_id)
    if (
        not isinstance(key, dict)
        or set(key) != set(_CURSOR_KEYS)
        or not all(isinstance(v, str) and 0 < len(v) <= 256 for v in key.values())
        or key["pk"] != mine
        or key["cal_pk"] != mine
    ):
        raise InvalidInput("invalid cursor", [FieldError("cursor", "not a cursor")])
    return key


class ScheduleRepository:
    def __init__(self, table: Any, clock: Clock, settings: Settings) -> None:
        self._table = table
        self._clock = clock
        self._settings = settings
        # The engine's repository and its writes, imported when the container first builds this
        # one rather than when the tick's handler module is imported.
        from herald.store.posts import PostRepository

        self._posts: PostRepository = PostRepository(table)

    @property
    def _client(self) -> Any:
        # The resource's client is thread-safe (the resource is not), so the tick's threads use
        # it; it still converts plain Python values to DynamoDB's typed ones, as the table does.
        return self._table.meta.client

    # --- API side ----------------------------------------------------------------------------
    def create(self, post: Post) -> Post:
        self._posts.create(post, extra=due_keys(post, self._settings.due_shards))
        return post

    def get(self, business_id: str, post_id: str) -> Post:
        return self._posts.get(business_id, post_id)

    def calendar(
        self,
        business_id: str,
        *,
        statuses: list[str] | None = None,
        platform: str | None = None,
        start: str | None = None,
        end: str | None = None,
        newest_first: bool = True,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        names = {"#cpk": "cal_pk"}
        values: dict[str, Any] = {":pk": business_pk(business_id)}
        condition = "#cpk = :pk"
        if start and end:
            condition += " AND #csk BETWEEN :from AND :to"
            names["#csk"] = "cal_sk"
            values.update({":from": start, ":to": end + "#\uffff"})
        elif start:
            condition += " AND #csk >= :from"
            names["#csk"] = "cal_sk"
            values[":from"] = start
        elif end:
            condition += " AND #csk <= :to"
            names["#csk"] = "cal_sk"
            values[":to"] = end + "#\uffff"
        filters = []
        if statuses:
            names["#st"] = "status"
            keys = [f":s{i}" for i in range(len(statuses))]
            values.update(dict(zip(keys, statuses, strict=True)))
            filters.append(f"#st IN ({', '.join(keys)})")
        kwargs: dict[str, Any] = {
            "IndexName": CALENDAR_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not newest_first,
            "Limit": limit,
        }
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
        if cursor:
            kwargs["ExclusiveStartKey"] = decode_cursor(cursor, business_id)
        items: list[dict[str, Any]] = []
        while True:
            response = self._table.query(**kwargs)
            for item in response.get("Items", []):
                # The targets are a map by account id, which no filter expression can search:
                # the platform is filtered here, on items the query returns anyway.
                if platform and all(
                    t.get("platform") != platform for t in item.get("targets", {}).values()
                ):
                    continue
                items.append(item)
                if len(items) == limit:
                    # Stop at the item itself, not at DynamoDB's page end: the filter may have
                    # consumed part of that page, and the rest must come on the next call.
                    last = {k: item[k] for k in _CURSOR_KEYS}
                    return Page([post_from_item(i) for i in items], encode_cursor(last))
            last_key = response.get("LastEvaluatedKey")
            if not last_key:
                return Page([post_from_item(i) for i in items], None)
            kwargs["ExclusiveStartKey"] = last_key

    def update_scheduled(self, post: Post, expected_version: int) -> Post:
        """Write an edit of a pending or queued post over the version the edit was based on.

        One UpdateItem of the fields an edit may change, so what the tick wrote (`dispatch_id`,
        which journal recovery needs) stays. `post.status` says where the edit leaves it:
        pending (it gets the due keys of its time, and loses its queueing if the tick had
        queued it), or queued (a new text or new accounts for the message already sent)."""
        item = post_to_item(post)
        names = {"#st": "status", "#v": "version", "#tz": "timezone"}
        values: dict[str, Any] = {
            ":status": post.status.value,
            ":content": item["content"],
            ":targets": item["targets"],
            ":updated": item["updated_at"],
            ":version": post.version,
            ":when": post.scheduled_for,
            ":cal": calendar_sk(post),
        }
        sets = [
            "#st = :status",
            "content = :content",
            "targets = :targets",
            "updated_at = :updated",
            "#v = :version",
            "scheduled_for = :when",
            "cal_sk = :cal",
        ]
        removes = []
        if post.timezone is None:
            removes.append("#tz")
        else:
            sets.append("#tz = :tz")
            values[":tz"] = post.timezone
        if post.status == PostStatus.PENDING:
            assert post.scheduled_for is not None
            sets += ["due_pk = :due_pk", "due_sk = :due_sk"]
            values[":due_pk"] = due_pk(post.post_id, self._settings.due_shards)
            values[":due_sk"] = due_sk(post.scheduled_for, post.post_id)
            removes += ["dispatch_id", "queued_at"]  # no longer on its way
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        # Any change since the edit read the post (the tick queueing it, the worker claiming it,
        # another edit, a cancel) bumped the version.
        condition = Condition("#v = :expected", {"#v": "version"}, {":expected": expected_version})
        try:
            self._table.update_item(
                Key={"pk": business_pk(post.business_id), "sk": post_sk(post.post_id)},
                UpdateExpression=expression,
                **(condition & may_move(EDIT)).request(names, values),
            )
        except Exception as exc:
            if condition_failed(exc):
                raise self._conflict(post.business_id, post.post_id, "edited") from exc
            raise
        return post

    def cancel(self, business_id: str, post_id: str) -> Post:
        now = isoformat(self._clock.now())
        try:
            response = self._table.update_item(
                Key={"pk": business_pk(business_id), "sk": post_sk(post_id)},
                UpdateExpression=(
                    "SET #st = :cancelled, updated_at = :now, status_reason = :why, "
                    "#v = #v + :one REMOVE due_pk, due_sk"
                ),
                ReturnValues="ALL_NEW",
                **may_move(CANCEL).request(
                    {"#st": "status", "#v": "version"},
                    {
                        ":cancelled": PostStatus.CANCELLED.value,
                        ":now": now,
                        ":why": "cancelled by the client",
                        ":one": 1,
                    },
                ),
            )
        except Exception as exc:
            if condition_failed(exc):
                raise self._conflict(business_id, post_id, "cancelled") from exc
            raise
        return post_from_item(response["Attributes"])

    def _conflict(self, business_id: str, post_id: str, verb: str) -> Exception:
        current = self.get(business_id, post_id)  # NotFound when it never existed
        if current.status not in EDITABLE_POST_STATES:
            return Conflict(
                f"post {post_id} is {current.status.value}; only a post that is not publishing "
                f"yet (pending or queued) can be {verb}",
                post_status=current.status.value,
            )
        return Conflict(f"post {post_id} was changed meanwhile; read it again and retry")

    # --- tick side ---------------------------------------------------------------------------
    def due(
        self, until: datetime, *, threads: int = 8, shards: Sequence[int] | None = None
    ) -> list[DueEntry]:
        """Every pending post due up to `until` (overdue ones included), oldest first, from
        every shard of the due index or only from `shards`."""
        bound = isoformat(until) + "#\uffff"
        numbers = range(self._settings.due_shards) if shards is None else shards
        shards_pk = [f"DUE#{n}" for n in numbers]
        if not shards_pk:
            return []
        with ThreadPoolExecutor(max_workers=min(threads, len(shards_pk))) as pool:
            results = list(pool.map(lambda shard: list(self._due_shard(shard, bound)), shards_pk))
        entries = [entry for shard in results for entry in shard]
        entries.sort(key=lambda e: e.due_sk)
        return entries

    def _due_shard(self, shard: str, bound: str) -> Iterator[DueEntry]:
        kwargs: dict[str, Any] = {
            "TableName": self._table.name,
            "IndexName": DUE_INDEX,
            "KeyConditionExpression": "due_pk = :shard AND due_sk <= :bound",
            "ExpressionAttributeValues": {":shard": shard, ":bound": bound},
        }
        while True:
            response = self._client.query(**kwargs)
            for item in response.get("Items", []):
                sk_value = item["due_sk"]
                scheduled_for, _, post_id = sk_value.rpartition("#")
                yield DueEntry(
                    business_id=item["pk"].removeprefix("BUSINESS#"),
                    post_id=post_id,
                    scheduled_for=scheduled_for,
                    due_sk=sk_value,
                )
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _leave_pending(
        self, entry: DueEntry, move: Move, extra: dict[str, str]
    ) -> dict[str, Any] | None:
        """The post item as `move` left it, or None when the post was no longer pending."""
        (status,) = move.ends  # queue and miss each lead to one state
        names = {"#st": "status", "#v": "version"}
        values: dict[str, Any] = {
            ":new": status.value,
            ":now": isoformat(self._clock.now()),
            ":one": 1,
        }
        # due_sk too: a post rescheduled after the query must not go at its old time.
        condition = may_move(move) & Condition("due_sk = :due", {}, {":due": entry.due_sk})
        sets = ["#st = :new", "updated_at = :now", "#v = #v + :one"]
        for i, (name, value) in enumerate(extra.items()):
            names[f"#x{i}"] = name
            values[f":x{i}"] = value
            sets.append(f"#x{i} = :x{i}")
        try:
            response = self._client.update_item(
                TableName=self._table.name,
                Key={
                    "pk": business_pk(entry.business_id),
                    "sk": post_sk(entry.post_id),
                },
                UpdateExpression=f"SET {', '.join(sets)} REMOVE due_pk, due_sk",
                ReturnValues="ALL_NEW",
                **condition.request(names, values),
            )
        except Exception as exc:
            if condition_failed(exc):
                return None
            raise
        attributes: dict[str, Any] = response.get("Attributes", {})
        return attributes

    def mark_queued(self, entry: DueEntry, dispatch_id: str) -> DueEntry | None:
        """pending -> queued; the entry with its targets' account ids (from the same write), or
        None when another tick, a cancel or an edit got there first."""
        now = isoformat(self._clock.now())
        item = self._leave_pending(entry, QUEUE, {"queued_at": now, "dispatch_id": dispatch_id})
        if item is None:
            return None
        return replace(entry, account_ids=tuple(item.get("targets", {})))

    def mark_missed(self, entry: DueEntry, reason: str) -> bool:
        return self._leave_pending(entry, MISS, {"status_reason": reason}) is not None

    def statuses(self, entries: list[DueEntry]) -> dict[str, dict[str, Any]]:
        """Status and dispatch id of up to 100 posts by id, strongly consistent."""
        if not entries:
            return {}
        keys = [{"pk": business_pk(e.business_id), "sk": post_sk(e.post_id)} for e in entries]
        request = {
            "Keys": keys,
            "ConsistentRead": True,
            "ProjectionExpression": "post_id, #st, dispatch_id",
            "ExpressionAttributeNames": {"#st": "status"},
        }
        found: dict[str, dict[str, Any]] = {}
        for item in batch_get(self._client, self._table.name, request):
            found[item["post_id"]] = {
                "status": item["status"],
                "dispatch_id": item.get("dispatch_id"),
            }
        return found
