"""The dashboard: its unit tests (vitest) and its browser tests (headless Chromium driven by
Playwright from Node: dashboard/browser/*.test.mjs, the screens and Compose's uploaded files)
against the local stack with the platform sandbox, started here on free ports. The browser tests
save screenshots in dashboard/test-results/screenshots/ (ignored by git) and print the calendar's
time to first render with 500 posts (`DASHBOARD_PERF {...}`)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL
from tests.e2e.test_local_stack import free_port
from tests.fakes.stack_process import launch

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(600),
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
]

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "dashboard"
SCREENSHOTS = DASHBOARD / "test-results" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def npm(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npm", *args], cwd=DASHBOARD, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def built() -> None:
    """Dependencies as locked, and a build of the current sources (what /app serves)."""
    if not (DASHBOARD / "node_modules" / ".package-lock.json").is_file():
        installed = npm("ci", "--no-audit", "--no-fund")
        assert installed.returncode == 0, installed.stdout + installed.stderr
    build = npm("run", "build")
    assert build.returncode == 0, build.stdout + build.stderr


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, str]]:
    api_port, moto_port, sandbox_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "PYTHONUNBUFFERED": "1",
        # The 500-post calendar is seeded through the API: room above the defaults.
        "RATE_LIMIT_PUBLISH": "2000/hour",
        "RATE_LIMIT_DEFAULT": "5000/minute",
    }
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
    demo_key = next(line for line in output if "demo API key" in line).split()[-1]
    admin_env = {
        **env,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "TABLE_NAME": "herald-table",
        "HERALD_ENV": "development",
    }
    made = subprocess.run(
        [sys.executable, "-m", "herald", "admin", "create-business", "--name", "Busy Bakery"],
        cwd=ROOT,
        env=admin_env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    yield {
        "HERALD_URL": f"http://127.0.0.1:{api_port}",
        "HERALD_API_KEY": demo_key,
        "HERALD_PERF_KEY": json.loads(made.stdout)["api_key"],
        "SANDBOX_URL": f"http://127.0.0.1:{sandbox_port}",
    }
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    drain.join(5)
    if process.stdout is not None:
        process.stdout.close()


def test_the_unit_tests_pass(built: None) -> None:
    run = npm("test", timeout=120)

    assert run.returncode == 0, run.stdout + run.stderr


def git_status() -> str | None:
    """The working tree's changes as git lists them; None outside a git checkout."""
    if shutil.which("git") is None:
        return None
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return status.stdout if status.returncode == 0 else None


@pytest.fixture(scope="module")
def browser_run(
    built: None, stack: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], str | None, str | None]:
    """The browser tests' run, with the working tree's status before and after it."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: `make test` installs it"
    before = git_status()
    run = subprocess.run(
        ["node", "--test", "--test-concurrency=1", "browser/"],
        cwd=DASHBOARD,
        env={**os.environ, **stack, "CHROMIUM": CHROMIUM},
        capture_output=True,
        text=True,
        # Two files: the dashboard's screens, and Compose's files (media.test.mjs).
        timeout=480,
    )
    return run, before, git_status()


def test_the_browser_tests_pass_against_the_local_stack(
    browser_run: tuple[subprocess.CompletedProcess[str], str | None, str | None],
) -> None:
    run, _, _ = browser_run
    for line in run.stdout.splitlines():
        if "DASHBOARD_PERF" in line:
            print(line.lstrip("# "))

    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]


def test_the_browser_run_leaves_the_working_tree_as_it_found_it(
    browser_run: tuple[subprocess.CompletedProcess[str], str | None, str | None],
) -> None:
    _, before, after = browser_run
    if before is None:
        pytest.skip("not a git checkout")

    # Its screenshots are written, and git does not see them.
    assert list(SCREENSHOTS.glob("*-390.png")), "no screenshot was saved"
    assert after == before
