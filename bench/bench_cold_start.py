"""Cold-start proxy: the time to `import app` from each function's folder, with the layer on the
path as Lambda puts it, in a fresh interpreter. Min of 5 runs. Prints JSON.

    .venv/bin/python bench/bench_cold_start.py [--runs 5] [--importtime]

`--importtime` adds, per handler, the heaviest modules under `python -X importtime`
(cumulative microseconds of the top-level imports), to show what to make lazy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "herald"
FUNCTIONS = {"api": "api", "worker": "publish_worker", "tick": "scheduler_tick"}
TARGETS_MS = {"api": 700, "worker": 550, "tick": 400}
PROBE = "import time; t = time.perf_counter(); import app; print((time.perf_counter() - t) * 1000)"
_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s+)(\S+)")


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "PYTHONPATH"))}
    # What Lambda sets (or template.yaml's Globals set) before the handler module is imported.
    env.update(
        {
            "PYTHONPATH": str(LAYER),
            "HERALD_ENV": "production",
            "AWS_REGION": env.get("AWS_REGION", "us-east-1"),
            "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "us-east-1"),
            "POWERTOOLS_SERVICE_NAME": "herald",
            "POWERTOOLS_METRICS_NAMESPACE": "Herald",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONDONTWRITEBYTECODE": "0",
        }
    )
    return env


def import_ms(folder: Path) -> float | None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=folder,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        return None
    return float(result.stdout.strip().splitlines()[-1])


def heaviest(folder: Path, top: int = 8) -> dict[str, object]:
    """`app`'s direct imports by cumulative time, and every package by its own (self) time."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import app"],
        cwd=folder,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    rows = [m for m in map(_LINE.match, result.stderr.splitlines()) if m]
    names = [m.group(4) for m in rows]
    start = names.index("app") if "app" in names else len(rows)
    direct: list[tuple[str, float]] = []
    # importtime prints a module after its imports: app's direct imports precede it at depth 1.
    for match in reversed(rows[:start]):
        depth = (len(match.group(3)) - 1) // 2
        if depth == 0:
            break
        if depth == 1:
            direct.append((match.group(4), int(match.group(2)) / 1000))
    packages: dict[str, float] = {}
    for match in rows[: start + 1]:
        package = match.group(4).split(".")[0]
        packages[package] = packages.get(package, 0.0) + int(match.group(1)) / 1000
    return {
        "direct_cumulative_ms": {n: round(t, 1) for n, t in sorted(direct, key=lambda r: -r[1])},
        "by_package_self_ms": {
            n: round(t, 1) for n, t in sorted(packages.items(), key=lambda r: -r[1])[:top]
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--importtime", action="store_true")
    args = parser.parse_args()
    # Warm the bytecode cache once so every timed run measures imports, not compilation.
    for name in FUNCTIONS.values():
        import_ms(ROOT / "functions" / name)
    report: dict[str, object] = {"benchmark": "cold_start_import", "runs": args.runs}
    for label, name in FUNCTIONS.items():
        folder = ROOT / "functions" / name
        times = [import_ms(folder) for _ in range(args.runs)]
        measured = [t for t in times if t is not None]
        entry: dict[str, object] = {
            "handler": f"functions/{name}/app.py",
            "min_ms": round(min(measured), 1) if measured else None,
            "median_ms": round(sorted(measured)[len(measured) // 2], 1) if measured else None,
            "target_ms": TARGETS_MS[label],
            "within_target": bool(measured) and min(measured) < TARGETS_MS[label],
        }
        if not measured:
            entry["error"] = "import failed"
        if args.importtime:
            entry["heaviest_imports"] = heaviest(folder)
        report[label] = entry
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
