"""Media: upload-to-published time for a 100 MB video on X and on LinkedIn through the local
stack, and the worker's peak memory streaming a 500 MB video. Prints one JSON object.

    .venv/bin/python bench/bench_media.py [--video-mb 100] [--stream-mb 500]

The stack is `python -m herald.local.stack` as `make dev` runs it (moto's server in a process of
its own, the API, the tick, one worker process, the sandbox), on free ports. The sandbox is told
to process instantly (no STATUS read answers in_progress, LinkedIn's video is AVAILABLE at the
first read), so the figure is Herald's own pipeline plus X's one `check_after_secs` (1 s) that
finalize always asks for:

    upload      POST /media, then the file POSTed to the presigned URL (moto's S3 over HTTP)
    inspect     GET /media/{id}: the file read from its bytes (ranged reads of its moov box)
    published   POST /publish/..., 202 (over 20 MiB the worker uploads it), until GET /posts
                says published: the worker's ranged S3 reads, the X segments or LinkedIn parts,
                the SQS round trips

Memory: the stack runs its worker in a process of its own (--worker-process), one Lambda
execution environment. Its resident high-water mark (/proc/<pid>/status VmHWM, reset just before
through /proc/<pid>/clear_refs) less its resident set before, while a 500 MB video goes from
S3 to the X sandbox through it, is the worker's peak memory for the stream. moto and the sandbox
run in other processes, so neither is counted.

The videos are sparse files (an MP4 header and moov box around a hole): they cost no disk, and
nothing of them is committed. Redis: HERALD_BENCH_REDIS_DB (default 8).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

import _env

ROOT = _env.ROOT
MB = 1024 * 1024


class Stack:
    def __init__(self) -> None:
        self.api, self.moto, self.sandbox = _env.free_port(), _env.free_port(), _env.free_port()
        db = os.environ.get("HERALD_BENCH_REDIS_DB", "8")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "HERALD_TICK_SECONDS": "1"}
        for name in ("AWS_ENDPOINT_URL", "FRONTEND_URL", "PUBLIC_API_URL"):
            env.pop(name, None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "herald.local.stack", "--port", str(self.api),
             "--moto-port", str(self.moto), "--sandbox-port", str(self.sandbox),
             "--redis-url", f"redis://127.0.0.1:6379/{db}", "--moto-process",
             "--worker-process"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.key = ""
        deadline = time.monotonic() + 90
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                raise RuntimeError("the local stack exited before it was ready")
            if "demo API key" in line:
                self.key = line.split()[-1]
                break
        if not self.key:
            raise RuntimeError("the local stack did not start within 90 s")
        # Keep reading its output so its pipe never fills.
        threading.Thread(target=self._read, daemon=True).start()
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{self.api}",
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=120,
        )

    def _read(self) -> None:
        assert self.process.stdout is not None
        for _ in self.process.stdout:
            pass

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox}"

    def stop(self) -> None:
        self.http.close()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def connect(stack: Stack) -> dict[str, str]:
    found: dict[str, str] = {}
    for provider in ("x", "linkedin"):
        url = stack.http.get(f"/api/v1/oauth/{provider}/authorize").json()["authorization_url"]
        back = httpx.get(httpx.get(url).headers["location"])
        confirmation = parse_qs(urlsplit(back.headers["location"]).query)["confirm"][0]
        answer = stack.http.post(
            f"/api/v1/oauth/{provider}/confirm", json={"confirmation": confirmation}
        )
        for account in answer.json()["connected"]:
            found[account["platform"]] = account["account_id"]
    return found


def video_file(folder: Path, size: int, name: str) -> Path:
    from herald.local.media_samples import write_mp4

    return write_mp4(folder / name, 1920, 1080, seconds=120, size=size)


def upload_to_published(stack: Stack, account: str, route: str, path: Path) -> dict[str, Any]:
    started = time.perf_counter()
    created = stack.http.post("/api/v1/media", json={"filename": path.name}).json()
    form = created["upload"]
    with path.open("rb") as file:
        sent = httpx.post(
            form["url"], data=form["fields"], files={"file": (path.name, file)}, timeout=300
        )
    sent.raise_for_status()
    uploaded = time.perf_counter()
    media = stack.http.get(f"/api/v1/media/{created['media_id']}").json()
    assert media["status"] == "ready", media
    inspected = time.perf_counter()
    answer = stack.http.post(
        f"/api/v1/publish/{route}",
        json={"account_ids": [account], "text": f"{path.name} {time.time()}",
              "media": [{"media_id": media["media_id"]}]},
    ).json()  # fmt: skip
    post = answer
    while post["status"] in ("pending", "queued", "publishing"):
        time.sleep(0.1)
        post = stack.http.get(f"/api/v1/posts/{answer['post_id']}").json()
    done = time.perf_counter()
    return {
        "status": post["status"],
        "bytes": path.stat().st_size,
        "upload_seconds": round(uploaded - started, 2),
        "inspect_seconds": round(inspected - uploaded, 3),
        "publish_seconds": round(done - inspected, 2),
        "upload_to_published_seconds": round(done - started, 2),
    }


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def worker_pid(stack: Stack) -> int:
    """The worker process the stack started (--worker-process): its one execution environment."""
    for task in Path(f"/proc/{stack.process.pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"herald.local.worker_process" in cmdline:
                return int(child)
    raise RuntimeError("no worker process found under the stack")


def worker_memory(stack: Stack, account: str, path: Path) -> dict[str, Any]:
    """The 500 MB video through the API to X: over 20 MiB, the worker uploads it. Its process's
    resident high-water mark is reset first, then read when the post is out."""
    pid = worker_pid(stack)
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM back to the current resident set
    before = _kib(pid, "VmRSS")
    figures = upload_to_published(stack, account, "twitter", path)
    peak = _kib(pid, "VmHWM")
    return {
        **figures,
        "worker_rss_before_mib": round(before / 1024, 1),
        "worker_rss_peak_delta_mib": round((peak - before) / 1024, 1),
        "segment_mib": 4,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video-mb", type=int, default=100)
    parser.add_argument("--stream-mb", type=int, default=500)
    args = parser.parse_args(argv)
    stack = Stack()
    try:
        accounts = connect(stack)
        httpx.post(f"{stack.sandbox_url}/_sandbox/config", json={
            "x_processing_polls": 0, "linkedin_processing_polls": 0, "detect_duplicates": False,
        }).raise_for_status()  # fmt: skip
        with tempfile.TemporaryDirectory() as folder:
            video = video_file(Path(folder), args.video_mb * MB, "video.mp4")
            x = upload_to_published(stack, accounts["x"], "twitter", video)
            linkedin = upload_to_published(stack, accounts["linkedin"], "linkedin", video)
            big = video_file(Path(folder), args.stream_mb * MB, "big.mp4")
            memory = worker_memory(stack, accounts["x"], big)
    finally:
        stack.stop()
    print(json.dumps({
        "benchmark": "media",
        "video_mb": args.video_mb,
        "x": x,
        "linkedin": linkedin,
        "worker_stream": {"video_mb": args.stream_mb, **memory},
        "sandbox": "instant processing; X's finalize still asks for one 1 s check",
    }, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
