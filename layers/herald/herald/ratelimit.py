"""Rate limits shared by every Lambda instance through Redis: GCRA, one round trip per request.

A policy "N/period" is a bucket of N requests refilled continuously at N per period (GCRA, the
exact form of a token bucket with one number of state). A fresh subject may send N at once, then
one every period/N; over any span of length L at most N + L*N/period requests are admitted, so
any window of one period admits at most 2N-1 (a fixed window, slowapi's default, admits 2N across
a boundary), and the long-run rate is exactly N per period.

Every policy that applies to a request is checked and updated by one Lua script
(`herald/lua/ratelimit.lua`) in one EVALSHA: nothing is counted unless all of them admit it. The
script is sent once per Redis (on NOSCRIPT) and addressed by its SHA-1 after that.

Keys are `herald:rl:{<subject>}:<policy>`: the subject is the hash tag, so all of a request's keys
live in one slot of a cluster (serverless ElastiCache included).

A request that turns out not to count (a replayed Idempotency-Key, a publish refused as invalid:
see herald.api.ratelimit) is given back with `refund`, one more script (`lua/ratelimit_refund.lua`)
that moves each policy's state back by one request, never past a full bucket.

When Redis fails or times out the limiter fails open to an in-process limiter (same algorithm, an
LRU of bucket states per Lambda instance, so the effective limit is per instance meanwhile), logs a
warning and emits `RateLimiterDegraded`; it tries Redis again at most once a second and goes back
by itself when Redis answers.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from herald.observability import logger, metrics

if TYPE_CHECKING:
    from herald.settings import Settings

SCRIPT = (Path(__file__).parent / "lua" / "ratelimit.lua").read_bytes()
SCRIPT_SHA = hashlib.sha1(SCRIPT, usedforsecurity=False).hexdigest()
REFUND_SCRIPT = (Path(__file__).parent / "lua" / "ratelimit_refund.lua").read_bytes()
REFUND_SHA = hashlib.sha1(REFUND_SCRIPT, usedforsecurity=False).hexdigest()
GROUPS = ("oauth", "publish", "analytics", "auth_failures", "default")
KEY_PREFIX = "herald:rl"
DEGRADED_METRIC = "RateLimiterDegraded"

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86_400}
_SPEC = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d+)?\s*(second|minute|hour|day)s?\s*$", re.I)
_US = 1_000_000


@dataclass(frozen=True)
class Policy:
    name: str
    limit: int
    period: int  # seconds

    @property
    def interval_us(self) -> int:
        # Whole microseconds keep every instant exact in Lua's doubles; rounding the interval
        # changes the rate by under a microsecond per request.
        return max(1, round(self.period * _US / self.limit))


def parse_policy(name: str, spec: str) -> Policy:
    """`"20/hour"`, `"20 per hour"` or `"5/10 minutes"` as a Policy named `name`."""
    match = _SPEC.match(spec)
    if match is None or int(match[1]) < 1:
        raise ValueError(f"rate limit {name}={spec!r}: expected 'N/second|minute|hour|day'")
    period = int(match[2] or 1) * _UNITS[match[3].lower()]
    return Policy(name=name, limit=int(match[1]), period=period)


def policies_from_settings(settings: Settings) -> dict[str, Policy]:
    return {g: parse_policy(g, getattr(settings, f"rate_limit_{g}")) for g in GROUPS}


@dataclass(frozen=True)
class PolicyState:
    policy: Policy
    remaining: int
    reset: float  # seconds until the bucket is full again
    retry_after: float  # seconds until this policy admits a request; 0 when it admitted this one

    @property
    def more_in(self) -> float:
        """Seconds until more quota is available: the draft's `t` since revision 10, which a
        continuously refilled bucket answers with the time to its next request. After a
        refusal it is the Retry-After; with none left, when the next request is admitted."""
        if self.retry_after > 0:
            return self.retry_after
        if self.remaining >= self.policy.limit:
            return 0.0
        interval = self.policy.interval_us / _US
        free = self.policy.limit * interval - self.reset
        return max(0.0, (self.remaining + 1) * interval - free)

    def given_back(self) -> PolicyState:
        """As it is after `refund` gave this policy one request back."""
        interval = self.policy.interval_us / _US
        return PolicyState(
            self.policy,
            min(self.policy.limit, self.remaining + 1),
            max(0.0, self.reset - interval),
            0.0,
        )


@dataclass(frozen=True)
class Decision:
    admitted: bool
    states: tuple[PolicyState, ...]
    degraded: bool = False
    at_us: int = 0  # when it was decided, on the limiter's clock (Redis' own in production)

    @property
    def retry_after(self) -> float:
        return max((s.retry_after for s in self.states), default=0.0)

    def given_back(self, names: set[str]) -> Decision:
        """This admitted decision once `refund` gave the named policies one request back."""
        states = tuple(s.given_back() if s.policy.name in names else s for s in self.states)
        return Decision(self.admitted, states, self.degraded, self.at_us)

    @property
    def closest(self) -> PolicyState:
        """The policy nearest to refusing: the one that refused longest, else the fewest left."""
        if not self.admitted:
            return max(self.states, key=lambda s: s.retry_after)
        return min(self.states, key=lambda s: (s.remaining, -s.reset))


def gcra(
    tats: Sequence[int | None], policies: Sequence[Policy], now: int
) -> tuple[bool, list[int], list[tuple[int, int, int]]]:
    """The script's arithmetic in Python (microseconds): admitted, new TATs, and per policy
    (remaining, reset, retry). The in-process fallback runs on it."""
    new_tats: list[int] = []
    out: list[tuple[int, int, int]] = []
    admitted = True
    for stored, policy in zip(tats, policies, strict=True):
        interval = policy.interval_us
        capacity = interval * policy.limit
        tat = max(stored if stored is not None else now, now)
        filled = tat + interval - now
        if filled > capacity:
            admitted = False
            out.append((0, tat - now, filled - capacity))
        else:
            out.append(((capacity - filled) // interval, filled, 0))
        new_tats.append(tat + interval)
    if not admitted:
        # Nothing was counted: the policies that would have admitted report what is still left.
        out = [
            (r + 1, reset - p.interval_us, 0) if retry == 0 else (r, reset, retry)
            for p, (r, reset, retry) in zip(policies, out, strict=True)
        ]
    return admitted, new_tats, out


def _decision(
    admitted: bool,
    policies: Sequence[Policy],
    raw: Iterable[tuple[int, int, int]],
    at_us: int,
    degraded: bool = False,
) -> Decision:
    states = tuple(
        PolicyState(p, int(r), int(reset) / _US, int(retry) / _US)
        for p, (r, reset, retry) in zip(policies, raw, strict=True)
    )
    return Decision(admitted=admitted, states=states, degraded=degraded, at_us=at_us)


def _is_redis_failure(exc: BaseException) -> bool:
    from redis.exceptions import RedisError

    return isinstance(exc, RedisError | OSError | TimeoutError)


class LocalLimiter:
    """GCRA in this process: the fallback while Redis is away. Memory is bounded by evicting the
    least recently used subject; an evicted bucket starts full again, which only errs open."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self.max_keys = max_keys
        self._tats: OrderedDict[str, int] = OrderedDict()

    def __len__(self) -> int:
        return len(self._tats)

    def hit(self, keys: Sequence[str], policies: Sequence[Policy], now: int) -> Decision:
        admitted, new_tats, raw = gcra([self._tats.get(k) for k in keys], policies, now)
        if admitted:
            for key, tat in zip(keys, new_tats, strict=True):
                self._tats[key] = tat
                self._tats.move_to_end(key)
            while len(self._tats) > self.max_keys:
                self._tats.popitem(last=False)
        return _decision(admitted, policies, raw, now, degraded=True)

    def refund(self, keys: Sequence[str], policies: Sequence[Policy], now: int) -> None:
        for key, policy in zip(keys, policies, strict=True):
            tat = self._tats.get(key)
            if tat is None:
                continue
            if tat - policy.interval_us > now:
                self._tats[key] = tat - policy.interval_us
            else:
                del self._tats[key]

    def clear(self) -> None:
        self._tats.clear()


