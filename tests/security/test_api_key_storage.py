"""API keys are stored only as SHA-256 hashes: after keys are issued, used, refused and revoked,
no item in the table and no key or value in Redis holds a key or any part of its secret."""

from __future__ import annotations

import hashlib
from typing import Any

import redis

from herald.admin.commands import create_business, new_api_key
from herald.container import Container
from tests.fakes.api_stack import ApiCaller


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes):
        return [value.decode(errors="replace")]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list | tuple | set):
        return [s for v in value for s in _strings(v)]
    return []


def _table_strings(container: Container) -> list[str]:
    found: list[str] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = container.table.scan(**kwargs)
        for item in page["Items"]:
            found.extend(_strings(item))
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _redis_strings(client: redis.Redis) -> list[str]:
    found: list[str] = []
    for key in client.scan_iter(count=500):
        found.extend(_strings(key))
        kind = client.type(key)
        if kind == b"string":
            found.extend(_strings(client.get(key)))
        elif kind == b"hash":
            found.extend(_strings(client.hgetall(key)))
        elif kind == b"zset":
            found.extend(_strings(client.zrange(key, 0, -1)))
        elif kind == b"list":
            found.extend(_strings(client.lrange(key, 0, -1)))
        elif kind == b"set":
            found.extend(_strings(client.smembers(key)))
    return found


def _issue_use_and_revoke(api_call: ApiCaller, container: Container) -> list[str]:
    first = create_business(container, "Acme Bakery")
    second = new_api_key(container, first["business_id"])
    third = new_api_key(container, first["business_id"])
    for issued in (first, second, third):
        headers = {"Authorization": f"Bearer {issued['api_key']}"}
        assert api_call("GET", "/api/v1/me", headers=headers).status_code == 200
    container.businesses.revoke_api_key(first["business_id"], third["key_id"])
    revoked = {"Authorization": f"Bearer {third['api_key']}"}
    assert api_call("GET", "/api/v1/me", headers=revoked).status_code == 401
    return [first["api_key"], second["api_key"], third["api_key"]]


def test_the_table_holds_hashes_and_never_a_key(
    api_call: ApiCaller, oauth_container: Container
) -> None:
    keys = _issue_use_and_revoke(api_call, oauth_container)
    stored = _table_strings(oauth_container)

    secrets = [k.rpartition(".")[2] for k in keys]
    assert [s for s in stored if any(secret in s for secret in secrets)] == []
    hashes = {hashlib.sha256(k.encode()).hexdigest() for k in keys}
    assert hashes <= {h for s in stored for h in hashes if h in s}


def test_redis_holds_no_key(
    api_call: ApiCaller, oauth_container: Container, redis_sync: redis.Redis
) -> None:
    # The limiter is what writes per-key state to Redis (and counts refused keys by address).
    oauth_container.settings.rate_limit_enabled = True
    keys = _issue_use_and_revoke(api_call, oauth_container)
    stored = _redis_strings(redis_sync)

    assert stored, "the limiter wrote its buckets"

    secrets = [k.rpartition(".")[2] for k in keys]
    assert [s for s in stored if any(secret in s for secret in secrets)] == []
