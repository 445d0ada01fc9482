"""Each platform's media limits, one field error (and code) per broken rule."""

from __future__ import annotations

from herald.accounts import PlatformName
from herald.media.limits import check
from herald.media.model import Attachment, MediaFacts

MB = 1000 * 1000


def image(n: int = 1, **kw: object) -> Attachment:
    facts = MediaFacts("image", str(kw.pop("content_type", "image/jpeg")), int(kw.pop("size", MB)),  # type: ignore[arg-type]
                       1080, 1080)  # fmt: skip
    return Attachment(f"media_{n}", f"k{n}", facts, **kw)  # type: ignore[arg-type]


def video(n: int = 1, seconds: float = 30, size: int = 50 * MB, w: int = 1280, h: int = 720,
          **kw: object) -> Attachment:  # fmt: skip
    facts = MediaFacts("video", "video/mp4", size, w, h, duration_ms=int(seconds * 1000))
    return Attachment(f"media_v{n}", f"v{n}", facts, **kw)  # type: ignore[arg-type]


def gif(animated: bool = True) -> Attachment:
    return Attachment(
        "media_g", "g", MediaFacts("gif", "image/gif", MB, 320, 320, animated=animated)
    )


def document(pages: int = 10, size: int = MB) -> Attachment:
    return Attachment("media_d", "d", MediaFacts("document", "application/pdf", size, pages=pages))


def codes(items: list[Attachment], platform: PlatformName, parts: int = 1) -> list[str]:
    return [e.code for e in check(items, [("", platform)], parts)]


def test_four_images_fit_a_tweet_and_a_fifth_is_too_many() -> None:
    assert codes([image(i) for i in range(4)], "x") == []
    assert codes([image(i) for i in range(5)], "x") == ["media.too_many"]


def test_a_gif_or_a_video_goes_alone_in_a_tweet() -> None:
    assert codes([gif(), image()], "x") == ["media.mixed"]
    assert codes([video(), image()], "x") == ["media.mixed"]


def test_a_still_gif_counts_as_an_image_on_x() -> None:
    assert codes([gif(animated=False), image(2), image(3), image(4)], "x") == []


def test_each_tweet_of_a_thread_has_its_own_four() -> None:
    items = [image(i, part=0) for i in range(4)] + [image(i + 10, part=1) for i in range(4)]
    assert codes(items, "x", parts=2) == []


def test_media_for_a_part_the_thread_does_not_have_is_refused() -> None:
    assert codes([image(part=2)], "x", parts=2) == ["media.part_out_of_range"]


def test_x_refuses_a_document_and_linkedin_takes_one() -> None:
    assert codes([document()], "x") == ["media.unsupported_for_platform"]
    assert codes([document()], "linkedin") == []


def test_an_image_over_x_s_five_megabytes_is_too_large() -> None:
    assert codes([image(size=6 * MB)], "x") == ["media.too_large"]


def test_video_duration_outside_the_platform_s_range_is_named() -> None:
    assert codes([video(seconds=21 * 60)], "x") == ["media.too_long"]
    assert codes([video(seconds=2)], "linkedin") == ["media.too_short"]


def test_linkedin_takes_two_to_twenty_images_in_one_post() -> None:
    assert codes([image(i) for i in range(20)], "linkedin") == []
    assert codes([image(i) for i in range(21)], "linkedin") == ["media.too_many"]


def test_a_webp_is_not_a_format_linkedin_takes() -> None:
    assert codes([image(content_type="image/webp")], "linkedin") == ["media.unsupported_type"]


def test_a_document_over_linkedin_s_pages_is_refused() -> None:
    assert codes([document(pages=301)], "linkedin") == ["media.too_many_pages"]


def test_a_video_of_an_extreme_aspect_ratio_is_refused_on_x() -> None:
    assert codes([video(w=2000, h=500)], "x") == ["media.dimensions"]


def test_alt_text_longer_than_the_platform_takes_names_the_field() -> None:
    (problem,) = check([image(alt_text="a" * 1001)], [("acc_x", "x")])
    assert (problem.field, problem.code) == ("acc_x.media[0].alt_text", "media.alt_text_too_long")


def test_the_same_file_twice_in_a_post_is_refused() -> None:
    assert codes([image(1), image(1)], "linkedin") == ["media.duplicate"]


def test_an_instagram_carousel_takes_ten_files_and_an_eleventh_is_too_many() -> None:
    assert codes([image(i) for i in range(9)] + [video()], "instagram") == []
    assert codes([image(i) for i in range(11)], "instagram") == ["media.too_many"]


def test_instagram_takes_jpeg_images_only() -> None:
    assert codes([image(content_type="image/png")], "instagram") == ["media.unsupported_type"]


def test_a_reel_longer_than_fifteen_minutes_is_too_long() -> None:
    assert codes([video(seconds=16 * 60)], "instagram") == ["media.too_long"]


def test_an_instagram_story_takes_one_file_and_a_video_of_at_most_sixty_seconds() -> None:
    story = check([video(seconds=61)], [("", "instagram")], story=True)
    assert [e.code for e in story] == ["media.too_long"]
    two = check([image(1), image(2)], [("", "instagram")], story=True)
    assert [e.code for e in two] == ["media.too_many"]


def test_a_facebook_video_is_alone_in_its_post() -> None:
    assert codes([video(), image()], "facebook") == ["media.mixed"]


def test_threads_takes_twenty_files_per_part_of_a_thread() -> None:
    assert codes([image(i) for i in range(20)], "threads") == []
    assert codes([image(i) for i in range(21)], "threads") == ["media.too_many"]
    assert codes([image(1), image(2, part=1)], "threads", parts=2) == []
