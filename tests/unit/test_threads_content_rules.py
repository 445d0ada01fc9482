"""Threads' content rules: 500 characters with emoji counted as their UTF-8 bytes, five distinct
links, a thread as a chain, one to twenty media; `media` is for Threads only."""

from __future__ import annotations

import pytest

from herald.content_rules import threads_length, threads_links, validate
from herald.errors import FieldError
from herald.platforms.base import Content, MediaItem
from herald.settings import Settings


@pytest.fixture
def settings() -> Settings:
    return Settings(HERALD_ENV="test")


def fields(problems: list[FieldError]) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in problems]


def image(n: int) -> MediaItem:
    return MediaItem(f"https://cdn.test/{n}.jpg")


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("plain", 5),
        ("café", 4),  # an accented letter is one character, not its two bytes
        ("日本語", 3),
        ("🍞", 4),  # an emoji counts its UTF-8 bytes
        ("☕", 3),
        ("❤️", 6),  # U+2764 and the emoji selector U+FE0F, 3 bytes each
        ("👩‍🍳", 11),  # woman, zero-width joiner, cook: 4 + 3 + 4
    ],
)
def test_threads_counts_characters_with_emoji_as_their_bytes(text: str, length: int) -> None:
    assert threads_length(text) == length


def test_500_characters_pass_and_501_are_refused_with_the_limit_named(
    settings: Settings,
) -> None:
    assert validate(Content(text="a" * 500), [("", "threads")], settings) == []

    [problem] = validate(Content(text="a" * 499 + "🍞"), [("t0", "threads")], settings)

    assert (problem.field, problem.code) == ("t0.text", "too_long")
    assert "503 characters; Threads allows 500" in problem.message


def test_a_thread_to_threads_is_valid_and_each_post_is_checked_on_its_own(
    settings: Settings,
) -> None:
    assert validate(Content(thread=("one", "two")), [("", "threads")], settings) == []

    problems = validate(Content(thread=("fine", "x" * 501, " ")), [("t", "threads")], settings)

    assert fields(problems) == [("t.thread[1]", "too_long"), ("t.thread[2]", "empty")]


def test_links_are_counted_once_each_and_six_are_refused(settings: Settings) -> None:
    five = " ".join(f"https://l{i}.test" for i in range(5))
    assert threads_links(five + " https://l0.test") == 5
    assert threads_links(five, "https://l0.test") == 5
    assert threads_links(five, "https://other.test") == 6

    problems = validate(Content(text=five, link="https://other.test"), [("", "threads")], settings)

    assert fields(problems) == [("text", "too_many_links")]


def test_a_media_post_may_have_no_text_but_a_reply_may_not(settings: Settings) -> None:
    content = Content(thread=("", "caption"), media=(image(1),))
    assert validate(content, [("", "threads")], settings) == []

    problems = validate(Content(thread=("a", ""), media=(image(1),)), [("", "threads")], settings)

    assert fields(problems) == [("thread[1]", "empty")]


def test_a_carousel_takes_at_most_twenty_media(settings: Settings) -> None:
    twenty = tuple(image(i) for i in range(20))
    assert validate(Content(media=twenty), [("", "threads")], settings) == []

    problems = validate(
        Content(media=twenty, image_url="https://cdn.test/x.jpg"), [("", "threads")], settings
    )

    assert fields(problems) == [("media", "too_many_media")]


def test_a_link_goes_only_with_a_post_without_media(settings: Settings) -> None:
    content = Content(text="hours", link="https://bakery.test", media=(image(1),))

    assert fields(validate(content, [("", "threads")], settings)) == [("link", "link_with_media")]


def test_a_link_with_a_threads_target_is_not_dropped_silently(settings: Settings) -> None:
    content = Content(text="hours", link="https://bakery.test")

    assert validate(content, [("a", "linkedin"), ("b", "threads")], settings) == []


def test_media_is_refused_for_the_platforms_that_do_not_publish_it(settings: Settings) -> None:
    content = Content(text="hi", media=(MediaItem("https://cdn.test/v.mp4", "video"),))

    problems = validate(content, [("t0", "linkedin"), ("t1", "threads")], settings)

    assert fields(problems) == [("t0.media", "unsupported")]


def test_each_media_url_must_be_a_public_web_address(settings: Settings) -> None:
    content = Content(media=(MediaItem("ftp://cdn.test/a.jpg"), MediaItem("http://127.0.0.1/b")))

    problems = validate(content, [("", "threads")], settings)

    assert fields(problems) == [("media[0].url", "invalid_url"), ("media[1].url", "private_host")]
