"""The fake publishers (tests/fakes/publishing.py and tests/fakes/scheduling.py) against the real
X publisher on the platform sandbox, in process: what publishing answers and what `find_recent`
finds afterwards, the two facts the engine's publish-once guarantee stands on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from herald.accounts import Credentials
from herald.local.sandbox.app import create_app
from herald.local.sandbox.state import SandboxState, Token
from herald.platforms.base import Content, Progress
from herald.platforms.images import ImageFetcher
from herald.platforms.x import XPublisher
from herald.settings import Settings
from tests.fakes import publishing, scheduling
from tests.fakes.platform_http import resolves_public

BASE = "http://sandbox.test"
X_USER = "1500000000000000001"
OTHER_USER = "1500000000000000002"


@pytest.fixture(params=["sandbox", "fake", "scheduling_fake"])
async def x(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Any, Credentials, Credentials]]:
    """A publisher and two accounts' credentials on it."""
    if request.param != "sandbox":
        fake = (
            publishing.FakePublisher("x")
            if request.param == "fake"
            else scheduling.FakePublisher("x")
        )
        yield (
            fake,
            Credentials("acc_1", "x", X_USER, "t"),
            Credentials("acc_2", "x", OTHER_USER, "t"),
        )
        return
    state = SandboxState()
    app = create_app(state=state, settings=Settings(HERALD_ENV="test"))

    def creds(account_id: str, user: str) -> Credentials:
        token = state.issue_token(Token("x", "client", user, ("write",), None), f"tok-{user}")
        return Credentials(account_id, "x", user, token, {"username": f"user{user[-1]}"})

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        images = ImageFetcher(http, resolve=resolves_public)
        publisher = XPublisher(http, api_base=BASE, images=images)
        yield publisher, creds("acc_1", X_USER), creds("acc_2", OTHER_USER)


def since() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=1)


async def test_a_published_post_has_an_id_and_an_address(x: Any) -> None:
    publisher, creds, _ = x

    published = await publisher.publish(creds, Content(text="Fresh bread at 7"), Progress())

    assert published.platform_post_id
    assert published.url.startswith("https://")


async def test_find_recent_finds_what_was_published_with_its_id(x: Any) -> None:
    publisher, creds, _ = x
    content = Content(text="Rye on Thursdays")
    published = await publisher.publish(creds, content, Progress())

    found = await publisher.find_recent(creds, content, since())

    assert found is not None
    assert found.platform_post_id == published.platform_post_id


async def test_find_recent_finds_nothing_never_published(x: Any) -> None:
    publisher, creds, _ = x
    await publisher.publish(creds, Content(text="Croissants at 8"), Progress())

    assert await publisher.find_recent(creds, Content(text="Closed on Sunday"), since()) is None


async def test_find_recent_does_not_find_another_accounts_post(x: Any) -> None:
    publisher, creds, other = x
    content = Content(text="Sourdough sold out")
    await publisher.publish(other, content, Progress())

    assert await publisher.find_recent(creds, content, since()) is None


async def test_each_part_of_a_thread_is_confirmed_as_it_goes_out(x: Any) -> None:
    publisher, creds, _ = x
    if isinstance(publisher, scheduling.FakePublisher):
        pytest.skip("the schedule tests' fake publishes single posts only")
    confirmed: list[list[str]] = []

    async def record(part_ids: list[str]) -> None:
        confirmed.append(part_ids)

    published = await publisher.publish(
        creds, Content(thread=("One", "Two", "Three")), Progress(record=record)
    )

    assert len(confirmed) == 3
    assert published.part_ids == tuple(confirmed[-1])
    assert published.platform_post_id == confirmed[-1][0]
