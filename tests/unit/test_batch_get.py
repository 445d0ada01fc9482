"""BatchGetItem's unprocessed keys: retried after a pause, never dropped, never forever."""

from __future__ import annotations

from typing import Any

import pytest

from herald.store.table import batch_get


class ThrottledClient:
    """Leaves the second key unprocessed `throttled` times, as DynamoDB does under load."""

    def __init__(self, throttled: int) -> None:
        self.throttled = throttled
        self.calls: list[dict[str, Any]] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(RequestItems)
        keys = RequestItems["t"]["Keys"]
        if self.throttled and len(keys) > 1:
            self.throttled -= 1
            return {"Responses": {"t": [keys[0]]}, "UnprocessedKeys": {"t": {"Keys": keys[1:]}}}
        if self.throttled:
            self.throttled -= 1
            return {"Responses": {"t": []}, "UnprocessedKeys": {"t": {"Keys": keys}}}
        return {"Responses": {"t": keys}, "UnprocessedKeys": {}}


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    pauses: list[float] = []
    monkeypatch.setattr("herald.store.table.time.sleep", pauses.append)
    return pauses


def test_unprocessed_keys_are_asked_for_again_after_a_growing_pause(no_sleep: list[float]) -> None:
    client = ThrottledClient(throttled=3)

    items = batch_get(client, "t", {"Keys": [{"k": 1}, {"k": 2}]})

    assert items == [{"k": 1}, {"k": 2}]
    assert [c["t"]["Keys"] for c in client.calls[1:]] == [[{"k": 2}]] * 3
    assert len(no_sleep) == 3
    assert no_sleep == sorted(no_sleep)


def test_keys_still_unprocessed_after_the_retries_are_an_error_not_a_silent_gap() -> None:
    with pytest.raises(RuntimeError, match="unprocessed"):
        batch_get(ThrottledClient(throttled=100), "t", {"Keys": [{"k": 1}, {"k": 2}]})
