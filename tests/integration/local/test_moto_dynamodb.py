"""The local stack's patch of moto's DynamoDB answers exactly as moto does
(herald.local.moto_dynamodb).

Each scenario runs twice on moto in-process, as moto ships and patched, through Herald's own
repositories (the writes a burst makes: the tick's, the claim's, the result's) and raw requests,
and what comes back must be the same: every answer, every refusal, every item left in the table.
The same expression text comes back with other names and values (another account, another
time), which is what a cache of parsed expressions could get wrong. The patch is undone after
each run, so every other test sees moto as it ships.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from herald.clock import FrozenClock, isoformat
from herald.errors import Conflict, NotFound
from herald.local import moto_dynamodb
from herald.local.template import create_table, load_template, resources_of
from herald.platforms.base import Content, ErrorKind, Published
from herald.posts import Post, PostStatus, Rescheduled, Target, TargetStatus
from herald.settings import Settings
from herald.store.posts import PostRepository
from herald.store.schedule import DueEntry, ScheduleRepository, due_sk

TABLE = "herald-test-table"
DUE = "2026-01-01T09:00:00.000000Z"
LATER = "2026-01-01T10:00:00.000000Z"


class Stores:
    def __init__(self, table: Any, client: Any) -> None:
        self.table = table
        self.client = client  # a plain client: the table's own serializes Python values
        self.clock = FrozenClock()
        self.posts = PostRepository(table)
        self.schedule = ScheduleRepository(
            table, self.clock, Settings(HERALD_ENV="test", TABLE_NAME=TABLE)
        )

    def now(self) -> str:
        self.clock.advance(1)
        return isoformat(self.clock.now())

    def items(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.table.scan(ConsistentRead=True)["Items"]
        return sorted(found, key=lambda i: (i["pk"], i["sk"]))


def both(scenario: Callable[[Stores], Any]) -> tuple[Any, Any]:
    def run() -> Any:
        with mock_aws():
            session = boto3.session.Session(region_name="us-east-1")
            ((_, props),) = resources_of(load_template(), "AWS::DynamoDB::Table").items()
            client = session.client("dynamodb")
            create_table(client, props, TABLE)
            stores = Stores(session.resource("dynamodb").Table(TABLE), client)
            return scenario(stores), stores.items()

    def run_patched() -> Any:
        # A patch that did not apply, or caches nothing, would compare moto with itself.
        assert moto_dynamodb.apply(), "moto's DynamoDB was not patched"
        try:
            answered = run()
            assert moto_dynamodb._update_trees
            assert moto_dynamodb._condition_trees
            return answered
        finally:
            moto_dynamodb.undo()

    return run(), run_patched()


def post(n: int, accounts: tuple[str, ...], when: str = DUE) -> Post:
    return Post(
        post_id=f"post_{n}",
        business_id="biz_1",
        status=PostStatus.PENDING,
        content=Content(text=f"Post {n}: doors open at nine, first loaf at ten. ✓"),
        targets={a: Target(account_id=a, platform="linkedin") for a in accounts},
        created_at="2025-12-31T09:00:00.000000Z",
        updated_at="2025-12-31T09:00:00.000000Z",
        scheduled_for=when,
    )


def entry(p: Post) -> DueEntry:
    when = p.scheduled_for or DUE
    return DueEntry(p.business_id, p.post_id, when, due_sk(when, p.post_id))


def outcome(fn: Callable[[], Any]) -> Any:
    """What a call answered, or the refusal it raised (type and message)."""
    try:
        return fn()
    except (Conflict, NotFound, Rescheduled) as exc:
        return (type(exc).__name__, str(exc))
    except ClientError as exc:
        return ("ClientError", exc.response["Error"]["Code"], exc.response["Error"]["Message"])
    except KeyError as exc:  # moto's own answer to a placeholder missing from the request
        return ("KeyError", str(exc))


def test_the_burst_path_tick_claim_and_result_answers_and_leaves_the_table_as_moto_does() -> None:
    def scenario(s: Stores) -> Any:
        posts = [post(n, (f"acc_{n % 3}",)) for n in range(6)] + [post(6, ("acc_0", "acc_1"))]
        for p in posts:
            s.schedule.create(p)
        seen: list[Any] = [s.schedule.due(s.clock.now().replace(year=2027))]
        for p in posts:
            seen.append(s.schedule.mark_queued(entry(p), "dispatch_1"))
        seen.append(s.schedule.mark_queued(entry(posts[0]), "dispatch_2"))  # lost the race
        for p in posts:
            accounts = list(p.targets)
            started = s.posts.start_claiming(
                p.business_id,
                p.post_id,
                accounts,
                now=s.now(),
                stale_before="2025-01-01T00:00:00.000000Z",
                scheduled_for=DUE,
            )
            seen.append(started)
            assert started is not None
            target = started.post.targets[accounts[0]]
            done = replace(
                target,
                status=TargetStatus.PUBLISHED,
                platform_post_id=f"urn:li:share:{p.post_id}",
                url=f"https://www.linkedin.com/feed/update/urn:li:share:{p.post_id}",
                part_ids=(f"urn:li:share:{p.post_id}",),
                published_at=s.now(),
            )
            seen.append(s.posts.finish_with(started.post, done, s.now()))
        # A second delivery of a finished post; a claim held by a live run.
        seen.append(
            outcome(
                lambda: s.posts.start_claiming(
                    "biz_1", "post_0", ["acc_0"], now=s.now(), stale_before=DUE, scheduled_for=DUE
                )
            )
        )
        seen.append(s.posts.get("biz_1", "post_6"))
        return seen

    stock, patched = both(scenario)
    assert patched == stock
    answers, items = patched
    assert answers[-2] == ("Conflict", "post post_0 is published; it cannot be published now")
    assert [i["status"] for i in items if i["sk"].startswith("POST#")].count("published") == 6


def test_claims_refusals_and_retries_answer_as_moto_does() -> None:
    def scenario(s: Stores) -> Any:
        seen: list[Any] = []
        made: list[tuple[str, ...]] = [("acc_a",), ("acc_b", "acc_c"), ("acc_a",)]
        for n, owners in enumerate(made):
            s.schedule.create(post(n, owners))
            s.schedule.mark_queued(entry(post(n, owners)), "dispatch_1")
        s.schedule.cancel("biz_1", "post_2")
        claim = s.posts.claim_target(
            "biz_1", "post_1", "acc_b", now=s.now(), stale_before="2025-01-01T00:00:00.000000Z"
        )
        seen.append(claim)
        seen.append(
            s.posts.claim_target("biz_1", "post_1", "acc_b", now=s.now(), stale_before=DUE)
        )  # held by a live run
        assert claim is not None
        seen.append(
            s.posts.record_failure(
                "biz_1",
                "post_1",
                "acc_b",
                status=TargetStatus.FAILED,
                reason="linkedin: 503",
                kind=ErrorKind.TRANSIENT.value,
                claimed_at=claim.target.claimed_at or "",
                now=s.now(),
                attempts=1,
            )
        )
        s.posts.record_published(
            "biz_1",
            "post_1",
            "acc_c",
            Published("urn:li:share:9", "https://www.linkedin.com/feed/update/urn:li:share:9"),
            s.now(),
        )
        retries: list[tuple[str, list[str], str]] = [
            ("post_1", ["acc_b"], DUE),  # the failed target, retryable: claimed again
            ("post_2", ["acc_a"], DUE),  # cancelled
            ("post_0", ["acc_a"], LATER),  # rescheduled since the message
            ("post_9", ["acc_a"], DUE),  # no such post
        ]
        for post_id, accounts, when in retries:

            def claim_again(p: str = post_id, a: list[str] = accounts, w: str = when) -> Any:
                return s.posts.start_claiming(
                    "biz_1",
                    p,
                    a,
                    now=s.now(),
                    stale_before="2025-01-01T00:00:00.000000Z",
                    scheduled_for=w,
                )

            seen.append(outcome(claim_again))
        seen.append(s.posts.finish("biz_1", "post_1", s.now()))
        seen.append(s.posts.list_window("biz_1", "2025-01-01", "2027-01-01"))
        return seen

    stock, patched = both(scenario)
    assert patched == stock


def test_raw_writes_with_every_return_value_and_a_failed_condition_answer_as_moto_does() -> None:
    def scenario(s: Stores) -> Any:
        client = s.client
        key = {"pk": {"S": "BUSINESS#biz_1"}, "sk": {"S": "POST#raw"}}
        client.put_item(
            TableName=TABLE,
            Item={
                **key,
                "n": {"N": "1"},
                "flag": {"BOOL": False},
                "nothing": {"NULL": True},
                "tags": {"SS": ["a", "b"]},
                "scores": {"NS": ["1", "2.5"]},
                "blob": {"B": b"\x00\x01"},
                "deep": {"M": {"list": {"L": [{"S": ""}, {"N": "-3"}, {"M": {}}, {"L": []}]}}},
            },
        )
        seen = []
        for i, returns in enumerate(["NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"]):
            seen.append(
                client.update_item(
                    TableName=TABLE,
                    Key=key,
                    UpdateExpression="SET #n = #n + :one, deep.#l[0] = :s REMOVE nothing",
                    ConditionExpression="attribute_exists(pk) AND #n < :top",
                    ExpressionAttributeNames={"#n": "n", "#l": "list"},
                    ExpressionAttributeValues={
                        ":one": {"N": "1"},
                        ":s": {"S": f"v{i}"},
                        ":top": {"N": "100"},
                    },
                    ReturnValues=returns,
                )
            )
        for names, values in [
            ({"#n": "n"}, {":top": {"N": "0"}}),  # the condition fails
            ({"#n": "n"}, {}),  # a value missing
            ({}, {":top": {"N": "100"}}),  # a name missing
            ({"#n": "n", "#x": "x"}, {":top": {"N": "100"}}),  # a name unused
            # The same text, cached, with its name standing for another attribute each time.
            ({"#n": "n"}, {":top": {"N": "100"}}),  # holds: n is below 100
            ({"#n": "absent"}, {":top": {"N": "100"}}),  # fails: there is no such attribute
        ]:
            request: dict[str, Any] = {
                "TableName": TABLE,
                "Key": key,
                "UpdateExpression": "SET flag = :t",
                "ConditionExpression": "#n < :top",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {":t": {"BOOL": True}, **values},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
            if not names:
                del request["ExpressionAttributeNames"]
            seen.append(outcome(partial(client.update_item, **request)))
        for expression in ["SET flag = :t SET n = :t", "SET flag = :t, flag = :t", "SET pk = :t"]:
            refused = partial(
                client.update_item,
                TableName=TABLE,
                Key=key,
                UpdateExpression=expression,
                ExpressionAttributeValues={":t": {"BOOL": True}},
            )
            seen += [outcome(refused), outcome(refused)]  # parsed, then from the cache
        seen.append(client.get_item(TableName=TABLE, Key=key, ConsistentRead=True))
        for item in seen:
            if isinstance(item, dict):
                item.pop("ResponseMetadata", None)
        return seen

    stock, patched = both(scenario)
    assert patched == stock
    assert patched[0][5][0] == "ClientError"
    assert isinstance(patched[0][9], dict)  # the condition held: written, no refusal
    assert patched[0][10][1] == "ConditionalCheckFailedException"
    assert {o[1] for o in patched[0][11:17]} == {"ValidationException"}


def test_the_patch_is_undone_and_tests_elsewhere_see_moto_as_it_ships() -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser

    shipped = ConditionExpressionParser.__dict__["parse"]
    assert moto_dynamodb.patched(lambda: ConditionExpressionParser.__dict__["parse"]) is not shipped
    assert ConditionExpressionParser.__dict__["parse"] is shipped


def test_against_a_moto_without_the_expected_internals_it_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser

    monkeypatch.delattr(ConditionExpressionParser, "_apply_between")
    shipped = ConditionExpressionParser.__dict__["parse"]
    assert moto_dynamodb.apply() is False
    assert ConditionExpressionParser.__dict__["parse"] is shipped
