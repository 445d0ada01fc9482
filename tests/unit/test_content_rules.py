"""Content rules: each platform's limit, counted the platform's way, every problem at once."""

from __future__ import annotations

import sys

import pytest

from herald.content_rules import tweet_weight, validate
from herald.errors import FieldError
from herald.platforms.base import Content
from herald.settings import Settings

IMAGE = "https://cdn.test/p.jpg"


@pytest.fixture
def settings() -> Settings:
    return Settings(HERALD_ENV="test")


def fields(problems: list[FieldError]) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in problems]


# twitter-text's conformance cases (conformance/validate.yml, the v3 configuration sections
# WeightedTweetsWithDiscountedEmojiCounterTest and lengths).
CONFORMANCE = [
    ("This is a test.", 15),
    ("http://test.com", 23),
    ("https://test.com", 23),
    ("test.com", 23),
    ("Test https://test.com test https://test.com test.com test", 86),
    ("Hi http://test.co", 26),
    ("285 chars-" + "xxxxxxxxxx-" * 25, 285),
    ("https://www.twitter.com/aloha " * 10, 240),
    ("\U00010000\U0010ffff", 4),
    ("저찀쯿쿿", 8),
    ("H\U0001f431\u263a\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", 7),
    ("\U0001f637\U0001f47e\U0001f621\U0001f525\U0001f4a9", 10),
    ("\U0001f64b\U0001f3fd\U0001f468\u200d\U0001f3a4", 4),
    ("1\u20e3", 2),
    ("Unicode 9.0 emoji: \U0001f920; \U0001f483; \U0001f483\U0001f3fe", 29),
    ("café", 4),
    ("の" * 140, 280),
]


@pytest.mark.parametrize(("text", "weight"), CONFORMANCE)
def test_tweet_weight_passes_twitter_text_conformance(text: str, weight: int) -> None:
    assert tweet_weight(text) == weight


def test_the_twitter_text_import_leaves_no_pkg_resources_stand_in_behind() -> None:
    tweet_weight("x")
    assert "pkg_resources" not in sys.modules or hasattr(sys.modules["pkg_resources"], "require")


def test_a_tweet_of_280_weighted_characters_passes(settings: Settings) -> None:
    assert validate(Content(text="a" * 280), [("", "x")], settings) == []


def test_a_tweet_over_280_weighted_characters_is_refused(settings: Settings) -> None:
    [problem] = validate(Content(text="の" * 141), [("", "x")], settings)
    assert (problem.field, problem.code) == ("text", "too_long")
    assert "282" in problem.message


def test_a_long_url_counts_23(settings: Settings) -> None:
    text = "a" * 250 + " https://example.com/" + "p" * 200
    assert validate(Content(text=text), [("", "x")], settings) == []


def test_each_tweet_of_a_thread_is_checked_on_its_own(settings: Settings) -> None:
    thread = ("fine", "x" * 281, "", "also fine")
    problems = validate(Content(thread=thread), [("targets[1]", "x")], settings)
    assert fields(problems) == [
        ("targets[1].thread[1]", "too_long"),
        ("targets[1].thread[2]", "empty"),
    ]


@pytest.mark.parametrize("char", ["\ufffe", "\uffff", "\ufeff"])
def test_a_tweet_holding_a_character_twitter_text_calls_invalid_is_refused(
    settings: Settings, char: str
) -> None:
    problems = validate(Content(thread=("fine", f"bad{char}")), [("", "x")], settings)

    [problem] = problems
    assert (problem.field, problem.code) == ("thread[1]", "invalid_character")
    assert f"U+{ord(char):04X}" in problem.message


def test_those_characters_are_only_an_x_rule(settings: Settings) -> None:
    assert validate(Content(text="ok\ufffe"), [("", "linkedin")], settings) == []


