"""The lifecycle's rules as condition expressions: each carries exactly the names and values its
expression uses (DynamoDB refuses a request with one it does not), and two agree on a shared one."""

from __future__ import annotations

import re

import pytest

from herald.posts.lifecycle import COMMENT_CLAIM, MOVES, START, TARGET_CLAIM, ClaimRule, Move
from herald.store.conditions import Condition, claim_held, claimable, may_move, status_in
from herald.store.table import condition_failed


def _used(condition: Condition) -> tuple[set[str], set[str]]:
    return (
        set(re.findall(r"#\w+", condition.expression)),
        set(re.findall(r":\w+", condition.expression)),
    )


def _carries_exactly_what_it_uses(condition: Condition) -> bool:
    names, values = _used(condition)
    return names == set(condition.names) and values == set(condition.values)


@pytest.mark.parametrize("move", MOVES, ids=lambda m: m.name)
def test_a_moves_condition_carries_exactly_what_it_uses(move: Move) -> None:
    assert _carries_exactly_what_it_uses(may_move(move))


@pytest.mark.parametrize("rule", [TARGET_CLAIM, COMMENT_CLAIM], ids=["target", "comment"])
@pytest.mark.parametrize("any_failure", [False, True])
def test_a_claims_condition_carries_exactly_what_it_uses(
    rule: ClaimRule, any_failure: bool
) -> None:
    condition = claimable(
        "#t.#a",
        {"#t": "targets", "#a": "acc_1"},
        rule,
        stale_before="2026-01-01T00:00:00Z",
        any_failure=any_failure,
        tag="tc",
    )
    assert _carries_exactly_what_it_uses(condition)


def test_a_held_claims_condition_carries_exactly_what_it_uses() -> None:
    assert _carries_exactly_what_it_uses(claim_held("#t.#a", {"#t": "targets", "#a": "a"}, "t"))


def test_one_state_is_an_equality_and_more_are_an_in_list() -> None:
    assert may_move(START).expression == "#st IN (:st_queued, :st_publishing)"
    assert status_in(START.ends).expression == "#st = :st_publishing"


def test_joined_conditions_keep_both_sides_names_and_values() -> None:
    joined = Condition("version = :v", {}, {":v": 3}) & may_move(START)
    assert _carries_exactly_what_it_uses(joined)
    assert joined.values[":v"] == 3


def test_two_conditions_that_give_one_placeholder_two_values_are_refused() -> None:
    with pytest.raises(ValueError, match=":v"):
        Condition("a = :v", {}, {":v": 1}) & Condition("b = :v", {}, {":v": 2})


def test_a_request_merges_the_update_expressions_names_and_values() -> None:
    request = may_move(START).request({"#v": "version"}, {":one": 1})
    assert request["ExpressionAttributeNames"] == {"#st": "status", "#v": "version"}
    assert set(request["ExpressionAttributeValues"]) == {":st_queued", ":st_publishing", ":one"}


class _ClientError(Exception):
    def __init__(self, code: str) -> None:
        self.response = {"Error": {"Code": code}}


def test_a_failed_condition_is_read_from_the_error_code() -> None:
    assert condition_failed(_ClientError("ConditionalCheckFailedException"))
    assert not condition_failed(_ClientError("ProvisionedThroughputExceededException"))
    assert not condition_failed(RuntimeError("ConditionalCheckFailedException"))
