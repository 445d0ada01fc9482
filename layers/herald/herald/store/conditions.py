"""The post's rules (herald.posts.lifecycle) as DynamoDB condition expressions.

A `Condition` is an expression with the attribute names and values it uses, and only those:
DynamoDB refuses a request that carries a name or value its expressions do not use. Placeholders
are named after the value they stand for (`:st_queued`, `:tc_failed`), so two conditions that
mention the same state agree on it and can be joined.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html

Plain strings, no `boto3.dynamodb.conditions`: the tick's handler imports this module and must
import fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from herald.posts.lifecycle import RETRYABLE_KINDS, ClaimRule, Move
from herald.posts.model import PostStatus, TargetStatus


@dataclass(frozen=True)
class Condition:
    expression: str
    names: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)

    def __and__(self, other: Condition) -> Condition:
        return Condition(
            f"({self.expression}) AND ({other.expression})",
            _merged(self.names, other.names),
            _merged(self.values, other.values),
        )

    def request(
        self, names: Mapping[str, str] | None = None, values: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The write's ConditionExpression with the names and values of the whole request (its
        update expression's included): the arguments of an UpdateItem or a PutItem."""
        request: dict[str, Any] = {"ConditionExpression": self.expression}
        all_names = _merged(self.names, names or {})
        all_values = _merged(self.values, values or {})
        if all_names:
            request["ExpressionAttributeNames"] = all_names
        if all_values:
            request["ExpressionAttributeValues"] = all_values
        return request


def _merged[V](first: Mapping[str, V], second: Mapping[str, V]) -> dict[str, V]:
    merged = dict(first)
    for key, value in second.items():
        if key in merged and merged[key] != value:
            raise ValueError(f"placeholder {key} stands for two values")
        merged[key] = value
    return merged


STATUS = "#st"
_NAMES = {STATUS: "status"}

POST_EXISTS = Condition("attribute_exists(pk)")
POST_IS_NEW = Condition("attribute_not_exists(pk)")


def status_in(states: Iterable[PostStatus]) -> Condition:
    """The post's status is one of `states`."""
    wanted = frozenset(states)  # once: `states` may be a one-pass iterable
    ordered = [s for s in PostStatus if s in wanted]
    if not ordered:
        raise ValueError("no state to be in")
    values = {f":st_{s.value}": s.value for s in ordered}
    if len(ordered) == 1:
        return Condition(f"{STATUS} = {next(iter(values))}", _NAMES, values)
    return Condition(f"{STATUS} IN ({', '.join(values)})", _NAMES, values)


def may_move(*moves: Move) -> Condition:
    """The post is where any of `moves` may start from."""
    sources: set[PostStatus] = set()
    for move in moves:
        sources |= move.sources
    return status_in(sources)


def claimable(
    path: str,
    path_names: Mapping[str, str],
    rule: ClaimRule,
    *,
    stale_before: str,
    any_failure: bool,
    tag: str,
) -> Condition:
    """The map at `path` (a target, `#t.#a`, or its comment, `#t.#a.#c`, with the names in
    `path_names`) exists and `rule` lets a run claim it. `tag` prefixes its placeholders, so a
    target's and a comment's rules never share one."""
    names = {**path_names, "#s": "status"}
    fresh = [s for s in TargetStatus if s in rule.fresh]
    values: dict[str, Any] = {f":{tag}_{s.value}": s.value for s in fresh}
    fresh_clause = (
        f"{path}.#s = {next(iter(values))}"
        if len(fresh) == 1
        else f"{path}.#s IN ({', '.join(values)})"
    )
    failed = f":{tag}_failed"
    publishing = f":{tag}_publishing"
    stale = f":{tag}_stale"
    values.update({failed: TargetStatus.FAILED.value, publishing: TargetStatus.PUBLISHING.value})
    values[stale] = stale_before
    failed_clause = f"{path}.#s = {failed}"
    if not any_failure:
        kinds = {f":{tag}_k_{kind}": kind for kind in sorted(RETRYABLE_KINDS)}
        failed_clause += f" AND {path}.error_kind IN ({', '.join(kinds)})"
        values.update(kinds)
    expression = (
        f"attribute_exists({path}) AND ({fresh_clause} OR ({failed_clause}) OR "
        f"({path}.#s = {publishing} AND {path}.claimed_at < {stale}))"
    )
    return Condition(expression, names, values)


def claim_held(path: str, path_names: Mapping[str, str], claimed_at: str) -> Condition:
    """The claim made at `claimed_at` on the map at `path` is still this run's
    (herald.posts.lifecycle.holds_claim)."""
    return Condition(
        f"{path}.#s = :held_publishing AND {path}.claimed_at = :held_claimed_at",
        {**path_names, "#s": "status"},
        {":held_publishing": TargetStatus.PUBLISHING.value, ":held_claimed_at": claimed_at},
    )
