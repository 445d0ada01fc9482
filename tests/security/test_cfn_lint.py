"""template.yaml is cfn-lint clean with every rule, the informational ones included: the IAM
policy rules (E3510/E3512/E3514/E3530 identity, resource and trust policies, W3037 permissions,
I3510 statement resources matching their actions, I3042 ARN pseudo-parameters) and I3011
(explicit deletion policies on stateful resources). I4010 asks for free-text architecture notes in
resource metadata; it checks nothing deployable and is left out."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.sam, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]
CFN_LINT = ROOT / ".venv-sam" / "bin" / "cfn-lint"


def cfn_lint(*args: str) -> subprocess.CompletedProcess[str]:
    if not CFN_LINT.exists():
        pytest.skip("cfn-lint lives in the SAM CLI's virtual environment: run `make sam-venv`")
    return subprocess.run(
        [str(CFN_LINT), *args, "--", str(ROOT / "template.yaml")],
        capture_output=True,
        text=True,
        timeout=100,
    )


def test_the_template_has_no_findings_with_informational_and_iam_rules() -> None:
    result = cfn_lint("--include-checks", "I", "--ignore-checks", "I4010")

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_the_iam_rules_are_among_those_that_ran() -> None:
    listed = cfn_lint("--list-rules").stdout

    for rule in ("E3510", "E3512", "E3530", "W3037", "I3510", "I3042"):
        assert f"{rule}:" in listed
