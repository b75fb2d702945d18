#!/usr/bin/env python3
"""Host frames against CUDA frames, several NVDEC streams in one process (nvdec_bench).

Runs each contender in turn, rounds interleaved with the order rotated, and prints per
contender the median whole-run and steady rates, their ratio to the first contender's,
and where the session threads waited (driver calls per frame, the host copies' waits).

A contender is NAME=OUTPUT[,VAR=VALUE...]: an nvdec_bench output (cuda-nv12, host-nv12,
host-yuv420p) and environment settings for that run; LOAD=KIND:GBPS runs copy traffic of
another process beside it (scripts/d2h_load.py: d2h or d2d, GB/s), e.g.

    python3 scripts/host_vs_cuda.py --bench .gpu/bin/nvdec_bench \\
        --input .gpu/data/bench/inputs/host/sample-10s.h265 --streams 7 --repeat 10 --rounds 3 \\
        cuda=cuda-nv12 host=host-nv12 cuda+d2h=cuda-nv12,LOAD=d2h:25

Clock: nvdec_bench's own (`Instant`, from the sessions' start to the last one's end; the
steady rate is each session's from its first frame, summed).
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys


def contender(spec):
    name, _, rest = spec.partition("=")
    output, *env = rest.split(",")
    if not name or not output:
        raise argparse.ArgumentTypeError(f"{spec}: NAME=OUTPUT[,VAR=VALUE...]")
    return name, output, dict(e.split("=", 1) for e in env)


def run(args, output, env):
    env = dict(env)
    load = env.pop("LOAD", None)
    if load:
        # Copy traffic of another process beside the decode (scripts/d2h_load.py): KIND:GBPS.
        kind, gbps = load.split(":")
        here = os.path.dirname(os.path.abspath(__file__))
        loader = subprocess.Popen([sys.executable, os.path.join(here, "d2h_load.py"), "--kind", kind, "--gbps", gbps,
                                   "--seconds", str(args.load_seconds)], stdout=subprocess.PIPE, text=True)
    cmd = [args.bench, "run", "--input", args.input, "--streams", str(args.streams), "--repeat-input",
           str(args.repeat), "--chunk", args.chunk, "--output", output, "--no-mem"]
    try:
        p = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, timeout=args.timeout)
    finally:
        if load and loader.poll() is None and sys.exc_info()[0] is not None:
            loader.kill()
    if load:
        # The traffic ran from before the run's start to its end: stopped now.
        loader.send_signal(signal.SIGTERM)
        print("   ", loader.communicate(timeout=30)[0].strip(), flush=True)
    lines = [line for line in p.stdout.splitlines() if line.startswith("{")]
    if not lines:
        sys.exit(f"{' '.join(cmd)}: no report (exit {p.returncode}): {p.stderr[-2000:]}")
    j = json.loads(lines[-1])
    if not j.get("ok"):
        sys.exit(f"{' '.join(cmd)}: not ok: {json.dumps(j)[:2000]}")
    return j


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--streams", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chunk", default="64k")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--json", help="write every run's report here")
    ap.add_argument("--load-seconds", type=float, default=600.0,
                    help="the longest a LOAD= contender's traffic runs (it is stopped when the run ends)")
    ap.add_argument("contenders", nargs="+", type=contender)
    args = ap.parse_args()

    runs = {name: [] for name, _, _ in args.contenders}
    for r in range(args.rounds):
        k = r % len(args.contenders)
        for name, output, env in args.contenders[k:] + args.contenders[:k]:
            j = run(args, output, env)
            runs[name].append(j)
            print(f"round {r + 1} {name}: {j['fps']:.0f} fps, steady {j['steady_fps']:.0f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(runs, f)

    med = {name: (statistics.median(j["fps"] for j in js), statistics.median(j["steady_fps"] for j in js))
           for name, js in runs.items()}
    first = args.contenders[0][0]
    calls = ["parse", "map", "host_async", "host_wait", "unmap"]
    print(f"\n{args.streams} streams x {args.repeat} repeats of {os.path.basename(args.input)}, "
          f"chunk {args.chunk}, median of {args.rounds}")
    print("| contender | fps | steady fps | vs " + first + " (fps, steady) | "
          + " | ".join(f"{c} us/frame" for c in calls) + " |")
    print("|---" * (4 + len(calls)) + "|")
    for name, js in runs.items():
        fps, steady = med[name]
        per = []
        for c in calls:
            vals = [j.get("driver_calls", {}).get(c, {}).get("us_per_frame") for j in js]
            vals = [v for v in vals if v is not None]
            per.append(f"{statistics.median(vals):.1f}" if vals else "-")
        ratio = f"{fps / med[first][0]:.1%}, {steady / med[first][1]:.1%}"
        print(f"| {name} | {fps:,.0f} | {steady:,.0f} | {ratio} | " + " | ".join(per) + " |")


if __name__ == "__main__":
    main()
