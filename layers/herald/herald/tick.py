"""The tick: every minute, send the posts due within the look-ahead window to the publish queue.

    query every due shard (parallel)          posts due up to now + lookahead, oldest first
      ├── overdue beyond the business's max lateness  -> `missed` + post.missed event
      ├── overdue                                      -> sent first, oldest first, no delay
      └── due within the window                        -> DelaySeconds = seconds until due,
                                                          less the lead (see below)

Each chunk of ten goes through the dispatch journal (see herald.store.journal):
journal -> pending->queued (conditional, one per post) -> SendMessageBatch -> journal deleted.
The queued write returns the post, so each message names its accounts: the worker claims every
target in its first write and reads a whole batch's accounts at once.

Why the look-ahead is 180 s: a `rate(1 minute)` rule fires at any second of its minute, so two
ticks can be almost two minutes apart; every post is therefore seen by at least one tick before
it is due, and SQS's per-message delay (up to 900 s) releases it at its second.

Why two ticks at once send each post once: only the tick whose conditional `pending -> queued`
write succeeds sends the post; the other's write fails and it skips the post. A cancel or an edit
racing the tick is the same race: one conditional write wins, the other gets a 409 (the API) or
skips (the tick).

The tick stops starting chunks when less than `tick_safety_ms` of its Lambda time is left: the
posts it did not reach are still pending and in the index, so the next tick sends them, overdue
and therefore first.

Why a lead that grows with the burst: claim ahead, fire on time. A message arrives its lead
before its post is due; the worker claims the post, readies its credentials and holds it until
the second, then calls the platform (herald.worker). The lead is DISPATCH_EARLY_SECONDS (the
mapping's batching window) plus DISPATCH_EARLY_PER_100_SECONDS per hundred posts due in the same
second, at most DISPATCH_EARLY_MAX_SECONDS: 1,000 posts due at 09:00:00 arrive from 08:59:37, so
the mapping's invocations have received and claimed them before the second and lateness is the
platform call's alone, not the time to drain the queue. A part counts only its own shards' posts
and takes its count times the parts for the second's; the shards are only roughly even (for
1,000 posts, eight parts count 98 to 147 each: leads of 17 to 25 s), so the parts agree on one
lead per burst second, the first part's (`Dispatcher.lead`), and the burst arrives at once.

Why parts: a tick's cost is CPU, about 2.4 ms a post (botocore's serialising, signing and
parsing of one conditional write, a tenth of a SendMessageBatch and a fifth of a journal write;
bench/bench_schedule.py scale), so one Python process at one vCPU dispatches about 20,000 posts
in a tick's 55 s, whatever its threads. template.yaml therefore fires the tick as several rules a
minute, each with `{"part": k, "parts": n}`: part k dispatches the due shards s with
s % n == k, so n invocations side by side cover the index once, and n = 8 dispatches 100,000 in
about 30 s each. Part 0 also recovers dead ticks' journals. `{"task": "dispatch"}` alone is
the whole index (one part).

The tick reads and writes through its ports (TickPorts, from `Container.tick_ports`): the due
index, the journal, the publish queue, the businesses' lateness, events and the clock.
"""

from __future__ import annotations

import json
import math
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from herald.clock import isoformat, parse_iso
from herald.errors import NotFound
from herald.observability import logger
from herald.store.journal import DispatchJournal, JournalEntry
from herald.store.schedule import DueEntry

if TYPE_CHECKING:
    from herald.ports import Businesses, Clock, DueIndex, EventPublisher, PublishQueue
    from herald.settings import Settings

MAX_DELAY_SECONDS = 900  # SQS's ceiling for DelaySeconds on a standard queue
BATCH = 10  # SendMessageBatch's ceiling


@dataclass
class TickReport:
    dispatch_id: str
    due: int = 0
    sent: int = 0
    overdue: int = 0
    missed: int = 0
    lost_race: int = 0
    left_for_next_tick: int = 0
    recovered: int = 0
    send_failures: int = 0
    missed_posts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "missed_posts"}


