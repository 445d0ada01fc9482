"""Herald's one exception tree. Adapters translate foreign errors into it with `raise ... from`;
only `herald.api.problems` maps it to HTTP statuses.

    HeraldError
    ├── NotFound                 a resource does not exist, or belongs to another business
    ├── Conflict                 a state transition lost a race or is not allowed from here
    ├── Unauthorized             no, malformed or revoked API key
    ├── InvalidInput             request content that fails a rule (carries field errors)
    ├── RateLimited              a limiter policy refused (carries retry_after)
    ├── IdempotencyConflict      same Idempotency-Key, other body / still in flight
    ├── DependencyUnavailable    Redis, DynamoDB or a secret cannot be reached now
    └── PlatformError            a social platform refused or failed (see herald.platforms.base)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    code: str = "invalid"
    # The account a problem is about, when its field alone does not say (a platform's variant
    # is published by each account on the platform).
    target: str | None = None

    def as_dict(self) -> dict[str, str]:
        out = {"field": self.field, "message": self.message, "code": self.code}
        if self.target is not None:
            out["target"] = self.target
        return out


class HeraldError(Exception):
    """Base of everything Herald raises on purpose."""

    code: str = "herald_error"

    def __init__(self, detail: str = "", **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(HeraldError):
    code = "not_found"


class Conflict(HeraldError):
    code = "conflict"


class Unauthorized(HeraldError):
    code = "unauthorized"


class InvalidInput(HeraldError):
    code = "invalid_input"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


class RateLimited(HeraldError):
    code = "rate_limited"

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class IdempotencyConflict(HeraldError):
    code = "idempotency_conflict"

    def __init__(self, detail: str, in_flight: bool = False) -> None:
        super().__init__(detail)
        self.in_flight = in_flight


class DependencyUnavailable(HeraldError):
    code = "dependency_unavailable"

    def __init__(self, detail: str, component: str) -> None:
        super().__init__(detail)
        self.component = component
