"""Which event a post's outcome owes. A closed post keeps it owed on its item until it is sent
(herald.store.posts.OwedEvent), so the event goes out once even when the run dies after the
close."""

from __future__ import annotations

from herald.posts.model import PostStatus

_EVENTS = {
    PostStatus.PUBLISHED: "post.published",
    PostStatus.PARTIALLY_PUBLISHED: "post.partially_published",
}


def event_type_for(outcome: PostStatus) -> str:
    """The event a finished post is announced with."""
    return _EVENTS.get(outcome, "post.failed")
