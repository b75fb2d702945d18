#!/usr/bin/env python3
"""Open a long file and get one frame: frame index scanned (no cache) vs read from a warm
index cache (`video_hw::media::IndexCache`), in process and whole process, medians.

    cargo build --release -p video-hw --example index_cache_bench
    scripts/bench_index_cache.py [--runs 15] [--out bench/results/index-cache-DATE-COMMIT.md]

Inputs (made if missing, under bench/inputs/, git-ignored): 10 minutes of 640x360 30 fps
H.264 (x264 veryfast, GOP 60, 3 B-frames, ~1 Mb/s; testsrc2 with temporal noise) in
MPEG-TS, and the same stream as raw Annex-B (stream copy). The frame asked for is the
middle one, so the decode is a GOP's worth from its key frame either way.

In process: one process opens the file RUNS+1 times (the first is a warm-up and, with the
cache, the open that saves the index), each open timed to the first frame in memory.
Whole process: RUNS processes each open once, no cache and warm cache interleaved; wall
time around each; again opening only (no frame: no decoder is made, so the process's fixed
costs and the index are what is left). The files are read
from the page cache (a warm-up run first). "cold" is the first open with an empty cache
directory: the scan, plus writing the index.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INPUTS = Path(os.environ.get("BENCH_INPUTS", ROOT / "bench" / "inputs"))
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
BIN = TARGET / "release" / "examples" / "index_cache_bench"


def make_inputs() -> list:
    INPUTS.mkdir(parents=True, exist_ok=True)
    ts = INPUTS / "index-10min-360p.ts"
    raw = INPUTS / "index-10min-360p.h264"
    if not ts.exists():
        subprocess.run(
            ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
             "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30,noise=alls=12:allf=t+u:all_seed=7",
             "-t", "600", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "1M", "-maxrate", "1M",
             "-bufsize", "2M", "-g", "60", "-bf", "3", "-pix_fmt", "yuv420p", str(ts)],
            check=True,
        )
    if not raw.exists():
        subprocess.run(
            ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(ts),
             "-c", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "h264", str(raw)],
            check=True,
        )
    # Older than the cache's racy window (a file modified in the last 2 s is not saved).
    old = time.time() - 3600
    for p in (ts, raw):
        os.utime(p, (old, old))
    return [ts, raw]


def in_process(path: Path, cache: str, runs: int) -> tuple:
    out = subprocess.run([str(BIN), str(path), cache, str(runs + 1)], check=True, capture_output=True, text=True)
    rows = [line.split() for line in out.stdout.splitlines()]
    uses = {r[3] for r in rows[1:]}
    return (statistics.median(float(r[0]) for r in rows[1:]),
            statistics.median(float(r[2]) for r in rows[1:]), rows[0][3], uses)


def whole_process(path: Path, cache_dir: str, runs: int, frame: str = "") -> tuple:
    """Medians of `runs` processes with no cache and with the warm cache, interleaved (so
    both see the same load); `frame` "-" opens only."""
    times = {"off": [], cache_dir: []}
    uses = set()
    extra = [frame] if frame else []
    for _ in range(runs):
        for cache in times:
            t0 = time.perf_counter()
            out = subprocess.run([str(BIN), str(path), cache, "1", *extra], check=True, capture_output=True, text=True)
            times[cache].append((time.perf_counter() - t0) * 1e3)
            if cache != "off":
                uses.add(out.stdout.split()[3])
    return statistics.median(times["off"]), statistics.median(times[cache_dir]), uses


def cold(path: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        d = tempfile.mkdtemp(prefix="vh-index-cold-")
        try:
            t0 = time.perf_counter()
            out = subprocess.run([str(BIN), str(path), d, "1"], check=True, capture_output=True, text=True)
            times.append((time.perf_counter() - t0) * 1e3)
            assert out.stdout.split()[3] == "built", out.stdout
        finally:
            shutil.rmtree(d)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if not BIN.exists():
        sys.exit(f"{BIN} missing: cargo build --release -p video-hw --example index_cache_bench")
    files = make_inputs()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    lines = [
        f"# Index cache: open + one frame, {time.strftime('%Y-%m-%d')}, {commit}, {os.cpu_count()} cores",
        "",
        "| file | size | frames asked | no cache, in process (open / open+frame, ms) "
        "| warm cache, in process (open / open+frame, ms) | speed-up (open+frame) "
        "| no cache, whole process (ms) | warm cache, whole process (ms) | speed-up "
        "| whole process, open only: no cache / warm (ms) | cold cache, whole process (ms) | index file |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for path in files:
        cache_dir = tempfile.mkdtemp(prefix="vh-index-warm-")
        try:
            in_process(path, "off", 1)  # page cache warm-up
            off_open, off_total, _, off_uses = in_process(path, "off", args.runs)
            warm_open, warm_total, first_use, warm_uses = in_process(path, cache_dir, args.runs)
            assert first_use == "built" and warm_uses == {"hit"}, (first_use, warm_uses)
            assert off_uses == {"off"}
            off_wp, warm_wp, uses = whole_process(path, cache_dir, args.runs)
            off_wo, warm_wo, uses_open = whole_process(path, cache_dir, args.runs, "-")
            assert uses == {"hit"} and uses_open == {"hit"}, (uses, uses_open)
            cold_wp = cold(path, max(3, args.runs // 3))
            saved = sum(f.stat().st_size for f in Path(cache_dir).iterdir())
        finally:
            shutil.rmtree(cache_dir)
        size = path.stat().st_size / 1e6
        lines.append(
            f"| {path.name} | {size:.0f} MB | middle | {off_open:.1f} / {off_total:.1f} | {warm_open:.1f} / "
            f"{warm_total:.1f} | {off_total / warm_total:.1f}x | {off_wp:.1f} | {warm_wp:.1f} | "
            f"{off_wp / warm_wp:.1f}x | {off_wo:.1f} / {warm_wo:.1f} | {cold_wp:.1f} | {saved / 1e3:.0f} KB |"
        )
    lines += ["", f"Median of {args.runs} runs each (after a warm-up), files in the page cache. "
              "Made by `scripts/bench_index_cache.py`; see its docstring for the inputs and clocks."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
