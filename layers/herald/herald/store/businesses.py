"""Businesses and their API keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Attr

from herald.accounts import Account
from herald.clock import Clock, isoformat
from herald.errors import NotFound
from herald.store.table import account_sk, api_key_pk, batch_get, business_pk


@dataclass(frozen=True)
class Business:
    business_id: str
    name: str
    created_at: str
    max_lateness_seconds: int | None = None


@dataclass(frozen=True)
class ApiKeyRecord:
    key_id: str
    business_id: str
    revoked: bool


def _key_record(item: dict[str, Any]) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_id=item["key_id"], business_id=item["business_id"], revoked=bool(item["revoked"])
    )


class BusinessRepository:
    def __init__(self, table: Any, clock: Clock) -> None:
        self._table = table
        self._clock = clock

    def create(self, business_id: str, name: str) -> Business:
        created = isoformat(self._clock.now())
        self._table.put_item(
            Item={
                "pk": business_pk(business_id),
                "sk": "PROFILE",
                "type": "business",
                "business_id": business_id,
                "name": name,
                "created_at": created,
            },
            ConditionExpression=Attr("pk").not_exists(),
        )
        return Business(business_id=business_id, name=name, created_at=created)

    def get(self, business_id: str) -> Business:
        item = self._table.get_item(Key={"pk": business_pk(business_id), "sk": "PROFILE"}).get(
            "Item"
        )
        if item is None:
            raise NotFound(f"business {business_id} not found")
        lateness = item.get("max_lateness_seconds")
        return Business(
            business_id=item["business_id"],
            name=item["name"],
            created_at=item["created_at"],
            max_lateness_seconds=int(lateness) if lateness is not None else None,
        )

    def add_api_key(self, business_id: str, key_id: str, key_hash: str) -> None:
        """Both items in one transaction: the lookup item and the business's list entry."""
        created = isoformat(self._clock.now())
        client = self._table.meta.client
        client.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": self._table.name,
                        "Key": {"pk": business_pk(business_id), "sk": "PROFILE"},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                {
                    "Put": {
                        "TableName": self._table.name,
                        "Item": {
                            "pk": api_key_pk(key_hash),
                            "sk": "APIKEY",
                            "type": "api_key",
                            "key_id": key_id,
                            "business_id": business_id,
                            "revoked": False,
                            "created_at": created,
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Put": {
                        "TableName": self._table.name,
                        "Item": {
                            "pk": business_pk(business_id),
                            "sk": f"APIKEY#{key_id}",
                            "type": "api_key_ref",
                            "key_id": key_id,
                            "key_hash": key_hash,
                            "revoked": False,
                            "created_at": created,
                        },
                    }
                },
            ]
        )

    def find_api_key(self, key_hash: str) -> ApiKeyRecord | None:
        item = self._table.get_item(
            Key={"pk": api_key_pk(key_hash), "sk": "APIKEY"}, ConsistentRead=True
        ).get("Item")
        return None if item is None else _key_record(item)

    def find_api_key_with_accounts(
        self, key_hash: str, business_id: str, account_ids: Sequence[str]
    ) -> tuple[ApiKeyRecord | None, dict[str, Account]]:
        """The key and the named accounts of `business_id`, in one strongly consistent
        BatchGetItem; the caller checks that the key belongs to that business before it uses
        the accounts. Accounts that do not exist are absent; past 99 ids the rest are not read
        (the API takes at most 20)."""
        from herald.store.accounts import from_item as account_from_item

        key = {"pk": api_key_pk(key_hash), "sk": "APIKEY"}
        keys = [key] + [
            {"pk": business_pk(business_id), "sk": account_sk(a)}
            for a in list(dict.fromkeys(account_ids))[:99]
        ]
        client = self._table.meta.client  # plain Python values, as the table's own calls
        record: ApiKeyRecord | None = None
        accounts: dict[str, Account] = {}
        request = {"Keys": keys, "ConsistentRead": True}
        for item in batch_get(client, self._table.name, request):
            if item["sk"] == "APIKEY":
                record = _key_record(item)
            elif item.get("type") == "account":
                account = account_from_item(item)
                accounts[account.account_id] = account
        return record, accounts

    def revoke_api_key(self, business_id: str, key_id: str) -> None:
        ref = self._table.get_item(
            Key={"pk": business_pk(business_id), "sk": f"APIKEY#{key_id}"}, ConsistentRead=True
        ).get("Item")
        if ref is None:
            raise NotFound(f"API key {key_id} not found for business {business_id}")
        revoked_at = isoformat(self._clock.now())
        for key in (
            {"pk": api_key_pk(ref["key_hash"]), "sk": "APIKEY"},
            {"pk": business_pk(business_id), "sk": f"APIKEY#{key_id}"},
        ):
            self._table.update_item(
                Key=key,
                UpdateExpression="SET revoked = :t, revoked_at = :at",
                ExpressionAttributeValues={":t": True, ":at": revoked_at},
            )
