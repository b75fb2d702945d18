#!/usr/bin/env python3
"""A PyTorch DataLoader over many short clips, the Python package against torchcodec on the
CPU, each library in each of its patterns, in the same run, interleaved (issue #62).

    python3 scripts/bench_dataloader.py --clips DIR [--runs 5] [--workers 2] [--method fork]
        [--frames 8] [--stride 8] [--size 224] [--out DIR]
    python3 scripts/bench_dataloader.py --make-clips DIR     # the 200 ten-second clips
    python3 scripts/bench_dataloader.py --self-test          # tiny clips made here, one run

The dataset: one item per clip file of DIR (200 ten-second 640x360 H.264 MP4s from
--make-clips), each item `--frames` frames `--stride` apart from a start drawn once with a
fixed seed (the same frames for every contender), resized to --size x --size RGB uint8,
(frames, 3, H, W); DataLoader(batch_size=8, num_workers=--workers, multiprocessing_context
=--method), one epoch.

Contenders and patterns (a fresh process for each, each run):
  video_hw    per_item   a VideoDecoder per item in __getitem__ (resize fused with the
                         colour conversion), default threads
  video_hw    per_item1  the same with threads=1 (each worker one core)
  video_hw    in_init    every decoder opened in the Dataset's __init__, in the parent
                         (works across fork since the DataLoader-worker fix)
  torchcodec  per_item   a VideoDecoder per item (seek_mode="exact", its default),
                         transforms=[Resize] (decoder-native), num_ffmpeg_threads=1 (default)
  torchcodec  per_item_approx  the same with seek_mode="approximate"
  torchcodec  in_init    decoders opened in __init__ (fork only: its decoders do not pickle
                         to a spawn worker)
Each library's best pattern (lowest median) is compared: ratio = torchcodec's best time /
video_hw's best (above 1: video_hw faster).

With --device cuda (an NVIDIA GPU; PyNvVideoCodec is the peer) the frames are decoded in the
training process, where they are used (a CUDA tensor does not cross to a worker process
cheaply); the DataLoader hands out each batch's files and frame indices:
  video_hw    main_many  decode_many(files, indices, device="cuda", pixel_format="rgb24",
                         resize) per batch: resize fused into the GPU conversion
  pynvvideocodec main_threads  NVIDIA's way for many files: one thread per NVDEC engine, each
                         with a SimpleDecoder reconfigured from file to file, RGB in device
                         memory, get_batch_frames_by_index, then resized by torch on the GPU
                         (F.interpolate, bilinear) before the decoder's next call
Both give (batch, frames, 3, size, size) uint8 CUDA tensors; work time ends after a
torch.cuda.synchronize().

Timing: whole-process wall time (time.perf_counter here around the child's launch and exit:
Python start, imports, the DataLoader's workers' start and the epoch) is the figure of
record; the child also reports its work time (the Dataset's construction to the last batch).
Run 0 warms the page cache and is not counted; the order of the patterns rotates from run to
run; medians of --runs runs.

Checked outside the timed runs: every pattern of a library gives the same pixels (video_hw's
three by MD5; torchcodec's by MD5), and the two libraries' frames are the same pictures
(RGB PSNR, reported: their conversions and resizers differ).
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

T0 = time.perf_counter()
HERE = os.path.abspath(__file__)
SEED = 20261126
PATTERNS = {
    "video_hw": ("per_item", "per_item1", "in_init"),
    "torchcodec": ("per_item", "per_item_approx", "in_init"),
}
GPU_PATTERNS = {"video_hw": ("main_many",), "pynvvideocodec": ("main_threads",)}
# PyNvVideoCodec's threads: one per NVDEC engine of an H200, as NVIDIA's benchmark.
PYNVC_THREADS = 7


# ---- the datasets (run in the children; module level so spawn workers can import them) ------


class Items:
    """What each item asks for: its file and frame indices."""

    def __init__(self, clips, frames, stride, count):
        rng = random.Random(SEED)
        span = (frames - 1) * stride + 1
        self.jobs = []
        for path in clips:
            start = rng.randrange(max(1, count - span + 1))
            self.jobs.append((path, list(range(start, start + span, stride))))


class VideoHwSet:
    def __init__(self, items, size, pattern):
        import video_hw

        self.jobs, self.pattern = items.jobs, pattern
        self.options = dict(pixel_format="rgb24", resize=(size, size))
        if pattern == "per_item1":
            self.options["threads"] = 1
        self.decoders = [video_hw.VideoDecoder(p, **self.options) for p, _ in self.jobs] if pattern == "in_init" else None

    def __len__(self):
        return len(self.jobs)

    def __getitem__(self, i):
        import torch
        import video_hw

        path, indices = self.jobs[i]
        dec = self.decoders[i] if self.decoders else video_hw.VideoDecoder(path, **self.options)
        return torch.from_dlpack(dec.get_frames_at(indices).data)


class TorchCodecSet:
    def __init__(self, items, size, pattern):
        self.jobs, self.pattern, self.size = items.jobs, pattern, size
        self.decoders = [self.open(p) for p, _ in self.jobs] if pattern == "in_init" else None

    def open(self, path):
        from torchcodec.decoders import VideoDecoder
        from torchcodec.transforms import Resize

        mode = "approximate" if self.pattern == "per_item_approx" else "exact"
        return VideoDecoder(path, seek_mode=mode, transforms=[Resize((self.size, self.size))])

    def __len__(self):
        return len(self.jobs)

    def __getitem__(self, i):
        path, indices = self.jobs[i]
        dec = self.decoders[i] if self.decoders else self.open(path)
        return dec.get_frames_at(indices).data


class Jobs:
    """The GPU runs' DataLoader items: a file and its frame indices (decoded in the main
    process, a batch at a time)."""

    def __init__(self, items):
        self.jobs = items.jobs

    def __len__(self):
        return len(self.jobs)

    def __getitem__(self, i):
        return self.jobs[i]


def _jobs_batch(items):
    return items


class VideoHwGpu:
    def __init__(self, size):
        import video_hw

        self.vh, self.size = video_hw, size

    def batch(self, jobs):
        import torch

        got = self.vh.decode_many(
            [p for p, _ in jobs], [i for _, i in jobs], device="cuda", pixel_format="rgb24", resize=(self.size, self.size)
        )
        return torch.stack([torch.from_dlpack(b.data) for b in got])


class PyNvcGpu:
    def __init__(self, size):
        import threading
        from concurrent.futures import ThreadPoolExecutor

        import PyNvVideoCodec as nvc
        import torch

        self.nvc, self.size, self.torch = nvc, size, torch
        self.local = threading.local()
        self.pool = ThreadPoolExecutor(max_workers=PYNVC_THREADS)

    def one(self, job):
        import torch.nn.functional as F

        torch = self.torch
        path, indices = job
        local = self.local
        if not hasattr(local, "dec"):
            local.stream = torch.cuda.Stream()
            local.dec = self.nvc.SimpleDecoder(
                path, gpu_id=0, use_device_memory=True, output_color_type=self.nvc.OutputColorType.RGB,
                cuda_stream=local.stream.cuda_stream,
            )
        else:
            local.dec.reconfigure_decoder(path)
        frames = local.dec.get_batch_frames_by_index(indices)
        with torch.cuda.stream(local.stream):
            # (N, H, W, 3) -> (N, 3, size, size), done before the decoder's next call reuses
            # the frames' memory.
            x = torch.stack([torch.from_dlpack(f) for f in frames]).permute(0, 3, 1, 2).float()
            y = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
            out = y.round_().clamp_(0, 255).to(torch.uint8)
        local.stream.synchronize()
        return out

    def batch(self, jobs):
        return self.torch.stack(list(self.pool.map(self.one, jobs)))


def gpu_child(a):
    """One GPU contender: the DataLoader gives jobs, the main process decodes them."""
    import torch

    clips = clip_files(a.clips)
    start = time.perf_counter()
    items = Items(clips, a.frames, a.stride, a.clip_frames)
    loader = torch.utils.data.DataLoader(Jobs(items), batch_size=8, num_workers=0, collate_fn=_jobs_batch)
    who = (VideoHwGpu if a.child == "video_hw" else PyNvcGpu)(a.size)
    frames = 0
    digest = hashlib.md5()
    for jobs in loader:
        batch = who.batch(jobs)
        frames += batch.shape[0] * batch.shape[1]
        if a.digest:
            digest.update(batch.cpu().numpy().tobytes())
    torch.cuda.synchronize()
    work_s = time.perf_counter() - start
    out = {"work_s": work_s, "import_s": 0.0, "frames": frames, "shape": list(batch.shape)}
    if a.digest:
        out["md5"] = digest.hexdigest()
    print(json.dumps(out), flush=True)


def dataset(who, pattern, a, clips):
    items = Items(clips, a.frames, a.stride, a.clip_frames)
    return (VideoHwSet if who == "video_hw" else TorchCodecSet)(items, a.size, pattern)


def clip_files(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".mp4"))


# ---- a child: one epoch -----------------------------------------------------------------------


def child(a):
    import faulthandler

    faulthandler.dump_traceback_later(max(a.child_timeout - 10, 5), exit=True)
    if a.device == "cuda":
        return gpu_child(a)
    t = time.perf_counter()
    import torch

    import_s = time.perf_counter() - t
    clips = clip_files(a.clips)
    start = time.perf_counter()
    ds = dataset(a.child, a.pattern, a, clips)
    loader = torch.utils.data.DataLoader(
        ds, batch_size=8, num_workers=a.workers, multiprocessing_context=a.method, timeout=a.child_timeout
    )
    digest = hashlib.md5()
    frames = 0
    for batch in loader:
        frames += batch.shape[0] * batch.shape[1]
        if a.digest:
            digest.update(batch.contiguous().numpy().tobytes())
    work_s = time.perf_counter() - start
    out = {"work_s": work_s, "import_s": import_s, "frames": frames, "shape": list(batch.shape)}
    if a.digest:
        out["md5"] = digest.hexdigest()
    print(json.dumps(out), flush=True)


def run_child(a, who, pattern, digest=False):
    cmd = [sys.executable, HERE, "--child", who, "--pattern", pattern, "--clips", a.clips]
    cmd += ["--workers", str(a.workers), "--method", a.method, "--frames", str(a.frames)]
    cmd += ["--stride", str(a.stride), "--size", str(a.size), "--clip-frames", str(a.clip_frames)]
    cmd += ["--child-timeout", str(a.child_timeout), "--device", a.device] + (["--digest"] if digest else [])
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.child_timeout + 30)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"{who} {pattern} failed ({p.returncode}):\n{p.stderr[-4000:]}")
    r = json.loads(p.stdout.strip().splitlines()[-1])
    r["wall_s"] = wall
    return r


# ---- checks outside the timing -----------------------------------------------------------------


def check_same_pictures(a):
    """The two libraries' frames of three items: the same pictures (RGB PSNR)."""
    import numpy as np

    clips = clip_files(a.clips)[:3]
    vh = dataset("video_hw", "per_item", a, clips)
    tc = dataset("torchcodec", "per_item", a, clips)
    worst = float("inf")
    for i in range(len(clips)):
        x = vh[i].numpy().astype(np.float64)
        y = tc[i].numpy().astype(np.float64)
        assert x.shape == y.shape, (x.shape, y.shape)
        mse = float(((x - y) ** 2).mean())
        worst = min(worst, 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse))
    return worst


