"""Start the local stack as a user would (`python -m herald.local.stack ...`) and wait for it."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def launch(
    command: list[str], env: dict[str, str], *, ready_within: float
) -> tuple[subprocess.Popen[str], list[str], threading.Thread]:
    """The process, its output (kept growing by the returned reader thread) and that thread.

    Fails the test if the stack never prints `ready`.
    """
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output: list[str] = []
    assert process.stdout is not None
    deadline = time.monotonic() + ready_within
    for line in process.stdout:
        output.append(line)
        if line.strip() == "ready" or time.monotonic() > deadline:
            break
    assert output, "the stack printed nothing"
    assert output[-1].strip() == "ready", "".join(output)
    # Keep reading, or a chatty handler fills the pipe and the stack blocks on a write.
    drain = threading.Thread(target=lambda: output.extend(process.stdout or ()), daemon=True)
    drain.start()
    return process, output, drain
