#!/usr/bin/env python3
"""`device="cuda"` on a stream the GPU's decoder cannot take (AV1 on an H100/H200): a CPU
engine decodes and the frames are copied to the GPU (issue #57, item 3). Against torchcodec's
CPU decode of the same frames where torchcodec is installed, and against video_hw's own
`device="cpu"`, same file, same run.

    python3 scripts/bench_cuda_fallback.py --file av1-1080p.mp4 [--runs 5] [--frames 300]
    python3 scripts/bench_cuda_fallback.py --make-input DIR    # a 1080p AV1 MP4 (ffmpeg, SVT-AV1)

Contenders: video_hw-cuda, video_hw-cpu (the engine the library picks: FFmpeg's libdav1d where
FFmpeg is found, else the built-in rav1d), video_hw-cuda-builtin (the same with
VIDEO_HW_FFMPEG_DIR=none: rav1d), torchcodec (CPU; its FFmpeg's libdav1d on one thread, its
default), torchcodec-threads (num_ffmpeg_threads=0: FFmpeg's choice). After the timed runs,
frames 0, the middle and the last of video_hw-cuda and torchcodec are compared (PSNR, RGB).

Work: every frame of the first --frames, in order (`for frame in dec`; torchcodec: ranges of 32),
RGB uint8 (3, H, W); with device="cuda" the frames are in GPU memory and the GPU is synchronised
at the end. torch, and for device="cuda" its CUDA context, are set up before the work is timed
(a training process has them); the whole-process time includes them.
Each contender and run is a fresh process; the order alternates from run to run; run 0 warms
the page cache and is not counted. Clocks: whole-process wall time (time.perf_counter around
the child) and the child's work time (opening the file to the last frame). Medians.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.abspath(__file__)


def child(a):
    t0 = time.perf_counter()
    # Every contender hands torch tensors to a training loop: torch (and, for the GPU, its
    # CUDA context) is set up before the work is timed.
    import torch

    if a.contender.startswith("video_hw-cuda"):
        torch.zeros(1, device="cuda")
    if a.contender.startswith("torchcodec"):
        from torchcodec.decoders import VideoDecoder as TcDecoder
    else:
        import video_hw
    t1 = time.perf_counter()
    got = 0
    if a.contender.startswith("torchcodec"):
        # torchcodec decodes on one FFmpeg thread unless told; -threads: FFmpeg's choice (0).
        dec = TcDecoder(a.file, num_ffmpeg_threads=0 if a.contender.endswith("-threads") else 1)
        n = min(a.frames, len(dec))
        for start in range(0, n, 32):
            got += len(dec.get_frames_in_range(start, min(start + 32, n)).data)
    else:
        device = "cuda" if a.contender.startswith("video_hw-cuda") else "cpu"
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            dec = video_hw.VideoDecoder(a.file, device=device, pixel_format="rgb24")
        n = min(a.frames, len(dec))
        for frame in dec:
            got += 1
            if got == n:
                break
        if device == "cuda":
            torch.cuda.synchronize()
    t2 = time.perf_counter()
    extra = {"fallback": getattr(dec, "fallback", None), "backend": getattr(dec, "backend", None)}
    print(json.dumps({"frames": got, "import_s": t1 - t0, "work_s": t2 - t1, **extra}))


def check(a):
    """Frames 0, the middle and the last of video_hw (device="cuda") and torchcodec: PSNR of
    their RGB, in one process."""
    import warnings

    import torch
    from torchcodec.decoders import VideoDecoder as TcDecoder

    import video_hw

    tc = TcDecoder(a.file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ours = video_hw.VideoDecoder(a.file, device="cuda", pixel_format="rgb24")
    n = min(a.frames, len(tc))
    assert len(ours) == len(tc), f"frame counts: video_hw {len(ours)}, torchcodec {len(tc)}"
    worst = float("inf")
    for i in (0, n // 2, n - 1):
        x = torch.as_tensor(ours[i], device="cuda").cpu().double()
        y = tc[i].double()
        assert x.shape == y.shape, f"frame {i}: shapes {tuple(x.shape)} and {tuple(y.shape)}"
        mse = float(((x - y) ** 2).mean())
        psnr = float("inf") if mse == 0 else 10 * math.log10(255 * 255 / mse)
        worst = min(worst, psnr)
        print(f"  frame {i}: PSNR {psnr:.2f} dB, largest difference {int((x - y).abs().max())}")
    print(f"frames checked: video_hw (device=cuda, {ours.backend}) against torchcodec, lowest {worst:.2f} dB;"
          f" {len(ours)} frames both")


def make_input(d):
    os.makedirs(d, exist_ok=True)
    out = os.path.join(d, "av1-1080p.mp4")
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
           "testsrc2=size=1920x1080:rate=30", "-t", "10", "-pix_fmt", "yuv420p", "-c:v", "libsvtav1",
           "-preset", "10", "-crf", "35", "-g", "120", out]
    subprocess.run(cmd, check=True)
    print(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--file")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--contenders",
                   default="video_hw-cuda,video_hw-cuda-builtin,video_hw-cpu,torchcodec,torchcodec-threads")
    p.add_argument("--check", action="store_true", help="only compare frames with torchcodec's")
    p.add_argument("--make-input")
    p.add_argument("--child", action="store_true")
    p.add_argument("--contender")
    a = p.parse_args()
    if a.make_input:
        return make_input(a.make_input)
    if a.child:
        return child(a)
    if a.check:
        return check(a)
    contenders = [c for c in a.contenders.split(",") if c]
    try:
        import torchcodec  # noqa: F401
    except Exception:
        contenders = [c for c in contenders if not c.startswith("torchcodec")]
    wall = {c: [] for c in contenders}
    work = {c: [] for c in contenders}
    info = {}
    for run in range(a.runs + 1):
        order = contenders if run % 2 == 0 else contenders[::-1]
        for c in order:
            t0 = time.perf_counter()
            cmd = [sys.executable, HERE, "--child", "--contender", c, "--file", a.file, "--frames", str(a.frames)]
            env = dict(os.environ)
            if c.endswith("-builtin"):
                env["VIDEO_HW_FFMPEG_DIR"] = "none"
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
            t = time.perf_counter() - t0
            r = json.loads(out.strip().splitlines()[-1])
            info[c] = r
            if run > 0:
                wall[c].append(t)
                work[c].append(r["work_s"])
    print(f"file {a.file}, {info[contenders[0]]['frames']} frames, medians of {a.runs} runs (time.perf_counter)")
    for c in contenders:
        print(f"  {c:21s} wall {statistics.median(wall[c]):7.3f} s  work {statistics.median(work[c]):7.3f} s"
              f"  backend: {info[c].get('backend')}  fallback: {info[c].get('fallback')}")
    for base, peer in [(b, p) for b in contenders if b.startswith("video_hw-cuda") for p in contenders
                       if not p.startswith("video_hw-cuda")]:
        print(f"  {base} vs {peer}: wall {statistics.median(wall[peer]) / statistics.median(wall[base]):.2f}x,"
              f" work {statistics.median(work[peer]) / statistics.median(work[base]):.2f}x (above 1: {base} faster)")


if __name__ == "__main__":
    main()
