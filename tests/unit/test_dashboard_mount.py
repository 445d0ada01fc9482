"""The API serves the dashboard's built files at /app, and runs without them when not built."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from herald.api import app as app_module
from herald.api.app import create_app


async def get(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path)


async def test_the_built_page_is_served_at_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>Herald</title>")
    monkeypatch.setattr(app_module, "DASHBOARD_DIR", tmp_path)

    response = await get("/app/")

    assert response.status_code == 200
    assert "<title>Herald</title>" in response.text


async def test_the_oauth_return_keeps_its_query_on_the_way_to_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "index.html").write_text("<!doctype html>")
    monkeypatch.setattr(app_module, "DASHBOARD_DIR", tmp_path)

    response = await get("/app?connected=acc_1&platform=x")

    assert response.status_code == 307
    assert response.headers["location"].endswith("/app/?connected=acc_1&platform=x")


async def test_without_a_build_there_is_no_app_route(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "DASHBOARD_DIR", tmp_path / "missing")

    response = await get("/app/")

    assert response.status_code == 404
