"""A post's rules with variants: each target checked on what it publishes, each problem named
after the field it came from, and nothing written that no target would publish."""

from __future__ import annotations

import pytest

from herald.errors import FieldError
from herald.platforms.base import Content
from herald.settings import Settings
from herald.target_rules import validate_post
from herald.variants import Variant

IMAGE = "https://cdn.test/p.jpg"


@pytest.fixture
def settings() -> Settings:
    return Settings(HERALD_ENV="test")


def named(problems: list[FieldError]) -> list[tuple[str, str, str | None]]:
    return [(p.field, p.code, p.target) for p in problems]


def test_a_post_without_variants_is_checked_as_before(settings: Settings) -> None:
    problems = validate_post(Content(text="a" * 281), [("acc_x", "x")], settings)
    assert named(problems) == [("acc_x.text", "too_long", None)]


def test_a_short_variant_lets_a_long_shared_text_go_to_linkedin_and_x(
    settings: Settings,
) -> None:
    content = Content(text="a" * 1000, variants={"platform:x": Variant({"text": "Short"})})
    assert validate_post(content, [("acc_li", "linkedin"), ("acc_x", "x")], settings) == []


def test_a_variant_too_long_for_its_platform_is_named_with_its_target(
    settings: Settings,
) -> None:
    content = Content(text="Shared", variants={"platform:x": Variant({"text": "a" * 300})})
    problems = validate_post(content, [("acc_x1", "x"), ("acc_x2", "x")], settings)
    assert named(problems) == [("variants.platform:x.text", "too_long", "acc_x1")]
    assert "300 weighted characters" in problems[0].message


def test_an_account_variant_problem_names_the_account_variant(settings: Settings) -> None:
    content = Content(
        text="Shared", variants={"account:acc_li": Variant({"image_url": "ftp://nope"})}
    )
    problems = validate_post(content, [("acc_li", "linkedin")], settings)
    assert named(problems) == [("variants.account:acc_li.image_url", "invalid_url", "acc_li")]


def test_a_shared_field_broken_for_one_target_is_named_on_that_target(
    settings: Settings,
) -> None:
    content = Content(text="a" * 300, variants={"platform:linkedin": Variant({"text": "Short"})})
    problems = validate_post(content, [("acc_li", "linkedin"), ("acc_x", "x")], settings)
    assert named(problems) == [("acc_x.text", "too_long", None)]


def test_instagram_without_its_image_is_refused_on_the_variant_that_removed_it(
    settings: Settings,
) -> None:
    content = Content(
        text="Shared",
        image_url=IMAGE,
        variants={"platform:instagram": Variant({"image_url": None})},
    )
    problems = validate_post(content, [("acc_ig", "instagram")], settings)
    assert named(problems) == [("variants.platform:instagram.image_url", "required", "acc_ig")]


def test_a_variant_for_an_account_that_is_not_a_target_is_refused(settings: Settings) -> None:
    content = Content(text="Shared", variants={"account:acc_other": Variant({"text": "Hi"})})
    problems = validate_post(content, [("acc_x", "x")], settings)
    assert named(problems) == [("variants.account:acc_other", "unknown_target", None)]


def test_a_variant_for_a_platform_without_a_target_is_refused(settings: Settings) -> None:
    content = Content(text="Shared", variants={"platform:threads": Variant({"text": "Hi"})})
    problems = validate_post(content, [("acc_x", "x")], settings)
    assert named(problems) == [("variants.platform:threads", "unknown_target", None)]


def test_a_thread_for_x_alone_beside_a_text_for_linkedin_passes(settings: Settings) -> None:
    content = Content(text="For LinkedIn", variants={"platform:x": Variant({"thread": ("1", "2")})})
    assert validate_post(content, [("acc_li", "linkedin"), ("acc_x", "x")], settings) == []


def test_a_thread_in_a_linkedin_variant_is_refused_as_never_published(
    settings: Settings,
) -> None:
    content = Content(
        text="Shared", variants={"platform:linkedin": Variant({"thread": ("1", "2")})}
    )
    problems = validate_post(content, [("acc_li", "linkedin")], settings)
    assert ("variants.platform:linkedin.thread", "thread_needs_x", None) in named(problems)


def test_a_shared_text_every_target_replaces_is_kept_as_the_master_copy(
    settings: Settings,
) -> None:
    content = Content(
        text="The long version",
        variants={
            "platform:x": Variant({"text": "X"}),
            "platform:linkedin": Variant({"text": "L"}),
        },
    )
    assert validate_post(content, [("acc_li", "linkedin"), ("acc_x", "x")], settings) == []


def test_a_variants_text_its_x_targets_replace_with_their_thread_is_refused(
    settings: Settings,
) -> None:
    content = Content(
        text="Shared",
        variants={"platform:x": Variant({"text": "Never sent", "thread": ("1", "2")})},
    )
    problems = validate_post(content, [("acc_li", "linkedin"), ("acc_x", "x")], settings)
    assert named(problems) == [("variants.platform:x.text", "text_unused", None)]


def test_a_link_with_no_facebook_or_threads_target_is_refused(settings: Settings) -> None:
    content = Content(
        text="Shared", variants={"platform:x": Variant({"link": "https://shop.test"})}
    )
    problems = validate_post(content, [("acc_x", "x")], settings)
    assert named(problems) == [("variants.platform:x.link", "no_facebook_target", None)]
