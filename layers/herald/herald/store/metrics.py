"""Engagement metrics in the single table (see store/table.py for the key shapes).

    post item     metrics = {<account_id>: snapshot}, mt_pk/mt_sk while still followed
    reading       pk=BUSINESS#<biz>  sk=METRICS#<post_id>#<taken_at>  targets={<account_id>:
                  {platform, values}}  expires_at=<epoch seconds>  (one per sync of the post)

The latest snapshot lives on the post item, so the calendar query the summary already makes
brings every post's metrics with it, and one UpdateItem per post per sync both records them and
moves the post to its next due time. Readings are written 25 to a BatchWriteItem.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from herald.errors import NotFound
from herald.store.table import (
    CALENDAR_INDEX,
    METRICS_INDEX,
    METRICS_SHARDS,
    business_pk,
    condition_failed,
    metrics_pk,
    metrics_reading_sk,
    metrics_sk,
    post_sk,
)


class MetricsRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def due(self, now: str, limit: int) -> list[dict[str, Any]]:
        """Posts whose next reading is due (at or before `now`), oldest due first, from every
        shard of the sparse index; at most `limit` of them."""
        found: list[dict[str, Any]] = []
        for shard in range(METRICS_SHARDS):
            kwargs: dict[str, Any] = {
                "IndexName": METRICS_INDEX,
                "KeyConditionExpression": Key("mt_pk").eq(f"MT#{shard}")
                & Key("mt_sk").lt(now + "$"),
                "Limit": limit,
            }
            # `mt_sk` is `<due>#...`: below `<now>$` ('#' sorts before '$') is due at or before now.
            taken = 0
            while taken < limit:
                page = self._table.query(**kwargs)
                items = page.get("Items", [])
                found.extend(items)
                taken += len(items)
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        found.sort(key=lambda item: str(item.get("mt_sk", "")))
        return found[:limit]

    def record(
        self,
        business_id: str,
        post_id: str,
        snapshots: dict[str, dict[str, Any]],
        next_due: str | None,
    ) -> None:
        """The post's latest metrics, and when to read it next (None: no longer followed).
        A post deleted meanwhile is left deleted (NotFound)."""
        names = {"#m": "metrics"}
        values: dict[str, Any] = {":m": snapshots}
        expression = "SET #m = :m"
        if next_due is None:
            expression += " REMOVE mt_pk, mt_sk"
        else:
            expression += ", mt_pk = :mt_pk, mt_sk = :mt_sk"
            values[":mt_pk"] = metrics_pk(post_id)
            values[":mt_sk"] = metrics_sk(next_due, business_id, post_id)
        try:
            self._table.update_item(
                Key={"pk": business_pk(business_id), "sk": post_sk(post_id)},
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if condition_failed(exc):
                raise NotFound(f"post {post_id} not found") from exc
            raise

    def add_readings(self, readings: Iterable[dict[str, Any]]) -> None:
        """Each `{business_id, post_id, taken_at, targets, expires_at}` as its own item."""
        with self._table.batch_writer() as batch:
            for reading in readings:
                batch.put_item(
                    Item={
                        "pk": business_pk(reading["business_id"]),
                        "sk": metrics_reading_sk(reading["post_id"], reading["taken_at"]),
                        "type": "metrics",
                        **reading,
                    }
                )

    def readings(self, business_id: str, post_id: str) -> list[dict[str, Any]]:
        """A post's readings, oldest first (expired ones may linger until DynamoDB removes them;
        the caller filters by time)."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(business_pk(business_id))
            & Key("sk").begins_with(f"METRICS#{post_id}#"),
        }
        while True:
            page = self._table.query(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def window(self, business_id: str, since: str, until: str) -> list[dict[str, Any]]:
        """The business's post items (metrics included) whose calendar time is in the window."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "IndexName": CALENDAR_INDEX,
            "KeyConditionExpression": Key("cal_pk").eq(business_pk(business_id))
            & Key("cal_sk").between(since, until + "~"),
        }
        while True:
            page = self._table.query(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
