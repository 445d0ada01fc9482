"""The single-table design: key shapes for every item, and the index names.

    item                 pk                      sk                          indexes
    business profile     BUSINESS#<biz>          PROFILE
    API key              APIKEY#<sha256>         APIKEY                      (looked up by GetItem)
    API key (by biz)     BUSINESS#<biz>          APIKEY#<key_id>
    social account       BUSINESS#<biz>          ACCOUNT#<account_id>        expiry: exp_pk/exp_sk
    post                 BUSINESS#<biz>          POST#<post_id>              due: due_pk/due_sk,
                                                                             calendar: cal_pk/cal_sk
    idempotency record   BUSINESS#<biz>          IDEMPOTENCY#<key>           (expires by TTL)
    metrics reading      BUSINESS#<biz>          METRICS#<post_id>#<time>    (expires by TTL)
    media file           BUSINESS#<biz>          MEDIA#<media_id>            (awaiting upload:
                                                                             expires by TTL)

API keys are found by GetItem on their hash rather than through a GSI: a GetItem can be strongly
consistent, so a revoked key stops working at once, which an eventually consistent index cannot
promise.

The due-posts index is sparse (only pending posts carry `due_pk`) and write-sharded
(`DUE#<0..n-1>`) so thousands of posts due in one minute spread over partitions. The token-expiry
index is sparse too: only accounts with a token that expires carry `exp_pk`.

The metrics index is sparse and sharded the same way: a published post carries `mt_pk`
(`MT#<0..3>`) and `mt_sk` (`<next sync time>#<biz>#<post_id>`) while its engagement metrics are
still followed (herald.metrics.sync); its latest metrics live on the post item (`metrics`) and
each reading is an item of its own, kept until its TTL.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

DUE_INDEX = "due"
EXPIRY_INDEX = "expiry"
CALENDAR_INDEX = "calendar"
METRICS_INDEX = "metrics"
TTL_ATTRIBUTE = "expires_at"
EXPIRY_SHARDS = 4
METRICS_SHARDS = 4


def business_pk(business_id: str) -> str:
    return f"BUSINESS#{business_id}"


def api_key_pk(key_hash: str) -> str:
    return f"APIKEY#{key_hash}"


def account_sk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def post_sk(post_id: str) -> str:
    return f"POST#{post_id}"


def media_sk(media_id: str) -> str:
    return f"MEDIA#{media_id}"


def idempotency_sk(key: str) -> str:
    return f"IDEMPOTENCY#{key}"


def metrics_reading_sk(post_id: str, taken_at: str) -> str:
    return f"METRICS#{post_id}#{taken_at}"


def metrics_pk(post_id: str) -> str:
    return f"MT#{shard_of(post_id, METRICS_SHARDS)}"


def metrics_sk(due: str, business_id: str, post_id: str) -> str:
    return f"{due}#{business_id}#{post_id}"


def condition_failed(exc: BaseException) -> bool:
    """Whether a write was refused by its ConditionExpression: botocore's ClientError carries
    the error code in `response` (`Error.Code`), read here without importing botocore.
    https://docs.aws.amazon.com/botocore/latest/reference/services/dynamodb/client/exceptions/ConditionalCheckFailedException.html
    """
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    return bool(response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def shard_of(item_id: str, shards: int) -> int:
    # A stable hash (not Python's salted hash()) so every Lambda agrees on the shard.
    return int.from_bytes(hashlib.blake2b(item_id.encode(), digest_size=4).digest(), "big") % shards


def due_pk(post_id: str, shards: int) -> str:
    return f"DUE#{shard_of(post_id, shards)}"


def expiry_pk(account_id: str) -> str:
    return f"EXP#{shard_of(account_id, EXPIRY_SHARDS)}"


BATCH_GET_MAX_KEYS = 100  # BatchGetItem's ceiling
_UNPROCESSED_RETRIES = 8


def batch_get(client: Any, table: str, request: dict[str, Any]) -> list[dict[str, Any]]:
    """One table's BatchGetItem (`request` is its entry: Keys, ConsistentRead, ...), retrying
    the keys DynamoDB leaves unprocessed (throttling) after a short, growing pause, as its
    documentation asks, rather than at once. Raises if some are still left after that."""
    items: list[dict[str, Any]] = []
    pending: dict[str, Any] = {table: request}
    for attempt in range(_UNPROCESSED_RETRIES + 1):
        response = client.batch_get_item(RequestItems=pending)
        items += response.get("Responses", {}).get(table, [])
        pending = response.get("UnprocessedKeys") or {}
        if not pending:
            return items
        if attempt < _UNPROCESSED_RETRIES:
            time.sleep(min(1.0, 0.05 * 2**attempt))
    raise RuntimeError(f"DynamoDB left {len(pending[table]['Keys'])} keys unprocessed")
