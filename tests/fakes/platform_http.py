"""A scripted platform behind httpx.MockTransport: answers per (method, path), records requests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class FakePlatform:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self._routes: dict[tuple[str, str], list[Answer]] = {}

    def on(self, method: str, path: str, *answers: Answer) -> FakePlatform:
        """Answers are used in order; the last one keeps answering."""
        self._routes[(method, path)] = list(answers)
        return self

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self._handle))

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answers = self._routes.get((request.method, request.url.path))
        if not answers:
            return httpx.Response(404, json={"message": f"no route {request.url.path}"})
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


# example.com's address: a public host for image URLs the MockTransport answers.
PUBLIC_ADDRESS = "93.184.215.14"


async def resolves_public(host: str, port: int) -> list[str]:
    return [PUBLIC_ADDRESS]
