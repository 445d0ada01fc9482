"""The metrics sync end to end in process: posts published through the API to the sandbox (real
HTTP through ASGITransport), read back by the sync on moto and real Redis, and served by the
analytics routes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from herald import aio
from herald.clock import FrozenClock, parse_iso
from herald.container import Container
from herald.local.sandbox.state import SandboxState
from herald.metrics.sync import sync_due, sync_post
from herald.store.table import business_pk, post_sk
from tests.conftest import load_event
from tests.fakes.api_stack import ApiCaller, Tenant, make_tenant
from tests.fakes.oauth import SANDBOX, sandbox_client

IMAGE = f"{SANDBOX}/_sandbox/images/loaf.jpg"  # Instagram takes JPEG only


@pytest.fixture
def sandbox_time(sandbox: SandboxState) -> list[float]:
    """The sandbox's clock, moved by hand: engagement grows with it."""
    now = [1_800_000_000.0]
    sandbox.clock = lambda: now[0]
    return now


@pytest.fixture
def tenant(oauth_container: Container, sandbox_app: Any, sandbox_time: list[float]) -> Tenant:
    return make_tenant(oauth_container, sandbox_app, "Metrics Bakery")


def publish(api_call: ApiCaller, tenant: Tenant, platforms: list[str], **body: Any) -> str:
    ids = [tenant.accounts[p] for p in platforms]
    answer = api_call(
        "POST",
        "/api/v1/publish/multi",
        headers=tenant.headers,
        json={"account_ids": ids, **body},
    )
    assert answer.status_code == 200, answer.text
    post_id: str = answer.json()["post_id"]
    return post_id


def item(container: Container, tenant: Tenant, post_id: str) -> dict[str, Any]:
    key = {"pk": business_pk(tenant.business_id), "sk": post_sk(post_id)}
    found: dict[str, Any] = container.table.get_item(Key=key, ConsistentRead=True)["Item"]
    return found


def later(clock: FrozenClock, sandbox_time: list[float], seconds: float) -> None:
    clock.advance(seconds)
    sandbox_time[0] += seconds


@pytest.fixture
def posts(api_call: ApiCaller, tenant: Tenant) -> dict[str, str]:
    text_post = publish(api_call, tenant, ["x", "linkedin", "facebook"], text="Rye at noon")
    photo = publish(api_call, tenant, ["instagram"], text="Our crumb", image_url=IMAGE)
    return {"text": text_post, "photo": photo}


def test_a_published_post_is_due_for_its_first_reading_at_once(
    oauth_container: Container, tenant: Tenant, posts: dict[str, str]
) -> None:
    found = item(oauth_container, tenant, posts["text"])

    assert found["mt_pk"].startswith("MT#")
    assert found["mt_sk"].endswith(f"#{tenant.business_id}#{posts['text']}")


def test_the_sync_reads_every_network_and_stores_a_snapshot_and_a_reading(
    oauth_container: Container,
    oauth_clock: FrozenClock,
    sandbox_time: list[float],
    tenant: Tenant,
    posts: dict[str, str],
) -> None:
    later(oauth_clock, sandbox_time, 3600)

    report = aio.run(sync_due(oauth_container.metrics_sync_ports, oauth_clock.now()))

    assert report.posts == 2
    assert report.outcomes == {"read": 4}
    metrics = item(oauth_container, tenant, posts["text"])["metrics"]
    x = metrics[tenant.accounts["x"]]
    assert x["values"]["impressions"] > 0
    assert "reach" in x["unavailable"]  # X gives none
    linkedin = metrics[tenant.accounts["linkedin"]]
    assert set(linkedin["values"]) == {"impressions", "reach", "reactions", "comments", "shares"}
    facebook = metrics[tenant.accounts["facebook"]]
    assert facebook["values"]["impressions"] >= facebook["values"]["reach"]
    photo = item(oauth_container, tenant, posts["photo"])["metrics"][tenant.accounts["instagram"]]
    assert photo["unavailable"] == {"clicks": "Instagram reports no clicks on a post"}
    readings = oauth_container.metrics.readings(tenant.business_id, posts["text"])
    assert len(readings) == 1
    assert readings[0]["expires_at"] > parse_iso(readings[0]["taken_at"]).timestamp()


def test_a_read_post_is_due_again_an_hour_later_in_its_first_day(
    oauth_container: Container,
    oauth_clock: FrozenClock,
    sandbox_time: list[float],
    tenant: Tenant,
    posts: dict[str, str],
) -> None:
    later(oauth_clock, sandbox_time, 60)
    aio.run(sync_due(oauth_container.metrics_sync_ports, oauth_clock.now()))
    due = item(oauth_container, tenant, posts["text"])["mt_sk"].split("#")[0]

    assert parse_iso(due) == oauth_clock.now() + timedelta(hours=1)
    assert aio.run(sync_due(oauth_container.metrics_sync_ports, oauth_clock.now())).posts == 0


