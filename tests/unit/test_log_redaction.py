"""No token or secret reaches the logs, wherever a caller puts it."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import httpx
import pytest

from herald.observability import logger
from herald.redaction import redact_text

API_KEY = "hrld_" + "A" * 43
ACCESS_TOKEN = "AQXdSP_very-secret-linkedin-access-token_0123456789"
FERNET = "gAAAAABlZ" + "x" * 60


def _emit_and_read(emit: Any) -> str:
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        emit()
    finally:
        handler.setStream(previous)
    return buffer.getvalue()


def test_a_bearer_header_in_the_message_is_redacted() -> None:
    out = _emit_and_read(lambda: logger.info(f"calling with Authorization: Bearer {ACCESS_TOKEN}"))

    assert ACCESS_TOKEN not in out
    assert "Bearer [REDACTED]" in out


def test_a_herald_api_key_in_the_message_is_redacted() -> None:
    out = _emit_and_read(lambda: logger.info(f"key {API_KEY} was used"))

    assert API_KEY not in out


def test_a_key_naming_its_business_is_redacted_secret_and_all() -> None:
    key = "hrld_biz_01jabcdefghjkmnpqrstvwxyz0." + "S" * 43
    out = _emit_and_read(lambda: logger.info(f"key {key} was used"))
    assert "S" * 43 not in out
    assert "biz_01jabcdefghjkmnpqrstvwxyz0" not in out


def test_token_valued_extra_keys_are_redacted_whatever_their_value() -> None:
    out = _emit_and_read(
        lambda: logger.info(
            "token refreshed",
            extra={"access_token": ACCESS_TOKEN, "client_secret": "s3cr3t-value", "account": "a1"},
        )
    )
    line = json.loads(out)

    assert line["access_token"] == "[REDACTED]"
    assert line["client_secret"] == "[REDACTED]"
    assert line["account"] == "a1"
    assert ACCESS_TOKEN not in out


def test_a_platform_response_logged_whole_loses_its_tokens() -> None:
    body = json.dumps({"access_token": ACCESS_TOKEN, "expires_in": 5184000})

    out = _emit_and_read(lambda: logger.info("platform answered", extra={"response": body}))

    assert ACCESS_TOKEN not in out
    assert "5184000" in out


def test_tokens_in_nested_extra_values_and_query_strings_are_redacted() -> None:
    out = _emit_and_read(
        lambda: logger.info(
            "request",
            extra={
                "details": {"url": f"https://x.example/cb?code=abc123&access_token={ACCESS_TOKEN}"},
                "sealed": [FERNET],
            },
        )
    )

    assert ACCESS_TOKEN not in out
    assert FERNET not in out
    assert "abc123" not in out


def test_an_exception_message_carrying_a_token_is_redacted() -> None:
    def emit() -> None:
        try:
            raise RuntimeError(f"refresh failed for refresh_token={ACCESS_TOKEN}")
        except RuntimeError:
            logger.exception("refresh failed")

    out = _emit_and_read(emit)

    assert ACCESS_TOKEN not in out
    assert "refresh failed" in out


def test_httpx_request_lines_lose_the_secrets_in_their_query_string(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Meta's token exchange is a GET with the app secret and the short-lived token in the URL.
    url = (
        "https://graph.facebook.com/v24.0/oauth/access_token?grant_type=fb_exchange_token"
        f"&fb_exchange_token={ACCESS_TOKEN}&client_id=42&client_secret=app-secret-0123456789"
    )
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
    with caplog.at_level(logging.INFO, logger="httpx"), httpx.Client(transport=transport) as http:
        http.get(url)

    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines, "httpx logs the request at INFO"
    assert not [line for line in lines if ACCESS_TOKEN in line or "app-secret" in line]
    assert "client_secret=[REDACTED]" in lines[0]


def test_an_oauth_state_in_a_url_is_redacted() -> None:
    out = redact_text("GET /api/v1/oauth/x/callback?code=abc123&state=Zm9vYmFyYmF6cXV1eDEyMzQ1Ng")

    assert "Zm9vYmFyYmF6cXV1eDEyMzQ1Ng" not in out
