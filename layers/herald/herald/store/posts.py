"""Posts and their targets in DynamoDB: one item per post, its targets in a map by account id
(the item's shape: herald.store.post_items). The one repository of the post item: the schedule's
writes (herald.store.schedule) read and create posts through it.

Every state change is a conditional update of that one item, and every write bumps `version`, so
`finish` can refuse to close a post whose targets moved since it read them. Keeping the targets in
the post item (rather than one item each) makes "read the post and all its targets" a single
strongly consistent GetItem, which the engine does after every round; a post has at most a
handful of targets, far below the 400 KB item limit.

A target is claimed before any platform call, when herald.posts.lifecycle's claim rule allows:
-> `publishing`, attempts+1, claimed_at=now. Two workers, two ticks or an API retry racing a
worker cannot both win. A claim that is older than `stale_before` belongs to a Lambda that died
mid-publish; it may be taken over, and the caller learns it did (`Claim.took_over`), because the
dead run may have posted before dying: the taker must reconcile before it publishes.

Every condition is built from the lifecycle's moves and claim rule (herald.store.conditions), and
written without boto3's condition builders: the tick's ScheduleRepository is built on this
repository, and its cold start should not pay for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from herald.errors import Conflict, NotFound
from herald.platforms.base import Published
from herald.posts.events import event_type_for
from herald.posts.lifecycle import (
    CLOSE,
    REOPEN,
    START,
    TARGET_CLAIM,
    UNFINISHED_TARGET_STATES,
    Rescheduled,
)
from herald.posts.model import Post, PostStatus, Target, TargetStatus
from herald.store.comments import CommentWrites
from herald.store.conditions import (
    POST_EXISTS,
    POST_IS_NEW,
    Condition,
    claim_held,
    claimable,
    may_move,
)
from herald.store.post_items import post_from_item, post_to_item, target_from_item, target_to_item
from herald.store.table import (
    CALENDAR_INDEX,
    business_pk,
    condition_failed,
    metrics_pk,
    metrics_sk,
    post_sk,
)


@dataclass(frozen=True)
class Claim:
    target: Target  # as it is now: publishing, attempts bumped, claimed_at set
    took_over: bool  # the previous claim was stale: its run may have posted before dying
    version: int | None = None  # the post's version this claim wrote, when known
    # When the claim taken over was made: a look for what its run may have posted starts there.
    previous_claimed_at: str | None = None


@dataclass(frozen=True)
class OwedEvent:
    """The final event a closed post owes. Its id comes from `version`, the version the close
    wrote, so a later write to the post (a slow run's late result) cannot change it."""

    event_type: str
    version: int


@dataclass(frozen=True)
class Started:
    post: Post  # exactly as the write left it: publishing, the claimed targets claimed
    claims: dict[str, Claim]


def _scheduled_for(when: str) -> Condition:
    """The post is still for the time the worker's message is for (not rescheduled since)."""
    return Condition("scheduled_for = :when", {}, {":when": when})


def _rescheduled(post_id: str, message_time: str, post_time: str | None) -> Rescheduled:
    return Rescheduled(
        f"post {post_id} was rescheduled to {post_time} after this message for {message_time} "
        "was sent: the message for its new time publishes it"
    )


def _closing(post: Post, now: str) -> tuple[list[str], list[str], dict[str, Any]]:
    """The SET and REMOVE clauses (and their values) that close `post` with the status its
    targets add up to, and leave the final event it owes to be announced."""
    closed = post.closed()
    values: dict[str, Any] = {
        ":status": closed.status.value,
        ":now": now,
        ":one": 1,
        ":event": event_type_for(closed.status),
        ":event_version": post.version + 1,  # what the close's own `version + 1` makes it
    }
    sets = [
        "#st = :status",
        "updated_at = :now",
        "version = version + :one",
        "pending_event = :event",
        "pending_event_version = :event_version",
    ]
    if closed.status in (PostStatus.PUBLISHED, PostStatus.PARTIALLY_PUBLISHED):
        # Into the sparse metrics index, due at once: the next hourly sync reads it.
        sets += ["mt_pk = :mt_pk", "mt_sk = :mt_sk"]
        values[":mt_pk"] = metrics_pk(post.post_id)
        values[":mt_sk"] = metrics_sk(now, post.business_id, post.post_id)
    removes = []
    for attr, placeholder, value in (
        ("published_at", ":pa", closed.published_at),
        ("status_reason", ":reason", closed.status_reason),
    ):
        if value is None:
            removes.append(attr)
        else:
            sets.append(f"{attr} = {placeholder}")
            values[placeholder] = value
    return sets, removes, values


class PostRepository(CommentWrites):
    def __init__(self, table: Any) -> None:
        self._table = table

    def _key(self, business_id: str, post_id: str) -> dict[str, str]:
        return {"pk": business_pk(business_id), "sk": post_sk(post_id)}

    # --- reads ------------------------------------------------------------------------------
    def get(self, business_id: str, post_id: str) -> Post:
        """The post, strongly consistent. Another business's post is simply not found."""
        item = self.get_item(business_id, post_id)
        return post_from_item(item)

    def get_item(self, business_id: str, post_id: str) -> dict[str, Any]:
        item: dict[str, Any] | None = self._table.get_item(
            Key=self._key(business_id, post_id), ConsistentRead=True
        ).get("Item")
        if item is None or item.get("type") != "post":
            raise NotFound(f"post {post_id} not found")
        return item

    def list_window(self, business_id: str, since: str, until: str) -> list[Post]:
        """Posts whose calendar time (scheduled_for, else created_at) is in [since, until]."""
        posts: list[Post] = []
        kwargs: dict[str, Any] = {
            "IndexName": CALENDAR_INDEX,
            "KeyConditionExpression": "cal_pk = :pk AND cal_sk BETWEEN :since AND :until",
            "ExpressionAttributeValues": {
                ":pk": business_pk(business_id),
                ":since": since,
                ":until": until + "~",
            },
        }
        while True:
            page = self._table.query(**kwargs)
            posts.extend(post_from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return posts
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # --- writes -----------------------------------------------------------------------------
    def create(self, post: Post, extra: Mapping[str, Any] | None = None) -> None:
        """Store a new post with its targets; `extra` carries attributes other modules own
        (the scheduler's due_pk/due_sk), written in the same conditional put."""
        item = {**post_to_item(post), **(extra or {})}
        try:
            self._table.put_item(Item=item, **POST_IS_NEW.request())
        except ClientError as exc:
            if condition_failed(exc):
                raise Conflict(f"post {post.post_id} already exists") from exc
            raise

    def start(
        self,
        business_id: str,
        post_id: str,
        now: str,
        *,
        reopen: bool = False,
        scheduled_for: str | None = None,
    ) -> Post:
        """Move a queued post (or, with `reopen`, a failed or partly published one) to
        `publishing`. Already publishing is fine: a redelivered message continues the run.
        `scheduled_for`: the time the worker's message is for; a post rescheduled since is
        Rescheduled, and nothing is written."""
        condition = POST_EXISTS & (may_move(START, REOPEN) if reopen else may_move(START))
        if scheduled_for is not None:
            condition &= _scheduled_for(scheduled_for)
        try:
            result = self._table.update_item(
                Key=self._key(business_id, post_id),
                UpdateExpression="SET #st = :pub, updated_at = :now, version = version + :one",
                ReturnValues="ALL_NEW",
                **condition.request(
                    values={":pub": PostStatus.PUBLISHING.value, ":now": now, ":one": 1}
                ),
            )
        except ClientError as exc:
            if condition_failed(exc):
                current = self.get(business_id, post_id)  # NotFound if it does not exist
                if scheduled_for is not None and current.scheduled_for != scheduled_for:
                    raise _rescheduled(post_id, scheduled_for, current.scheduled_for) from exc
                raise Conflict(
                    f"post {post_id} is {current.status.value}; it cannot be published now"
                ) from exc
            raise
        return post_from_item(result["Attributes"])

    def start_claiming(
        self,
        business_id: str,
        post_id: str,
        account_ids: Sequence[str],
        *,
        now: str,
        stale_before: str,
        any_failure: bool = False,
        scheduled_for: str | None = None,
    ) -> Started | None:
        """`start` and `claim_target` for every listed target, in one write.

        The worker knows a post's targets from its message, so the common delivery (a queued
        post, every target pending) costs one write instead of one plus one per target. None,
        with nothing written, when some listed target cannot be claimed (published, held by a
        live run, failed for good): the caller then starts and claims one by one. Conflict when
        the post cannot be published at all (cancelled, finished), read from the failed write
        itself rather than by a second request. `scheduled_for` as in `start`: read at the
        claim, so the post it returns is the latest edit (text, accounts) for the time the
        message is for.
        """
        condition = POST_EXISTS & may_move(START)
        if scheduled_for is not None:
            condition &= _scheduled_for(scheduled_for)
        names: dict[str, str] = {"#st": "status", "#t": "targets", "#s": "status"}
        values: dict[str, Any] = {":pub": PostStatus.PUBLISHING.value, ":now": now, ":one": 1}
        sets = ["#st = :pub", "updated_at = :now", "version = version + :one"]
        for i, account_id in enumerate(account_ids):
            a = f"#a{i}"
            names[a] = account_id
            condition &= claimable(
                f"#t.{a}",
                {"#t": "targets", a: account_id},
                TARGET_CLAIM,
                stale_before=stale_before,
                any_failure=any_failure,
                tag="tc",
            )
            sets += [
                f"#t.{a}.#s = :pub",
                f"#t.{a}.attempts = #t.{a}.attempts + :one",
                f"#t.{a}.claimed_at = :now",
            ]
        try:
            result = self._table.update_item(
                Key=self._key(business_id, post_id),
                UpdateExpression="SET " + ", ".join(sets),
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **condition.request(names, values),
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
            current: dict[str, Any] | None = exc.response.get("Item")  # type: ignore[assignment]
            if current is None:
                raise NotFound(f"post {post_id} not found") from exc
            # The item in a failed write's answer is in DynamoDB's typed form, even from a Table.
            status = current.get("status", {}).get("S")
            when = current.get("scheduled_for", {}).get("S")
            if scheduled_for is not None and when != scheduled_for:
                raise _rescheduled(post_id, scheduled_for, when) from exc
            if status not in START.sources:
                raise Conflict(f"post {post_id} is {status}; it cannot be published now") from exc
            return None
        before = post_from_item(result["Attributes"])
        claims: dict[str, Claim] = {}
        post = replace(before, status=PostStatus.PUBLISHING, version=before.version + 1)
        for account_id in account_ids:
            old = before.targets[account_id]
            claimed = replace(
                old, status=TargetStatus.PUBLISHING, attempts=old.attempts + 1, claimed_at=now
            )
            claims[account_id] = Claim(
                target=claimed,
                took_over=old.status == TargetStatus.PUBLISHING,
                version=post.version,
                previous_claimed_at=old.claimed_at,
            )
            post = post.with_target(claimed)
        return Started(post=replace(post, updated_at=now), claims=claims)

    def claim_target(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        *,
        now: str,
        stale_before: str,
        any_failure: bool = False,
    ) -> Claim | None:
        """Claim one target for this run, or None when it is published, unconfirmed, claimed by
        a live run, or failed for a reason a retry will not fix (unless `any_failure`: a person
        asked for the retry). A `processing` target is claimed like a pending one: its media
        state says where the publisher resumes."""
        condition = claimable(
            "#t.#a",
            {"#t": "targets", "#a": account_id},
            TARGET_CLAIM,
            stale_before=stale_before,
            any_failure=any_failure,
            tag="tc",
        )
        values = {":publishing": TargetStatus.PUBLISHING.value, ":now": now, ":one": 1}
        try:
            result = self._table.update_item(
                Key=self._key(business_id, post_id),
                UpdateExpression=(
                    "SET #t.#a.#s = :publishing, #t.#a.attempts = #t.#a.attempts + :one, "
                    "#t.#a.claimed_at = :now, updated_at = :now, version = version + :one"
                ),
                ReturnValues="ALL_OLD",
                **condition.request(values=values),
            )
        except ClientError as exc:
            if condition_failed(exc):
                return None
            raise
        before = result["Attributes"]
        old = target_from_item(before["targets"][account_id])
        claimed = replace(
            old, status=TargetStatus.PUBLISHING, attempts=old.attempts + 1, claimed_at=now
        )
        return Claim(
            target=claimed,
            took_over=old.status == TargetStatus.PUBLISHING,
            version=int(before.get("version", 0)) + 1,
            previous_claimed_at=old.claimed_at,
        )

    def record_part_ids(
        self, business_id: str, post_id: str, account_id: str, part_ids: list[str], now: str
    ) -> None:
        """A thread's tweets, stored the moment each is confirmed: a retry resumes after them."""
        self._update_target(
            business_id,
            post_id,
            account_id,
            "SET #t.#a.part_ids = :ids, updated_at = :now, version = version + :one",
            {":ids": part_ids, ":now": now, ":one": 1},
        )

    def record_published(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        published: Published,
        now: str,
        *,
        attempts: int | None = None,
    ) -> None:
        # Unconditional on the claim: the platform said yes, and that is the truth to keep even
        # if a slow run's claim was taken over meanwhile.
        expression = (
            "SET #t.#a.#s = :published, #t.#a.platform_post_id = :pid, #t.#a.#u = :url, "
            "#t.#a.part_ids = :ids, #t.#a.published_at = :now, updated_at = :now, "
            "version = version + :one"
        )
        values: dict[str, Any] = {
            ":published": TargetStatus.PUBLISHED.value,
            ":pid": published.platform_post_id,
            ":url": published.url,
            ":ids": list(published.part_ids) or [published.platform_post_id],
            ":now": now,
            ":one": 1,
        }
        if attempts is not None:
            expression += ", #t.#a.attempts = :attempts"
            values[":attempts"] = attempts
        self._update_target(
            business_id,
            post_id,
            account_id,
            expression + " REMOVE #t.#a.last_error, #t.#a.error_kind",
            values,
            names={"#s": "status", "#u": "url"},
        )

    def record_failure(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        *,
        status: TargetStatus,
        reason: str,
        kind: str,
        claimed_at: str,
        now: str,
        attempts: int | None = None,
        clear_state: bool = False,
    ) -> bool:
        """Mark our claimed target failed or unconfirmed; False if the claim is no longer ours
        (taken over as stale, or already published). `clear_state`: forget its media state (a
        failure a retry will not fix: a person's retry uploads afresh)."""
        expression = (
            "SET #t.#a.#s = :status, #t.#a.last_error = :reason, #t.#a.error_kind = :kind, "
            "updated_at = :now, version = version + :one"
        )
        values: dict[str, Any] = {
            ":status": status.value,
            ":reason": reason,
            ":kind": kind,
            ":now": now,
            ":one": 1,
        }
        if attempts is not None:
            expression += ", #t.#a.attempts = :attempts"
            values[":attempts"] = attempts
        if clear_state:
            expression += " REMOVE #t.#a.media_state, #t.#a.processing_since"
        try:
            self._update_target(
                business_id,
                post_id,
                account_id,
                expression,
                values,
                claimed_at=claimed_at,
                names={"#s": "status"},
            )
        except Conflict:
            return False
        return True

    def record_media_state(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        state: dict[str, Any],
        *,
        claimed_at: str,
        now: str,
    ) -> None:
        """What the publisher has uploaded so far, while our claim holds (Conflict if another
        run took the target over: this run must stop)."""
        self._update_target(
            business_id,
            post_id,
            account_id,
            "SET #t.#a.media_state = :state, updated_at = :now, version = version + :one",
            {
                ":state": state,
                ":now": now,
                ":one": 1,
            },
            claimed_at=claimed_at,
        )

    def record_processing(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        state: dict[str, Any],
        *,
        claimed_at: str,
        since: str,
        now: str,
    ) -> bool:
        """Our claimed target waits for the platform's processing: `processing`, with the media
        state to resume from. False if the claim is no longer ours."""
        try:
            self._update_target(
                business_id,
                post_id,
                account_id,
                "SET #t.#a.#s = :processing, #t.#a.media_state = :state, "
                "#t.#a.processing_since = :since, updated_at = :now, version = version + :one",
                {
                    ":processing": TargetStatus.PROCESSING.value,
                    ":state": state,
                    ":since": since,
                    ":now": now,
                    ":one": 1,
                },
                claimed_at=claimed_at,
                names={"#s": "status"},
            )
        except Conflict:
            return False
        return True

    def finish(self, business_id: str, post_id: str, now: str) -> Post | None:
        """Close a publishing post with the status its targets add up to, once no target is
        still being published. None when there is nothing for this run to close: the post is
        not publishing, or another live run still holds a target and will close it."""
        for _ in range(5):
            post = self.get(business_id, post_id)
            if not CLOSE.allows(post.status):
                return None
            if any(t.status in UNFINISHED_TARGET_STATES for t in post.targets.values()):
                return None
            sets, removes, values = _closing(post, now)
            try:
                return self._close(post, now, sets, removes, values, {})
            except ClientError as exc:
                if condition_failed(exc):
                    continue  # a target moved between our read and write: read again
                raise
        return None

    def finish_with(self, expected: Post, target: Target, now: str) -> Post | None:
        """Record the final state of the post's last unfinished target and close the post, in
        one write. `expected` is the post exactly as the caller's own writes left it (its claim
        included); the write is conditional on its version, so any change since (a stale claim
        taken over, a late run's result) makes it a no-op. None, with nothing written, when
        another target is unfinished or the post moved: the caller then records the target and
        finishes the two-step way."""
        post = replace(expected.with_target(target), updated_at=now)
        if not CLOSE.allows(post.status) or any(
            t.status == TargetStatus.PENDING or t.status in UNFINISHED_TARGET_STATES
            for t in post.targets.values()
        ):
            return None
        sets, removes, values = _closing(post, now)
        sets.append("#t.#a = :target")
        values[":target"] = target_to_item(target)
        names = {"#t": "targets", "#a": target.account_id}
        try:
            return self._close(post, now, sets, removes, values, names)
        except ClientError as exc:
            if condition_failed(exc):
                return None
            raise

    def _close(
        self,
        post: Post,
        now: str,
        sets: list[str],
        removes: list[str],
        values: dict[str, Any],
        names: dict[str, str],
    ) -> Post:
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        # The version the caller read: a target that moved since makes the close a no-op.
        condition = Condition("version = :v", {}, {":v": post.version}) & may_move(CLOSE)
        self._table.update_item(
            Key=self._key(post.business_id, post.post_id),
            UpdateExpression=expression,
            **condition.request(names, values),
        )
        # Every write to a post moves its version, so the write above succeeding means the item
        # was `post`, and what it holds now is `post` closed: no need to have DynamoDB send the
        # whole item back (at a burst's second, that answer was a third of the close's cost).
        return replace(post.closed(), updated_at=now, version=post.version + 1)

    def pending_event(self, business_id: str, post_id: str) -> OwedEvent | None:
        item = self.get_item(business_id, post_id)
        if not item.get("pending_event"):
            return None
        version = item.get("pending_event_version", item.get("version", 0))
        return OwedEvent(str(item["pending_event"]), int(version))

    def clear_pending_event(self, business_id: str, post_id: str, version: int) -> None:
        """The final event went out: forget it. Conditional on the close it was made for, so a
        newer outcome's pending event (after a retry) is not cleared by a slow older run."""
        try:
            self._table.update_item(
                Key=self._key(business_id, post_id),
                UpdateExpression="REMOVE pending_event, pending_event_version",
                ConditionExpression="pending_event_version = :v",
                ExpressionAttributeValues={":v": version},
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise

    def _update_target(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        expression: str,
        values: dict[str, Any],
        *,
        claimed_at: str | None = None,
        names: dict[str, str] | None = None,
    ) -> None:
        """Update one target, which must exist; with `claimed_at`, only while that claim is
        still this run's."""
        path_names = {"#t": "targets", "#a": account_id}
        condition = (
            Condition("attribute_exists(#t.#a)", path_names)
            if claimed_at is None
            else claim_held("#t.#a", path_names, claimed_at)
        )
        try:
            self._table.update_item(
                Key=self._key(business_id, post_id),
                UpdateExpression=expression,
                **condition.request({**path_names, **(names or {})}, values),
            )
        except ClientError as exc:
            if condition_failed(exc):
                raise Conflict(f"target {account_id} of post {post_id} changed") from exc
            raise
