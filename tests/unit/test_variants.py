"""Per-target content: account over platform over shared, field by field, and stored as sent."""

from __future__ import annotations

from dataclasses import fields

from herald.platforms.base import Content, MediaItem
from herald.store.post_items import content_from_item, content_to_item
from herald.variants import OVERRIDABLE, Variant, resolve, source, unknown_keys

IMAGE = "https://cdn.test/loaf.jpg"


def test_a_post_without_variants_publishes_its_shared_content() -> None:
    content = Content(text="Shared", image_url=IMAGE)
    assert resolve(content, "acc_x", "x") == content


def test_a_platform_variant_replaces_only_the_fields_it_names() -> None:
    content = Content(
        text="Shared", image_url=IMAGE, variants={"platform:x": Variant({"text": "On X"})}
    )
    resolved = resolve(content, "acc_x", "x")
    assert (resolved.text, resolved.image_url, resolved.variants) == ("On X", IMAGE, {})


def test_an_account_variant_wins_over_its_platform_variant() -> None:
    content = Content(
        text="Shared",
        variants={
            "platform:x": Variant({"text": "On X", "link": "https://a.test"}),
            "account:acc_x2": Variant({"text": "On the second X account"}),
        },
    )
    assert resolve(content, "acc_x1", "x").text == "On X"
    second = resolve(content, "acc_x2", "x")
    assert (second.text, second.link) == ("On the second X account", "https://a.test")
    assert source(content, "acc_x2", "x", "text") == "account:acc_x2"
    assert source(content, "acc_x2", "x", "link") == "platform:x"
    assert source(content, "acc_x2", "x", "image_url") == ""


def test_a_variant_that_sets_a_field_to_null_takes_it_away() -> None:
    content = Content(
        text="Shared", image_url=IMAGE, variants={"platform:linkedin": Variant({"image_url": None})}
    )
    assert resolve(content, "acc_li", "linkedin").image_url is None
    assert resolve(content, "acc_fb", "facebook").image_url == IMAGE


def test_other_platforms_and_accounts_keep_the_shared_content() -> None:
    content = Content(text="Shared", variants={"account:acc_x": Variant({"text": "Mine"})})
    assert resolve(content, "acc_li", "linkedin").text == "Shared"


def test_variants_no_target_would_use_are_named() -> None:
    content = Content(
        text="Shared",
        variants={"platform:threads": Variant({"text": "t"}), "account:acc_gone": Variant({})},
    )
    assert [key for key, _ in unknown_keys(content, [("acc_x", "x")])] == [
        "platform:threads",
        "account:acc_gone",
    ]


def test_variants_survive_the_round_trip_through_the_stored_item() -> None:
    content = Content(
        text="Shared",
        image_url=IMAGE,
        variants={
            "platform:threads": Variant(
                {"thread": ("one", "two"), "media": (MediaItem(IMAGE, "image"),)}
            ),
            "account:acc_li": Variant({"image_url": None, "text": ""}),
        },
    )
    assert content_from_item(content_to_item(content)) == content


def test_a_variant_may_override_every_content_field_but_the_variants() -> None:
    assert set(OVERRIDABLE) == {f.name for f in fields(Content)} - {"variants"}
