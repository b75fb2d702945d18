#!/usr/bin/env python3
"""Where a clips process's wall time goes, from spawn to exit, on the GPU machine:
bench_python.py's clips pattern (3 batches of 32 clips through decode_many) in fresh child
processes, each child stamping CLOCK_MONOTONIC (system-wide on Linux) after its interpreter
started, after `import video_hw`, after each batch (GPU synchronised) and when done; the
parent stamps the spawn and the exit. So start-up, each batch and the teardown at exit
show apart.

usage: python3 scripts/clips_timeline.py CLIPS_DIR [--format nv12|rgb24] [--runs 3]
           [--workers default,7,14] [--env NAME=VALUE ...] [--exit normal,_exit,release,release_exit]
(each --workers value is run --runs times, interleaved; `default` is decode_many's choice)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def child(a):
    t_start = time.monotonic()
    sys.path.insert(0, HERE)
    import bench_python  # noqa: E402 (ctypes CUDA helper and the plan)
    import video_hw

    t_import = time.monotonic()
    cuda = bench_python.Cuda()
    with open(a.plan) as f:
        plan = json.load(f)
    args = {"device": "cuda", "pixel_format": a.format, "dimension_order": "NHWC"}
    workers = None if a.workers == "default" else int(a.workers)
    stamps = []
    for batch in plan:
        video_hw.decode_many([q for q, _ in batch], [i for _, i in batch], workers=workers, **args)
        cuda.sync()
        stamps.append(time.monotonic())
    released = None
    if a.exit.startswith("release"):
        # The parked decoders destroyed here, timed, before the process ends.
        t = time.monotonic()
        n = video_hw.release_cached_decoders()
        released = (n, time.monotonic() - t)
    print(json.dumps({"start": t_start, "import": t_import, "batches": stamps, "released": released,
                      "done": time.monotonic()}), flush=True)
    if a.exit.endswith("_exit"):
        # No finalisation at all: no Python teardown, no C atexit handlers (the CUDA
        # driver's included); the kernel closes the process's GPU handles.
        os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("clips")
    ap.add_argument("--format", default="nv12")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", default="default")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--plan")
    ap.add_argument("--exit", default="normal", help="normal, _exit, release (video_hw.release_cached_decoders() first, timed), "
                    "release_exit: how the child ends (comma-separated to compare)")
    a = ap.parse_args()
    if a.child:
        return child(a)
    sys.path.insert(0, HERE)
    import bench_python

    class A:
        pass

    p = A()
    p.clips = a.clips
    p.long = sorted(os.path.join(a.clips, f) for f in os.listdir(a.clips))[0]
    plan_path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "clips_timeline_plan.json")
    with open(plan_path, "w") as f:
        json.dump(bench_python.make_plan(p)["clips"], f)
    configs = [(w, e, x) for w in a.workers.split(",") for e in (a.env or [""]) for x in a.exit.split(",")]
    rows = {c: [] for c in configs}
    for run in range(a.runs + 1):  # the first round warms the page cache and the driver
        for w, e, x in configs:
            env = dict(os.environ)
            if e:
                k, v = e.split("=", 1)
                env[k] = v
            cmd = [sys.executable, os.path.abspath(__file__), a.clips, "--child", "--plan", plan_path, "--format", a.format, "--workers", w, "--exit", x]
            t0 = time.monotonic()
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, timeout=120)
            t1 = time.monotonic()
            if p.returncode != 0:
                print(f"workers {w} {e}: exit {p.returncode}\n{p.stderr[-2000:]}")
                continue
            s = json.loads(p.stdout.strip().splitlines()[-1])
            b = s["batches"]
            row = {
                "interpreter": s["start"] - t0,
                "import": s["import"] - s["start"],
                "batch1": b[0] - s["import"],
                "batch2": b[1] - b[0],
                "batch3": b[2] - b[1],
                "release": (s["released"] or (0, 0.0))[1],
                "exit": t1 - s["done"],
                "wall": t1 - t0,
            }
            if run:
                rows[(w, e, x)].append(row)
            print(f"run {run} workers {w} {e} exit {x}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()), flush=True)
    print("\nmedians (s), CLOCK_MONOTONIC:")
    keys = ["interpreter", "import", "batch1", "batch2", "batch3", "release", "exit", "wall"]
    print("| workers | env | exit | " + " | ".join(keys) + " |")
    print("|---|---|---|" + "---|" * len(keys))
    for (w, e, x), rs in rows.items():
        if rs:
            print(f"| {w} | {e or '-'} | {x} | " + " | ".join(f"{statistics.median(r[k] for r in rs):.3f}" for k in keys) + " |")


if __name__ == "__main__":
    main()