def test_linkedin_allows_3000_and_counts_utf16_units(settings: Settings) -> None:
    assert validate(Content(text="a" * 3000), [("", "linkedin")], settings) == []
    emoji = "\U0001f600" * 1501  # 3002 UTF-16 code units
    assert fields(validate(Content(text=emoji), [("", "linkedin")], settings)) == [
        ("text", "too_long")
    ]


def test_facebook_allows_63206(settings: Settings) -> None:
    assert validate(Content(text="a" * 63_206), [("", "facebook")], settings) == []
    assert fields(validate(Content(text="a" * 63_207), [("", "facebook")], settings)) == [
        ("text", "too_long")
    ]


def test_instagram_needs_an_image_and_a_caption_of_at_most_2200(settings: Settings) -> None:
    problems = validate(Content(text="a" * 2201), [("targets[0]", "instagram")], settings)
    assert fields(problems) == [
        ("targets[0].text", "too_long"),
        ("targets[0].image_url", "required"),
    ]


def test_an_instagram_story_needs_an_uploaded_file_not_an_image_url(settings: Settings) -> None:
    problems = validate(Content(image_url=IMAGE, story=True), [("", "instagram")], settings)
    assert fields(problems) == [("story", "story_needs_media")]


def test_instagram_caps_hashtags_at_the_setting(settings: Settings) -> None:
    five = "#a #b #c #d #e"
    assert validate(Content(text=five, image_url=IMAGE), [("", "instagram")], settings) == []
    problems = validate(Content(text=five + " #f", image_url=IMAGE), [("", "instagram")], settings)
    assert fields(problems) == [("text", "too_many_hashtags")]


def test_other_platforms_take_any_number_of_hashtags(settings: Settings) -> None:
    text = " ".join(f"#tag{i}" for i in range(12))
    assert validate(Content(text=text), [("", "linkedin"), ("", "facebook")], settings) == []


def test_more_than_20_mentions_are_refused_everywhere(settings: Settings) -> None:
    text = " ".join(f"@user{i}" for i in range(21))
    problems = validate(
        Content(text=text, image_url=IMAGE),
        [("t0", "linkedin"), ("t1", "x"), ("t2", "facebook"), ("t3", "instagram")],
        settings,
    )
    assert [p.field for p in problems if p.code == "too_many_mentions"] == [
        "t0.text",
        "t1.text",
        "t2.text",
        "t3.text",
    ]


def test_an_email_address_is_not_a_mention(settings: Settings) -> None:
    text = " ".join(f"a{i}@example.com" for i in range(25))
    assert validate(Content(text=text), [("", "linkedin")], settings) == []


def test_an_empty_post_is_refused_for_every_platform(settings: Settings) -> None:
    problems = validate(
        Content(text="   "),
        [("t0", "linkedin"), ("t1", "x"), ("t2", "facebook"), ("t3", "instagram")],
        settings,
    )
    assert fields(problems) == [
        ("t0.text", "empty"),
        ("t1.text", "empty"),
        ("t2.text", "empty"),
        ("t3.image_url", "required"),
    ]


def test_an_image_alone_is_a_post(settings: Settings) -> None:
    content = Content(image_url=IMAGE)
    assert validate(content, [("", "x"), ("", "linkedin"), ("", "instagram")], settings) == []


def test_urls_must_be_web_urls(settings: Settings) -> None:
    problems = validate(
        Content(text="hi", image_url="file:///etc/passwd", link="javascript:alert(1)"),
        [("", "facebook")],
        settings,
    )
    assert fields(problems) == [("image_url", "invalid_url"), ("link", "invalid_url")]


@pytest.mark.parametrize(
    "url", ["http://[::1/a.png", "http://example.com:99999/a.png", "http://:80/a.png"]
)
def test_a_url_that_does_not_parse_is_an_invalid_url_not_an_error(
    settings: Settings, url: str
) -> None:
    problems = validate(Content(text="hi", image_url=url), [("", "linkedin")], settings)

    assert fields(problems) == [("image_url", "invalid_url")]


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8000/p.png",
        "http://10.0.0.8/p.png",
        "http://[::1]/p.png",
    ],
)
def test_an_image_on_localhost_or_a_private_address_is_refused_when_the_post_is_made(
    settings: Settings, url: str
) -> None:
    problems = validate(Content(text="hi", image_url=url), [("", "linkedin")], settings)

    assert fields(problems) == [("image_url", "private_host")]


