"""The real publishers against the sandbox's publishing endpoints, in process (ASGITransport)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from herald.accounts import Credentials
from herald.local.sandbox.app import create_app
from herald.local.sandbox.records import Publishing, publishing
from herald.local.sandbox.state import SandboxState, Token
from herald.platforms.base import (
    Content,
    ErrorKind,
    PlatformError,
    Progress,
    Publisher,
    StillProcessing,
)
from herald.platforms.images import ImageFetcher
from herald.platforms.linkedin import LinkedInPublisher
from herald.platforms.meta import FacebookPublisher, InstagramPublisher
from herald.platforms.x import XPublisher
from herald.settings import Settings
from tests.fakes.platform_http import resolves_public

BASE = "http://sandbox.test"
IMAGE = f"{BASE}/_sandbox/images/cat.jpg"  # a 1080x1080 JPEG, as Instagram takes
MEMBER_URN = "urn:li:person:sandboxMember01"
X_USER = "1500000000000000001"
PAGE_ID = "200000000000001"
IG_ID = "17841400000000001"


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def state() -> SandboxState:
    return SandboxState()


@pytest.fixture
def app(state: SandboxState) -> FastAPI:
    return create_app(state=state, settings=Settings(HERALD_ENV="test"))


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    yield client
    await client.aclose()


def controls(app: FastAPI) -> Publishing:
    class _Request:
        def __init__(self, app: FastAPI) -> None:
            self.app = app

    return publishing(_Request(app))  # type: ignore[arg-type]


def token(state: SandboxState, platform: str, user_id: str, **extra: object) -> str:
    made = Token(platform, "client", user_id, ("write",), None, **extra)  # type: ignore[arg-type]
    return state.issue_token(made, "tok")


@pytest.fixture
def linkedin_creds(state: SandboxState) -> Credentials:
    return Credentials(
        "acc_li", "linkedin", MEMBER_URN, token(state, "linkedin", "sandboxMember01"),
        {"author_urn": MEMBER_URN},
    )  # fmt: skip


@pytest.fixture
def x_creds(state: SandboxState) -> Credentials:
    return Credentials(
        "acc_x", "x", X_USER, token(state, "x", X_USER), {"username": "herald_sandbox"}
    )


@pytest.fixture
def page_creds(state: SandboxState) -> Credentials:
    page_token = token(state, "meta", "10000000000000001", kind="page", page_id=PAGE_ID)
    return Credentials("acc_fb", "facebook", PAGE_ID, page_token, {"page_id": PAGE_ID})


@pytest.fixture
def ig_creds(state: SandboxState) -> Credentials:
    # Instagram publishes with the person's User token (herald.oauth.meta says why).
    user_token = token(state, "meta", "10000000000000001", long_lived=True)
    return Credentials("acc_ig", "instagram", IG_ID, user_token, {"username": "sandbox.bakery"})


def _images(http: httpx.AsyncClient) -> ImageFetcher:
    # sandbox.test is reached in process: a resolver that calls it public runs every check.
    return ImageFetcher(http, resolve=resolves_public)


@pytest.fixture
def linkedin(http: httpx.AsyncClient) -> LinkedInPublisher:
    return LinkedInPublisher(http, api_base=BASE, version="202607", images=_images(http))


@pytest.fixture
def x(http: httpx.AsyncClient) -> XPublisher:
    return XPublisher(http, api_base=BASE, images=_images(http))


@pytest.fixture
def facebook(http: httpx.AsyncClient) -> FacebookPublisher:
    return FacebookPublisher(http, graph_base=BASE, version="v27.0")


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def instagram(http: httpx.AsyncClient, sleeps: Sleeps) -> InstagramPublisher:
    return InstagramPublisher(http, graph_base=BASE, version="v27.0", sleep=sleeps)


@pytest.fixture
def surfaces(
    linkedin: LinkedInPublisher,
    x: XPublisher,
    facebook: FacebookPublisher,
    instagram: InstagramPublisher,
    linkedin_creds: Credentials,
    x_creds: Credentials,
    page_creds: Credentials,
    ig_creds: Credentials,
) -> dict[str, tuple[Publisher, Credentials]]:
    return {
        "linkedin": (linkedin, linkedin_creds),
        "x": (x, x_creds),
        "facebook": (facebook, page_creds),
        "instagram": (instagram, ig_creds),
    }


async def fault(http: httpx.AsyncClient, **spec: object) -> None:
    response = await http.post("/_sandbox/faults", json=spec)
    assert response.status_code == 201


def texts(state: SandboxState, platform: str) -> list[str]:
    return [p["text"] for p in state.posts.values() if p["platform"] == platform]


# --- one post to each of the four account kinds --------------------------------------------


async def test_one_post_reaches_all_four_account_kinds(
    state: SandboxState,
    linkedin: LinkedInPublisher,
    x: XPublisher,
    facebook: FacebookPublisher,
    instagram: InstagramPublisher,
    linkedin_creds: Credentials,
    x_creds: Credentials,
    page_creds: Credentials,
    ig_creds: Credentials,
) -> None:
    content = Content(text="Fresh bread (today) at 8 #bakery", image_url=IMAGE)

    results = [
        await linkedin.publish(linkedin_creds, content, Progress()),
        await x.publish(x_creds, content, Progress()),
        await facebook.publish(page_creds, content, Progress()),
        await instagram.publish(ig_creds, content, Progress()),
    ]

    assert [state.posts[r.platform_post_id]["platform"] for r in results] == [
        "linkedin", "x", "facebook", "instagram",
    ]  # fmt: skip
    assert all(p["text"] == content.text for p in state.posts.values())
    assert all(p["image"] for p in state.posts.values())
    assert results[1].url.startswith("https://x.com/herald_sandbox/status/")


async def test_escaping_keeps_linkedin_from_cutting_the_post_short(
    state: SandboxState,
    http: httpx.AsyncClient,
    linkedin: LinkedInPublisher,
    linkedin_creds: Credentials,
) -> None:
    text = "Q4 results (final) are in: revenue up 20% [audited] @everyone"
    published = await linkedin.publish(linkedin_creds, Content(text=text), Progress())

    assert state.posts[published.platform_post_id]["text"] == text
    # The quirk itself: unescaped, the sandbox (like LinkedIn) keeps only what precedes "(".
    raw = await http.post(
        "/rest/posts",
        headers={"Authorization": f"Bearer {linkedin_creds.access_token}",
                 "LinkedIn-Version": "202607"},
        json={"author": MEMBER_URN, "commentary": "Other (cut)", "visibility": "PUBLIC",
              "distribution": {}, "lifecycleState": "PUBLISHED"},
    )  # fmt: skip
    assert raw.status_code == 201
    assert state.posts[raw.headers["x-restli-id"]]["text"] == "Other "


# --- X threads -----------------------------------------------------------------------------


async def test_a_three_tweet_thread_is_a_reply_chain(
    state: SandboxState, x: XPublisher, x_creds: Credentials
) -> None:
    published = await x.publish(x_creds, Content(thread=("one", "two", "three")), Progress())

    first, second, third = (state.posts[i] for i in published.part_ids)
    assert first["reply_to"] is None
    assert second["reply_to"] == first["id"]
    assert third["reply_to"] == second["id"]


async def test_a_thread_whose_second_tweet_fails_resumes_without_reposting_the_first(
    state: SandboxState, http: httpx.AsyncClient, x: XPublisher, x_creds: Credentials
) -> None:
    content = Content(thread=("one", "two", "three"))
    await fault(http, platform="x", kind="500", count=1, after=1)
    progress = Progress()
    with pytest.raises(PlatformError) as caught:
        await x.publish(x_creds, content, progress)
    assert caught.value.kind is ErrorKind.TRANSIENT
    assert texts(state, "x") == ["one"]

    published = await x.publish(x_creds, content, progress)

    assert texts(state, "x") == ["one", "two", "three"]
    assert len(published.part_ids) == 3


async def test_a_429_carries_xs_reset_header_as_retry_after(
    http: httpx.AsyncClient, x: XPublisher, x_creds: Credentials
) -> None:
    await fault(http, platform="x", kind="429", retry_after=30)

    with pytest.raises(PlatformError) as caught:
        await x.publish(x_creds, Content(text="hi"), Progress())

    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.retry_after is not None
    assert 25 <= caught.value.retry_after <= 31


async def test_after_the_429_the_next_call_succeeds(
    state: SandboxState, http: httpx.AsyncClient, linkedin: LinkedInPublisher,
    linkedin_creds: Credentials,
) -> None:  # fmt: skip
    await fault(http, platform="linkedin", kind="429", retry_after=2, count=1)

    with pytest.raises(PlatformError) as caught:
        await linkedin.publish(linkedin_creds, Content(text="hi"), Progress())
    assert caught.value.retry_after == 2
    await linkedin.publish(linkedin_creds, Content(text="hi"), Progress())

    assert texts(state, "linkedin") == ["hi"]


# --- tokens, duplicates --------------------------------------------------------------------


@pytest.mark.parametrize("surface", ["linkedin", "x", "facebook", "instagram"])
async def test_a_token_the_sandbox_never_issued_is_auth_revoked(
    surface: str, surfaces: dict[str, tuple[Publisher, Credentials]]
) -> None:
    publisher = surfaces[surface][0]
    external = {"linkedin": MEMBER_URN, "x": X_USER, "facebook": PAGE_ID, "instagram": IG_ID}
    creds = Credentials("acc", surface, external[surface], "forged")  # type: ignore[arg-type]

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(creds, Content(text="hi", image_url=IMAGE), Progress())

    assert caught.value.kind is ErrorKind.AUTH_REVOKED


async def test_a_revoked_token_fault_for_one_account_is_auth_revoked(
    http: httpx.AsyncClient, facebook: FacebookPublisher, page_creds: Credentials
) -> None:
    await fault(http, account=PAGE_ID, kind="401")

    with pytest.raises(PlatformError) as caught:
        await facebook.publish(page_creds, Content(text="hi"), Progress())

    assert caught.value.kind is ErrorKind.AUTH_REVOKED
    assert caught.value.platform_code == "190"


async def test_the_same_message_twice_on_a_page_is_metas_duplicate(
    facebook: FacebookPublisher, page_creds: Credentials
) -> None:
    await facebook.publish(page_creds, Content(text="Same words"), Progress())

    with pytest.raises(PlatformError) as caught:
        await facebook.publish(page_creds, Content(text="Same words"), Progress())

    assert caught.value.kind is ErrorKind.DUPLICATE
    assert caught.value.platform_code == "506"


@pytest.mark.parametrize("surface", ["linkedin", "x", "facebook", "instagram"])
async def test_a_duplicate_fault_is_each_platforms_duplicate(
    surface: str,
    http: httpx.AsyncClient,
    surfaces: dict[str, tuple[Publisher, Credentials]],
) -> None:
    publisher, creds = surfaces[surface]
    await fault(http, platform=surface, kind="duplicate")

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(creds, Content(text="hi", image_url=IMAGE), Progress())

    assert caught.value.kind is ErrorKind.DUPLICATE


# --- ambiguous outcomes and reconciliation -------------------------------------------------


@pytest.mark.parametrize("surface", ["linkedin", "x", "facebook", "instagram"])
async def test_a_dropped_answer_is_ambiguous_and_find_recent_finds_the_post(
    surface: str,
    state: SandboxState,
    http: httpx.AsyncClient,
    surfaces: dict[str, tuple[Publisher, Credentials]],
) -> None:
    publisher, creds = surfaces[surface]
    content = Content(text="Open late (until 10) & https://bakery.test/hours", image_url=IMAGE)
    since = datetime.now(UTC) - timedelta(seconds=5)
    await fault(http, platform=surface, kind="drop")

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(creds, content, Progress())
    assert caught.value.kind is ErrorKind.AMBIGUOUS

    found = await publisher.find_recent(creds, content, since)

    [post] = state.posts.values()
    assert found is not None
    assert found.platform_post_id == post["id"]


@pytest.mark.parametrize("surface", ["linkedin", "x", "facebook", "instagram"])
async def test_find_recent_finds_a_post_more_than_a_page_back(
    surface: str,
    state: SandboxState,
    http: httpx.AsyncClient,
    surfaces: dict[str, tuple[Publisher, Credentials]],
) -> None:
    # A dead run's post, then a busy account's next 120 before anyone looks.
    await http.post("/_sandbox/config", json={"ig_quota_total": 1000})
    publisher, creds = surfaces[surface]
    since = datetime.now(UTC) - timedelta(seconds=5)
    image = IMAGE if surface == "instagram" else None
    mine = await publisher.publish(
        creds, Content(text="the one a dead run posted", image_url=image), Progress()
    )
    for n in range(120):
        await publisher.publish(creds, Content(text=f"busy {n}", image_url=image), Progress())

    found = await publisher.find_recent(
        creds, Content(text="the one a dead run posted", image_url=image), since
    )

    assert found is not None
    assert found.platform_post_id == mine.platform_post_id


async def test_a_timeout_fault_keeps_the_post_and_answers_late(
    state: SandboxState, http: httpx.AsyncClient, x: XPublisher, x_creds: Credentials
) -> None:
    await fault(http, platform="x", kind="timeout", delay=0.05)

    published = await x.publish(x_creds, Content(text="late"), Progress())

    assert texts(state, "x") == ["late"]
    assert published.platform_post_id in state.posts


# --- Instagram container flow --------------------------------------------------------------


async def test_instagram_polls_until_the_container_is_finished(
    app: FastAPI, state: SandboxState, instagram: InstagramPublisher, ig_creds: Credentials,
    sleeps: Sleeps,
) -> None:  # fmt: skip
    controls(app).ig_processing_polls = 2

    published = await instagram.publish(
        ig_creds, Content(text="Croissants", image_url=IMAGE), Progress()
    )

    assert sleeps.calls == [1.0, 1.0]
    assert state.posts[published.platform_post_id]["text"] == "Croissants"
    assert published.url.startswith("https://www.instagram.com/p/")


async def test_publishing_a_container_too_early_is_refused(
    app: FastAPI, http: httpx.AsyncClient, ig_creds: Credentials
) -> None:
    controls(app).ig_processing_polls = 1
    auth = {"Authorization": f"Bearer {ig_creds.access_token}"}
    created = await http.post(f"/v27.0/{IG_ID}/media", data={"image_url": IMAGE}, headers=auth)

    early = await http.post(
        f"/v27.0/{IG_ID}/media_publish", data={"creation_id": created.json()["id"]}, headers=auth
    )

    assert early.status_code == 400
    assert early.json()["error"]["code"] == 9007


async def test_instagram_refuses_when_the_daily_quota_is_used(
    app: FastAPI, state: SandboxState, instagram: InstagramPublisher, ig_creds: Credentials
) -> None:
    controls(app).ig_quota_total = 1
    await instagram.publish(ig_creds, Content(text="first", image_url=IMAGE), Progress())

    with pytest.raises(PlatformError) as caught:
        await instagram.publish(ig_creds, Content(text="second", image_url=IMAGE), Progress())

    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert texts(state, "instagram") == ["first"]


# --- sandbox controls ----------------------------------------------------------------------


async def test_posts_can_be_read_back_over_http(
    http: httpx.AsyncClient, facebook: FacebookPublisher, page_creds: Credentials
) -> None:
    await facebook.publish(page_creds, Content(text="Readable"), Progress())

    listed = (await http.get("/_sandbox/posts", params={"platform": "facebook"})).json()["posts"]

    assert [p["text"] for p in listed] == ["Readable"]


async def test_an_unknown_fault_kind_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.post("/_sandbox/faults", json={"kind": "gremlins"})
    assert response.status_code == 400


async def test_a_fault_for_another_account_leaves_this_one_alone(
    state: SandboxState, http: httpx.AsyncClient, x: XPublisher, x_creds: Credentials
) -> None:
    await fault(http, account="someone-else", kind="500")

    await x.publish(x_creds, Content(text="fine"), Progress())

    assert texts(state, "x") == ["fine"]


async def test_duplicate_detection_can_be_turned_off_over_http(
    state: SandboxState, http: httpx.AsyncClient, x: XPublisher, x_creds: Credentials
) -> None:
    await http.post("/_sandbox/config", json={"detect_duplicates": False})

    await x.publish(x_creds, Content(text="again"), Progress())
    await x.publish(x_creds, Content(text="again"), Progress())

    assert texts(state, "x") == ["again", "again"]


async def test_posts_and_faults_can_be_cleared_between_tests(
    state: SandboxState, http: httpx.AsyncClient, x: XPublisher, x_creds: Credentials
) -> None:
    await x.publish(x_creds, Content(text="old"), Progress())
    await fault(http, platform="x", kind="500", count=None)

    await http.delete("/_sandbox/posts")
    await http.delete("/_sandbox/faults")
    await x.publish(x_creds, Content(text="new"), Progress())

    assert texts(state, "x") == ["new"]


# --- the platforms' contracts as of late 2026 ----------------------------------------------


@pytest.mark.parametrize("version", ["202511", "202512", "202701"])
async def test_a_retired_or_unknown_linkedin_version_is_a_426_herald_calls_a_contract_failure(
    http: httpx.AsyncClient, linkedin_creds: Credentials, version: str, state: SandboxState
) -> None:
    publisher = LinkedInPublisher(http, api_base=BASE, version=version, images=_images(http))

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(linkedin_creds, Content(text="hi"), Progress())

    assert caught.value.kind is ErrorKind.PLATFORM_CONTRACT
    assert caught.value.status == 426
    assert caught.value.platform_code == "NONEXISTENT_VERSION"
    assert state.posts == {}


async def test_a_request_without_a_linkedin_version_is_refused(
    http: httpx.AsyncClient, linkedin_creds: Credentials
) -> None:
    auth = {"Authorization": f"Bearer {linkedin_creds.access_token}"}

    response = await http.get(f"/rest/posts?q=author&author={MEMBER_URN}", headers=auth)

    assert response.status_code == 400
    assert response.json()["code"] == "VERSION_MISSING"


async def test_an_animated_gif_goes_out_through_the_chunked_upload_and_processing(
    app: FastAPI, http: httpx.AsyncClient, x: XPublisher, x_creds: Credentials,
    state: SandboxState,
) -> None:  # fmt: skip
    await http.post("/_sandbox/config", json={"x_processing_polls": 2, "x_check_after_secs": 3})
    animation = f"{BASE}/_sandbox/images/dance.gif?frames=4"
    content, progress = Content(text="moves", image_url=animation), Progress()

    waits = []
    for _ in range(3):  # finalize said pending, then two in_progress reads
        with pytest.raises(StillProcessing) as still:
            await x.publish(x_creds, content, progress)
        waits.append(still.value.after_seconds)
    published = await x.publish(x_creds, content, progress)

    [upload] = [u for u in controls(app).uploads.values() if "category" in u]
    assert upload["category"] == "tweet_gif"
    assert state.posts[published.platform_post_id]["image"] is not None
    assert waits == [3.0, 3.0, 3.0]


async def test_the_one_shot_refuses_what_the_current_spec_dropped_or_never_took(
    http: httpx.AsyncClient, x_creds: Credentials
) -> None:
    auth = {"Authorization": f"Bearer {x_creds.access_token}"}
    still = (await http.get("/_sandbox/images/a.jpg")).content
    animation = (await http.get("/_sandbox/images/a.gif?frames=3")).content

    with_command = await http.post(
        "/2/media/upload", headers=auth, files={"media": ("m", still)},
        data={"command": "INIT", "media_category": "tweet_image"},
    )  # fmt: skip
    gif_as_image = await http.post(
        "/2/media/upload", headers=auth, files={"media": ("m", animation)},
        data={"media_category": "tweet_image"},
    )  # fmt: skip
    gif_category = await http.post(
        "/2/media/upload", headers=auth, files={"media": ("m", still)},
        data={"media_category": "tweet_gif"},
    )  # fmt: skip

    assert [r.status_code for r in (with_command, gif_as_image, gif_category)] == [400] * 3
    assert "initialize" in with_command.json()["detail"]
    assert "tweet_gif" in gif_as_image.json()["detail"]


async def test_initialize_refuses_more_than_a_category_takes(
    http: httpx.AsyncClient, x_creds: Credentials
) -> None:
    auth = {"Authorization": f"Bearer {x_creds.access_token}"}
    body = {"media_type": "image/jpeg", "total_bytes": 5 * 1024 * 1024 + 1,
            "media_category": "tweet_image"}  # fmt: skip

    response = await http.post("/2/media/upload/initialize", headers=auth, json=body)

    assert response.status_code == 400


async def test_a_media_id_still_processing_cannot_be_attached(
    http: httpx.AsyncClient, x_creds: Credentials
) -> None:
    auth = {"Authorization": f"Bearer {x_creds.access_token}"}
    animation = (await http.get("/_sandbox/images/a.gif?frames=3")).content
    started = await http.post("/2/media/upload/initialize", headers=auth, json={
        "media_type": "image/gif", "total_bytes": len(animation), "media_category": "tweet_gif",
    })  # fmt: skip
    media_id = started.json()["data"]["id"]
    await http.post(
        f"/2/media/upload/{media_id}/append", headers=auth,
        files={"media": ("m", animation)}, data={"segment_index": "0"},
    )  # fmt: skip
    finished = await http.post(f"/2/media/upload/{media_id}/finalize", headers=auth)
    assert finished.json()["data"]["processing_info"]["state"] == "pending"

    early = await http.post(
        "/2/tweets", headers=auth, json={"text": "too soon", "media": {"media_ids": [media_id]}}
    )

    assert early.status_code == 400


async def test_a_tweet_holding_u_fffe_is_refused_by_the_sandbox_too(
    x: XPublisher, x_creds: Credentials
) -> None:
    with pytest.raises(PlatformError) as caught:
        await x.publish(x_creds, Content(text="bad \ufffe"), Progress())

    assert caught.value.kind is ErrorKind.INVALID_CONTENT


@pytest.mark.parametrize(
    ("surface", "kind", "expected"),
    [
        ("linkedin", "426", ErrorKind.PLATFORM_CONTRACT),
        ("x", "402", ErrorKind.CREDITS_EXHAUSTED),
        ("facebook", "341", ErrorKind.RATE_LIMITED),
        ("facebook", "368", ErrorKind.POLICY_BLOCKED),
        ("instagram", "368", ErrorKind.POLICY_BLOCKED),
        ("instagram", "spam", ErrorKind.SPAM_SUSPECTED),
    ],
)
async def test_each_new_refusal_can_be_injected_and_maps_to_its_kind(
    surface: str,
    kind: str,
    expected: ErrorKind,
    http: httpx.AsyncClient,
    surfaces: dict[str, tuple[Publisher, Credentials]],
    state: SandboxState,
) -> None:
    publisher, creds = surfaces[surface]
    await fault(http, platform=surface, kind=kind)

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(creds, Content(text="hi", image_url=IMAGE), Progress())

    assert caught.value.kind is expected
    assert state.posts == {}


async def test_a_refused_reply_fails_the_thread_after_its_first_tweet(
    http: httpx.AsyncClient, x: XPublisher, x_creds: Credentials, state: SandboxState
) -> None:
    await fault(http, platform="x", kind="reply_forbidden", after=1)
    progress = Progress()

    with pytest.raises(PlatformError) as caught:
        await x.publish(x_creds, Content(thread=("one", "two")), progress)

    assert caught.value.kind is ErrorKind.REPLY_FORBIDDEN
    assert texts(state, "x") == ["one"]
    assert len(progress.part_ids) == 1


async def test_a_container_not_ready_is_asked_again_and_published_once(
    http: httpx.AsyncClient, instagram: InstagramPublisher, ig_creds: Credentials,
    state: SandboxState,
) -> None:  # fmt: skip
    await fault(http, platform="instagram", kind="not_ready")

    await instagram.publish(ig_creds, Content(text="Croissants", image_url=IMAGE), Progress())

    assert texts(state, "instagram") == ["Croissants"]


@pytest.mark.parametrize(
    ("image", "code"),
    [
        ("loaf.png", "36001/2207005"),  # not a JPEG
        ("loaf.jpg?w=1080&h=1920", "36003/2207009"),  # 9:16
        (f"loaf.jpg?pad={8 * 1024 * 1024}", "36000/2207004"),  # over 8 MiB
    ],
)
async def test_instagram_refuses_an_image_outside_its_specifications(
    instagram: InstagramPublisher, ig_creds: Credentials, image: str, code: str
) -> None:
    url = f"{BASE}/_sandbox/images/{image}"

    with pytest.raises(PlatformError) as caught:
        await instagram.publish(ig_creds, Content(text="c", image_url=url), Progress())

    assert caught.value.kind is ErrorKind.INVALID_CONTENT
    assert caught.value.platform_code == code


async def test_a_platform_only_fault_must_name_its_platform(http: httpx.AsyncClient) -> None:
    response = await http.post("/_sandbox/faults", json={"kind": "402"})

    assert response.status_code == 400
    assert "x" in response.json()["detail"]


async def test_a_configured_latency_holds_every_publishing_call_before_it_is_answered(
    state: SandboxState,
    http: httpx.AsyncClient,
    linkedin: LinkedInPublisher,
    linkedin_creds: Credentials,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from herald.local.sandbox import records

    held = Sleeps()
    monkeypatch.setattr(records, "sleep", held)
    answer = await http.post("/_sandbox/config", json={"latency_seconds": 0.2})

    await linkedin.publish(linkedin_creds, Content(text="Fresh bread at nine"), Progress())

    assert answer.json()["latency_seconds"] == 0.2
    assert held.calls == [0.2]
    assert len(state.posts) == 1


# --- first comments -------------------------------------------------------------------------
@pytest.mark.parametrize("platform", ["linkedin", "x", "facebook", "instagram"])
async def test_a_first_comment_lands_under_the_post_and_is_found_again(
    platform: str,
    surfaces: dict[str, tuple[Publisher, Credentials]],
    http: httpx.AsyncClient,
) -> None:
    publisher, creds = surfaces[platform]
    since = datetime.now(UTC) - timedelta(minutes=1)
    content = Content(text=f"Second shop on {platform}", image_url=IMAGE)
    if platform == "linkedin":
        content = Content(text="Second shop on LinkedIn")
    published = await publisher.publish(creds, content, Progress())

    comment_id = await publisher.comment(creds, published.platform_post_id, "Directions inside")

    assert (
        await publisher.find_comment(creds, published.platform_post_id, "Directions inside", since)
        == comment_id
    )
    assert (
        await publisher.find_comment(creds, published.platform_post_id, "Another comment", since)
        is None
    )
    if platform in ("linkedin", "facebook", "instagram"):
        listed = (await http.get("/_sandbox/comments", params={"platform": platform})).json()
        assert [c["parent"] for c in listed["comments"]] == [published.platform_post_id]


async def test_a_linkedin_comment_on_a_post_that_does_not_exist_is_refused(
    linkedin: LinkedInPublisher, linkedin_creds: Credentials
) -> None:
    with pytest.raises(PlatformError) as refused:
        await linkedin.comment(linkedin_creds, "urn:li:share:1", "Hello")
    assert refused.value.status == 404


async def test_a_comment_fault_fails_the_comment_and_not_the_post(
    facebook: FacebookPublisher, page_creds: Credentials, http: httpx.AsyncClient
) -> None:
    await fault(http, platform="facebook", kind="500", call="comment")
    published = await facebook.publish(page_creds, Content(text="Open today"), Progress())

    with pytest.raises(PlatformError) as failed:
        await facebook.comment(page_creds, published.platform_post_id, "Hours: 7 to 7")

    assert failed.value.kind == ErrorKind.TRANSIENT
    assert await facebook.comment(page_creds, published.platform_post_id, "Hours: 7 to 7")
