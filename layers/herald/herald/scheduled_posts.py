"""Scheduling a post, editing or cancelling it until the worker claims it, and the calendar.

The same content rules as an immediate publish run here, at schedule time, so a post that could
never go out is refused now (422) rather than failing at its hour. Everything is synchronous
(boto3): the API runs these functions in its thread pool. Each takes the ports it uses
(SchedulingPorts, from `Container.scheduling_ports`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from herald.accounts import Account, AccountStatus
from herald.clock import isoformat
from herald.errors import Conflict, FieldError, InvalidInput, NotFound
from herald.ids import new_id
from herald.media.model import MediaRef
from herald.platforms.base import Content
from herald.posts import EDITABLE_POST_STATES, Post, PostStatus, Target
from herald.store.schedule import DueEntry, Page, due_sk
from herald.timezones import check_window, resolve

if TYPE_CHECKING:
    from herald.media_checks import ImageProbe
    from herald.ports import AccountReader, Clock, MediaAttacher, ScheduleStore
    from herald.settings import Settings
    from herald.tick import TickPorts


@dataclass(frozen=True)
class SchedulingPorts:
    """What the scheduling use cases use (herald.ports); `tick`: for a post due before the next
    tick could see it, queued at once (its ports made only then, not for every request)."""

    settings: Settings
    schedule: ScheduleStore
    accounts: AccountReader
    media: MediaAttacher
    image_probe: ImageProbe
    clock: Clock
    tick: Callable[[], TickPorts]


@dataclass(frozen=True)
class When:
    scheduled_for: str
    timezone: str | None = None
    fold: int | None = None


def _when(ports: SchedulingPorts, when: When) -> tuple[datetime, str | None]:
    resolved = resolve(when.scheduled_for, when.timezone, when.fold)
    check_window(resolved.at, ports.clock.now(), ports.settings.schedule_skew_seconds)
    return resolved.at, resolved.timezone


def _naive(when: When) -> bool:
    try:
        return datetime.fromisoformat(when.scheduled_for.replace("Z", "+00:00")).tzinfo is None
    except ValueError:
        return False  # resolve() reports it


def build_targets(
    ports: SchedulingPorts,
    business_id: str,
    account_ids: list[str],
    known: Mapping[str, Account] | None = None,
) -> dict[str, Target]:
    """The same account checks as an immediate publish, with the same field names. `known`:
    accounts already read (with the API key); the rest are read in one request."""
    known = known or {}
    missing = [a for a in account_ids if a not in known]
    found = ports.accounts.get_many((business_id, a) for a in missing) if missing else {}
    targets: dict[str, Target] = {}
    problems: list[FieldError] = []
    for i, account_id in enumerate(account_ids):
        field = f"account_ids[{i}]"
        account = known.get(account_id) or found.get((business_id, account_id))
        if account is None:
            # Another business's account is as unknown as one that does not exist.
            problems.append(FieldError(field, f"unknown account {account_id}", "unknown_account"))
            continue
        if account.status == AccountStatus.NEEDS_REAUTH:
            problems.append(
                FieldError(
                    field, f"{account_id} must be reconnected before it can publish", "needs_reauth"
                )
            )
            continue
        targets[account_id] = Target(account_id=account_id, platform=account.platform)
    if problems:
        raise InvalidInput(f"{len(problems)} problem(s) with the accounts", problems)
    return targets


def check_content(
    ports: SchedulingPorts,
    content: Content,
    targets: dict[str, Target],
    *,
    image: bool = True,
    found: Sequence[FieldError] = (),
) -> None:
    """`image`: also read the image for Instagram's rules (herald.media_checks); an edit that
    changes neither the image nor the targets does not fetch it again. `found`: problems
    already known (media that could not be resolved), reported with the rest."""
    from herald.media import limits
    from herald.target_rules import validate_post
    from herald.variants import resolve

    labels = [(t.account_id, t.platform) for t in targets.values()]
    problems = list(found) + validate_post(content, labels, ports.settings)
    for label in labels:  # each target's own files (its variant's, else the shared ones)
        mine = resolve(content, *label)
        problems += limits.check(mine.attachments, [label], len(mine.parts), story=mine.story)
    if image:
        from herald.media_checks import instagram_image_problems_blocking

        problems += instagram_image_problems_blocking(content, labels, ports.image_probe, problems)
    if problems:
        raise InvalidInput(f"{len(problems)} problem(s) with this post", problems)


def schedule(
    ports: SchedulingPorts,
    business_id: str,
    content: Content,
    account_ids: list[str],
    when: When,
    known: Mapping[str, Account] | None = None,
    *,
    post_id: str | None = None,
    resumed: bool = False,
    refs: Sequence[MediaRef] = (),
) -> Post:
    """A new pending post. `post_id`: the id to create it under (its Idempotency-Key's); with
    `resumed`, an earlier request with the key may have stored it already, and that post is the
    answer (as it stands now: it may have been edited, queued or published since). `refs`: the
    media library's files it attaches."""
    if resumed and post_id is not None:
        try:
            earlier = ports.schedule.get(business_id, post_id)
        except NotFound:
            pass  # the earlier request ended before storing it
        else:
            if earlier.status == PostStatus.PENDING:
                _dispatch_if_soon(ports, earlier)  # in case that request died before it
            return earlier
    at, zone = _when(ports, when)
    targets = build_targets(ports, business_id, account_ids, known)
    found: list[FieldError] = []
    if refs:
        attachments, found = ports.media.resolve(business_id, refs)
        content = replace(content, attachments=attachments)
    check_content(ports, content, targets, found=found)
    now = isoformat(ports.clock.now())
    post = Post(
        post_id=post_id or new_id("post"),
        business_id=business_id,
        status=PostStatus.PENDING,
        content=content,
        targets=targets,
        created_at=now,
        updated_at=now,
        scheduled_for=isoformat(at),
        timezone=zone,
    ).with_comments()
    ports.schedule.create(post)
    if content.attachments:
        ports.media.mark_used(content.attachments)
    _dispatch_if_soon(ports, post)
    return post


def _dispatch_if_soon(ports: SchedulingPorts, post: Post) -> None:
    """A post due before the next tick could see it is queued now, with its delay."""
    assert post.scheduled_for is not None
    seconds = (
        datetime.fromisoformat(post.scheduled_for.replace("Z", "+00:00")) - ports.clock.now()
    ).total_seconds()
    if seconds > ports.settings.dispatch_on_create_seconds:
        return
    from herald.tick import dispatch_now

    entry = DueEntry(
        business_id=post.business_id,
        post_id=post.post_id,
        scheduled_for=post.scheduled_for,
        due_sk=due_sk(post.scheduled_for, post.post_id),
    )
    dispatch_now(ports.tick(), entry)


def edit(
    ports: SchedulingPorts,
    business_id: str,
    post_id: str,
    *,
    content_changes: dict[str, Any] | None = None,
    account_ids: list[str] | None = None,
    when: When | None = None,
) -> Post:
    """Reschedule and/or change content or targets of a post the worker has not claimed yet
    (409 otherwise). A queued post keeps its place in the publish queue for a new text or new
    accounts (the worker reads them when it claims the post); a new time sends it back to
    pending, and the tick (or, if it is due soon, this call) queues it again for that time."""
    current = ports.schedule.get(business_id, post_id)
    if current.status not in EDITABLE_POST_STATES:
        raise Conflict(
            f"post {post_id} is {current.status.value}; only a post that is not publishing yet "
            "(pending or queued) can be edited",
            post_status=current.status.value,
        )
    updated = current
    if when is not None and when.timezone is None and current.timezone and _naive(when):
        # "move it to 10:00" means 10:00 where the post was scheduled.
        when = replace(when, timezone=current.timezone)
    if when is not None:
        at, zone = _when(ports, when)
        updated = replace(updated, scheduled_for=isoformat(at), timezone=zone)
        if updated.scheduled_for != current.scheduled_for:
            # Its message, if the tick sent one, is for the old time: back to the tick.
            updated = replace(updated, status=PostStatus.PENDING)
    if account_ids is not None:
        updated = replace(updated, targets=build_targets(ports, business_id, account_ids))
    changes = dict(content_changes or {})
    found: list[FieldError] = []
    refs = changes.pop("media_refs", None)
    if refs is not None:
        changes["attachments"], found = ports.media.resolve(business_id, refs)
    if changes:
        updated = replace(updated, content=replace(updated.content, **changes))
    image_changed = "image_url" in changes or "variants" in changes
    check_content(
        ports,
        updated.content,
        updated.targets,
        image=image_changed or account_ids is not None,
        found=found,
    )
    updated = replace(
        updated.with_comments(),
        updated_at=isoformat(ports.clock.now()),
        version=current.version + 1,
    )
    ports.schedule.update_scheduled(updated, expected_version=current.version)
    if refs:
        ports.media.mark_used(updated.content.attachments)
    if updated.status == PostStatus.PENDING and when is not None:
        _dispatch_if_soon(ports, updated)
    return updated


def cancel(ports: SchedulingPorts, business_id: str, post_id: str) -> Post:
    return ports.schedule.cancel(business_id, post_id)


def calendar(
    ports: SchedulingPorts,
    business_id: str,
    *,
    statuses: list[str] | None = None,
    platform: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    newest_first: bool = True,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    if start and end and start > end:
        raise InvalidInput("from is after to", [FieldError("from", "must not be after to")])
    return ports.schedule.calendar(
        business_id,
        statuses=statuses,
        platform=platform,
        start=isoformat(start) if start else None,
        end=isoformat(end) if end else None,
        newest_first=newest_first,
        limit=limit,
        cursor=cursor,
    )
