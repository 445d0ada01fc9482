"""The media library's records in DynamoDB: one item per uploaded file, under its business.

    pk=BUSINESS#<biz>  sk=MEDIA#<media_id>  status, key, filename, facts{...}, expires_at

A record awaiting its upload carries `expires_at` (the table's TTL), so a presigned upload never
used leaves nothing behind once its file has expired from the bucket too; reading the file
(inspection) removes it. Another business's media is simply not found.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from herald.errors import NotFound
from herald.media.model import MediaFacts, MediaRecord, MediaStatus
from herald.store.table import TTL_ATTRIBUTE, business_pk, condition_failed, media_sk


def _item(record: MediaRecord, expires_at: int | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": business_pk(record.business_id),
        "sk": media_sk(record.media_id),
        "type": "media",
        "media_id": record.media_id,
        "business_id": record.business_id,
        "key": record.key,
        "status": record.status.value,
        "created_at": record.created_at,
    }
    if record.filename:
        item["filename"] = record.filename
    if expires_at is not None:
        item[TTL_ATTRIBUTE] = expires_at
    return item


def record_from_item(item: Mapping[str, Any]) -> MediaRecord:
    facts = item.get("facts")
    return MediaRecord(
        media_id=str(item["media_id"]),
        business_id=str(item["business_id"]),
        key=str(item["key"]),
        status=MediaStatus(item["status"]),
        created_at=str(item.get("created_at", "")),
        filename=item.get("filename"),
        facts=MediaFacts.from_item(dict(facts)) if facts else None,
        reason=item.get("reason"),
    )


class MediaRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def _key(self, business_id: str, media_id: str) -> dict[str, str]:
        return {"pk": business_pk(business_id), "sk": media_sk(media_id)}

    def create(self, record: MediaRecord, expires_at: int) -> None:
        self._table.put_item(
            Item=_item(record, expires_at), ConditionExpression="attribute_not_exists(pk)"
        )

    def get(self, business_id: str, media_id: str) -> MediaRecord:
        item = self._table.get_item(Key=self._key(business_id, media_id), ConsistentRead=True).get(
            "Item"
        )
        if item is None or item.get("type") != "media":
            raise NotFound(f"media {media_id} not found")
        return record_from_item(item)

    def get_many(self, business_id: str, media_ids: list[str]) -> dict[str, MediaRecord]:
        # A post names a handful of files: one strongly consistent read each keeps a file
        # deleted a moment ago from being attached.
        found: dict[str, MediaRecord] = {}
        for media_id in dict.fromkeys(media_ids):
            try:
                found[media_id] = self.get(business_id, media_id)
            except NotFound:
                continue
        return found

    def settle(
        self, record: MediaRecord, status: MediaStatus, facts: MediaFacts | None, reason: str | None
    ) -> MediaRecord:
        """Record what inspection found, once: only a record still awaiting its upload moves
        (two readers inspecting at once agree, and the first write stands)."""
        sets = ["#st = :status"]
        values: dict[str, Any] = {
            ":status": status.value,
            ":awaiting": MediaStatus.AWAITING_UPLOAD.value,
        }
        if facts is not None:
            sets.append("facts = :facts")
            values[":facts"] = facts.to_item()
        if reason is not None:
            sets.append("reason = :reason")
            values[":reason"] = reason
        try:
            result = self._table.update_item(
                Key=self._key(record.business_id, record.media_id),
                UpdateExpression="SET " + ", ".join(sets) + f" REMOVE {TTL_ATTRIBUTE}",
                ConditionExpression="attribute_exists(pk) AND #st = :awaiting",
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if condition_failed(exc):
                return self.get(record.business_id, record.media_id)
            raise
        return record_from_item(result["Attributes"])

    def delete(self, business_id: str, media_id: str) -> MediaRecord:
        try:
            result = self._table.delete_item(
                Key=self._key(business_id, media_id),
                ConditionExpression="attribute_exists(pk) AND #type = :media",
                ExpressionAttributeNames={"#type": "type"},
                ExpressionAttributeValues={":media": "media"},
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if condition_failed(exc):
                raise NotFound(f"media {media_id} not found") from exc
            raise
        return record_from_item(result["Attributes"])
