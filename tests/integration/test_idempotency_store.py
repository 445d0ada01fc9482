"""The Idempotency-Key records in DynamoDB (moto): lock, replay, conflicts, expiry, takeover, and
the post each key is bound to."""

from __future__ import annotations

import pytest

from herald.container import Container
from herald.errors import IdempotencyConflict
from herald.idempotency import (
    LOCK_SECONDS,
    StoredResponse,
    Taken,
    fingerprint,
    worth_replaying,
)
from herald.store.idempotency import DynamoIdempotencyStore

NOW = 1_800_000_000
DAY = 86_400
FIRST = StoredResponse(200, '{"post_id":"post_1"}', {"content-type": "application/json"})


@pytest.fixture
def store(container: Container) -> DynamoIdempotencyStore:
    return DynamoIdempotencyStore(container.table)


def begin(
    store: DynamoIdempotencyStore,
    fp: str = "fp",
    *,
    at: int = NOW,
    business: str = "biz",
    bound_id: str = "post_a",
) -> StoredResponse | Taken:
    return store.begin(business, "k", fp, bound_id=bound_id, now=at, ttl=DAY)


def test_the_first_request_takes_the_key_and_binds_it_to_its_post(
    store: DynamoIdempotencyStore,
) -> None:
    assert begin(store) == Taken("post_a", resumed=False)


def test_a_repeat_while_in_flight_is_refused_as_in_flight(store: DynamoIdempotencyStore) -> None:
    begin(store)
    with pytest.raises(IdempotencyConflict) as refused:
        begin(store, at=NOW + 1)
    assert refused.value.in_flight


def test_a_repeat_after_completion_gets_the_first_response(store: DynamoIdempotencyStore) -> None:
    begin(store)
    store.complete("biz", "k", "fp", FIRST, now=NOW, ttl=DAY)
    assert begin(store, at=NOW + 60) == FIRST


def test_another_body_under_the_same_key_is_refused(store: DynamoIdempotencyStore) -> None:
    begin(store)
    store.complete("biz", "k", "fp", FIRST, now=NOW, ttl=DAY)
    with pytest.raises(IdempotencyConflict) as refused:
        begin(store, "other", at=NOW + 60)
    assert not refused.value.in_flight


def test_after_a_day_the_key_is_free_again_even_before_ttl_deletion(
    store: DynamoIdempotencyStore,
) -> None:
    begin(store)
    store.complete("biz", "k", "fp", FIRST, now=NOW, ttl=DAY)
    assert begin(store, "other", at=NOW + DAY + 1, bound_id="post_b") == Taken("post_b", False)


def test_a_lock_left_by_a_request_that_died_is_taken_over_with_the_post_it_is_bound_to(
    store: DynamoIdempotencyStore,
) -> None:
    begin(store)
    taken = begin(store, at=NOW + LOCK_SECONDS + 1, bound_id="post_b")
    assert taken == Taken("post_a", resumed=True)


def test_a_lock_taken_over_is_taken_by_one_retry_only(store: DynamoIdempotencyStore) -> None:
    begin(store)
    begin(store, at=NOW + LOCK_SECONDS + 1)
    with pytest.raises(IdempotencyConflict) as refused:
        begin(store, at=NOW + LOCK_SECONDS + 2)
    assert refused.value.in_flight


def test_a_key_let_go_is_resumed_at_once_with_the_same_post(
    store: DynamoIdempotencyStore,
) -> None:
    begin(store)
    store.let_go("biz", "k", "fp")
    assert begin(store, at=NOW + 1, bound_id="post_b") == Taken("post_a", resumed=True)


def test_keys_belong_to_one_business(store: DynamoIdempotencyStore) -> None:
    begin(store)
    assert begin(store, business="other", bound_id="post_b") == Taken("post_b", False)


def test_the_fingerprint_ignores_json_key_order_but_not_values() -> None:
    a = fingerprint("POST", "/p", b'{"a": 1, "b": [1, 2]}')
    assert a == fingerprint("post", "/p", b'{"b":[1,2],"a":1}')
    assert a != fingerprint("POST", "/p", b'{"a": 2, "b": [1, 2]}')
    assert a != fingerprint("POST", "/q", b'{"a": 1, "b": [1, 2]}')


@pytest.mark.parametrize(
    ("status", "kept"),
    [
        (200, True),
        (201, True),
        (202, False),
        (207, True),
        (422, True),
        (502, True),
        (429, False),
        (500, False),
        (503, False),
    ],
)
def test_only_final_answers_are_replayed(status: int, kept: bool) -> None:
    assert worth_replaying(status) is kept