def test_the_sandbox_setting_allows_an_image_on_a_private_address(settings: Settings) -> None:
    local = settings.model_copy(update={"image_private_hosts": True})
    content = Content(text="hi", image_url="http://127.0.0.1:8700/_sandbox/images/p.png")

    assert validate(content, [("", "linkedin")], local) == []


def test_a_link_with_no_facebook_target_is_refused_not_dropped(settings: Settings) -> None:
    content = Content(text="New hours", link="https://bakery.test/hours")

    problems = validate(content, [("a", "linkedin"), ("b", "x")], settings)

    assert fields(problems) == [("link", "no_facebook_target")]


def test_a_link_goes_to_the_facebook_targets_among_others(settings: Settings) -> None:
    content = Content(text="New hours", link="https://bakery.test/hours")

    assert validate(content, [("a", "linkedin"), ("b", "facebook")], settings) == []


def test_all_problems_across_targets_come_back_together(settings: Settings) -> None:
    content = Content(text="x" * 3001)
    problems = validate(
        content,
        [("targets[0]", "x"), ("targets[1]", "linkedin"), ("targets[2]", "instagram")],
        settings,
    )
    assert fields(problems) == [
        ("targets[0].text", "too_long"),
        ("targets[1].text", "too_long"),
        ("targets[2].text", "too_long"),
        ("targets[2].image_url", "required"),
    ]


def test_text_beside_a_thread_that_only_x_targets_receive_is_refused(settings: Settings) -> None:
    content = Content(text="never published", thread=("1/2 Our story", "2/2 The end"))

    problems = validate(content, [("acc_x", "x"), ("acc_x2", "x")], settings)

    assert fields(problems) == [("text", "text_unused")]
    assert "put it in the thread" in problems[0].message


def test_text_beside_a_thread_is_fine_when_another_target_publishes_the_text(
    settings: Settings,
) -> None:
    content = Content(text="For LinkedIn", thread=("1/2 For X", "2/2 The end"))

    assert validate(content, [("acc_x", "x"), ("acc_li", "linkedin")], settings) == []


def test_a_thread_for_no_x_account_says_to_send_text_or_an_x_account(settings: Settings) -> None:
    content = Content(thread=("1/2 Our story", "2/2 The end"))

    problems = validate(content, [("acc_li", "linkedin"), ("acc_fb", "facebook")], settings)

    thread = [p for p in problems if p.field == "thread"]
    assert [p.code for p in thread] == ["thread_needs_x"]
    assert "only X and Threads publish a thread" in thread[0].message
    assert "linkedin and facebook" in thread[0].message
    assert "send the post as `text`" in thread[0].message


def test_a_target_without_text_beside_a_thread_is_told_it_takes_text_not_the_thread(
    settings: Settings,
) -> None:
    content = Content(thread=("1/2 For X", "2/2 The end"))

    problems = validate(content, [("acc_x", "x"), ("acc_li", "linkedin")], settings)

    assert fields(problems) == [("acc_li.text", "empty")]
    assert "linkedin publishes `text`, not `thread`" in problems[0].message


def test_a_thread_for_threads_accounts_alone_is_a_chain_not_a_refusal(settings: Settings) -> None:
    content = Content(thread=("1/2 Our story", "2/2 The end"))

    assert validate(content, [("acc_th", "threads")], settings) == []


def test_text_beside_a_thread_that_only_x_and_threads_receive_is_refused(
    settings: Settings,
) -> None:
    content = Content(text="never published", thread=("1/2 Our story", "2/2 The end"))

    problems = validate(content, [("acc_x", "x"), ("acc_th", "threads")], settings)

    assert fields(problems) == [("text", "text_unused")]
