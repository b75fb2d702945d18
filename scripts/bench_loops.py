#!/usr/bin/env python3
"""The loops people write, video_hw against the peer ML teams use, same files, same run
(issue #56): torchcodec on the CPU, PyNvVideoCodec on an NVIDIA GPU.

    python3 scripts/bench_loops.py --files A.mp4,B.mp4 [--device cpu|cuda] [--runs 5]
        [--frames 300] [--loops index,chunks,iterate] [--threads N] [--out DIR]
    python3 scripts/bench_loops.py --make-inputs DIR     # the 640x360 and 1080p inputs (ffmpeg)

Loops, over the first --frames frames of each file, RGB uint8 (N, 3, H, W) as torch tensors:
  index    [dec[i] for i in range(n)]                       (both libraries)
  chunks   get_frames_in_range(s, s + 32) for s in 0, 32, …  (PyNvVideoCodec: get_batch_frames(32))
  iterate  for frame in dec                                  (torchcodec: its iterator; PyNvVideoCodec:
           get_batch_frames(64) until none, its sequential read)

Each contender, loop, file and run is a fresh process; the order alternates from run to
run, run 0 warms the page cache and is not counted. Clocks (time.perf_counter): whole-process
wall time (around the child, imports and opening included), the child's work time (opening
the file to the last frame, with the GPU synchronised: the first pass, the library's
one-time start included) and its warm work time (the same loop again with a new decoder in
the same process: the library started, as for a data loader's thousandth clip), with the
first pass's time to open and to the first frame. Medians.

Frames are checked outside the timed runs: for every 10th frame of the index loop, the
two libraries' RGB agree within SAME_FRAME_DB (their colour conversions differ in rounding,
and for untagged HD video in the matrix: BT.601 in torchcodec, BT.709 in video_hw).

Threads: each library's default unless --threads N (video_hw threads=N, torchcodec
num_ffmpeg_threads=N).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.abspath(__file__)
SAME_FRAME_DB = 30.0
CHUNK = 32


def one_loop(a, lib):
    """The loop once, from opening the file to the last frame: (seconds to open, to the
    first frame, to the last, frames)."""
    import torch

    t0 = time.perf_counter()
    n_want = a.frames
    got = 0
    first = None

    def mark():
        nonlocal first
        if first is None:
            if a.device != "cpu":
                torch.cuda.synchronize()
            first = time.perf_counter()

    if a.contender == "video_hw":
        kw = {"device": a.device, "pixel_format": "rgb24"}
        if a.threads:
            kw["threads"] = a.threads
        dec = lib.VideoDecoder(a.file, **kw)
        opened = time.perf_counter()
        n = min(n_want, len(dec))
        if a.loop == "index":
            for i in range(n):
                x = torch.from_dlpack(dec[i])
                got += 1
                mark()
        elif a.loop == "chunks":
            for s in range(0, n, CHUNK):
                x = torch.from_dlpack(dec.get_frames_in_range(s, min(s + CHUNK, n)).data)
                got += x.shape[0]
                mark()
        else:
            for f in dec:
                x = torch.from_dlpack(f.data)
                got += 1
                mark()
                if got == n:
                    break
    elif a.contender == "torchcodec":
        kw = {"device": "cpu", "seek_mode": "exact"}
        if a.threads:
            kw["num_ffmpeg_threads"] = a.threads
        dec = lib(a.file, **kw)
        opened = time.perf_counter()
        n = min(n_want, len(dec))
        if a.loop == "index":
            for i in range(n):
                x = dec[i]
                got += 1
                mark()
        elif a.loop == "chunks":
            for s in range(0, n, CHUNK):
                x = dec.get_frames_in_range(s, min(s + CHUNK, n)).data
                got += x.shape[0]
                mark()
        else:
            for x in dec:
                got += 1
                mark()
                if got == n:
                    break
    else:
        dec = lib.SimpleDecoder(a.file, gpu_id=0, use_device_memory=True, output_color_type=lib.OutputColorType.RGBP)
        opened = time.perf_counter()
        n = min(n_want, len(dec))
        if a.loop == "index":
            for i in range(n):
                x = torch.from_dlpack(dec[i])
                got += 1
                mark()
        else:
            size = CHUNK if a.loop == "chunks" else 64
            while got < n:
                frames = dec.get_batch_frames(min(size, n - got))
                if not frames:
                    break
                for f in frames:
                    x = torch.from_dlpack(f)
                got += len(frames)
                mark()
    if a.device != "cpu":
        torch.cuda.synchronize()
    t2 = time.perf_counter()
    info = {"backend": dec.backend, "stats": dec.stats} if a.contender == "video_hw" else {}
    return {"open": opened - t0, "first": (first or t2) - t0, "work": t2 - t0, "frames": got, **info}


def child(a):
    t0 = time.perf_counter()
    import torch  # noqa: F401  (both contenders hand torch tensors to the caller)

    if a.contender == "video_hw":
        import video_hw as lib
    elif a.contender == "torchcodec":
        from torchcodec.decoders import VideoDecoder as lib
    else:
        import PyNvVideoCodec as lib
    t1 = time.perf_counter()
    # The first pass is what a fresh process sees (the library's one-time start included:
    # torchcodec loads FFmpeg at import, video_hw at its first open; CUDA contexts); the
    # second, a new decoder over the same file in the same process, is the library warm,
    # as in a data loader's thousandth clip.
    cold = one_loop(a, lib)
    warm = one_loop(a, lib)
    print(json.dumps({"import": t1 - t0, **cold, "warm": warm}, default=str))


def check(a, files, peer):
    """Every 10th frame of the index loop, both libraries, PSNR of their RGB."""
    import math

    import torch

    import video_hw

    out = {}
    for path in files:
        v = video_hw.VideoDecoder(path, device=a.device, pixel_format="rgb24")
        n = min(a.frames, len(v))
        if peer == "torchcodec":
            from torchcodec.decoders import VideoDecoder as TcDecoder

            p = TcDecoder(path, seek_mode="exact")
            get = lambda i: p[i]  # noqa: E731
            count = len(p)
        else:
            import PyNvVideoCodec as nvc

            p = nvc.SimpleDecoder(path, gpu_id=0, use_device_memory=True, output_color_type=nvc.OutputColorType.RGBP)
            get = lambda i: torch.from_dlpack(p[i]).clone()  # noqa: E731
            count = len(p)
        worst = math.inf
        for i in range(0, n, 10):
            x = torch.from_dlpack(v[i]).float().cpu()
            y = get(i).float().cpu().reshape(x.shape)
            mse = float(((x - y) ** 2).mean())
            worst = min(worst, 99.0 if mse == 0 else 10 * math.log10(255 * 255 / mse))
        out[os.path.basename(path)] = {"frames": [len(v), count], "lowest_psnr_db": round(worst, 2)}
        if len(v) != count or worst < SAME_FRAME_DB:
            out[os.path.basename(path)]["mismatch"] = True
    return out


def run_child(a, contender, loop, path):
    cmd = [sys.executable, HERE, "--child", contender, "--loop", loop, "--file", path, "--device", a.device,
           "--frames", str(a.frames)]
    if a.threads:
        cmd += ["--threads", str(a.threads)]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{contender} {loop} {path}: exit {p.returncode}\n{p.stderr[-3000:]}")
    r = json.loads(p.stdout.strip().splitlines()[-1])
    r["wall"] = wall
    return r


def make_inputs(d):
    os.makedirs(d, exist_ok=True)
    # Noise over a moving pattern, x264 defaults (GOP 250, 3 B-frames): 12 s at 30 fps.
    for name, size, rate in (("loops-640x360.mp4", "640x360", "1M"), ("loops-1080p.mp4", "1920x1080", "6M")):
        out = os.path.join(d, name)
        if os.path.exists(out):
            continue
        # Tagged BT.709 (matrix, primaries, transfer): both libraries then convert with it.
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc2=size={size}:rate=30,noise=alls=12:allf=t", "-t", "12", "-pix_fmt", "yuv420p",
                        "-c:v", "libx264", "-preset", "fast", "-b:v", rate, "-g", "250",
                        "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", out], check=True)
        print(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--loops", default="index,chunks,iterate")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--out")
    ap.add_argument("--make-inputs")
    ap.add_argument("--child")
    ap.add_argument("--loop")
    ap.add_argument("--file")
    a = ap.parse_args()
    if a.make_inputs:
        return make_inputs(a.make_inputs)
    if a.child:
        a.contender = a.child
        return child(a)
    files = a.files.split(",")
    peer = "torchcodec" if a.device == "cpu" else "pynvc"
    contenders = ["video_hw", peer]
    checked = check(a, files, peer)
    print("frames check:", json.dumps(checked))
    rows, raw = [], []
    for path in files:
        for loop in a.loops.split(","):
            times = {c: [] for c in contenders}
            for run in range(a.runs + 1):
                order = contenders if run % 2 == 0 else contenders[::-1]
                for c in order:
                    r = run_child(a, c, loop, path)
                    r.update(contender=c, loop=loop, file=os.path.basename(path), run=run)
                    raw.append(r)
                    if run > 0:
                        times[c].append(r)
            med = {c: {k: statistics.median(x[k] for x in times[c]) for k in ("wall", "work", "open", "first")}
                   for c in contenders}
            for c in contenders:
                med[c]["warm"] = statistics.median(x["warm"]["work"] for x in times[c])
                med[c]["warm_first"] = statistics.median(x["warm"]["first"] for x in times[c])
            frames = times["video_hw"][0]["frames"], times[peer][0]["frames"]
            rows.append((os.path.basename(path), loop, frames, med))
            v, p = med["video_hw"], med[peer]
            print(f"{os.path.basename(path)} {loop}: video_hw {v['wall']:.2f}/{v['work']:.3f}/{v['warm']:.3f} s, "
                  f"{peer} {p['wall']:.2f}/{p['work']:.3f}/{p['warm']:.3f} s (wall/work/warm work); ratio "
                  f"{p['wall'] / v['wall']:.2f}x / {p['work'] / v['work']:.2f}x / {p['warm'] / v['warm']:.2f}x",
                  flush=True)
    first = next(r for r in raw if r["contender"] == "video_hw")
    lines = [f"video_hw: {first.get('backend')}; {peer}; device {a.device}; threads {a.threads or 'default'}; "
             f"medians of {a.runs} runs (run 0 not counted); ratio = {peer} time / video_hw time", "",
             f"| file | loop | frames (video_hw / {peer}) | video_hw wall s | {peer} wall s | ratio (wall) | "
             f"video_hw work s | {peer} work s | ratio (work) | video_hw warm s | {peer} warm s | ratio (warm) | "
             f"open / first frame s, cold (video_hw; {peer}) |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, loop, frames, med in rows:
        v, p = med["video_hw"], med[peer]
        lines.append(f"| {name} | {loop} | {frames[0]} / {frames[1]} | {v['wall']:.2f} | {p['wall']:.2f} | "
                     f"{p['wall'] / v['wall']:.2f}x | {v['work']:.3f} | {p['work']:.3f} | {p['work'] / v['work']:.2f}x | "
                     f"{v['warm']:.3f} | {p['warm']:.3f} | {p['warm'] / v['warm']:.2f}x | "
                     f"{v['open']:.3f} / {v['first']:.3f}; {p['open']:.3f} / {p['first']:.3f} |")
    lines += ["", "Frames check (every 10th frame of the index loop): " + json.dumps(checked)]
    table = "\n".join(lines)
    print(table)
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        open(os.path.join(a.out, "table.md"), "w").write(table + "\n")
        json.dump({"raw": raw, "check": checked}, open(os.path.join(a.out, "raw.json"), "w"), indent=1, default=str)


if __name__ == "__main__":
    main()
