"""The SAM CLI accepts and builds template.yaml, with no container, as `make test` runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.sam, pytest.mark.slow, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
SAM = ROOT / ".venv-sam" / "bin" / "sam"


def sam(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    if not SAM.exists():
        pytest.skip("the SAM CLI's virtual environment is missing: run `make sam-venv`")
    # `sam build` looks for the runtime's interpreter (python3.12) on PATH: the one this
    # suite runs on is that version, so its base installation's bin folder goes first.
    python_bin = str(Path(getattr(sys, "_base_executable", sys.executable)).resolve().parent)
    env = {
        **os.environ,
        "PATH": os.pathsep.join([python_bin, os.environ.get("PATH", "")]),
        "SAM_CLI_TELEMETRY": "0",
    }
    return subprocess.run(
        [str(SAM), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=280
    )


def test_sam_validate_with_cfn_lint_passes() -> None:
    result = sam("validate", "--lint", "--template-file", str(ROOT / "template.yaml"), cwd=ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_sam_build_succeeds_without_a_container(tmp_path: Path) -> None:
    build_dir = tmp_path / "build"
    # Run from a scratch folder so the build cache never lands in the repository.
    result = sam(
        "build",
        "--template-file",
        str(ROOT / "template.yaml"),
        "--build-dir",
        str(build_dir),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--parallel",
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    layer = build_dir / "HeraldLayer" / "python"
    assert (layer / "herald" / "container.py").is_file()
    assert (layer / "fastapi").is_dir()
    assert (layer / "pydantic_core").is_dir()
    for function in ("ApiFunction", "SchedulerTickFunction", "PublishWorkerFunction"):
        assert (build_dir / function).is_dir()
    assert (build_dir / "ApiFunction" / "app.py").is_file()
