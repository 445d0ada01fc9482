"""moto's CPU for each DynamoDB write a burst's post makes, as moto ships and patched for the local
stack (herald.local.moto_dynamodb). Prints one JSON object.

    .venv/bin/python bench/bench_moto_dynamodb.py [--posts 200]

Through Herald's repositories on moto in-process (`mock_aws`), with the table made from
template.yaml: for each post, the tick's `pending -> queued` write (ScheduleRepository.mark_queued),
the worker's claim (PostRepository.start_claiming) and its result, which closes the post
(PostRepository.finish_with). Only moto's side is timed: the thread's CPU inside moto's
DynamoDB request handler (its parsing of the request, the operation, its serializing of the
answer), so botocore's own cost in the caller is not in the figures. The local stack's moto
server runs the same code behind HTTP, one request at a time per core.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import boto3
from moto import mock_aws

import _env  # noqa: F401
from herald.clock import FrozenClock, isoformat
from herald.local import moto_dynamodb
from herald.local.template import create_table, load_template, resources_of
from herald.platforms.base import Content
from herald.posts import Post, PostStatus, Target, TargetStatus
from herald.settings import Settings
from herald.store.posts import PostRepository
from herald.store.schedule import DueEntry, ScheduleRepository, due_sk

TABLE = "herald-bench-table"


@contextmanager
def timed_handler(spent: dict[str, list[float]]) -> Iterator[None]:
    """Adds each DynamoDB request's handler CPU to `spent[operation]`."""
    from moto.core.responses import BaseResponse
    from moto.dynamodb.responses import DynamoHandler

    # moto's URL table holds the bound classmethod `dispatch`; it calls `_dispatch` on a new
    # handler, which is looked up on the class at each request.
    shipped = BaseResponse.__dict__["_dispatch"]

    def timed(self: Any, request: Any, full_url: str, headers: Any) -> Any:
        started = time.thread_time()
        try:
            return shipped(self, request, full_url, headers)
        finally:
            target = str(headers.get("X-Amz-Target", "")).rpartition(".")[2]
            spent[target].append(time.thread_time() - started)

    DynamoHandler._dispatch = timed  # type: ignore[method-assign]
    try:
        yield
    finally:
        del DynamoHandler._dispatch


def burst(count: int) -> dict[str, float]:
    """ms of moto's CPU per write, by write, for `count` posts."""
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        ((_, props),) = resources_of(load_template(), "AWS::DynamoDB::Table").items()
        create_table(session.client("dynamodb"), props, TABLE)
        table = session.resource("dynamodb").Table(TABLE)
        clock = FrozenClock()
        schedule = ScheduleRepository(table, clock, Settings(HERALD_ENV="test", TABLE_NAME=TABLE))
        posts = PostRepository(table)
        due = isoformat(clock.now() + timedelta(minutes=2))
        made = [
            Post(
                post_id=f"post_{n:05d}",
                business_id="biz_bench",
                status=PostStatus.PENDING,
                content=Content(text=f"Everybody posts at nine: post {n} of the burst. " * 3),
                targets={"acc_1": Target(account_id="acc_1", platform="linkedin")},
                created_at=isoformat(clock.now()),
                updated_at=isoformat(clock.now()),
                scheduled_for=due,
            )
            for n in range(count)
        ]
        for post in made:
            schedule.create(post)
        spent: dict[str, list[float]] = defaultdict(list)
        writes: dict[str, Callable[[Post], Any]] = {}

        def queue(post: Post) -> None:
            entry = DueEntry(post.business_id, post.post_id, due, due_sk(due, post.post_id))
            assert schedule.mark_queued(entry, "dispatch_bench") is not None

        def claim_and_finish(post: Post) -> None:
            now = isoformat(clock.now())
            started = posts.start_claiming(
                post.business_id,
                post.post_id,
                ["acc_1"],
                now=now,
                stale_before=isoformat(clock.now() - timedelta(minutes=5)),
                scheduled_for=due,
            )
            assert started is not None
            target = replace(
                started.post.targets["acc_1"],
                status=TargetStatus.PUBLISHED,
                platform_post_id=f"urn:li:share:{post.post_id}",
                url=f"https://www.linkedin.com/feed/update/urn:li:share:{post.post_id}",
                part_ids=(f"urn:li:share:{post.post_id}",),
                published_at=now,
            )
            assert posts.finish_with(started.post, target, now) is not None

        writes = {"queue": queue, "claim_and_finish": claim_and_finish}
        with timed_handler(spent):
            for write in writes.values():
                for post in made:
                    write(post)
        # One UpdateItem per write, in order: the tick's, then each post's claim and result.
        updates = spent["UpdateItem"]
        by_write = {
            "tick_queue_write_ms": updates[:count],
            "claim_ms": updates[count::2],
            "result_and_close_ms": updates[count + 1 :: 2],
        }
        return {name: round(1000 * sum(v) / len(v), 2) for name, v in by_write.items()}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=200)
    args = parser.parse_args(argv)
    shipped = burst(args.posts)
    patched = moto_dynamodb.patched(lambda: burst(args.posts))
    print(
        json.dumps(
            {
                "benchmark": "moto_dynamodb",
                "posts": args.posts,
                "load_average_1m": round(os.getloadavg()[0], 2),
                "as_moto_ships": shipped,
                "patched_for_the_local_stack": patched,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
