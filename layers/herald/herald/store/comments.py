"""A target's first comment in the post item: `targets.<account>.comment{status, attempts, ...}`.

Claimed like its target, by a conditional write (herald.posts.lifecycle.may_claim_comment): only
a published target's comment, and only when it is pending, failed for a retryable reason (any
reason when a person asked), or held by a claim older than `stale_before` (its run died; the
caller learns it took the claim over, and must look for the comment before it comments again).
Every write bumps the post's `version`, as every write to the item does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from herald.posts.lifecycle import COMMENT_CLAIM
from herald.posts.model import Comment, TargetStatus
from herald.store.conditions import Condition, claim_held, claimable
from herald.store.post_items import comment_from_item
from herald.store.table import business_pk, condition_failed, post_sk

_PATH = "#t.#a.#c"


@dataclass(frozen=True)
class CommentClaim:
    comment: Comment  # as it is now: publishing, attempts bumped, claimed_at set
    took_over: bool  # the previous claim was stale: its run may have commented before dying
    previous_claimed_at: str | None = None


class CommentWrites:
    """The comment's writes, mixed into herald.store.posts.PostRepository."""

    _table: Any

    def _comment_update(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        expression: str,
        values: dict[str, Any],
        condition: Condition,
        return_values: str = "NONE",
    ) -> dict[str, Any] | None:
        names = {**self._path_names(account_id), "#s": "status"}
        try:
            result: dict[str, Any] = self._table.update_item(
                Key={"pk": business_pk(business_id), "sk": post_sk(post_id)},
                UpdateExpression=expression,
                ReturnValues=return_values,
                **condition.request(names, values),
            )
        except ClientError as exc:
            if condition_failed(exc):
                return None
            raise
        return result

    @staticmethod
    def _path_names(account_id: str) -> dict[str, str]:
        return {"#t": "targets", "#a": account_id, "#c": "comment"}

    def claim_comment(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        *,
        now: str,
        stale_before: str,
        any_failure: bool = False,
    ) -> CommentClaim | None:
        """Claim the comment for this run, or None when it is not ours to publish now."""
        # Only a published target's comment: it answers the target's post.
        parent_published = Condition(
            "#t.#a.#s = :cc_parent_published",
            {"#t": "targets", "#a": account_id, "#s": "status"},
            {":cc_parent_published": TargetStatus.PUBLISHED.value},
        )
        condition = parent_published & claimable(
            _PATH,
            self._path_names(account_id),
            COMMENT_CLAIM,
            stale_before=stale_before,
            any_failure=any_failure,
            tag="cc",
        )
        values = {":publishing": TargetStatus.PUBLISHING.value, ":now": now, ":one": 1}
        result = self._comment_update(
            business_id,
            post_id,
            account_id,
            "SET #t.#a.#c.#s = :publishing, #t.#a.#c.attempts = #t.#a.#c.attempts + :one, "
            "#t.#a.#c.claimed_at = :now, updated_at = :now, version = version + :one",
            values,
            condition,
            return_values="ALL_OLD",
        )
        if result is None:
            return None
        old = comment_from_item(result["Attributes"]["targets"][account_id]["comment"])
        claimed = replace(
            old, status=TargetStatus.PUBLISHING, attempts=old.attempts + 1, claimed_at=now
        )
        return CommentClaim(
            comment=claimed,
            took_over=old.status == TargetStatus.PUBLISHING,
            previous_claimed_at=old.claimed_at,
        )

    def record_comment_published(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        comment_id: str,
        now: str,
        *,
        attempts: int,
    ) -> None:
        # Unconditional on the claim, as a target's result is: the platform said yes.
        self._comment_update(
            business_id,
            post_id,
            account_id,
            "SET #t.#a.#c.#s = :published, #t.#a.#c.platform_comment_id = :cid, "
            "#t.#a.#c.published_at = :now, #t.#a.#c.attempts = :attempts, updated_at = :now, "
            "version = version + :one REMOVE #t.#a.#c.last_error, #t.#a.#c.error_kind",
            {
                ":published": TargetStatus.PUBLISHED.value,
                ":cid": comment_id,
                ":now": now,
                ":attempts": attempts,
                ":one": 1,
            },
            Condition(f"attribute_exists({_PATH})", self._path_names(account_id)),
        )

    def record_comment_failure(
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
        attempts: int,
    ) -> bool:
        """Mark our claimed comment failed or unconfirmed; False if the claim is no longer ours."""
        return (
            self._comment_update(
                business_id,
                post_id,
                account_id,
                "SET #t.#a.#c.#s = :status, #t.#a.#c.last_error = :reason, "
                "#t.#a.#c.error_kind = :kind, #t.#a.#c.attempts = :attempts, updated_at = :now, "
                "version = version + :one",
                {
                    ":status": status.value,
                    ":reason": reason,
                    ":kind": kind,
                    ":attempts": attempts,
                    ":now": now,
                    ":one": 1,
                },
                claim_held(_PATH, self._path_names(account_id), claimed_at),
            )
            is not None
        )
