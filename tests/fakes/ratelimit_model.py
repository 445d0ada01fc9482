"""A reference model of the rate limiter, written apart from it: exact token buckets.

Each policy is a bucket of `limit` tokens refilled at one token per emission interval, kept as an
exact Fraction. A request is admitted when every bucket holds a whole token, and then takes one
from each. This is the token-bucket form of GCRA; the limiter keeps a theoretical arrival time
instead, so agreeing with this model on random timelines checks its arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from herald.ratelimit import Policy


@dataclass
class TokenBuckets:
    policies: Sequence[Policy]
    tokens: list[Fraction] = field(default_factory=list)
    last_us: int | None = None

    def __post_init__(self) -> None:
        self.tokens = [Fraction(p.limit) for p in self.policies]

    def hit(self, now_us: int) -> bool:
        if self.last_us is not None:
            elapsed = max(0, now_us - self.last_us)
            self.tokens = [
                min(Fraction(p.limit), t + Fraction(elapsed, p.interval_us))
                for p, t in zip(self.policies, self.tokens, strict=True)
            ]
        self.last_us = now_us if self.last_us is None else max(self.last_us, now_us)
        if all(t >= 1 for t in self.tokens):
            self.tokens = [t - 1 for t in self.tokens]
            return True
        return False

    def remaining(self) -> list[int]:
        return [int(t) for t in self.tokens]