def test_numbers_grow_between_readings_and_the_series_keeps_both(
    oauth_container: Container,
    oauth_clock: FrozenClock,
    sandbox_time: list[float],
    tenant: Tenant,
    posts: dict[str, str],
    api_call: ApiCaller,
) -> None:
    later(oauth_clock, sandbox_time, 600)
    aio.run(sync_due(oauth_container.metrics_sync_ports, oauth_clock.now()))
    later(oauth_clock, sandbox_time, 3600)
    aio.run(sync_due(oauth_container.metrics_sync_ports, oauth_clock.now()))

    answer = api_call(
        "GET", f"/api/v1/analytics/posts/{posts['text']}", headers=tenant.headers
    ).json()

    x = next(t for t in answer["targets"] if t["platform"] == "x")
    first, second = x["series"]
    assert second["impressions"] > first["impressions"]
    assert x["metrics"]["impressions"] == second["impressions"]
    assert x["stale"] is False
    assert answer["totals"]["impressions"] == sum(
        t["metrics"]["impressions"] for t in answer["targets"]
    )


def test_a_rate_limited_account_keeps_its_last_numbers_marked_stale_and_waits(
    oauth_container: Container,
    oauth_clock: FrozenClock,
    sandbox_time: list[float],
    sandbox_app: Any,
    tenant: Tenant,
    posts: dict[str, str],
    api_call: ApiCaller,
) -> None:
    later(oauth_clock, sandbox_time, 600)
    aio.run(sync_due(oauth_container.metrics_sync_ports, oauth_clock.now()))
    before = item(oauth_container, tenant, posts["text"])["metrics"][tenant.accounts["x"]]
    fault = {"platform": "x", "kind": "429", "retry_after": 7200}
    aio.run(sandbox_client(sandbox_app).post("/_sandbox/metrics/faults", json=fault))
    later(oauth_clock, sandbox_time, 3600)

    report = aio.run(sync_due(oauth_container.metrics_sync_ports, oauth_clock.now()))

    assert report.outcomes["rate_limited"] == 1
    after = item(oauth_container, tenant, posts["text"])
    x = after["metrics"][tenant.accounts["x"]]
    assert x["values"] == before["values"]
    assert x["error"]["kind"] == "rate_limited"
    # Not before X's reset, though the post's cadence alone would read it in an hour.
    assert parse_iso(after["mt_sk"].split("#")[0]) >= oauth_clock.now() + timedelta(hours=2)
    view = api_call("GET", f"/api/v1/analytics/posts/{posts['text']}", headers=tenant.headers)
    target = next(t for t in view.json()["targets"] if t["platform"] == "x")
    assert target["stale"] is True
    assert "rate limit" in target["stale_reason"]
    # The other networks of the same post were read as usual.
    assert report.outcomes["read"] == 3


def test_a_token_without_insights_permission_says_why_and_never_flags_the_account(
    oauth_container: Container,
    oauth_clock: FrozenClock,
    sandbox_time: list[float],
    sandbox: SandboxState,
    tenant: Tenant,
    posts: dict[str, str],
) -> None:
    from herald.accounts import AccountStatus

    for token in sandbox.tokens.values():  # the Page was connected without read_insights
        token.scopes = tuple(s for s in token.scopes if s != "read_insights")
    later(oauth_clock, sandbox_time, 600)

    aio.run(sync_due(oauth_container.metrics_sync_ports, oauth_clock.now()))

    facebook = item(oauth_container, tenant, posts["text"])["metrics"][tenant.accounts["facebook"]]
    assert set(facebook["values"]) == {"reactions", "comments", "shares"}
    assert "permission" in facebook["unavailable"]["impressions"]
    assert "(10)" in facebook["unavailable"]["impressions"]
    fresh = oauth_container.accounts.get(tenant.business_id, tenant.accounts["facebook"])
    assert fresh.status is AccountStatus.CONNECTED


