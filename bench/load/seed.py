"""Businesses for a load test: each with an API key (made with the admin command's function),
LinkedIn and X accounts connected through the sandbox's real OAuth over HTTP, and scheduled posts
to read. Written out for wrk's script as a Lua table."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from bench.load.services import Services


@dataclass
class SeededBusiness:
    business_id: str
    api_key: str
    accounts: dict[str, str] = field(default_factory=dict)
    post_ids: list[str] = field(default_factory=list)


def _create_business(services: Services, name: str) -> dict[str, Any]:
    saved = dict(os.environ)
    os.environ.update(services.env)
    try:
        from herald.admin.commands import create_business
        from herald.container import Container
        from herald.settings import Settings

        container = Container(Settings())
        return create_business(container, name)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _connect(client: httpx.Client, services: Services, key: str, provider: str) -> list[str]:
    headers = {"Authorization": f"Bearer {key}"}
    started = client.get(f"{services.api_url}/api/v1/oauth/{provider}/authorize", headers=headers)
    started.raise_for_status()
    consent = client.get(started.json()["authorization_url"])
    assert consent.status_code == 302, consent.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(consent.headers["location"]).query).items()}
    # Sent on with the key, as a server-side client would: the accounts are stored at once.
    done = client.get(
        f"{services.api_url}/api/v1/oauth/{provider}/callback",
        params=query,
        headers={"Accept": "application/json", **headers},
    )
    done.raise_for_status()
    return [a["account_id"] for a in done.json()["connected"]]


def seed(services: Services, businesses: int, posts_each: int) -> list[SeededBusiness]:
    seeded = []
    when = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    with httpx.Client(timeout=30) as client:
        for n in range(businesses):
            made = _create_business(services, f"Load Bakery {n}")
            business = SeededBusiness(made["business_id"], made["api_key"])
            for provider in ("linkedin", "x"):
                business.accounts[provider] = _connect(
                    client, services, business.api_key, provider
                )[0]
            headers = {"Authorization": f"Bearer {business.api_key}"}
            for i in range(posts_each):
                created = client.post(
                    f"{services.api_url}/api/v1/schedule",
                    headers=headers,
                    json={
                        "account_ids": [business.accounts["x"]],
                        "text": f"Seeded post {n}-{i}",
                        "scheduled_for": (when + timedelta(minutes=i)).isoformat(),
                    },
                )
                assert created.status_code == 201, created.text
                business.post_ids.append(created.json()["post_id"])
            seeded.append(business)
    return seeded


def write_lua(seeded: list[SeededBusiness], path: Path) -> None:
    """wrk's scripts are Lua: the data as a Lua table literal (JSON arrays become tables)."""
    rows = []
    for b in seeded:
        posts = ", ".join(json.dumps(p) for p in b.post_ids)
        rows.append(
            f"  {{key = {json.dumps(b.api_key)}, business = {json.dumps(b.business_id)}, "
            f"linkedin = {json.dumps(b.accounts['linkedin'])}, x = {json.dumps(b.accounts['x'])}, "
            f"posts = {{{posts}}}}}"
        )
    path.write_text("return {\n" + ",\n".join(rows) + "\n}\n")


def as_json(seeded: list[SeededBusiness]) -> list[dict[str, Any]]:
    return [asdict(b) for b in seeded]
