#!/usr/bin/env python3
"""First frame: the time from opening a file to its first frame in memory, against the peers,
in the same run (issue #60).

    python3 scripts/bench_first_frame.py FILE [--contenders video_hw:cpu,torchcodec:cpu,
        video_hw:cuda,pynvc:cuda] [--runs 7] [--frame 0] [--out DIR]

Each run of each contender is a fresh Python process (contenders interleaved, one warm-up
run not counted), which reports:
  import   importing the package (and torch, where the contender returns torch tensors)
  ready    for GPU contenders, CUDA initialised and GPU 0's primary context made current
           (cuInit, cuDevicePrimaryCtxRetain, cuCtxSetCurrent, through ctypes) before the
           clock of `first` starts: what a process that already uses the GPU (a training
           loop) pays from then on
  first    from the decoder's constructor to frame FRAME in memory (GPU: synchronised), in
           process: `VideoDecoder(FILE, device=...)[FRAME]` (video_hw, torchcodec),
           `SimpleDecoder(FILE, ...)[FRAME]` (PyNvVideoCodec)
and the parent times the whole process (spawn to exit). Clock: time.perf_counter. Prints a
Markdown table of medians, with ratios against video_hw on the same device (peer / video_hw:
above 1, video_hw is faster), and writes it with the raw figures as JSON under --out.
"""
import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time

T0 = time.perf_counter()


def cuda_ready():
    lib = ctypes.CDLL("libcuda.so.1")
    assert lib.cuInit(0) == 0
    dev = ctypes.c_int()
    assert lib.cuDeviceGet(ctypes.byref(dev), 0) == 0
    ctx = ctypes.c_void_p()
    assert lib.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev) == 0
    assert lib.cuCtxSetCurrent(ctx) == 0
    return lib


def child(who, device, path, frame):
    t = time.perf_counter()
    if who == "video_hw":
        import video_hw as m
    elif who == "torchcodec":
        import torch  # noqa: F401 - torchcodec's frames are torch tensors
        from torchcodec.decoders import VideoDecoder as _Tc
    else:
        import PyNvVideoCodec as nvc
    imported = time.perf_counter() - t
    lib = None
    ready = 0.0
    if device == "cuda":
        t = time.perf_counter()
        lib = cuda_ready()
        ready = time.perf_counter() - t
    t = time.perf_counter()
    if who == "video_hw":
        x = m.VideoDecoder(path, device=device)[frame]
    elif who == "torchcodec":
        x = _Tc(path, device=device)[frame]
    else:
        x = nvc.SimpleDecoder(path, gpu_id=0, use_device_memory=True)[frame]
    if lib is not None:
        assert lib.cuCtxSynchronize() == 0
    first = time.perf_counter() - t
    del x
    print(json.dumps({"import_s": imported, "ready_s": ready, "first_s": first, "since_start_s": time.perf_counter() - T0}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--contenders", default="video_hw:cpu,torchcodec:cpu")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--frame", type=int, default=0)
    ap.add_argument("--out", default=os.environ.get("OUT", "/tmp"))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        who, device = a.child.split(":")
        return child(who, device, a.file, a.frame)
    contenders = a.contenders.split(",")
    raw = {c: [] for c in contenders}
    for run in range(a.runs + 1):
        for c in contenders if run % 2 == 0 else contenders[::-1]:
            t = time.perf_counter()
            p = subprocess.run(
                [sys.executable, os.path.abspath(__file__), a.file, "--child", c, "--frame", str(a.frame)],
                capture_output=True,
                text=True,
                timeout=300,
            )
            wall = time.perf_counter() - t
            if p.returncode:
                print(f"FAILED {c}: {p.stderr[-2000:]}", file=sys.stderr)
                continue
            r = json.loads(p.stdout.strip().splitlines()[-1])
            r["process_s"] = wall
            print(f"run {run} {c}: first {r['first_s']:.4f} s, process {wall:.3f} s", file=sys.stderr)
            if run:
                raw[c].append(r)

    def med(c, k):
        return statistics.median(r[k] for r in raw[c]) if raw[c] else float("nan")

    lines = [
        "| contender | device | import s | CUDA ready s | first frame s | vs video_hw | whole process s | vs video_hw |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in contenders:
        who, device = c.split(":")
        base = f"video_hw:{device}"
        ratio = lambda k: f"{med(c, k) / med(base, k):.2f}x" if base in raw and raw[base] else "-"  # noqa: E731
        lines.append(
            f"| {who} | {device} | {med(c, 'import_s'):.3f} | {med(c, 'ready_s'):.3f} | {med(c, 'first_s'):.4f} | "
            f"{ratio('first_s')} | {med(c, 'process_s'):.3f} | {ratio('process_s')} |"
        )
    table = "\n".join(lines)
    print(table)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "first-frame.json"), "w") as f:
        json.dump({"file": a.file, "frame": a.frame, "raw": raw, "table": table}, f, indent=1)


if __name__ == "__main__":
    main()
