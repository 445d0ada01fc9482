"""Media on Facebook Pages and Instagram: upload-to-published time for a video through the local
stack, and the worker's peak memory streaming a large one. Prints one JSON object.

    .venv/bin/python bench/bench_meta_media.py [--video-mb 100] [--facebook-stream-mb 500]
                                               [--reel-stream-mb 280]

The stack, the figures and the memory reading are bench_media.py's (one worker process,
VmHWM reset before each stream, moto and the sandbox in other processes). The sandbox is told
to process instantly (`ig_processing_polls` 0, `fb_video_polls` 0), so the time is Herald's own
pipeline: the Facebook video goes through graph-video's resumable upload in the 1 MiB ranges the
sandbox names (one ranged S3 read and one transfer each), the Reel is streamed to rupload in
one request. Instagram's Reels stop at 300 MB, hence the smaller Reel stream.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from bench_media import MB, Stack, _kib, upload_to_published, video_file, worker_pid

PAGE_WITH_INSTAGRAM = "200000000000001"


def connect(stack: Stack) -> dict[str, str]:
    url = stack.http.get("/api/v1/oauth/meta/authorize").json()["authorization_url"]
    back = httpx.get(httpx.get(url).headers["location"])
    confirmation = parse_qs(urlsplit(back.headers["location"]).query)["confirm"][0]
    stack.http.post("/api/v1/oauth/meta/confirm", json={"confirmation": confirmation})
    found: dict[str, str] = {}
    for account in stack.http.get("/api/v1/accounts").json()["accounts"]:
        if account["platform"] == "facebook" and account["external_id"] != PAGE_WITH_INSTAGRAM:
            continue
        found[account["platform"]] = account["account_id"]
    return found


def streamed(stack: Stack, account: str, path: Path) -> dict[str, Any]:
    pid = worker_pid(stack)
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM back to the current resident set
    before = _kib(pid, "VmRSS")
    figures = upload_to_published(stack, account, "meta", path)
    peak = _kib(pid, "VmHWM")
    return {**figures, "worker_rss_before_mib": round(before / 1024, 1),
            "worker_rss_peak_delta_mib": round((peak - before) / 1024, 1)}  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video-mb", type=int, default=100)
    parser.add_argument("--facebook-stream-mb", type=int, default=500)
    parser.add_argument("--reel-stream-mb", type=int, default=280)
    args = parser.parse_args(argv)
    stack = Stack()
    try:
        accounts = connect(stack)
        httpx.post(
            f"{stack.sandbox_url}/_sandbox/config",
            json={"ig_processing_polls": 0, "detect_duplicates": False},
        ).raise_for_status()
        httpx.post(f"{stack.sandbox_url}/_sandbox/meta_media/config",
                   json={"fb_video_polls": 0}).raise_for_status()  # fmt: skip
        with tempfile.TemporaryDirectory() as folder:
            video = video_file(Path(folder), args.video_mb * MB, "video.mp4")
            facebook = upload_to_published(stack, accounts["facebook"], "meta", video)
            reel = upload_to_published(stack, accounts["instagram"], "meta", video)
            big = video_file(Path(folder), args.facebook_stream_mb * MB, "big.mp4")
            facebook_memory = streamed(stack, accounts["facebook"], big)
            big_reel = video_file(Path(folder), args.reel_stream_mb * MB, "reel.mp4")
            reel_memory = streamed(stack, accounts["instagram"], big_reel)
    finally:
        stack.stop()
    print(json.dumps({
        "benchmark": "meta_media",
        "video_mb": args.video_mb,
        "facebook_video": facebook,
        "instagram_reel": reel,
        "worker_stream_facebook": {"video_mb": args.facebook_stream_mb, **facebook_memory},
        "worker_stream_reel": {"video_mb": args.reel_stream_mb, **reel_memory},
        "sandbox": "instant processing; Facebook ranges of 1 MiB",
    }, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
