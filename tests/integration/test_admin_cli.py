"""`python -m herald admin ...`: businesses and API keys, on moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from herald.__main__ import main
from herald.auth import authenticate
from herald.container import Container
from herald.errors import Unauthorized


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    code = main(["admin", *argv])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err


def test_create_business_prints_the_id_and_a_key_that_authenticates(
    container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "create-business", "--name", "Acme Bakery")

    principal = authenticate(f"Bearer {out['api_key']}", container.businesses)
    assert code == 0
    assert principal.business_id == out["business_id"]
    assert container.businesses.get(out["business_id"]).name == "Acme Bakery"


def test_the_key_is_stored_only_as_its_hash(
    container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "create-business", "--name", "Acme Bakery")

    items = container.table.scan()["Items"]

    assert out["api_key"] not in json.dumps(items, default=str)


def test_create_api_key_issues_a_second_working_key(
    container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    _, first, _ = run(capsys, "create-business", "--name", "Acme Bakery")

    code, second, _ = run(capsys, "create-api-key", "--business", first["business_id"])

    assert code == 0
    assert second["api_key"] != first["api_key"]
    principal = authenticate(f"Bearer {second['api_key']}", container.businesses)
    assert principal.business_id == first["business_id"]


def test_revoke_api_key_makes_that_key_fail_at_once(
    container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    _, made, _ = run(capsys, "create-business", "--name", "Acme Bakery")

    code, out, _ = run(
        capsys, "revoke-api-key", "--business", made["business_id"], "--key-id", made["key_id"]
    )

    assert code == 0
    assert out["revoked"] is True
    with pytest.raises(Unauthorized):
        authenticate(f"Bearer {made['api_key']}", container.businesses)


def test_create_api_key_for_an_unknown_business_fails_with_a_message(
    container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "create-api-key", "--business", "biz_does_not_exist")

    assert code == 1
    assert out == {}
    assert err.startswith("error:")
    assert "Traceback" not in err


def test_a_missing_argument_exits_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["admin", "create-business"])

    assert exited.value.code == 2
    assert "--name" in capsys.readouterr().err
