"""Publish now: check a post against its accounts and every rule, store it, publish it at once.

Named for the use case (the API's `POST /api/v1/publish/...`), apart from herald.publishing, the
engine it ends in, which the worker drives as well:

    accounts + content rules + media limits + Instagram's image   all at once: one InvalidInput
        │                                                         listing every problem, nothing
        ▼                                                         stored
    the post and its targets stored (`publishing`)   before any platform call: if this dies,
        │                                            the post and its claims remain
        ├── large media: handed to the worker (a publish message), answered `handed_off`
        ▼
    the engine, retrying in process ──> a target still processing its media: a message for the
                                        worker, due when the platform said to look again

An Idempotency-Key's second request resumes the post the first one stored (`resumed`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from herald import target_rules
from herald.accounts import Account, AccountStatus, PlatformName
from herald.clock import isoformat
from herald.errors import FieldError, InvalidInput, NotFound
from herald.ids import new_id
from herald.media import limits as media_limits
from herald.media_checks import instagram_image_problems
from herald.observability import logger
from herald.posts import Post, PostStatus, Target
from herald.variants import resolve as resolve_variants

if TYPE_CHECKING:
    from herald.media.model import MediaRef
    from herald.media_checks import ImageProbe
    from herald.platforms.base import Content
    from herald.ports import (
        AccountReader,
        Clock,
        MediaAttacher,
        PostPublisher,
        PostStore,
        PublishQueue,
        Tokens,
    )
    from herald.settings import Settings


@dataclass(frozen=True)
class PublishNowPorts:
    """What publishing now uses (herald.ports), from `Container.publish_now_ports`."""

    settings: Settings
    posts: PostStore
    accounts: AccountReader
    media: MediaAttacher
    image_probe: ImageProbe
    queue: PublishQueue
    clock: Clock
    tokens: Tokens
    publish: PostPublisher


@dataclass(frozen=True)
class Answer:
    """The post as publishing left it; `handed_off`: the worker publishes it (large media)."""

    post: Post
    handed_off: bool = False


async def publish_now(
    ports: PublishNowPorts,
    business_id: str,
    account_ids: list[str],
    content: Content,
    allowed: set[PlatformName],
    *,
    known: Mapping[str, Account] | None = None,
    post_id: str | None = None,
    resumed: bool = False,
    refs: Sequence[MediaRef] = (),
) -> Answer:
    """`known`: accounts already read (with the API key); the others are read here. The engine
    publishes with these same accounts rather than reading each again. `post_id`: the id to
    create the post under (its Idempotency-Key's); with `resumed`, an earlier request with the
    key may have created it already, and that post is resumed instead. `refs`: the media
    library's files the post attaches, resolved (and read, if nobody has yet) here."""
    post_id = post_id or new_id("post")
    if resumed and (earlier := await _earlier(ports, business_id, post_id)) is not None:
        return await _resume(ports, earlier)
    accounts = await run_in_threadpool(
        _load_accounts, ports.accounts, business_id, account_ids, known or {}
    )
    problems = _account_problems(account_ids, accounts, allowed)
    usable = [
        (a.account_id, a.platform)
        for a in accounts.values()
        if a is not None and a.platform in allowed
    ]
    if refs:
        attachments, media_problems = await run_in_threadpool(
            ports.media.resolve, business_id, refs
        )
        content = replace(content, attachments=attachments)
        problems += media_problems
    problems += target_rules.validate_post(content, usable, ports.settings)
    for label in usable:  # each target's own files (its variant's, else the shared ones)
        mine = resolve_variants(content, *label)
        problems += media_limits.check(mine.attachments, [label], len(mine.parts), story=mine.story)
    problems += await instagram_image_problems(content, usable, ports.image_probe, problems)
    if problems:
        raise InvalidInput(f"{len(problems)} problem(s) with this post", problems)
    now = isoformat(ports.clock.now())
    post = Post(
        post_id=post_id,
        business_id=business_id,
        status=PostStatus.PUBLISHING,
        content=content,
        targets={
            a.account_id: Target(account_id=a.account_id, platform=a.platform)
            for a in accounts.values()
            if a is not None
        },
        created_at=now,
        updated_at=now,
    ).with_comments()
    # Stored before any platform call: if this function dies, the post and its claims remain.
    await run_in_threadpool(ports.posts.create, post)
    if content.attachments:
        await run_in_threadpool(ports.media.mark_used, content.attachments)
        if sum(a.size for a in content.attachments) > ports.settings.media_inline_max_bytes:
            # Large files go up from the worker, not inside this request: 202, `publishing`.
            # If SQS refuses, this request publishes them itself rather than leave the post.
            try:
                await check_again(ports.queue, post, 0)
            except Exception:  # noqa: BLE001
                logger.warning("could not hand a large post to the worker; publishing it here")
            else:
                return Answer(post, handed_off=True)
    outcome = await ports.publish(
        business_id,
        post.post_id,
        retry_in_process=True,
        account_ids=list(post.targets),
        credentials=ports.tokens.credentials_from(
            {(business_id, a.account_id): a for a in accounts.values() if a is not None}
        ),
    )
    assert outcome.post is not None
    if outcome.check_again_in is not None:
        await check_again(ports.queue, outcome.post, outcome.check_again_in)
    return Answer(outcome.post)


async def check_again(queue: PublishQueue, post: Post, after: float) -> None:
    """A platform is processing a target's media: the worker finishes the post, from a message
    due when the platform said to look again. If SQS refuses, the post stays `publishing` with
    that target `processing`, and a retry (`POST /posts/{id}/retry`) picks it up."""
    from herald.media.processing import delay_seconds, send_again

    await run_in_threadpool(
        partial(
            send_again,
            queue,
            post.business_id,
            post.post_id,
            delay=delay_seconds(after),
            account_ids=list(post.targets),
        )
    )


async def _earlier(ports: PublishNowPorts, business_id: str, post_id: str) -> Post | None:
    try:
        post: Post = await run_in_threadpool(ports.posts.get, business_id, post_id)
    except NotFound:
        return None  # the earlier request ended before storing it
    return post


async def _resume(ports: PublishNowPorts, post: Post) -> Answer:
    """The post an earlier request with the same Idempotency-Key created and did not answer
    for (it died, or a target was still held): the engine picks up what is left. A target that
    request claimed is skipped while its claim is live (the answer is then a 202 with the post)
    and taken over and reconciled once stale, so nothing is published a second time; a post
    that finished is answered as it finished."""
    outcome = await ports.publish(post.business_id, post.post_id, retry_in_process=True)
    assert outcome.post is not None
    return Answer(outcome.post)


def _load_accounts(
    accounts: AccountReader,
    business_id: str,
    account_ids: list[str],
    known: Mapping[str, Account],
) -> dict[str, Account | None]:
    missing = [a for a in account_ids if a not in known]
    # One request for the ones authentication did not read (another business's account is
    # simply not found under this business's key).
    found = accounts.get_many((business_id, a) for a in missing) if missing else {}
    return {a: known.get(a) or found.get((business_id, a)) for a in account_ids}


def _account_problems(
    account_ids: list[str], accounts: dict[str, Account | None], allowed: set[PlatformName]
) -> list[FieldError]:
    problems: list[FieldError] = []
    for index, account_id in enumerate(account_ids):
        field = f"account_ids[{index}]"
        account = accounts[account_id]
        if account is None:
            problems.append(FieldError(field, f"unknown account {account_id}", "unknown_account"))
        elif account.platform not in allowed:
            names = ", ".join(sorted(allowed))
            problems.append(
                FieldError(
                    field,
                    f"{account_id} is a {account.platform} account; this route takes {names}",
                    "wrong_platform",
                )
            )
        elif account.status == AccountStatus.NEEDS_REAUTH:
            problems.append(
                FieldError(
                    field,
                    f"{account_id} must be reconnected before it can publish",
                    "needs_reauth",
                )
            )
    return problems