# ---- inputs ----------------------------------------------------------------------------------


def make_clips(out, n=200, distinct=20, seconds=10, noise=8):
    """`n` ten-second 640x360 25 fps H.264 MP4s (x264 veryfast, keyint 250, 3 B-frames):
    `distinct` different noisy test patterns, each under several names (less `noise`, fewer
    bytes: the GPU machine's copy travels in a call of at most 64 MiB)."""
    os.makedirs(out, exist_ok=True)
    tmp = tempfile.mkdtemp()
    try:
        made = []
        for k in range(distinct):
            src = os.path.join(tmp, f"d{k:02d}.mp4")
            pattern = ["testsrc2", "smptehdbars", "mandelbrot", "rgbtestsrc"][k % 4]
            lavfi = f"{pattern}=size=640x360:rate=25,noise=alls={noise + k}:allf=t+u:all_seed={k},hue=h={17 * k}"
            subprocess.run(
                ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", lavfi, "-t", str(seconds),
                 "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-bf", "3", "-pix_fmt", "yuv420p",
                 "-x264-params", "keyint=250:scenecut=0", "-movflags", "+faststart", src],
                check=True,
            )
            made.append(src)
        for i in range(n):
            shutil.copy(made[i % distinct], os.path.join(out, f"c{i:03d}.mp4"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"made {n} clips from {distinct} distinct ones in {out}")


# ---- the parent -------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--method", default="fork", choices=["fork", "spawn", "forkserver"])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--copies", type=int, default=200, help="with --clips-from: how many files to make")
    ap.add_argument("--clips-from", help="make --clips by copying the files of this folder to --copies names")
    ap.add_argument("--distinct", type=int, default=20, help="with --make-clips: distinct clips among the copies")
    ap.add_argument("--noise", type=int, default=8, help="with --make-clips: the test pattern's noise strength")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--stride", type=int, default=8)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--clip-frames", type=int, default=250, help="frames in each clip file")
    ap.add_argument("--only", default="", help="comma-separated LIB:PATTERN to run (default: all)")
    ap.add_argument("--out")
    ap.add_argument("--child-timeout", type=int, default=600)
    ap.add_argument("--make-clips")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--child")
    ap.add_argument("--pattern")
    ap.add_argument("--digest", action="store_true")
    a = ap.parse_args()
    if a.make_clips:
        return make_clips(a.make_clips, n=a.copies, distinct=min(a.distinct, a.copies), noise=a.noise)
    if a.child:
        return child(a)
    if a.self_test:
        tmp = tempfile.mkdtemp()
        make_clips(tmp, n=4, distinct=2, seconds=3)
        a.clips, a.runs, a.clip_frames = tmp, 1, 75
    if a.clips_from:
        # The GPU machine has no ffmpeg: the distinct clips travel, the copies are made there.
        os.makedirs(a.clips, exist_ok=True)
        src = clip_files(a.clips_from)
        for i in range(a.copies):
            shutil.copy(src[i % len(src)], os.path.join(a.clips, f"c{i:03d}.mp4"))
    table = GPU_PATTERNS if a.device == "cuda" else PATTERNS
    runs = [(w, p) for w, ps in table.items() for p in ps]
    if a.only:
        runs = [tuple(x.split(":")) for x in a.only.split(",")]
    if a.method != "fork":
        # torchcodec's decoders do not pickle: its in_init pattern needs fork.
        runs = [r for r in runs if r != ("torchcodec", "in_init")]

    # Same frames within each library, whatever the pattern (one digest run each).
    digests = {r: run_child(a, *r, digest=True)["md5"] for r in runs}
    for who in table:
        got = {digests[r] for r in runs if r[0] == who}
        assert len(got) <= 1, f"{who}: the patterns gave different pixels: {got}"
    psnr = check_same_pictures(a) if a.device == "cpu" and {w for w, _ in runs} == set(PATTERNS) else None

    results = {r: [] for r in runs}
    for k in range(a.runs + 1):
        order = runs[k % len(runs):] + runs[: k % len(runs)]
        for r in order:
            got = run_child(a, *r)
            if k > 0:
                results[r].append(got)
        print(f"run {k}/{a.runs} done", file=sys.stderr, flush=True)

    def med(r, key):
        return statistics.median(x[key] for x in results[r])

    lines = [
        f"DataLoader, {len(clip_files(a.clips))} clips x {a.frames} frames (stride {a.stride}), "
        f"resized to {a.size}x{a.size} RGB, batch 8, "
        + (f"{a.workers} workers ({a.method}); " if a.device == "cpu" else "decoded in the main process on the GPU; ")
        + 
        f"medians of {a.runs} runs; whole-process wall time (time.perf_counter around each child)",
        "",
        "| library | pattern | wall s | work s | frames |",
        "|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(f"| {r[0]} | {r[1]} | {med(r, 'wall_s'):.3f} | {med(r, 'work_s'):.3f} | {results[r][0]['frames']} |")
    best = {}
    for who in table:
        mine = [r for r in runs if r[0] == who]
        if mine:
            best[who] = min(mine, key=lambda r: med(r, "wall_s"))
    if len(best) == 2:
        peer = [w for w in table if w != "video_hw"][0]
        v, t = best["video_hw"], best[peer]
        lines += [
            "",
            f"Best of each: video_hw {v[1]} {med(v, 'wall_s'):.3f} s, {peer} {t[1]} {med(t, 'wall_s'):.3f} s: "
            f"**{med(t, 'wall_s') / med(v, 'wall_s'):.2f}x** in whole-process wall time, "
            f"{med(t, 'work_s') / med(v, 'work_s'):.2f}x in work time",
        ]
    if psnr is not None:
        lines.append(f"Same pictures: lowest RGB PSNR between the libraries over 3 items {psnr:.1f} dB")
    report = "\n".join(lines)
    print(report)
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "report.md"), "w") as f:
            f.write(report + "\n")
        raw = {f"{w}:{p}": v for (w, p), v in results.items()}
        with open(os.path.join(a.out, "raw.json"), "w") as f:
            json.dump({"args": vars(a), "results": raw, "psnr_db": psnr}, f, indent=1)


if __name__ == "__main__":
    main()
