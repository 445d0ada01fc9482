"""RFC 9457 problem details: the one place that knows HTTP statuses.

Every error response is `application/problem+json` with `type`, `title`, `status`, `detail`, and
for validation failures `errors`: a list of `{field, message, code}`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from herald import errors
from herald.observability import logger

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://herald.dev/problems/"

_STATUS: dict[type[errors.HeraldError], tuple[int, str]] = {
    errors.NotFound: (404, "Not Found"),
    errors.Conflict: (409, "Conflict"),
    errors.Unauthorized: (401, "Unauthorized"),
    errors.InvalidInput: (422, "Invalid input"),
    errors.RateLimited: (429, "Too Many Requests"),
    errors.IdempotencyConflict: (422, "Idempotency key reused"),
    errors.DependencyUnavailable: (503, "Service Unavailable"),
}


class ProblemResponse(Response):
    media_type = PROBLEM_JSON

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    code: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code.replace("_", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return ProblemResponse(body, status_code=status, headers=headers)


def from_herald_error(exc: errors.HeraldError) -> ProblemResponse:
    status, title = 500, "Internal Server Error"
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            status, title = _STATUS[cls]
            break
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(exc, errors.InvalidInput):
        extra["errors"] = [e.as_dict() for e in exc.errors]
    if isinstance(exc, errors.RateLimited):
        # Rounded up as the RateLimit fields round `t`, so the two agree to the second.
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    if isinstance(exc, errors.Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="herald"'
    if isinstance(exc, errors.IdempotencyConflict) and exc.in_flight:
        status, title = 409, "Request in progress"
    if isinstance(exc, errors.DependencyUnavailable):
        extra["component"] = exc.component
        headers["Retry-After"] = "5"
    extra.update({k: v for k, v in exc.extra.items() if k not in extra})
    return problem(status, title, exc.detail or title, code=exc.code, headers=headers, **extra)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _validation(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    field_errors = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            return problem(
                400, "Malformed JSON", "the request body is not valid JSON", code="malformed_json"
            )
        field_errors.append(
            errors.FieldError(
                field=_field_name(tuple(err.get("loc", ()))),
                # A validator's own sentence, without pydantic's "Value error, " before it.
                message=str(err.get("msg", "invalid")).removeprefix("Value error, "),
                code=str(err.get("type", "invalid")),
            ).as_dict()
        )
    return problem(
        422,
        "Invalid input",
        f"{len(field_errors)} field(s) failed validation",
        code="validation_error",
        errors=field_errors,
    )


# Starlette's own refusals by status: (title, code), the codes spelled out so the dashboard's
# table of codes (dashboard/scripts/api_codes.py) reads them. Any other status is an "error".
_HTTP: dict[int, tuple[str, str]] = {
    404: ("Not Found", "not_found"),
    405: ("Method Not Allowed", "method_not_allowed"),
    413: ("Content Too Large", "content_too_large"),
}


async def _http(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    title, code = _HTTP.get(exc.status_code, ("Error", "error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem(exc.status_code, title, detail, code=code, headers=dict(exc.headers or {}))


async def _herald(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.HeraldError)
    return from_herald_error(exc)


async def _unhandled(_: Request, exc: Exception) -> Response:
    return await unhandled(exc)


async def unhandled(exc: Exception) -> ProblemResponse:
    # Logged with the correlation id the Logger carries; the client learns nothing internal.
    logger.exception("unhandled error", extra={"error_type": type(exc).__name__})
    return problem(
        500,
        "Internal Server Error",
        "an unexpected error occurred; it has been logged",
        code="internal_error",
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(errors.HeraldError, _herald)
    app.add_exception_handler(Exception, _unhandled)
    _document(app)


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message", "code"],
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}


def _document(app: FastAPI) -> None:
    """Describe error answers as they are sent: FastAPI documents its own 422 body as
    application/json, while every error here is problem+json (422 and any other status)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = build()
        spec.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for item in spec.get("paths", {}).values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = {"description": "Invalid input", "content": content}
                responses.setdefault(
                    "default", {"description": "An error (problem details)", "content": content}
                )
        for unused in ("HTTPValidationError", "ValidationError"):
            spec["components"]["schemas"].pop(unused, None)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
