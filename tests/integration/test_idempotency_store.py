"""The Idempotency-Key records in DynamoDB (moto): lock, replay, conflicts, expiry, takeover."""

from __future__ import annotations

import pytest

from herald.container import Container
from herald.errors import IdempotencyConflict
from herald.idempotency import LOCK_SECONDS, StoredResponse, fingerprint, worth_replaying
from herald.store.idempotency import DynamoIdempotencyStore

NOW = 1_800_000_000
DAY = 86_400
FIRST = StoredResponse(200, '{"post_id":"post_1"}', {"content-type": "application/json"})


@pytest.fixture
def store(container: Container) -> DynamoIdempotencyStore:
    return DynamoIdempotencyStore(container.table)


def test_the_first_request_takes_the_key(store: DynamoIdempotencyStore) -> None:
    assert store.begin("biz", "k", "fp", now=NOW, ttl=DAY) is None


def test_a_repeat_while_in_flight_is_refused_as_in_flight(store: DynamoIdempotencyStore) -> None:
    store.begin("biz", "k", "fp", now=NOW, ttl=DAY)
    with pytest.raises(IdempotencyConflict) as refused:
        store.begin("biz", "k", "fp", now=NOW + 1, ttl=DAY)
    assert refused.value.in_flight


def test_a_repeat_after_completion_gets_the_first_response(store: DynamoIdempotencyStore) -> None:
    store.begin("biz", "k", "fp", now=NOW, ttl=DAY)
    store.complete("biz", "k", "fp", FIRST, now=NOW, ttl=DAY)
    assert store.begin("biz", "k", "fp", now=NOW + 60, ttl=DAY) == FIRST


def test_another_body_under_the_same_key_is_refused(store: DynamoIdempotencyStore) -> None:
    store.begin("biz", "k", "fp", now=NOW, ttl=DAY)
    store.complete("biz", "k", "fp", FIRST, now=NOW, ttl=DAY)
    with pytest.raises(IdempotencyConflict) as refused:
        store.begin("biz", "k", "other", now=NOW + 60, ttl=DAY)
    assert not refused.value.in_flight


def test_after_a_day_the_key_is_free_again_even_before_ttl_deletion(
    store: DynamoIdempotencyStore,
) -> None:
    store.begin("biz", "k", "fp", now=NOW, ttl=DAY)
    store.complete("biz", "k", "fp", FIRST, now=NOW, ttl=DAY)
    assert store.begin("biz", "k", "other", now=NOW + DAY + 1, ttl=DAY) is None


def test_a_lock_left_by_a_request_that_died_is_taken_over(store: DynamoIdempotencyStore) -> None:
    store.begin("biz", "k", "fp", now=NOW, ttl=DAY)
    assert store.begin("biz", "k", "fp", now=NOW + LOCK_SECONDS + 1, ttl=DAY) is None


def test_a_released_key_may_be_used_again(store: DynamoIdempotencyStore) -> None:
    store.begin("biz", "k", "fp", now=NOW, ttl=DAY)
    store.release("biz", "k", "fp")
    assert store.begin("biz", "k", "fp", now=NOW + 1, ttl=DAY) is None


def test_keys_belong_to_one_business(store: DynamoIdempotencyStore) -> None:
    store.begin("biz", "k", "fp", now=NOW, ttl=DAY)
    assert store.begin("other", "k", "fp", now=NOW, ttl=DAY) is None


def test_the_fingerprint_ignores_json_key_order_but_not_values() -> None:
    a = fingerprint("POST", "/p", b'{"a": 1, "b": [1, 2]}')
    assert a == fingerprint("post", "/p", b'{"b":[1,2],"a":1}')
    assert a != fingerprint("POST", "/p", b'{"a": 2, "b": [1, 2]}')
    assert a != fingerprint("POST", "/q", b'{"a": 1, "b": [1, 2]}')


@pytest.mark.parametrize(
    ("status", "kept"),
    [(200, True), (207, True), (422, True), (502, True), (429, False), (500, False), (503, False)],
)
def test_only_final_answers_are_replayed(status: int, kept: bool) -> None:
    assert worth_replaying(status) is kept
