"""The sandbox's metrics endpoints keep the networks' contracts: tokens, scopes and permissions,
today's metric names, X's limits, and engagement that only grows."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from herald.local.sandbox.app import create_app
from herald.local.sandbox.engagement import engagement
from herald.local.sandbox.state import SandboxState, Token
from herald.settings import Settings

BASE = "http://sandbox.test"
T0 = 1_800_000_000.0


@pytest.fixture
def state() -> SandboxState:
    made = SandboxState()
    made.clock = lambda: T0
    return made


@pytest.fixture
def app(state: SandboxState) -> FastAPI:
    return create_app(state=state, settings=Settings(HERALD_ENV="test"))


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    yield client
    await client.aclose()


def token(
    state: SandboxState, platform: str, user: str, *scopes: str, page: str | None = None
) -> str:
    kind = "page" if page else "user"
    made = Token(platform, "client", user, scopes, None, kind=kind, page_id=page)  # type: ignore[arg-type]
    return state.issue_token(made, "tok")


def kept(state: SandboxState, post_id: str, platform: str, account: str, age: float) -> None:
    state.posts[post_id] = {
        "id": post_id,
        "platform": platform,
        "account": account,
        "text": "Rye at noon https://bakery.example",
        "created_at": T0 - age,
        "created_iso": "2027-01-15T08:00:00.000Z",
    }


def auth(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_engagement_only_grows_and_differs_between_posts() -> None:
    post = {"id": "19", "created_at": T0, "text": "x"}
    other = {"id": "20", "created_at": T0, "text": "x"}
    readings = [engagement(post, T0 + hours * 3600) for hours in (0.1, 1, 5, 48)]

    for earlier, later in itertools.pairwise(readings):
        assert all(later[k] >= earlier[k] for k in earlier)
    assert readings[-1]["impressions"] > readings[0]["impressions"] > 0
    assert engagement(other, T0 + 3600) != engagement(post, T0 + 3600)


async def test_x_gives_non_public_metrics_only_to_the_author_within_30_days(
    http: httpx.AsyncClient, state: SandboxState
) -> None:
    author = token(state, "x", "1500")
    kept(state, "19", "x", "1500", age=3600)
    kept(state, "7", "x", "1500", age=31 * 86_400)
    fields = "public_metrics,non_public_metrics"

    answer = await http.get(
        "/2/tweets", params={"ids": "19,7,8", "tweet.fields": fields}, headers=auth(author)
    )

    body = answer.json()
    by_id = {t["id"]: t for t in body["data"]}
    assert "non_public_metrics" in by_id["19"]
    assert "non_public_metrics" not in by_id["7"]
    kinds = {(e["resource_id"], e["type"].rsplit("/", 1)[-1]) for e in body["errors"]}
    assert kinds == {("7", "not-authorized-for-field"), ("8", "resource-not-found")}
    assert answer.headers["x-rate-limit-limit"] == "5000"


async def test_x_refuses_more_than_100_ids(http: httpx.AsyncClient, state: SandboxState) -> None:
    ids = ",".join(str(i) for i in range(101))

    answer = await http.get("/2/tweets", params={"ids": ids}, headers=auth(token(state, "x", "1")))

    assert answer.status_code == 400
    assert answer.json()["type"].endswith("invalid-request")


async def test_linkedin_member_analytics_need_their_scope_and_a_version(
    http: httpx.AsyncClient, state: SandboxState
) -> None:
    urn = "urn:li:share:7000000000000000002"
    kept(state, urn, "linkedin", "urn:li:person:m1", age=3600)
    query = {"q": "entity", "entity": f"(share:{urn})", "queryType": "IMPRESSION"}
    headers = {"LinkedIn-Version": "202610"}

    without = await http.get(
        "/rest/memberCreatorPostAnalytics",
        params=query,
        headers=auth(token(state, "linkedin", "m1", "w_member_social")) | headers,
    )
    allowed = auth(token(state, "linkedin", "m1", "r_member_postAnalytics"))
    unversioned = await http.get("/rest/memberCreatorPostAnalytics", params=query, headers=allowed)
    answer = await http.get(
        "/rest/memberCreatorPostAnalytics", params=query, headers=allowed | headers
    )

    assert without.status_code == 403
    assert unversioned.status_code == 400
    (element,) = answer.json()["elements"]
    assert element["metricType"] == "IMPRESSION"
    assert element["targetEntity"] == {"share": urn}
    assert element["count"] > 0


async def test_graph_refuses_retired_metrics_and_insights_without_permission(
    http: httpx.AsyncClient, state: SandboxState
) -> None:
    kept(state, "2000_1", "facebook", "2000", age=3600)
    kept(state, "17950000000000005", "instagram", "1784", age=3600)
    full = auth(token(state, "meta", "u", "read_insights", "instagram_manage_insights"))
    bare = auth(token(state, "meta", "u", "pages_read_engagement"))

    retired = await http.get(
        "/v25.0/2000_1/insights", params={"metric": "post_impressions"}, headers=full
    )
    ig_retired = await http.get(
        "/v25.0/17950000000000005/insights", params={"metric": "impressions"}, headers=full
    )
    refused = await http.get(
        "/v25.0/2000_1/insights", params={"metric": "post_media_view"}, headers=bare
    )
    fine = await http.get(
        "/v25.0/17950000000000005/insights", params={"metric": "views,reach"}, headers=full
    )

    assert retired.json()["error"]["code"] == 100
    assert ig_retired.json()["error"]["code"] == 100
    assert refused.json()["error"]["code"] == 10
    assert [m["name"] for m in fine.json()["data"]] == ["views", "reach"]
    assert fine.json()["data"][0]["values"][0]["value"] > 0


async def test_a_metrics_fault_answers_in_the_networks_shape_and_spares_publishing(
    http: httpx.AsyncClient, state: SandboxState
) -> None:
    author = token(state, "x", "1500")
    kept(state, "19", "x", "1500", age=3600)
    await http.post("/_sandbox/metrics/faults", json={"platform": "x", "kind": "429"})

    limited = await http.get("/2/tweets", params={"ids": "19"}, headers=auth(author))
    again = await http.get("/2/tweets", params={"ids": "19"}, headers=auth(author))

    assert limited.status_code == 429
    assert limited.headers["x-rate-limit-remaining"] == "0"
    assert again.status_code == 200


async def test_threads_insights_want_their_scope_the_owner_and_documented_metrics(
    http: httpx.AsyncClient, state: SandboxState
) -> None:
    kept(state, "18200000000000004", "threads", "25000000000000001", age=3600)
    path = "/threads/v1.0/18200000000000004/insights"
    owner = auth(token(state, "threads", "25000000000000001", "threads_manage_insights"))
    bare = auth(token(state, "threads", "25000000000000001", "threads_basic"))
    stranger = auth(token(state, "threads", "25000000000000002", "threads_manage_insights"))
    every = "views,likes,replies,reposts,quotes,shares"

    fine = await http.get(path, params={"metric": every}, headers=owner)
    unknown = await http.get(path, params={"metric": "views,impressions"}, headers=owner)
    refused = await http.get(path, params={"metric": "views"}, headers=bare)
    theirs = await http.get(path, params={"metric": "views"}, headers=stranger)

    assert fine.status_code == 200
    [views, *_] = fine.json()["data"]
    assert [m["name"] for m in fine.json()["data"]] == every.split(",")
    assert views == {
        "name": "views",
        "period": "lifetime",
        "values": [{"value": views["values"][0]["value"]}],
        "title": "Views",
        "description": "The number of views on your post.",
        "id": "18200000000000004/insights/views/lifetime",
    }
    assert views["values"][0]["value"] > 0
    assert unknown.json()["error"]["code"] == 100
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == 10
    assert theirs.json()["error"]["code"] == 10


async def test_threads_insights_grow_and_answer_a_metrics_fault_in_graphs_shape(
    http: httpx.AsyncClient, state: SandboxState
) -> None:
    kept(state, "18200000000000006", "threads", "25000000000000001", age=600)
    path = "/threads/v1.0/18200000000000006/insights"
    owner = auth(token(state, "threads", "25000000000000001", "threads_manage_insights"))
    await http.post("/_sandbox/metrics/faults", json={"platform": "threads", "kind": "429"})

    limited = await http.get(path, params={"metric": "views,likes"}, headers=owner)
    early = await http.get(path, params={"metric": "views,likes"}, headers=owner)
    state.clock = lambda: T0 + 7200
    late = await http.get(path, params={"metric": "views,likes"}, headers=owner)

    assert "error" in limited.json()
    assert limited.status_code in (400, 429)
    values = [{m["name"]: m["values"][0]["value"] for m in r.json()["data"]} for r in (early, late)]
    assert values[1]["views"] > values[0]["views"]
    assert values[1]["likes"] >= values[0]["likes"]
