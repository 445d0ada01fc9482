"""A pytest plugin that watches every log line the suite emits for a secret the suite made.

Every random secret in Herald and its sandbox comes from `secrets.token_urlsafe` (API keys, OAuth
states and PKCE verifiers, the sandbox's codes and tokens) or `Fernet.generate_key`; the plugin
wraps both to remember each value, alongside the fixed sandbox client secrets. A handler on the
root logger sees every record that passes its logger's level and formats it as it would ship:
Herald's own records through Herald's redacting formatter, anything else as its plain message and
traceback; httpx's request lines are among them, at INFO. After each test the lines it emitted are
searched for every secret known so far; at the end of the session all lines are searched again for
secrets made after the line was written. A leak fails the test that logged it (as a teardown error)
or, at the end, the session.
"""

from __future__ import annotations

import logging
import re
import secrets as secrets_module
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.fernet import Fernet

# Values that carry their own shape: an API key or a Fernet ciphertext in a line is a leak
# whoever made it.
_SHAPES = (
    re.compile(r"hrld_(?:[A-Za-z0-9_-]{1,64}\.)?[A-Za-z0-9_-]{43}"),
    re.compile(r"gAAAAA[A-Za-z0-9_-]{40,}"),
)
_RUN = re.compile(r"[A-Za-z0-9_-]{16,}")
_MIN_SECRET = 16


@dataclass
class Leak:
    test: str
    logger: str
    secret: str

    def describe(self) -> str:
        shown = self.secret[:6] + "..."
        return f"{self.test}: logger {self.logger!r} wrote a secret ({shown})"


@dataclass(eq=False)  # pluggy keeps plugins in sets
class SecretLogWatch:
    secrets: set[str] = field(default_factory=set)
    lines: list[tuple[str, str, str]] = field(default_factory=list)  # (test, logger, line)
    current_test: str = "<collection>"
    _first_line: int = 0
    reported: set[tuple[str, str]] = field(default_factory=set)
    _lengths: set[int] = field(default_factory=set)
    _undo: list[Callable[[], None]] = field(default_factory=list)

    # --- what counts as a secret -----------------------------------------------------------
    def remember(self, value: str | bytes) -> None:
        text = value.decode() if isinstance(value, bytes) else value
        # Fernet keys end in '=' padding, which a log line may or may not keep.
        text = text.rstrip("=")
        if len(text) >= _MIN_SECRET:
            self.secrets.add(text)
            self._lengths.add(len(text))

    def _wrap_sources(self) -> None:
        original_urlsafe = secrets_module.token_urlsafe
        original_generate = Fernet.generate_key

        def token_urlsafe(nbytes: int | None = None) -> str:
            value = original_urlsafe(nbytes)
            self.remember(value)
            return value

        def generate_key(cls: type[Fernet]) -> bytes:
            value = original_generate()
            self.remember(value)
            return value

        secrets_module.token_urlsafe = token_urlsafe
        Fernet.generate_key = classmethod(generate_key)  # type: ignore[assignment,method-assign]
        self._undo.append(lambda: setattr(secrets_module, "token_urlsafe", original_urlsafe))
        self._undo.append(lambda: setattr(Fernet, "generate_key", original_generate))

        from herald.settings import SANDBOX_CLIENTS

        for _client_id, secret in SANDBOX_CLIENTS.values():
            self.remember(secret)

    # --- what counts as a log line ---------------------------------------------------------
    def _install_handler(self) -> None:
        watch = self
        plain = logging.Formatter("%(name)s %(levelname)s %(message)s")

        class Capture(logging.Handler):
            def filter(self, record: logging.LogRecord) -> bool:
                # Powertools puts a filter on every root handler that drops its own service's
                # records (they have their own handler); this one must see them all.
                return True

            def emit(self, record: logging.LogRecord) -> None:
                try:
                    line = _format(record, plain)
                except Exception as exc:  # a record that cannot be formatted never ships
                    line = f"<unformattable: {exc!r}>"
                watch.lines.append((watch.current_test, record.name, line))

        handler = Capture(level=logging.NOTSET)
        root = logging.getLogger()
        root.addHandler(handler)
        self._undo.append(lambda: root.removeHandler(handler))
        # httpx logs each request's URL at INFO, which a function whose log level is INFO ships:
        # the suite logs them too, so every URL Herald calls is searched.
        requests = logging.getLogger("httpx")
        was = requests.level
        requests.setLevel(logging.INFO)
        self._undo.append(lambda: requests.setLevel(was))

    def start(self) -> None:
        self._wrap_sources()
        self._install_handler()

    def stop(self) -> None:
        while self._undo:
            self._undo.pop()()

    # --- the search ------------------------------------------------------------------------
    def leaks_in(self, lines: Iterable[tuple[str, str, str]]) -> list[Leak]:
        found: list[Leak] = []
        lengths = sorted(self._lengths)
        for test, name, line in lines:
            for shape in _SHAPES:
                found.extend(Leak(test, name, m.group(0)) for m in shape.finditer(line))
            for run in _RUN.findall(line):
                hit = self._secret_within(run, lengths)
                if hit is not None:
                    found.append(Leak(test, name, hit))
        return found

    def _secret_within(self, run: str, lengths: list[int]) -> str | None:
        for length in lengths:
            if length > len(run):
                break
            for start in range(len(run) - length + 1):
                window = run[start : start + length]
                if window in self.secrets:
                    return window
        return None

    def _new(self, leaks: list[Leak]) -> list[Leak]:
        fresh = [x for x in leaks if (x.test, x.secret) not in self.reported]
        self.reported.update((x.test, x.secret) for x in fresh)
        return fresh

    # --- pytest hooks ----------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.current_test = item.nodeid
        self._first_line = len(self.lines)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, Any, Any]:
        result = yield
        mine = self.lines[self._first_line :]
        leaks = self._new(self.leaks_in(mine))
        self.current_test = "<between tests>"
        if leaks:
            raise AssertionError("secrets in log lines:\n" + "\n".join(x.describe() for x in leaks))
        return result

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        leaks = self._new(self.leaks_in(self.lines))
        self.stop()
        if leaks:
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            message = "secrets in log lines:\n" + "\n".join(x.describe() for x in leaks)
            if reporter is not None:
                reporter.write_line(message, red=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _format(record: logging.LogRecord, plain: logging.Formatter) -> str:
    if record.name == "herald" or record.name.startswith("herald."):
        # Herald's lines ship through its redacting formatter (herald.observability).
        from herald.observability import logger

        return logger.registered_formatter.format(record)
    return plain.format(record)
