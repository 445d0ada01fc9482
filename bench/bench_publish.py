"""The publishing engine's own cost, and whether a multi-target publish is concurrent (JSON).

    .venv/bin/python bench/bench_publish.py [--posts 200]

overhead_per_target   `publish_post` on posts whose platforms answer at once (a fake publisher
                      with no delay), divided by the number of targets: load, start, claim,
                      record, finish and the final event. Two stores:
                        in_memory  the in-memory repository (the engine alone)
                        moto       the DynamoDB repository and SNS on moto in-process (moto's
                                   own cost, a few ms per call, counts as overhead here)
multi_4x200ms         wall time of one publish to 4 targets whose platforms each take 200 ms:
                      close to 200 ms means the targets run concurrently (800 ms would be serial)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from typing import Any

import _env

ROOT = _env.ROOT

PLATFORMS = {"acc_li": "linkedin", "acc_x": "x", "acc_fb": "facebook", "acc_ig": "instagram"}
BIZ = "biz_bench"


def _container(settings: Any, **overrides: Any) -> Any:
    from tests.fakes.publishing import FakeAccounts, FakePublisher, account

    from herald.container import Container

    accounts = FakeAccounts([account(BIZ, a, p) for a, p in PLATFORMS.items()])  # type: ignore[arg-type]
    publishers = {p: FakePublisher(p) for p in PLATFORMS.values()}  # type: ignore[arg-type]
    return Container(settings, accounts=accounts, publishers=publishers, **overrides)


def _new_post(container: Any, account_ids: list[str]) -> str:
    from herald.clock import isoformat
    from herald.ids import new_id
    from herald.platforms.base import Content
    from herald.posts import Post, PostStatus, Target

    now = isoformat(container.clock.now())
    post = Post(
        post_id=new_id("post"),
        business_id=BIZ,
        status=PostStatus.PUBLISHING,
        content=Content(text="Bench bread"),
        targets={a: Target(account_id=a, platform=PLATFORMS[a]) for a in account_ids},  # type: ignore[arg-type]
        created_at=now,
        updated_at=now,
    )
    container.posts.create(post)
    return post.post_id


async def _publish(container: Any, post_id: str) -> float:
    from tests.fakes.publishing import fake_credentials

    from herald.publishing import publish_post

    started = time.perf_counter()
    outcome = await publish_post(
        container.engine_ports, BIZ, post_id, retry_in_process=True,
        credentials=fake_credentials(container.accounts),
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if outcome.status is None or outcome.status.value != "published":
        raise RuntimeError(f"the bench post did not publish: {outcome}")
    return elapsed


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
    }


async def _overhead(container: Any, posts: int) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for label, accounts in (("1_target", ["acc_li"]), ("4_targets", list(PLATFORMS))):
        ids = [_new_post(container, accounts) for _ in range(posts + 10)]
        for post_id in ids[:10]:  # warm-up
            await _publish(container, post_id)
        times = [await _publish(container, post_id) for post_id in ids[10:]]
        per_call = _ms(times)
        report[label] = {
            "per_publish": per_call,
            "per_target_mean_ms": round(per_call["mean_ms"] / len(accounts), 3),
        }
    return report


async def _concurrent(container: Any, runs: int = 5) -> dict[str, Any]:
    for publisher in container.publishers.values():
        publisher.delay = 0.2
    times = [await _publish(container, _new_post(container, list(PLATFORMS))) for _ in range(runs)]
    for publisher in container.publishers.values():
        publisher.delay = 0.0
    return {"platform_latency_ms": 200, "targets": 4, "serial_would_be_ms": 800, **_ms(times)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=200)
    args = parser.parse_args()

    from tests.fakes.publishing import FakeSNS, InMemoryPostRepository

    from herald.settings import Settings

    settings = Settings(HERALD_ENV="development", TOPIC_ARN="arn:aws:sns:us-east-1:1:bench")  # type: ignore[call-arg]
    report: dict[str, Any] = {"posts_per_case": args.posts}

    memory = _container(settings, posts=InMemoryPostRepository(), sns=FakeSNS())
    report["in_memory"] = {
        "overhead": asyncio.run(_overhead(memory, args.posts)),
        "multi_4x200ms": asyncio.run(_concurrent(memory)),
    }

    import boto3
    from moto import mock_aws

    from herald.local.template import create_resources

    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        resources = create_resources(session)
        moto_settings = Settings(  # type: ignore[call-arg]
            HERALD_ENV="development",
            TABLE_NAME=resources.table_name,
            EVENTS_TOPIC_ARN=resources.topic_arns["EventsTopic"],
        )
        on_moto = _container(moto_settings, boto_session=session)
        report["moto"] = {
            "overhead": asyncio.run(_overhead(on_moto, args.posts // 2)),
            "multi_4x200ms": asyncio.run(_concurrent(on_moto)),
        }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