def message_body(entry: DueEntry) -> str:
    body: dict[str, Any] = {
        "business_id": entry.business_id,
        "post_id": entry.post_id,
        "scheduled_for": entry.scheduled_for,
    }
    if entry.account_ids:
        body["account_ids"] = list(entry.account_ids)
    return json.dumps(body, separators=(",", ":"))


def delay_for(scheduled_for: str, now: datetime, early: float = 0) -> int:
    # DelaySeconds is whole seconds. Rounded down, the message shows up to a second early and
    # the worker waits out the fraction (herald.worker), so a post goes out at its second rather
    # than up to a second after it. `early` more seconds are the lead (lead_seconds).
    seconds = (parse_iso(scheduled_for) - now).total_seconds() - early
    return max(0, min(MAX_DELAY_SECONDS, math.floor(seconds)))


def lead_seconds(settings: Settings, due_in_its_second: int) -> float:
    """How long before its second a post's message should arrive, with this many posts due in
    that second: the batching window, and time for the worker's invocations to receive and claim
    a burst before it is due (the module docstring)."""
    # Per whole hundred: a second's first 99 posts fit one batch, which the window gathers.
    grows = settings.dispatch_early_per_100_seconds * (max(0, due_in_its_second) // 100)
    return min(
        settings.dispatch_early_max_seconds,
        max(settings.dispatch_early_seconds, settings.dispatch_early_seconds + grows),
    )


def its_second(scheduled_for: str) -> str:
    return scheduled_for[:19]  # YYYY-MM-DDTHH:MM:SS of the stored, sortable UTC form


@dataclass(frozen=True)
class Part:
    """Which shards of the due index one tick invocation dispatches: those s with
    s % parts == part. Part 0 also recovers the journals of ticks that died."""

    part: int = 0
    parts: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.part < self.parts:
            raise ValueError(f"part {self.part} of {self.parts} does not exist")

    @classmethod
    def of(cls, event: Any) -> Part:
        """The part a dispatch event names; the whole index when it names none."""
        if not isinstance(event, dict) or "parts" not in event:
            return cls()
        part, parts = event.get("part", 0), event["parts"]
        if any(isinstance(v, bool) or not isinstance(v, int) for v in (part, parts)):
            raise ValueError(f"part and parts must be whole numbers, not {part!r} and {parts!r}")
        return cls(part, parts)

    def shards(self, due_shards: int) -> list[int]:
        return [n for n in range(due_shards) if n % self.parts == self.part]


@dataclass(frozen=True)
class TickPorts:
    """What the tick uses (herald.ports), from `Container.tick_ports`."""

    settings: Settings
    due: DueIndex
    journal: DispatchJournal
    queue: PublishQueue
    businesses: Businesses
    events: EventPublisher
    clock: Clock


class Dispatcher:
    """One tick's work; the API reuses `dispatch_chunk` for a post due before the next tick."""

    def __init__(
        self, ports: TickPorts, dispatch_id: str | None = None, part: Part | None = None
    ) -> None:
        self.ports = ports
        self.settings = ports.settings
        self.repo = ports.due
        self.journal = ports.journal
        self.part = part or Part()
        self.report = TickReport(dispatch_id=dispatch_id or uuid.uuid4().hex)
        self._lateness: dict[str, int] = {}
        # Posts due in each second, counted over the whole index (see lead_seconds).
        self._due_in_second: Counter[str] = Counter()
        self._agreed: dict[str, float] = {}  # second -> the burst lead the parts agreed on
        self._writers: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    # --- sending ----------------------------------------------------------------------------
    def send(self, entries: list[DueEntry]) -> list[DueEntry]:
        """SendMessageBatch in tens; returns the entries SQS did not accept."""
        failed: list[DueEntry] = []
        for start in range(0, len(entries), BATCH):
            batch = entries[start : start + BATCH]
            now = self.ports.clock.now()
            messages = [
                (message_body(e), delay_for(e.scheduled_for, now, self.lead(e))) for e in batch
            ]
            try:
                refused = self.ports.queue.send_batch(messages)
            except Exception:  # noqa: BLE001 - the journal keeps them; the next tick re-sends
                logger.exception("SendMessageBatch failed", extra={"posts": len(batch)})
                failed.extend(batch)
                continue
            failed.extend(batch[i] for i in refused)
        return failed

    def lead(self, entry: DueEntry) -> float:
        """The entry's lead. A burst's is the one the parts agreed on (the first part to reach
        its second stores its own: DispatchJournal.agree_lead), so its messages become visible
        within the same second whatever each part made of the burst's size; else they would
        arrive over several seconds and the mapping's windows would gather uneven batches."""
        second = its_second(entry.scheduled_for)
        own = lead_seconds(self.settings, self._due_in_second[second])
        if own <= self.settings.dispatch_early_seconds:
            return own  # not a burst: nothing to agree on
        with self._lock:
            agreed = self._agreed.get(second)
        if agreed is None:
            try:
                agreed = self.journal.agree_lead(second, own)
            except Exception:  # noqa: BLE001 - its own estimate is still a lead
                logger.warning("could not agree a burst's lead", extra={"second": second})
                return own
            with self._lock:
                self._agreed[second] = agreed
        return agreed

    def dispatch_chunk(self, chunk: list[DueEntry], index: int) -> None:
        journal_sk = self.journal.open(
            self.report.dispatch_id,
            index,
            [(e.business_id, e.post_id, e.scheduled_for) for e in chunk],
            self.ports.clock.now(),
            self.settings.dispatch_journal_stale_seconds,
        )

        def queue(entry: DueEntry) -> DueEntry | None:
            return self.repo.mark_queued(entry, self.report.dispatch_id)

        pool = self._writers
        won = list(pool.map(queue, chunk)) if pool and len(chunk) > 1 else [queue(e) for e in chunk]
        winners = [e for e in won if e is not None]
        failed = self.send(winners) if winners else []
        with self._lock:  # chunks run on several threads
            self.report.lost_race += len(chunk) - len(winners)
            self.report.sent += len(winners) - len(failed)
            self.report.send_failures += len(failed)
        if failed:
            logger.warning(
                "messages not accepted; the journal keeps them for the next tick",
                extra={"journal": journal_sk, "posts": [e.post_id for e in failed]},
            )
            return
        self.journal.close(journal_sk)

    # --- lateness ---------------------------------------------------------------------------
    def max_lateness(self, business_id: str) -> int:
        if business_id not in self._lateness:
            seconds = self.settings.max_lateness_seconds
            try:
                override = self.ports.businesses.get(business_id).max_lateness_seconds
            except NotFound:
                override = None
            self._lateness[business_id] = override if override is not None else seconds
        return self._lateness[business_id]

    def miss(self, entry: DueEntry, now: datetime) -> None:
        late = (now - parse_iso(entry.scheduled_for)).total_seconds()
        reason = (
            f"not published: found {int(late)} s after its time, later than the business's "
            f"maximum lateness of {self.max_lateness(entry.business_id)} s"
        )
        if not self.repo.mark_missed(entry, reason):
            self.report.lost_race += 1
            return
        self.report.missed += 1
        self.report.missed_posts.append(entry.post_id)
        emit(
            self.ports.events,
            "post.missed",
            {
                "business_id": entry.business_id,
                "post_id": entry.post_id,
                "scheduled_for": entry.scheduled_for,
                "late_seconds": int(late),
                "reason": reason,
            },
        )

    # --- recovery ---------------------------------------------------------------------------
    def recover(self, now: datetime) -> None:
        stale = self.settings.dispatch_journal_stale_seconds
        for journal in self.journal.stale(now):
            if not self.journal.claim(journal, now, stale):
                continue
            self._recover_one(journal)

    def _recover_one(self, journal: JournalEntry) -> None:
        entries = [
            DueEntry(biz, post_id, when, f"{when}#{post_id}")
            for biz, post_id, when in journal.posts
        ]
        state = self.repo.statuses(entries)
        # Only posts this journal's tick queued and no worker has touched yet.
        resend = [
            e
            for e in entries
            if state.get(e.post_id, {}).get("status") == "queued"
            and state[e.post_id].get("dispatch_id") == journal.dispatch_id
        ]
        self._due_in_second.update(its_second(e.scheduled_for) for e in resend)
        failed = self.send(resend) if resend else []
        self.report.recovered += len(resend) - len(failed)
        if not failed:
            self.journal.close(journal.sk)
        logger.warning(
            "recovered a dispatch journal left by a tick that did not finish",
            extra={"dispatch_id": journal.dispatch_id, "resent": len(resend) - len(failed)},
        )

    # --- the tick ---------------------------------------------------------------------------
    def run(self, now: datetime, time_left_ms: Callable[[], int]) -> TickReport:
        s = self.settings
        entries = self.repo.due(
            now + timedelta(seconds=s.lookahead_seconds), shards=self.part.shards(s.due_shards)
        )
        self.report.due = len(entries)
        self._due_in_second = Counter(
            {
                second: count * self.part.parts
                for second, count in Counter(its_second(e.scheduled_for) for e in entries).items()
            }
        )
        if self.part.part == 0:
            # After the count: what a dead tick left of a burst goes with the burst's lead.
            self.recover(now)
        now_iso = isoformat(now)
        overdue = [e for e in entries if e.scheduled_for <= now_iso]
        upcoming = [e for e in entries if e.scheduled_for > now_iso]
        self.report.overdue = len(overdue)

        to_send: list[DueEntry] = []
        for entry in overdue:  # oldest first: the index is sorted by time
            late = (now - parse_iso(entry.scheduled_for)).total_seconds()
            if late > self.max_lateness(entry.business_id):
                self.miss(entry, now)
            else:
                to_send.append(entry)
        chunks = [to_send[i : i + BATCH] for i in range(0, len(to_send), BATCH)]
        first_upcoming = len(chunks)
        chunks += [upcoming[i : i + BATCH] for i in range(0, len(upcoming), BATCH)]

        def run_chunk(index: int) -> None:
            if time_left_ms() < s.tick_safety_ms:
                with self._lock:
                    self.report.left_for_next_tick += len(chunks[index])
                return
            self.dispatch_chunk(chunks[index], index)

        # Overdue chunks one after another, so the oldest really go first; the rest carry
        # their own delay, so their order does not matter and they go in parallel. The ten
        # conditional writes of a chunk run in parallel on a shared pool of writers.
        with ThreadPoolExecutor(max_workers=s.dispatch_parallel_chunks * BATCH) as writers:
            self._writers = writers
            for index in range(first_upcoming):
                run_chunk(index)
            with ThreadPoolExecutor(max_workers=s.dispatch_parallel_chunks) as pool:
                list(pool.map(run_chunk, range(first_upcoming, len(chunks))))
            self._writers = None
        return self.report


def dispatch_due(
    ports: TickPorts,
    now: datetime | None = None,
    *,
    time_left_ms: Callable[[], int] | None = None,
    part: Part | None = None,
) -> TickReport:
    """Run one tick, over the whole due index or one `part` of it. `time_left_ms` is the
    Lambda context's get_remaining_time_in_millis."""
    dispatcher = Dispatcher(ports, part=part)
    report = dispatcher.run(now or ports.clock.now(), time_left_ms or (lambda: 10**9))
    logger.info(
        "tick finished",
        extra={**report.as_dict(), "part": dispatcher.part.part, "parts": dispatcher.part.parts},
    )
    return report


def dispatch_now(ports: TickPorts, entry: DueEntry) -> bool:
    """Queue and send one post at once (the API does this for a post due before the next tick
    could see it). False when a tick got there first."""
    dispatcher = Dispatcher(ports)
    dispatcher.dispatch_chunk([entry], 0)
    return dispatcher.report.sent == 1


def emit(events: EventPublisher, event_type: str, payload: dict[str, Any]) -> None:
    """Publish a post event; a lost event must not undo the state change it reports."""
    try:
        events.publish(event_type, payload, dedupe_key=f"{payload['post_id']}:{event_type}")
    except Exception:  # noqa: BLE001 - the post's state is the record; the event is a courtesy
        logger.exception("could not publish event", extra={"event_type": event_type})
