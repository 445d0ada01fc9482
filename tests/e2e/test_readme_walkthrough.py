"""The README's curl walk-through (connect an account through the sandbox's OAuth, publish, read
what the platform received) runs as written against the local stack, so it stays true."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import REDIS_URL
from tests.e2e.test_local_stack import ROOT, free_port
from tests.fakes.stack_process import launch

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(120),
    pytest.mark.skipif(
        not (shutil.which("bash") and shutil.which("curl") and shutil.which("jq")),
        reason="the walk-through needs bash, curl and jq",
    ),
]

MARKER = "<!-- run as written by tests/e2e/test_readme_walkthrough.py -->"


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    after = readme.split(MARKER, 1)[1]
    found = re.search(r"```sh\n(.*?)```", after, re.S)
    assert found, "the README's walk-through block is missing"
    return found.group(1)


def json_documents(text: str) -> list[Any]:
    """The JSON values jq printed one after another."""
    decoder, documents, rest = json.JSONDecoder(), [], text.strip()
    while rest:
        value, end = decoder.raw_decode(rest)
        documents.append(value)
        rest = rest[end:].lstrip()
    return documents


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, str]]:
    api_port, moto_port, sandbox_port = free_port(), free_port(), free_port()
    env = {**os.environ, "REDIS_URL": REDIS_URL, "PYTHONUNBUFFERED": "1"}
    for name in ("AWS_ENDPOINT_URL", "FRONTEND_URL", "PUBLIC_API_URL"):
        env.pop(name, None)
    process, output, drain = launch(
        [
            sys.executable,
            "-m",
            "herald.local.stack",
            "--port",
            str(api_port),
            "--moto-port",
            str(moto_port),
            "--sandbox-port",
            str(sandbox_port),
        ],
        env,
        ready_within=60,
    )
    yield {
        "herald": f"http://127.0.0.1:{api_port}",
        "sandbox": f"http://127.0.0.1:{sandbox_port}",
        "key": next(line for line in output if "demo API key" in line).split()[-1],
    }
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    drain.join(5)
    assert process.stdout is not None
    process.stdout.close()


def test_the_curl_walkthrough_connects_x_publishes_and_finds_the_post_in_the_sandbox(
    stack: dict[str, str],
) -> None:
    # Only what a reader changes: the ports of this run and the key it printed.
    script = (
        walkthrough()
        .replace("http://127.0.0.1:8000", stack["herald"])
        .replace("http://127.0.0.1:8700", stack["sandbox"])
        .replace("KEY=hrld_...", f"KEY={stack['key']}")
    )

    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    connected, published, in_sandbox = json_documents(run.stdout)
    assert [a["platform"] for a in connected] == ["x"]
    assert published["status"] == "published"
    assert in_sandbox["text"] == "Fresh bread at 7"
    assert in_sandbox["image"], "the sandbox's test image was attached"
    assert in_sandbox["url"] == published["url"]
