"""Another business's ids are a 404 on every route that takes one in its path, and account ids in
a body get exactly the answer an id that never existed gets (a 422 naming the unknown account):
nothing tells an intruder the id is real. The routes come from the app's own OpenAPI description,
so a new route is covered (or fails here until it is taught its ids) without editing the list."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from herald.api.app import create_app
from herald.clock import FrozenClock
from herald.container import Container
from tests.fakes.api_stack import ApiCaller, Tenant, make_tenant

# Path parameters that name a resource, and which of the owner's ids fill them.
ID_PARAMETERS = {"account_id", "post_id", "business_id", "media_id"}
# Path parameters that name no resource of a business.
NOT_IDS = {"platform"}


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    spec = create_app().openapi()
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            found.append((method.upper(), path, operation))
    return found


def _path_params(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}


def _example_body(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = content["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    examples = schema.get("examples") or content.get("examples")
    # Without an example naming accounts, a body that takes them would be sent empty: never
    # tried with another business's accounts.
    assert examples or "account_ids" not in schema.get("properties", {}), (
        f"{schema.get('title')}: give it an example with account_ids"
    )
    examples = examples or [{}]
    first = examples[0] if isinstance(examples, list) else next(iter(examples.values()))["value"]
    body: dict[str, Any] = copy.deepcopy(first)
    return body


def _platform_named(example_id: str) -> str:
    for platform in ("linkedin", "facebook", "instagram", "threads"):
        if platform in example_id:
            return platform
    return "x"


@pytest.fixture
def owner(oauth_container: Container, sandbox_app: Any) -> Tenant:
    return make_tenant(oauth_container, sandbox_app, "Owner Bakery")


@pytest.fixture
def intruder(oauth_container: Container, sandbox_app: Any) -> Tenant:
    return make_tenant(oauth_container, sandbox_app, "Intruder Co")


@pytest.fixture
def owned_posts(api_call: ApiCaller, owner: Tenant, oauth_clock: FrozenClock) -> list[str]:
    when = (oauth_clock.now() + timedelta(days=2)).isoformat()
    scheduled = api_call(
        "POST",
        "/api/v1/schedule",
        headers=owner.headers,
        json={"account_ids": [owner.accounts["x"]], "text": "Later", "scheduled_for": when},
    )
    assert scheduled.status_code == 201, scheduled.text
    published = api_call(
        "POST",
        "/api/v1/publish/linkedin",
        headers=owner.headers,
        json={"account_ids": [owner.accounts["linkedin"]], "text": "Now"},
    )
    assert published.status_code in (200, 201, 202), published.text
    # A media library file rides along: its routes take a media_id.
    media = api_call("POST", "/api/v1/media", headers=owner.headers, json={})
    assert media.status_code == 201, media.text
    return [scheduled.json()["post_id"], published.json()["post_id"], media.json()["media_id"]]


def _owner_values(owner: Tenant, posts: list[str], name: str) -> list[str]:
    if name == "post_id":
        return [p for p in posts if p.startswith("post_")]
    if name == "media_id":
        return [m for m in posts if m.startswith("media_")]
    if name == "account_id":
        return sorted(owner.accounts.values())
    assert name == "business_id", name
    return [owner.business_id]


Planned = tuple[str, str, dict[str, Any] | None, bool]  # method, path, body, id in the path


def _requests(owner: Tenant, posts: list[str]) -> list[Planned]:
    spec = create_app().openapi()
    planned: list[Planned] = []
    for method, path, operation in _operations():
        params = _path_params(operation) - NOT_IDS
        unknown = params - ID_PARAMETERS
        assert not unknown, f"{method} {path}: teach this test which ids fill {unknown}"
        body = _example_body(spec, operation)
        takes_accounts = body is not None and "account_ids" in body
        if not params and not takes_accounts:
            continue
        if body is not None and "account_ids" in body:
            body["account_ids"] = [
                owner.accounts[_platform_named(i)] for i in body["account_ids"][:1]
            ]
        if body is not None and "scheduled_for" in body:
            # Wall time when a zone is given, an instant otherwise; valid either way, so only the
            # accounts can make the answer differ.
            day = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT09:00:00")
            body["scheduled_for"] = day + ("" if "timezone" in body else "Z")
        concrete = [path.replace("{platform}", "linkedin")]
        for name in params:
            concrete = [
                p.replace("{" + name + "}", v)
                for p in concrete
                for v in _owner_values(owner, posts, name)
            ]
        planned.extend((method, p, body, bool(params)) for p in concrete)
    return planned


def test_every_route_taking_an_id_is_covered(owner: Tenant, owned_posts: list[str]) -> None:
    covered = {(m, p.split("/")[3]) for m, p, _, _ in _requests(owner, owned_posts)}

    # The resources of the plan, at least; new ones join by themselves.
    assert {
        ("GET", "accounts"),
        ("DELETE", "accounts"),
        ("GET", "schedule"),
        ("PUT", "schedule"),
        ("DELETE", "schedule"),
        ("GET", "posts"),
        ("POST", "posts"),
        ("POST", "publish"),
        ("POST", "schedule"),
        ("GET", "media"),
        ("DELETE", "media"),
    } <= covered


def test_another_business_ids_are_not_found_on_every_route(
    api_call: ApiCaller, owner: Tenant, intruder: Tenant, owned_posts: list[str]
) -> None:
    answers = {}
    for method, path, body, id_in_path in _requests(owner, owned_posts):
        if not id_in_path:
            continue
        response = api_call(method, path, headers=intruder.headers, json=body)
        answers[f"{method} {path}"] = response.status_code

    assert answers
    assert {k: v for k, v in answers.items() if v != 404} == {}


def test_another_business_account_ids_in_a_body_look_like_ids_that_never_existed(
    api_call: ApiCaller, owner: Tenant, intruder: Tenant, owned_posts: list[str]
) -> None:
    differences = {}
    for method, path, body, _ in _requests(owner, owned_posts):
        if body is None or "account_ids" not in body:
            continue
        theirs = api_call(method, path, headers=intruder.headers, json=body)
        made_up = dict(body, account_ids=["acc_000000000000000000000000"])
        unknown = api_call(method, path, headers=intruder.headers, json=made_up)
        if (theirs.status_code, _codes(theirs)) != (unknown.status_code, _codes(unknown)):
            differences[f"{method} {path}"] = (theirs.status_code, unknown.status_code)
        assert theirs.status_code not in (200, 201, 202, 403), (method, path, theirs.text)

    assert differences == {}


def test_an_intruder_cannot_point_its_own_post_at_another_business_accounts(
    api_call: ApiCaller, owner: Tenant, intruder: Tenant, oauth_clock: FrozenClock
) -> None:
    when = (oauth_clock.now() + timedelta(days=2)).isoformat()
    mine = api_call(
        "POST",
        "/api/v1/schedule",
        headers=intruder.headers,
        json={"account_ids": [intruder.accounts["x"]], "text": "Mine", "scheduled_for": when},
    ).json()
    path = f"/api/v1/schedule/{mine['post_id']}"

    theirs = api_call(
        "PUT", path, headers=intruder.headers, json={"account_ids": [owner.accounts["linkedin"]]}
    )
    never_was = {"account_ids": ["acc_000000000000000000000000"]}
    made_up = api_call("PUT", path, headers=intruder.headers, json=never_was)

    assert theirs.status_code == made_up.status_code == 422
    assert _codes(theirs) == _codes(made_up) == ["unknown_account"]
    after = api_call("GET", f"/api/v1/posts/{mine['post_id']}", headers=intruder.headers).json()
    assert [t["account_id"] for t in after["targets"]] == [intruder.accounts["x"]]


def test_the_owner_still_has_everything_after_the_attempts(
    api_call: ApiCaller, owner: Tenant, intruder: Tenant, owned_posts: list[str]
) -> None:
    posts = _owner_values(owner, owned_posts, "post_id")
    before = {p: api_call("GET", f"/api/v1/posts/{p}", headers=owner.headers).json() for p in posts}
    for method, path, body, _ in _requests(owner, owned_posts):
        api_call(method, path, headers=intruder.headers, json=body)

    after = {p: api_call("GET", f"/api/v1/posts/{p}", headers=owner.headers).json() for p in posts}
    for media_id in _owner_values(owner, owned_posts, "media_id"):
        kept = api_call("GET", f"/api/v1/media/{media_id}", headers=owner.headers)
        assert kept.status_code == 200, kept.text
    listed = api_call("GET", "/api/v1/accounts", headers=owner.headers).json()["accounts"]
    assert after == before
    assert set(owner.accounts.values()) <= {a["account_id"] for a in listed}


def _codes(response: Any) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return []
    return sorted(e.get("code", "") for e in body.get("errors", []))
