"""Lambda events built from the stored `sam local generate-event` samples."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any
from urllib.parse import urlencode

from tests.conftest import load_event

_HTTP = load_event("http_api_v2.json")


def http_event(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
    source_ip: str = "203.0.113.10",
    request_id: str = "req-1",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload v2) event for one request."""
    event = copy.deepcopy(_HTTP)
    event["rawPath"] = path
    event["rawQueryString"] = urlencode(query or {})
    event["queryStringParameters"] = dict(query or {}) or None
    event["headers"] = {k.lower(): v for k, v in (headers or {}).items()}
    event["cookies"] = []
    ctx = event["requestContext"]
    ctx["http"].update({"method": method, "path": path, "sourceIp": source_ip})
    ctx["requestId"] = request_id
    ctx.pop("authorizer", None)
    ctx.pop("authentication", None)
    event["pathParameters"] = None
    event["stageVariables"] = None
    if body is None:
        event.pop("body", None)
        event["isBase64Encoded"] = False
    else:
        raw = body if isinstance(body, bytes | str) else json.dumps(body)
        raw_bytes = raw.encode() if isinstance(raw, str) else raw
        event["body"] = base64.b64encode(raw_bytes).decode()
        event["isBase64Encoded"] = True
        event["headers"].setdefault("content-type", "application/json")
    return event


def response_json(response: dict[str, Any]) -> Any:
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return json.loads(body) if body else None


def header(response: dict[str, Any], name: str) -> str | None:
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None