class RateLimiter:
    """Checks a subject against policies in Redis, falling back to a LocalLimiter.

    `now_us` is the clock the policies run on; None (production) means Redis' own clock, one for
    every instance. Tests pass their own to move time without sleeping.
    """

    def __init__(
        self,
        redis: Any,
        policies: Mapping[str, Policy],
        *,
        now_us: Callable[[], int] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        retry_every: float = 1.0,
        fallback: LocalLimiter | None = None,
        prefix: str = KEY_PREFIX,
        max_refusals: int = 10_000,
    ) -> None:
        self.redis = redis
        self.policies = dict(policies)
        self.fallback = fallback or LocalLimiter()
        self.prefix = prefix
        self._now_us = now_us
        self._monotonic = monotonic
        self._retry_every = retry_every
        self._retry_at: float | None = None  # set while degraded
        # (subject, policy names) -> (when refused, until when, the refusal), newest last
        self._refusals: OrderedDict[tuple[str, tuple[str, ...]], tuple[int, int, Decision]] = (
            OrderedDict()
        )
        self._max_refusals = max_refusals
        self._specs: dict[tuple[Policy, ...], str] = {}

    @property
    def degraded(self) -> bool:
        return self._retry_at is not None

    def for_group(self, group: str) -> tuple[Policy, ...]:
        """A route group's policies: its own plus the per-subject ceiling `default`.
        Failed authentication has its own budget, apart from the ceiling."""
        if group in ("default", "auth_failures"):
            return (self.policies[group],)
        return (self.policies[group], self.policies["default"])

    def key(self, subject: str) -> str:
        """The subject's hash in Redis, one field per policy; the subject is the hash tag."""
        tag = subject.replace("{", "(").replace("}", ")")
        return f"{self.prefix}:{{{tag}}}"

    def known_refusal(self, subject: str, policies: Sequence[Policy]) -> Decision | None:
        """A refusal this instance saw and that still holds, without asking Redis.

        Sound because a refusal writes nothing and other requests only push a bucket further
        from admitting: until the retry time passes, Redis would refuse again."""
        key = (subject, tuple(p.name for p in policies))
        entry = self._refusals.get(key)
        if entry is None:
            return None
        at, until, decision = entry
        now = self._local_now()
        if now >= until:
            del self._refusals[key]
            return None
        elapsed = (now - at) / _US
        states = tuple(
            PolicyState(
                s.policy,
                s.remaining,
                max(0.0, s.reset - elapsed),
                max(0.0, s.retry_after - elapsed),
            )
            for s in decision.states
        )
        return Decision(admitted=False, states=states, degraded=decision.degraded, at_us=now)

    async def hit(self, subject: str, policies: Sequence[Policy]) -> Decision:
        """Count one request for `subject` against `policies` if all of them admit it."""
        decision = await self._check(self.key(subject), tuple(policies))
        if not decision.admitted:
            self._remember_refusal(subject, policies, decision)
        return decision

    async def refund(self, subject: str, policies: Sequence[Policy]) -> None:
        """Give one admitted request back to `policies` (best effort: on a Redis failure the
        request stays counted, which only errs on the strict side)."""
        if not policies:
            return
        key = self.key(subject)
        if self._retry_at is not None:
            keys = [f"{key}:{p.name}" for p in policies]
            self.fallback.refund(keys, policies, self._local_now())
            return
        spec = ";".join(f"{p.name} {p.interval_us}" for p in policies)
        now = "" if self._now_us is None else str(self._now_us())
        try:
            await self._evalsha(key, now, spec, REFUND_SCRIPT, REFUND_SHA)
        except Exception as exc:
            if not _is_redis_failure(exc):
                raise
            logger.warning(
                "rate limit refund not made: Redis unavailable",
                extra={"error_type": type(exc).__name__},
            )

    async def _check(self, key: str, policies: tuple[Policy, ...]) -> Decision:
        if self._retry_at is not None and self._monotonic() < self._retry_at:
            return self._local(key, policies)
        spec = self._specs.get(policies)
        if spec is None:
            spec = self._specs[policies] = ";".join(
                f"{p.name} {p.interval_us} {p.limit}" for p in policies
            )
        now = "" if self._now_us is None else str(self._now_us())
        try:
            reply = await self._evalsha(key, now, spec)
        except Exception as exc:
            if not _is_redis_failure(exc):
                raise
            self._degrade(exc)
            return self._local(key, policies)
        if self._retry_at is not None:
            self._recover()
        fields = [int(x) for x in reply.split()]
        triples = [(fields[i], fields[i + 1], fields[i + 2]) for i in range(2, len(fields), 3)]
        return _decision(fields[0] == 1, policies, triples, fields[1])

    async def _evalsha(
        self, key: str, now: str, spec: str, script: bytes = SCRIPT, sha: str = SCRIPT_SHA
    ) -> bytes:
        from redis.exceptions import NoScriptError

        try:
            reply: bytes = await self.redis.evalsha(sha, 1, key, now, spec)
        except NoScriptError:
            # First use on this Redis, or it restarted and lost its script cache.
            await self.redis.script_load(script)
            reply = await self.redis.evalsha(sha, 1, key, now, spec)
        return reply

    def _local(self, key: str, policies: tuple[Policy, ...]) -> Decision:
        keys = [f"{key}:{p.name}" for p in policies]
        return self.fallback.hit(keys, policies, self._local_now())

    def _degrade(self, exc: BaseException) -> None:
        if self._retry_at is None:
            logger.warning(
                "rate limiter degraded: Redis unavailable, limiting in process",
                extra={"error_type": type(exc).__name__},
            )
        self._retry_at = self._monotonic() + self._retry_every
        metrics.add_metric(name=DEGRADED_METRIC, unit="Count", value=1)

    def _recover(self) -> None:
        self._retry_at = None
        self.fallback.clear()
        logger.info("rate limiter back on Redis")

    def _local_now(self) -> int:
        return self._now_us() if self._now_us is not None else time.time_ns() // 1000

    def _remember_refusal(
        self, subject: str, policies: Sequence[Policy], decision: Decision
    ) -> None:
        key = (subject, tuple(p.name for p in policies))
        now = self._local_now()
        self._refusals[key] = (now, now + int(decision.retry_after * _US), decision)
        self._refusals.move_to_end(key)
        while len(self._refusals) > self._max_refusals:
            self._refusals.popitem(last=False)
