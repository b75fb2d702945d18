#!/usr/bin/env python3
"""The device="auto" grid: each job decoded with the CPU, the GPU and "auto", medians of N runs,
and auto's time against the better of the two fixed choices (issue #60: within 10%).

Jobs (inputs from scripts/make-auto-bench-inputs.sh, rgb24 frames):
  one    frame 75 of a 5 s clip (150 frames, a key frame every second)
  clips  8 frames of each of 200 clips (decode_many, 8 files a call; the 10 distinct 2 s clips
         at 720p, 5 at 2160p, listed over and over)
  long   every frame of a 10-minute file (1,200 frames at 2 fps), iterated
at 720p and 2160p, H.264, HEVC and AV1.

Columns, by where the frames land (``--output``):
  host (default): cpu = ``device="cpu", engine="software"`` (a CPU engine), cuda = ``device="cpu",
    engine=<the GPU's engine>`` (decoded and converted on the GPU, copied to the host), auto =
    ``device="auto"``.
  cuda: cpu = ``device="cuda", engine="software"`` (decoded on the CPU, uploaded), cuda =
    ``device="cuda"``, auto = ``device="auto:cuda"``.
Without a GPU engine the cuda column is left out.

Each measurement is a fresh process. "in process" is the job alone, timed inside the process
after CUDA was started as a training process has it (``torch.cuda.init()`` and a tensor on the
GPU, where torch has CUDA); "whole process" is a second process, spawn to exit, that starts
nothing beforehand (what a script pays). Runs interleave the devices.

    python3 scripts/bench_auto.py --runs 5 --out bench/results/auto-grid-<machine>-<date>-<commit>
"""

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time

JOBS = ("one", "clips", "long")
RESOLUTIONS = ("720p", "2160p")
CODECS = ("h264", "hevc", "av1")
# Files per decode_many call of the clips job.
BATCH = 8


def decoder_args(device, output, gpu_engine):
    """The VideoDecoder arguments of one column."""
    if device == "auto":
        return {"device": "auto" if output == "host" else "auto:cuda"}
    if device == "cpu":
        return {"device": "cpu" if output == "host" else "cuda", "engine": "software"}
    if output == "host":
        return {"device": "cpu", "engine": gpu_engine}
    return {"device": "cuda"}


def run_job(job, folder, args, clips):
    """Runs one job; returns what auto chose (counts of each side) and, for a job of one
    decoder, the model's estimates of both sides (seconds), where it could tell."""
    import video_hw
    from video_hw import _auto

    dec = None
    if job == "one":
        dec = video_hw.VideoDecoder(os.path.join(folder, "short.mp4"), pixel_format="rgb24", **args)
        dec.get_frames_at([75])
    elif job == "clips":
        names = sorted(os.listdir(os.path.join(folder, "clips")))
        sources = [os.path.join(folder, "clips", names[i % len(names)]) for i in range(clips)]
        picks = [round(i * 29 / 7) for i in range(8)]
        # In batches of BATCH files, each dropped before the next (200 files of 8 RGB frames
        # at 2160p would be 40 GB at once), as a loader takes them.
        for i in range(0, len(sources), BATCH):
            part = sources[i : i + BATCH]
            video_hw.decode_many(part, [picks] * len(part), pixel_format="rgb24", **args)
    else:
        dec = video_hw.VideoDecoder(os.path.join(folder, "long.mp4"), pixel_format="rgb24", **args)
        for _ in dec:
            pass
    # The model's estimates beside the measured time say where it errs (a cell past 10 %).
    choice = (dec.stats.get("device_choice") or {}) if dec is not None else {}
    return dict(_auto.CHOICES), choice.get("estimate_s")


def child(spec):
    """One measurement in this process: prints a JSON line."""
    started_cuda = None
    if spec["start_cuda"]:
        t = time.perf_counter()
        import torch

        if torch.cuda.is_available():
            torch.cuda.init()
            torch.zeros(1, device="cuda")
            torch.cuda.synchronize()
            started_cuda = time.perf_counter() - t
    t = time.perf_counter()
    choices, estimate = run_job(spec["job"], spec["folder"], spec["args"], spec["clips"])
    elapsed = time.perf_counter() - t
    print(json.dumps({"seconds": elapsed, "cuda_start": started_cuda, "choices": choices, "estimate_s": estimate}))


