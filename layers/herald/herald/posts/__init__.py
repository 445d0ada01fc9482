"""The post: its data (model), how it moves between states and who may claim a target
(lifecycle), and the event its outcome owes (events). Storage is herald.store's business."""

from __future__ import annotations

from herald.posts.events import event_type_for
from herald.posts.lifecycle import (
    EDITABLE_POST_STATES,
    MOVES,
    TRANSITIONS,
    Move,
    Rescheduled,
    can_transition,
    may_claim,
    may_claim_comment,
)
from herald.posts.model import (
    FINAL_POST_STATES,
    Comment,
    Post,
    PostStatus,
    Target,
    TargetStatus,
)

__all__ = [
    "EDITABLE_POST_STATES",
    "FINAL_POST_STATES",
    "MOVES",
    "TRANSITIONS",
    "Comment",
    "Move",
    "Post",
    "PostStatus",
    "Rescheduled",
    "Target",
    "TargetStatus",
    "can_transition",
    "event_type_for",
    "may_claim",
    "may_claim_comment",
]
