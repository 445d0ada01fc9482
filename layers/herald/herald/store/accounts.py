"""Connected accounts in the single table, tokens always encrypted.

An account whose access token expires carries `exp_pk`/`exp_sk`, which puts it in the sparse
`expiry` index: `exp_sk` starts with the expiry time, so "expiring before T" is one range query
per shard. `version` is bumped by every token write, and token writes are conditional on it, so a
refresh that lost a race can never overwrite the winner's (single-use) refresh token.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from herald.accounts import Account, AccountStatus
from herald.clock import Clock, isoformat
from herald.errors import Conflict, NotFound
from herald.store.table import (
    BATCH_GET_MAX_KEYS,
    EXPIRY_INDEX,
    EXPIRY_SHARDS,
    account_sk,
    batch_get,
    business_pk,
    condition_failed,
    expiry_pk,
)

_ACCOUNT_FIELDS = (
    "account_id",
    "business_id",
    "platform",
    "external_id",
    "display_name",
    "status",
    "scopes",
    "access_token_enc",
    "refresh_token_enc",
    "token_expires_at",
    "refresh_token_expires_at",
    "status_reason",
    "details",
)


def from_item(item: dict[str, Any]) -> Account:
    return Account(
        account_id=item["account_id"],
        business_id=item["business_id"],
        platform=item["platform"],
        external_id=item["external_id"],
        display_name=item.get("display_name", ""),
        status=AccountStatus(item["status"]),
        scopes=tuple(item.get("scopes") or ()),
        access_token_enc=item.get("access_token_enc", ""),
        refresh_token_enc=item.get("refresh_token_enc"),
        token_expires_at=item.get("token_expires_at"),
        refresh_token_expires_at=item.get("refresh_token_expires_at"),
        status_reason=item.get("status_reason"),
        details={str(k): str(v) for k, v in (item.get("details") or {}).items()},
        connected_at=item.get("connected_at", ""),
        updated_at=item.get("updated_at", ""),
        version=int(item.get("version", 0)),
    )


def expiry_sk(account: Account) -> str:
    return f"{account.token_expires_at}#{account.business_id}#{account.account_id}"


class AccountRepository:
    def __init__(self, table: Any, clock: Clock) -> None:
        self._table = table
        self._clock = clock

    @staticmethod
    def _key(business_id: str, account_id: str) -> dict[str, str]:
        return {"pk": business_pk(business_id), "sk": account_sk(account_id)}

    def upsert(self, account: Account) -> Account:
        """Store a freshly connected account; reconnecting the same one updates it in place
        (same id), keeping when it was first connected and bumping its version."""
        now = isoformat(self._clock.now())
        values: dict[str, Any] = {f":{name}": getattr(account, name) for name in _ACCOUNT_FIELDS}
        values[":scopes"] = list(account.scopes)
        values[":status"] = account.status.value
        # Every name through a placeholder: several (status, type, ...) are reserved words.
        names = {f"#{name}": name for name in _ACCOUNT_FIELDS}
        names["#type"] = "type"
        sets = [f"#{name} = :{name}" for name in _ACCOUNT_FIELDS]
        sets += [
            "#type = :type",
            "connected_at = if_not_exists(connected_at, :now)",
            "updated_at = :now",
            "version = if_not_exists(version, :zero) + :one",
        ]
        values.update({":type": "account", ":now": now, ":zero": 0, ":one": 1})
        removes: list[str] = []
        if account.token_expires_at:
            sets += ["exp_pk = :exp_pk", "exp_sk = :exp_sk"]
            values[":exp_pk"] = expiry_pk(account.account_id)
            values[":exp_sk"] = expiry_sk(account)
        else:
            removes = ["exp_pk", "exp_sk"]
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        result = self._table.update_item(
            Key=self._key(account.business_id, account.account_id),
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        return from_item(result["Attributes"])

    def get(self, business_id: str, account_id: str, *, consistent: bool = False) -> Account:
        item = self._table.get_item(
            Key=self._key(business_id, account_id), ConsistentRead=consistent
        ).get("Item")
        if item is None:
            # Another business's account is indistinguishable from a missing one.
            raise NotFound(f"account {account_id} not found")
        return from_item(item)

    def get_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Account]:
        """Accounts by (business_id, account_id), a hundred to a BatchGetItem (its ceiling);
        the ones that do not exist are simply absent. Eventually consistent, as `get` is."""
        wanted = list(dict.fromkeys(keys))
        found: dict[tuple[str, str], Account] = {}
        # The resource's own client: it takes and gives plain Python values, as the table does.
        client = self._table.meta.client
        for start in range(0, len(wanted), BATCH_GET_MAX_KEYS):
            chunk = wanted[start : start + BATCH_GET_MAX_KEYS]
            request = {"Keys": [self._key(b, a) for b, a in chunk]}
            for item in batch_get(client, self._table.name, request):
                account = from_item(item)
                found[account.business_id, account.account_id] = account
        return found

    def list_for_business(self, business_id: str) -> list[Account]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(business_pk(business_id))
            & Key("sk").begins_with("ACCOUNT#")
        }
        while True:
            page = self._table.query(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [from_item(item) for item in items]

    def delete(self, business_id: str, account_id: str) -> None:
        try:
            self._table.delete_item(
                Key=self._key(business_id, account_id),
                ConditionExpression=Attr("pk").exists(),
            )
        except ClientError as exc:
            if condition_failed(exc):
                raise NotFound(f"account {account_id} not found") from exc
            raise

    def mark_status(
        self,
        business_id: str,
        account_id: str,
        status: AccountStatus,
        reason: str | None,
        *,
        if_version: int | None = None,
    ) -> Account:
        """Set the status; with `if_version`, only if no token write came after that version
        (Conflict otherwise: the account has newer tokens than the ones that failed)."""
        sets = "SET #status = :status, status_reason = :reason, updated_at = :now"
        # An account that needs a person is no longer the hourly sweep's business.
        remove = " REMOVE exp_pk, exp_sk" if status is AccountStatus.NEEDS_REAUTH else ""
        # Written out rather than built from Attr(): the publish worker calls this from several
        # threads at once, and boto3 builds Attr() conditions with one builder per client whose
        # placeholder counter is not safe across threads (boto3.dynamodb.transform).
        condition = "attribute_exists(pk)"
        values: dict[str, Any] = {
            ":status": status.value,
            ":reason": reason,
            ":now": isoformat(self._clock.now()),
        }
        if if_version is not None:
            condition += " AND version = :if_version"
            values[":if_version"] = if_version
        try:
            result = self._table.update_item(
                Key=self._key(business_id, account_id),
                UpdateExpression=sets + remove,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if condition_failed(exc):
                if exc.response.get("Item"):
                    raise Conflict(f"account {account_id} has newer tokens") from exc
                raise NotFound(f"account {account_id} not found") from exc
            raise
        return from_item(result["Attributes"])

    def update_tokens(
        self,
        account: Account,
        *,
        access_token_enc: str,
        refresh_token_enc: str | None,
        token_expires_at: str | None,
        refresh_token_expires_at: str | None,
        bump_version: bool = True,
    ) -> Account:
        """Write new tokens if nobody else has since `account` was read (Conflict otherwise).

        A refresh bumps the version; a key rotation does not (the tokens are the same), so a
        refresh racing a rotation still wins and the rotation re-reads and tries again.
        """
        updated = replace(
            account,
            access_token_enc=access_token_enc,
            refresh_token_enc=refresh_token_enc,
            token_expires_at=token_expires_at,
            refresh_token_expires_at=refresh_token_expires_at,
        )
        values: dict[str, Any] = {
            ":access": access_token_enc,
            ":refresh": refresh_token_enc,
            ":expires": token_expires_at,
            ":refresh_expires": refresh_token_expires_at,
            ":now": isoformat(self._clock.now()),
            ":version": account.version,
        }
        sets = [
            "access_token_enc = :access",
            "refresh_token_enc = :refresh",
            "token_expires_at = :expires",
            "refresh_token_expires_at = :refresh_expires",
            "updated_at = :now",
        ]
        if bump_version:
            sets += [
                "version = :next",
                "#status = :connected",
                "status_reason = :none",
            ]
            values.update({":next": account.version + 1, ":connected": "connected", ":none": None})
        expression = "SET " + ", ".join(sets)
        if token_expires_at:
            expression = expression.replace("SET ", "SET exp_pk = :exp_pk, exp_sk = :exp_sk, ")
            values[":exp_pk"] = expiry_pk(account.account_id)
            values[":exp_sk"] = expiry_sk(updated)
        else:
            expression += " REMOVE exp_pk, exp_sk"
        names = {"#status": "status"} if bump_version else None
        kwargs: dict[str, Any] = {}
        if names:
            kwargs["ExpressionAttributeNames"] = names
        try:
            result = self._table.update_item(
                Key=self._key(account.business_id, account.account_id),
                UpdateExpression=expression,
                # A string, as in mark_status: token refreshes run on several threads at once.
                ConditionExpression="version = :version",
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                **kwargs,
            )
        except ClientError as exc:
            if condition_failed(exc):
                raise Conflict(f"account {account.account_id} changed since it was read") from exc
            raise
        return from_item(result["Attributes"])

    def expiring_before(self, before: str) -> list[tuple[str, str]]:
        """(business_id, account_id) of every account whose access token expires before
        `before` (ISO 8601 UTC), across all shards of the sparse expiry index."""
        found: list[tuple[str, str]] = []
        for shard in range(EXPIRY_SHARDS):
            kwargs: dict[str, Any] = {
                "IndexName": EXPIRY_INDEX,
                "KeyConditionExpression": Key("exp_pk").eq(f"EXP#{shard}")
                & Key("exp_sk").lt(before),
            }
            while True:
                page = self._table.query(**kwargs)
                for item in page.get("Items", []):
                    _, business_id, account_id = item["exp_sk"].rsplit("#", 2)
                    found.append((business_id, account_id))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found

    def scan_all(self) -> Iterator[Account]:
        """Every account of every business (the key rotation's walk)."""
        kwargs: dict[str, Any] = {"FilterExpression": Attr("type").eq("account")}
        while True:
            page = self._table.scan(**kwargs)
            for item in page.get("Items", []):
                yield from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
