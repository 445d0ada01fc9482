"""A first comment's rules on each platform, and its outcome as stored with its target."""

from __future__ import annotations

import pytest

from herald.comments import comment_problems, owed
from herald.platforms.base import Content
from herald.posts import Comment, Post, PostStatus, Target, TargetStatus
from herald.settings import Settings
from herald.store.post_items import target_from_item, target_to_item
from herald.target_rules import validate_post
from herald.variants import Variant


@pytest.fixture
def settings() -> Settings:
    return Settings(HERALD_ENV="test")


def test_a_reply_on_x_takes_a_tweets_280_weighted_characters(settings: Settings) -> None:
    assert comment_problems("a" * 280, "x", settings) == []
    assert [code for _, code in comment_problems("a" * 281, "x", settings)] == ["too_long"]


def test_a_reply_on_threads_takes_500_characters(settings: Settings) -> None:
    assert [code for _, code in comment_problems("a" * 501, "threads", settings)] == ["too_long"]


def test_an_empty_first_comment_is_refused_everywhere(settings: Settings) -> None:
    assert [code for _, code in comment_problems("  ", "linkedin", settings)] == ["empty"]


def test_a_variant_that_takes_the_comment_away_is_not_checked(settings: Settings) -> None:
    content = Content(
        text="Hi",
        first_comment="a" * 300,
        variants={"platform:x": Variant({"first_comment": None})},
    )
    assert validate_post(content, [("acc_x", "x")], settings) == []


def test_a_post_gives_a_pending_comment_to_the_targets_whose_content_has_one() -> None:
    post = Post(
        post_id="post_1",
        business_id="biz",
        status=PostStatus.PENDING,
        content=Content(
            text="Hi",
            first_comment="First!",
            variants={"account:acc_x": Variant({"first_comment": None})},
        ),
        targets={
            "acc_li": Target("acc_li", "linkedin"),
            "acc_x": Target("acc_x", "x"),
        },
    ).with_comments()
    assert post.targets["acc_li"].comment == Comment()
    assert post.targets["acc_x"].comment is None


def test_a_comment_survives_the_round_trip_through_its_targets_item() -> None:
    comment = Comment(TargetStatus.FAILED, 2, None, "refused", "platform_error", "t1")
    target = Target("acc_li", "linkedin", TargetStatus.PUBLISHED, comment=comment)
    assert target_from_item(target_to_item(target)) == target


def test_only_published_targets_owe_their_comment() -> None:
    waiting = Target("acc_li", "linkedin", TargetStatus.PENDING, comment=Comment())
    out = Target("acc_x", "x", TargetStatus.PUBLISHED, platform_post_id="1", comment=Comment())
    post = Post("post_1", "biz", PostStatus.PUBLISHING, Content(text="Hi"))
    post = post.with_target(waiting).with_target(out)
    assert [t.account_id for t in owed(post)] == ["acc_x"]
