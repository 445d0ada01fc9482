"""Replacements for moto's own methods, applied once per process and undone for tests: the one
mechanism behind herald.local.moto_sqs and herald.local.moto_dynamodb.

A patch is a list of (owner, attribute, replacement) that a module's `targets()` returns only
when moto's internals are the ones the replacements were written against, else None: moto is
then left as it is, with a warning (slower, still right).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("herald.local")

Targets = list[tuple[Any, str, Any]]
_INHERITED = object()  # the attribute was a base class's: `undo` removes the override


class Patches:
    def __init__(
        self,
        what: str,
        targets: Callable[[], Targets | None],
        on_undo: Callable[[], None] = lambda: None,
    ) -> None:
        self._what = what
        self._targets = targets
        self._on_undo = on_undo  # what the replacements cached, forgotten with them
        self._applied: Targets = []  # (owner, attribute, moto's original)

    def apply(self) -> bool:
        """Patch moto in this process (once); False, with a warning, when it cannot."""
        if self._applied:
            return True
        targets = self._targets()
        if targets is None:
            log.warning(
                "moto's %s internals are not the expected ones: left as they are (slower)",
                self._what,
            )
            return False
        for owner, name, replacement in targets:
            self._applied.append((owner, name, owner.__dict__.get(name, _INHERITED)))
            setattr(owner, name, replacement)
        return True

    def undo(self) -> None:
        """moto as it was (for tests that compare the two)."""
        while self._applied:
            owner, name, original = self._applied.pop()
            if original is _INHERITED:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        self._on_undo()

    def patched[T](self, fn: Callable[[], T]) -> T:
        """Run `fn` with the patch applied, then undo it (tests)."""
        self.apply()
        try:
            return fn()
        finally:
            self.undo()