def measure(spec):
    """Runs one child; its in-process seconds, its whole-process seconds and its report."""
    t = time.perf_counter()
    # The child in a session of its own, out of reach of a signal to this script's group;
    # where this script is interrupted (SIGTERM is an exception here, see main), `run`
    # kills it, so it does not load the machine for the next measurement.
    p = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True, start_new_session=True
    )
    whole = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError(f"{spec}: {p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1]), whole


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", default="bench/inputs/auto")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--output", choices=("host", "cuda"), default="host")
    ap.add_argument("--jobs", default=",".join(JOBS))
    ap.add_argument("--resolutions", default=",".join(RESOLUTIONS))
    ap.add_argument("--codecs", default=",".join(CODECS))
    ap.add_argument("--skip", default="", help="cells left out, as res-codec-job (comma-separated)")
    ap.add_argument("--clips", type=int, default=200)
    ap.add_argument("--no-whole-process", action="store_true", help="in-process figures only")
    ap.add_argument("--out", help="writes OUT.json and OUT.md")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child(json.loads(a.child))
    # A `timeout` around the script ends it with SIGTERM: as an exception, so that the
    # measurement running is killed too and the cells done are kept (written after each).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    import video_hw
    from video_hw._video_hw import device_engine

    gpu_engine = device_engine()
    devices = ["cpu", "cuda", "auto"] if gpu_engine else ["cpu", "auto"]
    if a.output == "cuda" and not gpu_engine:
        sys.exit("--output cuda needs a GPU")
    skip = set(filter(None, a.skip.split(",")))
    rows = []
    for res in a.resolutions.split(","):
        for codec in a.codecs.split(","):
            folder = os.path.join(a.inputs, f"{res}-{codec}")
            for job in a.jobs.split(","):
                if f"{res}-{codec}-{job}" in skip:
                    continue
                cell = {"res": res, "codec": codec, "job": job, "devices": {}}
                samples = {d: {"in": [], "whole": [], "choices": [], "estimates": []} for d in devices}
                for run in range(a.runs):
                    for d in devices:
                        if "error" in samples[d]:
                            continue  # this side cannot run the cell; the others still do
                        spec = {
                            "job": job,
                            "folder": folder,
                            "args": decoder_args(d, a.output, gpu_engine),
                            "clips": a.clips,
                            "start_cuda": bool(gpu_engine),
                        }
                        try:
                            got, _ = measure(spec)
                            samples[d]["in"].append(got["seconds"])
                            samples[d]["choices"].append(got["choices"])
                            samples[d]["estimates"].append(got.get("estimate_s"))
                            if not a.no_whole_process:
                                _, whole = measure(dict(spec, start_cuda=False))
                                samples[d]["whole"].append(whole)
                        except RuntimeError as e:
                            samples[d]["error"] = str(e).splitlines()[-1][:300]
                for d in devices:
                    s = samples[d]
                    cell["devices"][d] = {
                        "in_process_s": statistics.median(s["in"]) if s["in"] else None,
                        "whole_process_s": statistics.median(s["whole"]) if s["whole"] else None,
                        "runs_in_process_s": s["in"],
                        "runs_whole_process_s": s["whole"],
                        "error": s.get("error"),
                    }
                    if d == "auto" and s["choices"]:
                        cell["auto_chose"] = s["choices"][-1]
                        cell["auto_estimate_s"] = s["estimates"][-1]
                for key in ("in_process_s", "whole_process_s"):
                    fixed = [cell["devices"][d][key] for d in devices if d != "auto" and cell["devices"][d][key]]
                    auto = cell["devices"]["auto"][key]
                    cell[f"ratio_{key}"] = auto / min(fixed) if fixed and auto else None
                rows.append(cell)
                print(line(cell, devices), flush=True)
                save(a, record(a, video_hw.__version__, gpu_engine, rows), devices)
    worst = [c[k] for c in rows for k in ("ratio_in_process_s", "ratio_whole_process_s") if c.get(k)]
    print(f"worst auto / min(fixed): {max(worst):.3f}" if worst else "no ratios")


def record(a, version, gpu_engine, rows):
    """The record of the cells measured so far."""
    return {
        "machine": platform.node(),
        "python": platform.python_version(),
        "video_hw": version,
        "gpu_engine": gpu_engine,
        "output": a.output,
        "runs": a.runs,
        "clips": a.clips,
        "command": " ".join(sys.argv),
        "cells": rows,
    }


def save(a, rec, devices):
    """Writes OUT.json and OUT.md (after every cell: a run cut short keeps what it did)."""
    if a.out:
        with open(a.out + ".json", "w") as f:
            json.dump(rec, f, indent=1)
        with open(a.out + ".md", "w") as f:
            f.write(markdown(rec, devices))


def line(c, devices):
    cells = " ".join(
        f"{d}={fmt(c['devices'][d]['in_process_s'])}/{fmt(c['devices'][d]['whole_process_s'])}" for d in devices
    )
    return (
        f"{c['res']:>5} {c['codec']:<4} {c['job']:<5} {cells} auto/min={fmt(c['ratio_in_process_s'], 3)}/"
        f"{fmt(c['ratio_whole_process_s'], 3)} chose={c.get('auto_chose')} estimate={estimates(c)}"
    )


def estimates(c):
    """The model's estimates of the in-process run (cpu / cuda seconds), or "-"."""
    e = c.get("auto_estimate_s") or {}
    if not e:
        return "-"
    return f"{fmt(e.get('cpu'))}/{fmt(e.get('cuda'))}"


def fmt(x, digits=4):
    return "-" if x is None else f"{x:.{digits}f}"


def markdown(r, devices):
    head = " | ".join(f"{d} in / whole s" for d in devices)
    out = [
        f"# device=\"auto\" grid ({r['output']} output)",
        "",
        f"`{r['command']}`; machine {r['machine']}, Python {r['python']}, video_hw {r['video_hw']}, "
        f"GPU engine {r['gpu_engine']}; medians of {r['runs']} runs, each a fresh process; "
        "in process: the job alone (CUDA started first where torch has it); whole process: spawn to exit.",
        "",
        f"| res | codec | job | {head} | auto / min in | auto / min whole | auto chose | model's cpu / cuda s |",
        "|---|---|---|" + "---|" * len(devices) + "---|---|---|---|",
    ]
    for c in r["cells"]:
        cols = " | ".join(
            f"{fmt(c['devices'][d]['in_process_s'])} / {fmt(c['devices'][d]['whole_process_s'])}"
            + (f" ({c['devices'][d]['error']})" if c["devices"][d]["error"] else "")
            for d in devices
        )
        out.append(
            f"| {c['res']} | {c['codec']} | {c['job']} | {cols} | {fmt(c['ratio_in_process_s'], 3)} | "
            f"{fmt(c['ratio_whole_process_s'], 3)} | {c.get('auto_chose')} | {estimates(c)} |"
        )
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
