"""Publishing now (herald.publish_now) on its ports: every problem at once and nothing stored, or
the post stored before the engine is asked to publish it."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from herald.accounts import Account, AccountStatus, Credentials
from herald.clock import FrozenClock
from herald.errors import InvalidInput, NotFound
from herald.media.model import Attachment, MediaRef
from herald.platforms.base import Content
from herald.posts import PostStatus
from herald.publish_now import PublishNowPorts, publish_now
from herald.publishing import CredentialsFor
from herald.publishing_policy import PublishOutcome
from herald.settings import Settings
from tests.fakes.images import FakeImageProbe
from tests.fakes.publishing import InMemoryPostRepository, account

BIZ = "biz_1"


class Accounts:
    def __init__(self, *accounts: Account) -> None:
        self._accounts = {(a.business_id, a.account_id): a for a in accounts}

    def get_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Account]:
        return {k: self._accounts[k] for k in keys if k in self._accounts}


class NoMedia:
    def resolve(
        self, business_id: str, refs: Sequence[MediaRef]
    ) -> tuple[tuple[Attachment, ...], list[Any]]:
        raise AssertionError("no post here attaches a file")

    def mark_used(self, attachments: Sequence[Attachment]) -> None:
        raise AssertionError("no post here attaches a file")


class NoTokens:
    """The stand-in engine below reads no credentials; what it is handed is kept."""

    def __init__(self) -> None:
        self.from_accounts: list[list[tuple[str, str]]] = []

    def credentials(self, business_id: str, account_id: str) -> Awaitable[Credentials]:
        raise AssertionError("the stand-in engine reads no credentials")

    def credentials_from(self, accounts: Mapping[tuple[str, str], Account]) -> CredentialsFor:
        self.from_accounts.append(sorted(accounts))
        return self.credentials


class NoQueue:
    def send(self, body: str, delay_seconds: int) -> None:
        raise AssertionError("nothing here goes to the worker")

    def send_batch(self, messages: Sequence[tuple[str, int]]) -> list[int]:
        raise AssertionError("nothing here goes to the worker")


@dataclass
class Engine:
    """Stands in for the engine: answers with the post as stored, remembering what it was asked."""

    posts: InMemoryPostRepository
    asked: list[str] = field(default_factory=list)
    handed: list[tuple[list[str], Any]] = field(default_factory=list)  # account ids, credentials

    async def __call__(
        self,
        business_id: str,
        post_id: str,
        *,
        retry_in_process: bool,
        retry_failed: bool = False,
        credentials: Any = None,
        account_ids: Sequence[str] = (),
    ) -> PublishOutcome:
        self.asked.append(post_id)
        self.handed.append((list(account_ids), credentials))
        post = self.posts.get(business_id, post_id)
        return PublishOutcome(post_id, post.status, post=post)


@pytest.fixture
def posts() -> InMemoryPostRepository:
    return InMemoryPostRepository()


@pytest.fixture
def engine(posts: InMemoryPostRepository) -> Engine:
    return Engine(posts)


@pytest.fixture
def ports(posts: InMemoryPostRepository, engine: Engine) -> PublishNowPorts:
    return PublishNowPorts(
        settings=Settings(HERALD_ENV="test"),
        posts=posts,
        accounts=Accounts(
            account(BIZ, "acc_x", "x"),
            account(BIZ, "acc_li", "linkedin", status=AccountStatus.NEEDS_REAUTH),
        ),
        media=NoMedia(),
        image_probe=FakeImageProbe(),
        queue=NoQueue(),
        clock=FrozenClock(),
        tokens=NoTokens(),
        publish=engine,
    )


async def test_every_account_problem_is_reported_at_once_and_nothing_is_stored(
    ports: PublishNowPorts, posts: InMemoryPostRepository, engine: Engine
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await publish_now(
            ports,
            BIZ,
            ["acc_li", "acc_gone"],
            Content(text="Fresh bread at 7"),
            {"x", "linkedin"},
            post_id="post_1",
        )
    assert [(p.field, p.code) for p in refused.value.errors] == [
        ("account_ids[0]", "needs_reauth"),
        ("account_ids[1]", "unknown_account"),
    ]
    with pytest.raises(NotFound):
        posts.get(BIZ, "post_1")
    assert engine.asked == []


async def test_an_account_of_a_platform_the_route_does_not_take_is_refused(
    ports: PublishNowPorts,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await publish_now(ports, BIZ, ["acc_x"], Content(text="Fresh bread"), {"linkedin"})
    assert [p.code for p in refused.value.errors] == ["wrong_platform"]


async def test_the_post_is_stored_publishing_before_the_engine_publishes_it(
    ports: PublishNowPorts, posts: InMemoryPostRepository, engine: Engine
) -> None:
    answer = await publish_now(
        ports, BIZ, ["acc_x"], Content(text="Fresh bread at 7"), {"x"}, post_id="post_1"
    )
    assert engine.asked == ["post_1"]
    assert answer.post == posts.get(BIZ, "post_1")
    assert answer.post.status == PostStatus.PUBLISHING
    assert not answer.handed_off


async def test_the_engine_publishes_with_the_accounts_already_read_not_reading_them_again(
    ports: PublishNowPorts, engine: Engine
) -> None:
    tokens = ports.tokens
    assert isinstance(tokens, NoTokens)
    await publish_now(ports, BIZ, ["acc_x"], Content(text="Fresh bread"), {"x"}, post_id="post_1")
    [(account_ids, credentials)] = engine.handed
    assert account_ids == ["acc_x"]
    assert tokens.from_accounts == [[(BIZ, "acc_x")]]
    assert credentials == tokens.credentials
