#!/usr/bin/env python3
"""Where a forward jump should seek instead of decoding on (issue #56's crossover).

A decoder asked for a frame a little ahead of where its session is decodes on when the
frame's random access point starts at most ``SEEK_GAP`` packets past the session's position
(`crates/video-hw/src/reader/live.rs`), and otherwise flushes and starts at that point. This
runs strided ``dec[i]`` loops (each call a jump of ``stride`` frames) over files of a given
GOP length, with ``VIDEO_HW_READER_SEEK_GAP`` set to each gap, each run a fresh process, and
prints the loop's median time per gap: the gap where the time stops falling is the crossover.

    python3 scripts/bench_seek_gap.py --make-inputs DIR         # needs ffmpeg with libx264
    python3 scripts/bench_seek_gap.py --inputs DIR --device cpu --runs 3 [--out FILE.json]

Inputs: 20 s of 1280x720 at 30 fps, x264 (3 B-frames), a key frame every 30 and every 120
frames (no scene cuts), ``gop30.mp4`` and ``gop120.mp4``. Clock: ``time.perf_counter`` around
the loop, after the first frame (the open and the first decode are the same for every gap).
Frames: yuv420p on the CPU, RGB in GPU memory with ``--device cuda``.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

GAPS = [0, 2, 4, 8, 16, 32, 64, 100000]
STRIDES = {"gop30.mp4": [7, 13, 23, 37], "gop120.mp4": [23, 53, 97, 131]}


def make_inputs(d: str) -> None:
    os.makedirs(d, exist_ok=True)
    for g in (30, 120):
        out = os.path.join(d, f"gop{g}.mp4")
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=20",
             "-c:v", "libx264", "-preset", "veryfast", "-b:v", "3M", "-bf", "3", "-g", str(g), "-keyint_min", str(g),
             "-sc_threshold", "0", "-pix_fmt", "yuv420p", out],
            check=True,
        )
        print(out)


def child(path: str, stride: int, device: str) -> None:
    import video_hw

    fmt = "yuv420p" if device == "cpu" else "rgb24"
    dec = video_hw.VideoDecoder(path, device=device, pixel_format=fmt)
    dec[0]
    before = dec.stats
    t = time.perf_counter()
    for i in range(stride, len(dec), stride):
        dec[i]
    took = time.perf_counter() - t
    after = dec.stats
    print(json.dumps({
        "seconds": took,
        "calls": len(range(stride, len(dec), stride)),
        "packets": after["packets_decoded"] - before["packets_decoded"],
        "runs": after["runs"] - before["runs"],
    }))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--make-inputs")
    ap.add_argument("--inputs")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--gaps", default=",".join(map(str, GAPS)))
    ap.add_argument("--out")
    ap.add_argument("--child", nargs=3)
    a = ap.parse_args()
    if a.make_inputs:
        return make_inputs(a.make_inputs)
    if a.child:
        return child(a.child[0], int(a.child[1]), a.child[2])
    gaps = [int(g) for g in a.gaps.split(",")]
    results = []
    for name, strides in STRIDES.items():
        path = os.path.join(a.inputs, name)
        for stride in strides:
            runs = {g: [] for g in gaps}
            for _ in range(a.runs):
                for g in gaps:  # gaps alternate within a round
                    env = dict(os.environ, VIDEO_HW_READER_SEEK_GAP=str(g))
                    p = subprocess.run([sys.executable, __file__, "--child", path, str(stride), a.device],
                                       env=env, capture_output=True, text=True, check=True, timeout=300)
                    runs[g].append(json.loads(p.stdout.strip().splitlines()[-1]))
            row = {"file": name, "stride": stride, "gaps": {}}
            for g in gaps:
                r = runs[g]
                row["gaps"][g] = {"median_s": statistics.median(x["seconds"] for x in r), "runs_s": [x["seconds"] for x in r],
                                  "packets": r[0]["packets"], "decoder_runs": r[0]["runs"], "calls": r[0]["calls"]}
            best = min(gaps, key=lambda g: row["gaps"][g]["median_s"])
            row["best_gap"] = best
            results.append(row)
            cells = "  ".join(f"{g}:{row['gaps'][g]['median_s']:.3f}s/{row['gaps'][g]['packets']}p" for g in gaps)
            print(f"{name} stride {stride}: {cells}  best {best}", flush=True)
            if a.out:
                json.dump({"device": a.device, "runs": a.runs, "results": results}, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
