"""The local stack's SQS (moto's server) without its scans of the whole queue per message.

What moto 5.2 does: a message's `visible` and `delayed` are properties that each read the clock
through `unix_time_millis()` (a datetime subtraction, about a microsecond and a half), and
`Queue.messages` and the three `ApproximateNumberOfMessages*` attributes each walk the whole
queue calling them. Then:

- ReceiveMessage checks every message it returns against the retention period with
  `get_queue_attributes(["MessageRetentionPeriod"])`, which builds `queue.attributes` (every
  attribute, the three walks included) three times over: nine walks of the queue per message
  received, about 40 ms a message with 1,000 queued.
- SendMessage reads `queue.attributes` for one FIFO setting: three walks per message sent.
- DeleteMessage walks the queue twice, building a list of receipt handles for every message.
- Each message received gets a receipt handle of 185 letters, each drawn by `random.choice`
  (three calls a letter): 1.6 ms for the ten messages of a full ReceiveMessage.

A burst of 1,000 due posts is 1,000 messages queued at once, so the local stack's SQS, not
Herald, bound the burst benchmark. `apply` keeps moto's answers and removes the waste: one clock
reading per walk and the numbers moto stores (`visible_at`, `delayed_until`) compared directly;
the retention period read from the queue; a delete in one walk; each letter of a receipt handle
drawn as `random.choice` draws it, in a quarter of the time (the same bits from the same
generator: a seeded moto gives the same handles). The queue is still walked (the data structure
is moto's); each walk is a list comprehension over plain attributes. What every request costs
before and around SQS's own work is herald.local.moto_requests'.

Only the local stack's moto server applies it (herald.local.moto_server, and the stack's moto
thread): never the tests' `mock_aws`, never AWS. tests/integration/local/test_moto_sqs.py checks
the answers against moto's own. Against a moto whose internals moved, `apply` leaves moto as it is
and says so: slower, still right.
"""

from __future__ import annotations

import string
from typing import Any

from herald.local.moto_patches import Patches


def _fast_messages(self: Any) -> list[Any]:
    from moto.core.utils import unix_time_millis

    now = unix_time_millis()
    # Message.visible is `now > visible_at`; Message.delayed is `now < delayed_until`.
    return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]


def _fast_delayed(self: Any) -> int:
    from moto.core.utils import unix_time_millis

    now = unix_time_millis()
    return sum(1 for m in self._messages if now < m.delayed_until)


def _fast_not_visible(self: Any) -> int:
    from moto.core.utils import unix_time_millis

    now = unix_time_millis()
    return sum(1 for m in self._messages if not now > m.visible_at)


def _fast_retention(self: Any, queue_name: str, message: Any) -> bool:
    from moto.core.utils import unix_time

    retention = int(self.get_queue(queue_name).message_retention_period)
    return bool(retention + message.sent_timestamp / 1000 > unix_time())


def _fast_delete(self: Any, receipt_handle: str) -> None:
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    if receipt_handle in self.deleted_messages:
        return  # deleted already: SQS answers a second delete with success
    # Message.had_receipt_handle, without building the list of handles for every message.
    index = next(
        (
            i
            for i, m in enumerate(self._messages)
            if m.receipt_handle == receipt_handle or receipt_handle in m._old_receipt_handles
        ),
        None,
    )
    if index is None:
        raise ReceiptHandleIsInvalid()
    message = self._messages[index]
    self.pending_messages.discard(message)
    self.deleted_messages.update(message.all_receipt_handles)
    # A receipt handle is unique to one receive of one message: the one found is the only one.
    self._messages = self._messages[:index] + self._messages[index + 1 :]


_LETTERS = string.ascii_lowercase
_HANDLE_LENGTH = 185  # moto.sqs.utils.generate_receipt_handle's


def _fast_receipt_handle() -> str:
    from moto.moto_api._internal import mock_random

    # random.choice(letters) is letters[_randbelow(26)]: 5-bit draws until one is below 26.
    bits = mock_random.getrandbits
    letters: list[str] = []
    while len(letters) < _HANDLE_LENGTH:
        r = bits(5)
        if r < 26:
            letters.append(_LETTERS[r])
    return "".join(letters)


def _draws_like_choice(generator: Any) -> bool:
    """Whether `generator.choice` draws as _fast_receipt_handle does."""
    import random

    kind = type(generator)
    return (
        isinstance(generator, random.Random)
        and kind.choice is random.Random.choice
        and kind._randbelow is random.Random._randbelow_with_getrandbits  # type: ignore[attr-defined]
        and kind.getrandbits is random.Random.getrandbits
    )


def _same_handles(generate: Any, generator: Any) -> bool:
    """moto's handle and _fast_receipt_handle's, drawn from the same state, are the same; the
    generator is left in the state it was (a seeded moto draws what it would have)."""
    state = generator.getstate()
    try:
        theirs = generate()
        generator.setstate(state)
        return bool(_fast_receipt_handle() == theirs)
    finally:
        generator.setstate(state)


def _targets() -> list[tuple[Any, str, Any]] | None:
    """(owner, attribute, replacement) for every patch, or None when moto's internals are not
    the ones this module was written against."""
    try:
        import moto.sqs.models as models
        import moto.sqs.utils as utils
        from moto.moto_api._internal import mock_random
        from moto.sqs.models import Message, Queue, SQSBackend
    except ImportError:
        return None
    probe = Message("probe", "body")
    needed = [
        isinstance(Queue.__dict__.get(name), property)
        for name in (
            "messages",
            "approximate_number_of_messages_delayed",
            "approximate_number_of_messages_not_visible",
        )
    ] + [
        callable(getattr(SQSBackend, "is_message_valid_based_on_retention_period", None)),
        callable(getattr(Queue, "delete_message", None)),
        all(
            hasattr(probe, a)
            for a in ("visible_at", "delayed_until", "_old_receipt_handles", "receipt_handle")
        ),
        models.__dict__.get("generate_receipt_handle") is utils.generate_receipt_handle,
        _draws_like_choice(mock_random)
        and _same_handles(utils.generate_receipt_handle, mock_random),
    ]
    if not all(needed):
        return None
    return [
        (Queue, "messages", property(_fast_messages)),
        (Queue, "approximate_number_of_messages_delayed", property(_fast_delayed)),
        (Queue, "approximate_number_of_messages_not_visible", property(_fast_not_visible)),
        (SQSBackend, "is_message_valid_based_on_retention_period", _fast_retention),
        (Queue, "delete_message", _fast_delete),
        (models, "generate_receipt_handle", _fast_receipt_handle),
    ]


_patches = Patches("SQS", _targets)
apply = _patches.apply
undo = _patches.undo
patched = _patches.patched