def test_the_summary_adds_engagement_per_platform_account_best_posts_and_hour_of_week(
    oauth_container: Container,
    oauth_clock: FrozenClock,
    sandbox_time: list[float],
    tenant: Tenant,
    posts: dict[str, str],
    api_call: ApiCaller,
) -> None:
    later(oauth_clock, sandbox_time, 7200)
    aio.run(sync_due(oauth_container.metrics_sync_ports, oauth_clock.now()))

    answer = api_call(
        "GET",
        "/api/v1/analytics/summary?window=7d&timezone=Europe/Paris",
        headers=tenant.headers,
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {p["platform"] for p in body["platforms"]} >= {"x", "linkedin"}  # the old fields
    engagement = body["engagement"]
    assert engagement["timezone"] == "Europe/Paris"
    assert {p["platform"] for p in engagement["platforms"]} == {
        "x",
        "linkedin",
        "facebook",
        "instagram",
    }
    assert len(engagement["accounts"]) == 4
    assert [p["post_id"] for p in engagement["best_posts"]]
    assert engagement["totals"]["posts"] == 2
    assert sum(h["posts"] for h in engagement["hour_of_week"]) >= 2
    x = next(p for p in engagement["platforms"] if p["platform"] == "x")
    assert x["reach"] is None
    assert x["reported"]["reach"] == 0
    assert x["engagement_rate"] == round(x["engagements"] / x["impressions"], 4)


def test_the_summary_for_one_account_counts_only_its_targets(
    oauth_container: Container,
    oauth_clock: FrozenClock,
    sandbox_time: list[float],
    tenant: Tenant,
    posts: dict[str, str],
    api_call: ApiCaller,
) -> None:
    later(oauth_clock, sandbox_time, 7200)
    aio.run(sync_due(oauth_container.metrics_sync_ports, oauth_clock.now()))

    body = api_call(
        "GET",
        f"/api/v1/analytics/summary?window=7d&account_id={tenant.accounts['x']}",
        headers=tenant.headers,
    ).json()

    assert [a["account_id"] for a in body["engagement"]["accounts"]] == [tenant.accounts["x"]]
    assert [p["platform"] for p in body["platforms"] if p["published"]] == ["x"]


def test_on_demand_sync_reads_now_then_refuses_to_read_again_within_five_minutes(
    oauth_container: Container,
    oauth_clock: FrozenClock,
    sandbox_time: list[float],
    sandbox: SandboxState,
    tenant: Tenant,
    posts: dict[str, str],
    api_call: ApiCaller,
) -> None:
    path = f"/api/v1/analytics/posts/{posts['text']}/sync"
    first = api_call("POST", path, headers=tenant.headers)
    calls = sum(sandbox.calls.values())
    later(oauth_clock, sandbox_time, 60)
    second = api_call("POST", path, headers=tenant.headers)

    assert first.status_code == 200
    assert first.json()["refreshed"] is True
    assert all(t["taken_at"] for t in first.json()["targets"])
    assert second.json()["refreshed"] is False
    assert sum(sandbox.calls.values()) == calls  # no platform was asked again


def test_another_business_post_is_a_404_on_both_routes(
    oauth_container: Container,
    sandbox_app: Any,
    tenant: Tenant,
    posts: dict[str, str],
    api_call: ApiCaller,
) -> None:
    other = make_tenant(oauth_container, sandbox_app, "Other Co")
    path = f"/api/v1/analytics/posts/{posts['text']}"

    assert api_call("GET", path, headers=other.headers).status_code == 404
    assert api_call("POST", path + "/sync", headers=other.headers).status_code == 404


def test_a_post_with_nothing_published_cannot_be_synced(
    oauth_clock: FrozenClock,
    tenant: Tenant,
    api_call: ApiCaller,
) -> None:
    when = (oauth_clock.now() + timedelta(days=2)).isoformat()
    created = api_call(
        "POST",
        "/api/v1/schedule",
        headers=tenant.headers,
        json={"account_ids": [tenant.accounts["x"]], "text": "Later", "scheduled_for": when},
    ).json()

    answer = api_call(
        "POST", f"/api/v1/analytics/posts/{created['post_id']}/sync", headers=tenant.headers
    )

    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"


def test_the_tick_runs_the_sync_for_the_hourly_rule_input(
    oauth_container: Container,
    oauth_clock: FrozenClock,
    sandbox_time: list[float],
    posts: dict[str, str],
    lambda_context: Any,
) -> None:
    from functions.scheduler_tick import app as tick

    later(oauth_clock, sandbox_time, 600)
    answer = tick.handler(load_event("scheduled_sync_metrics.json"), lambda_context)

    assert answer == {"task": "sync_metrics", "posts": 2, "deferred": 0, "untracked": 0, "read": 4}


def test_posts_past_the_tracking_window_leave_the_index(
    oauth_container: Container,
    oauth_clock: FrozenClock,
    sandbox_time: list[float],
    tenant: Tenant,
    posts: dict[str, str],
) -> None:
    later(oauth_clock, sandbox_time, 91 * 86_400)

    report = aio.run(sync_due(oauth_container.metrics_sync_ports, oauth_clock.now()))

    assert report.untracked == 2
    assert "mt_pk" not in item(oauth_container, tenant, posts["text"])
    # A person can still ask for a reading of an old post.
    later(oauth_clock, sandbox_time, 600)
    assert aio.run(
        sync_post(
            oauth_container.metrics_sync_ports, tenant.business_id, posts["text"], oauth_clock.now()
        )
    )


def test_the_export_lists_every_published_target_with_its_metrics(
    oauth_container: Container,
    oauth_clock: FrozenClock,
    sandbox_time: list[float],
    tenant: Tenant,
    posts: dict[str, str],
    api_call: ApiCaller,
) -> None:
    later(oauth_clock, sandbox_time, 3600)
    aio.run(sync_due(oauth_container.metrics_sync_ports, oauth_clock.now()))

    body = api_call("GET", "/api/v1/analytics/posts?window=24h", headers=tenant.headers).json()

    assert sorted(r["platform"] for r in body["items"]) == [
        "facebook",
        "instagram",
        "linkedin",
        "x",
    ]
    x = next(r for r in body["items"] if r["platform"] == "x")
    assert x["post_id"] == posts["text"]
    assert x["impressions"] > 0
    assert x["reach"] is None
    assert x["unavailable"]["reach"] == "X does not report reach"


def test_redis_down_for_a_token_refresh_defers_that_account_only(
    oauth_container: Container,
    oauth_clock: FrozenClock,
    sandbox_time: list[float],
    tenant: Tenant,
    posts: dict[str, str],
) -> None:
    """X's token lasts two hours: after that its refresh needs Redis' lock. With Redis down the
    X target keeps its last numbers (stale) and is read again next run; the others are read."""
    import redis.asyncio as aioredis

    later(oauth_clock, sandbox_time, 600)
    aio.run(sync_due(oauth_container.metrics_sync_ports, oauth_clock.now()))
    real = oauth_container.redis
    oauth_container.__dict__["redis"] = aioredis.Redis.from_url(
        "redis://127.0.0.1:1/0", socket_connect_timeout=0.05, socket_timeout=0.05
    )
    later(oauth_clock, sandbox_time, 2 * 3600)
    try:
        report = aio.run(sync_due(oauth_container.metrics_sync_ports, oauth_clock.now()))
    finally:
        aio.run(oauth_container.__dict__.pop("redis").aclose())
        oauth_container.__dict__["redis"] = real

    assert report.outcomes == {"unreachable": 1, "read": 3}
    x = item(oauth_container, tenant, posts["text"])["metrics"][tenant.accounts["x"]]
    assert x["error"]["kind"] == "unreachable"
    assert x["values"]["impressions"] > 0  # the last reading, kept


def test_a_threads_post_is_read_from_its_media_insights_and_grows(
    oauth_container: Container,
    oauth_clock: FrozenClock,
    sandbox_time: list[float],
    sandbox: SandboxState,
    tenant: Tenant,
    api_call: ApiCaller,
) -> None:
    post_id = publish(api_call, tenant, ["threads"], thread=["Rye at noon", "Back at 7"])
    later(oauth_clock, sandbox_time, 3600)

    report = aio.run(sync_due(oauth_container.metrics_sync_ports, oauth_clock.now()))
    first = item(oauth_container, tenant, post_id)["metrics"][tenant.accounts["threads"]]
    later(oauth_clock, sandbox_time, 3 * 3600)
    aio.run(sync_due(oauth_container.metrics_sync_ports, oauth_clock.now()))
    second = item(oauth_container, tenant, post_id)["metrics"][tenant.accounts["threads"]]

    assert report.outcomes == {"read": 1}
    assert set(first["values"]) == {"impressions", "reactions", "comments", "shares"}
    assert first["values"]["impressions"] > 0
    assert set(first["unavailable"]) == {"reach", "clicks"}
    assert second["values"]["impressions"] > first["values"]["impressions"]
    assert all(second["values"][m] >= first["values"][m] for m in first["values"])
    # The thread's first post is what is read, once per sync.
    assert sandbox.calls["threads.insights"] == 2


def test_a_threads_account_connected_without_the_insights_scope_says_to_reconnect(
    oauth_container: Container,
    oauth_clock: FrozenClock,
    sandbox_time: list[float],
    tenant: Tenant,
    api_call: ApiCaller,
) -> None:
    from herald.accounts import AccountStatus

    post_id = publish(api_call, tenant, ["threads"], text="Rye at noon")
    account = oauth_container.accounts.get(tenant.business_id, tenant.accounts["threads"])
    oauth_container.accounts.upsert(
        replace(account, scopes=tuple(s for s in account.scopes if s != "threads_manage_insights"))
    )
    later(oauth_clock, sandbox_time, 3600)

    aio.run(sync_due(oauth_container.metrics_sync_ports, oauth_clock.now()))

    threads = item(oauth_container, tenant, post_id)["metrics"][tenant.accounts["threads"]]
    assert threads["values"] == {}
    assert "reconnect the account" in threads["unavailable"]["impressions"]
    fresh = oauth_container.accounts.get(tenant.business_id, tenant.accounts["threads"])
    assert fresh.status is AccountStatus.CONNECTED
