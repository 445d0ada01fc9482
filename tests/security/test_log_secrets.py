"""The watch that searches every log line of the suite for secrets (tests/security/secret_watch.py)
catches what it is there to catch, and lets Herald's redacted lines through."""

from __future__ import annotations

import logging
import secrets

import pytest
from cryptography.fernet import Fernet

from herald.auth import issue_key
from herald.observability import logger
from tests.security.secret_watch import SecretLogWatch


@pytest.fixture
def watch(request: pytest.FixtureRequest) -> SecretLogWatch:
    plugin = request.config.pluginmanager.get_plugin("herald-secret-log-watch")
    assert isinstance(plugin, SecretLogWatch)
    return plugin


def _lines_since(watch: SecretLogWatch, start: int) -> list[tuple[str, str, str]]:
    return watch.lines[start:]


def test_every_issued_api_key_is_known_to_the_watch(watch: SecretLogWatch) -> None:
    issued = issue_key("biz_watch")

    assert issued.key.rpartition(".")[2] in watch.secrets


def test_sandbox_tokens_and_fernet_keys_are_known_to_the_watch(watch: SecretLogWatch) -> None:
    token = secrets.token_urlsafe(24)
    key = Fernet.generate_key().decode()

    assert token in watch.secrets
    assert key.rstrip("=") in watch.secrets


def test_a_secret_in_a_foreign_library_log_line_is_a_leak(watch: SecretLogWatch) -> None:
    token = secrets.token_urlsafe(24)
    start = len(watch.lines)
    logging.getLogger("some.library").warning("sending access_token=%s", token)
    emitted = _lines_since(watch, start)
    # Forget the line again, or the watch would (rightly) fail this test at teardown.
    del watch.lines[start:]

    assert [leak.secret for leak in watch.leaks_in(emitted)] == [token]


def test_a_secret_inside_a_longer_value_is_a_leak(watch: SecretLogWatch) -> None:
    token = secrets.token_urlsafe(24)
    start = len(watch.lines)
    logging.getLogger("some.library").warning("header X-Token: AQV%sZZ", token)
    emitted = _lines_since(watch, start)
    del watch.lines[start:]

    assert watch.leaks_in(emitted)


def test_herald_lines_are_searched_as_they_ship_after_redaction(watch: SecretLogWatch) -> None:
    issued = issue_key("biz_watch")
    start = len(watch.lines)
    logger.info(f"key {issued.key} used", extra={"access_token": secrets.token_urlsafe(24)})
    emitted = _lines_since(watch, start)

    assert emitted, "Herald's logger reaches the watch"
    assert watch.leaks_in(emitted) == []


def test_an_api_key_shape_is_a_leak_even_when_the_suite_did_not_make_it(
    watch: SecretLogWatch,
) -> None:
    start = len(watch.lines)
    logging.getLogger("some.library").warning("key hrld_%s", "k" * 43)
    emitted = _lines_since(watch, start)
    del watch.lines[start:]

    assert len(watch.leaks_in(emitted)) == 1
