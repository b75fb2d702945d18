#!/usr/bin/env python3
"""The clip samplers against a peer, same files, same clips, same run (issue #57):
video_hw.samplers against torchcodec.samplers on the CPU, and with ``--device cuda``
against a PyNvVideoCodec loop that decodes the same clips' frames.

    python3 scripts/bench_samplers.py --make-inputs DIR       # long.mp4 + clips/ (ffmpeg)
    python3 scripts/bench_samplers.py --inputs DIR [--device cpu|cuda] [--runs 5]
        [--cases long,clips] [--samplers regular,random] [--clip-files 200] [--threads N]
        [--out DIR] [--baseline DIR]

Inputs (scripts/make-python-bench-inputs.sh, by stream copy of a 30 s 1080p25 x264 source,
a key frame every 10 s, B-frames): DIR/long.mp4, 10 minutes of 1080p (15,000 frames), and
DIR/clips/, 200 ten-second 1080p files. Where DIR/ra-1080p-30s.mp4 exists, --make-inputs
only stream-copies it (no encoder needed): a GPU machine is given that 7.5 MB source alone
and makes the 670 MB of inputs itself.

Cases, RGB uint8 (clips, frames, 3, H, W) as torch tensors:
  long   one decoder over long.mp4, one sampler call: 8 clips of 16 frames
  clips  for each of --clip-files files of DIR/clips: a decoder and one sampler call,
         1 clip of 16 frames (a training loader's loop over a data set)
Samplers: ``regular`` = clips_at_regular_indices, ``random`` = clips_at_random_indices with
torch's global generator seeded the same (torch.manual_seed(SEED) before each pass) on both
sides, so both draw the same starts (checked). On the GPU, PyNvVideoCodec has no sampler: its
loop decodes the indices video_hw's sampler picks (``video_hw.samplers``' own index rule,
the same draw) with ``get_batch_frames_by_index``, RGB planar in GPU memory.

Clocks: each contender, case, sampler and run is a fresh process; the order alternates from
run to run; run 0 warms the page cache and is not counted; medians of --runs.
  whole process  time.perf_counter around the child (start-up, imports, both passes), and its
                 CPU time (user + system, resource.getrusage of the reaped child)
  work           in the child, the first pass: opening the file(s) to the last clip, with the
                 GPU synchronised (the library's one-time start included)
  warm           the same pass again in the same process (new decoders): a loader's steady state
  CPU            the child's user + system seconds over each pass (resource.getrusage, all
                 threads): less affected by a loaded machine than the wall clocks
Ratio = peer / video_hw (above 1: video_hw faster).

--baseline DIR adds a third contender in the same runs: video_hw imported from DIR (an
extracted wheel of another build, put first on the child's PYTHONPATH), so a change is
measured against the build before it beside the peer; its rows say baseline / video_hw.

Frames are checked outside the timed runs, in one process running both: every clip's pts
equal (so the same frames were picked; on the GPU the indices are the same by construction),
and each frame's RGB within SAME_FRAME_DB of the peer's (the colour conversions differ in
rounding, and PyNvVideoCodec's in the matrix of untagged HD; exact equality is not expected
across libraries).

Threads: each library's default (video_hw: FFmpeg's frame threads over the cores; torchcodec:
one thread) unless --threads N (video_hw threads=N, torchcodec num_ffmpeg_threads=N).
"""
import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.abspath(__file__)
ROOT = os.path.dirname(os.path.dirname(HERE))
# Frames "the same" across libraries: their RGB conversions round differently (torchcodec:
# swscale, within 3 of ours on 8-bit 4:2:0), and PyNvVideoCodec converts untagged HD video
# with BT.709 where video_hw, as FFmpeg, uses BT.601.
SAME_FRAME_DB = {"torchcodec": 40.0, "pynvc": 30.0}
SEED = 1234
LONG_CLIPS, FRAMES_PER_CLIP = 8, 16
FILE_CLIPS = 1


def cpu_self():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def plan(a):
    """(path, num_clips) of each sampler call of the case."""
    if a.case == "long":
        return [(os.path.join(a.inputs, "long.mp4"), LONG_CLIPS)]
    d = os.path.join(a.inputs, "clips")
    files = sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".mp4"))[: a.clip_files]
    return [(f, FILE_CLIPS) for f in files]


class VideoHw:
    def __init__(self, a, **extra):
        import video_hw

        self.vh, self.a = video_hw, a
        self.kw = {"device": a.device, "pixel_format": "rgb24", "seek_mode": "exact", **extra}
        if a.threads:
            self.kw["threads"] = a.threads

    def clips(self, path, num_clips, sampler):
        dec = self.vh.VideoDecoder(path, **self.kw)
        s = self.vh.samplers
        fn = s.clips_at_regular_indices if sampler == "regular" else s.clips_at_random_indices
        b = fn(dec, num_clips=num_clips, num_frames_per_clip=FRAMES_PER_CLIP)
        return b.data, b.pts_seconds


class TorchCodec:
    def __init__(self, a):
        from torchcodec import samplers
        from torchcodec.decoders import VideoDecoder

        self.s, self.dec, self.kw = samplers, VideoDecoder, {"device": "cpu", "seek_mode": "exact"}
        if a.threads:
            self.kw["num_ffmpeg_threads"] = a.threads

    def clips(self, path, num_clips, sampler):
        dec = self.dec(path, **self.kw)
        fn = self.s.clips_at_regular_indices if sampler == "regular" else self.s.clips_at_random_indices
        b = fn(dec, num_clips=num_clips, num_frames_per_clip=FRAMES_PER_CLIP)
        return b.data, b.pts_seconds.tolist()


class PyNvc:
    """No sampler: the indices video_hw's sampler picks (its pure index rule, the same
    seeded draw), decoded with get_batch_frames_by_index, RGB planar in GPU memory."""

    def __init__(self, a):
        import PyNvVideoCodec as nvc

        from video_hw import samplers

        self.nvc, self.samplers = nvc, samplers

    def clips(self, path, num_clips, sampler):
        import torch

        dec = self.nvc.SimpleDecoder(path, gpu_id=0, use_device_memory=True, output_color_type=self.nvc.OutputColorType.RGBP)
        clips = self.samplers._index_clips(
            sampler, len(dec), num_clips=num_clips, num_frames_per_clip=FRAMES_PER_CLIP, num_indices_between_frames=1,
            sampling_range_start=0, sampling_range_end=None, policy="repeat_last",
        )
        flat = [i for c in clips for i in c]
        # The frames live in the decoder's memory until its next call: copied into one batch.
        frames = torch.stack([torch.from_dlpack(f) for f in dec.get_batch_frames_by_index(flat)])
        return frames.reshape(num_clips, FRAMES_PER_CLIP, *frames.shape[1:]), None


def contender(a, name):
    return {"video_hw": VideoHw, "torchcodec": TorchCodec, "pynvc": PyNvc}[name](a)


def one_pass(a, c):
    """Every sampler call of the case, from opening the first file to the last clip."""
    import torch

    if a.sampler == "random":
        torch.manual_seed(SEED)
    t0, c0 = time.perf_counter(), cpu_self()
    frames = 0
    for path, num_clips in plan(a):
        data, _ = c.clips(path, num_clips, a.sampler)
        x = torch.from_dlpack(data)
        frames += x.shape[0] * x.shape[1]
    if a.device != "cpu":
        torch.cuda.synchronize()
    return {"work": time.perf_counter() - t0, "cpu": cpu_self() - c0, "frames": frames}


def child(a):
    t0 = time.perf_counter()
    import torch  # noqa: F401  (every contender hands torch tensors to the caller)

    c = contender(a, a.child)
    t1 = time.perf_counter()
    cold = one_pass(a, c)
    warm = one_pass(a, c)
    print(json.dumps({"import": t1 - t0, **cold, "warm": warm}))


def psnr(x, y):
    mse = float(((x.float() - y.float()) ** 2).mean())
    return 99.0 if mse == 0 else 10 * math.log10(255 * 255 / mse)


def check(a, peer):
    """Both contenders in this process: same clips (pts; on the GPU, the same indices by
    construction), RGB within SAME_FRAME_DB. The clips case checks its first 20 files."""
    import torch

    out = {}
    for case in a.cases:
        for sampler in a.samplers:
            a.case, a.sampler = case, sampler
            mine, theirs = contender(a, "video_hw"), contender(a, peer)
            # PyNvVideoCodec converts untagged HD with BT.709: the same frames converted so
            # too say whether the matrix is the whole difference.
            as_709 = VideoHw(a, color_matrix="bt709") if peer == "pynvc" else None
            worst, worst_709, same_pts, calls = math.inf, math.inf, True, plan(a)[:20]
            for path, num_clips in calls:
                torch.manual_seed(SEED)
                x, px = mine.clips(path, num_clips, sampler)
                torch.manual_seed(SEED)
                y, py = theirs.clips(path, num_clips, sampler)
                x, y = torch.from_dlpack(x).cpu(), torch.from_dlpack(y).cpu().reshape(torch.from_dlpack(x).shape)
                if py is not None:
                    same_pts &= all(abs(p - q) < 1e-6 for cp, cq in zip(px, py) for p, q in zip(cp, cq))
                worst = min(worst, min(psnr(x[i, j], y[i, j]) for i in range(x.shape[0]) for j in range(x.shape[1])))
                if as_709 is not None:
                    torch.manual_seed(SEED)
                    z = torch.from_dlpack(as_709.clips(path, num_clips, sampler)[0]).cpu()
                    worst_709 = min(worst_709, min(psnr(z[i, j], y[i, j]) for i in range(z.shape[0]) for j in range(z.shape[1])))
            key = f"{case}/{sampler}"
            out[key] = {"calls": len(calls), "same_pts": same_pts, "lowest_psnr_db": round(worst, 2)}
            if as_709 is not None:
                out[key]["lowest_psnr_db_as_bt709"] = round(worst_709, 2)
            if not same_pts or worst < SAME_FRAME_DB[peer]:
                out[key]["mismatch"] = True
    return out


def run_child(a, name, case, sampler):
    env = None
    if name == "baseline":
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [a.baseline, os.environ.get("PYTHONPATH")])))
    cmd = [sys.executable, HERE, "--child", "video_hw" if name == "baseline" else name, "--case", case, "--sampler", sampler, "--inputs", a.inputs,
           "--device", a.device, "--clip-files", str(a.clip_files)]
    if a.threads:
        cmd += ["--threads", str(a.threads)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"{name} {case} {sampler}: exit {p.returncode}\n{p.stderr[-3000:]}")
    r = json.loads(p.stdout.strip().splitlines()[-1])
    r["wall"] = wall
    r["wall_cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return r


def make_inputs(d):
    script = os.path.join(ROOT, "scripts", "make-python-bench-inputs.sh")
    subprocess.run(["bash", script, os.path.join(d, "ra-1080p-30s.mp4"), d], check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", default=os.path.join(ROOT, "bench", "inputs", "py"))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cases", default="long,clips")
    ap.add_argument("--samplers", default="regular,random")
    ap.add_argument("--clip-files", type=int, default=200)
    ap.add_argument("--threads", type=int)
    ap.add_argument("--no-check", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--baseline")
    ap.add_argument("--make-inputs")
    ap.add_argument("--child")
    ap.add_argument("--case")
    ap.add_argument("--sampler")
    a = ap.parse_args()
    if a.make_inputs:
        return make_inputs(a.make_inputs)
    if a.child:
        return child(a)
    a.cases, a.samplers = a.cases.split(","), a.samplers.split(",")
    peer = "torchcodec" if a.device == "cpu" else "pynvc"
    names = ["video_hw", peer] + (["baseline"] if a.baseline else [])
    load = os.getloadavg()
    rows, raw = [], []
    for case in a.cases:
        for sampler in a.samplers:
            got = {c: [] for c in names}
            for run in range(a.runs + 1):
                for c in names if run % 2 == 0 else names[::-1]:
                    r = run_child(a, c, case, sampler)
                    r.update(contender=c, case=case, sampler=sampler, run=run)
                    raw.append(r)
                    if run > 0:
                        got[c].append(r)
            med = {}
            for c in names:
                rs = got[c]
                med[c] = {k: statistics.median(x[k] for x in rs) for k in ("wall", "wall_cpu", "work", "cpu")}
                med[c]["warm"] = statistics.median(x["warm"]["work"] for x in rs)
                med[c]["warm_cpu"] = statistics.median(x["warm"]["cpu"] for x in rs)
                med[c]["frames"] = rs[0]["frames"]
            rows.append((case, sampler, med))
            v, p = med["video_hw"], med[peer]
            print(f"{case} {sampler}: wall {v['wall']:.2f}/{p['wall']:.2f} s ({p['wall'] / v['wall']:.2f}x), "
                  f"work {v['work']:.3f}/{p['work']:.3f} ({p['work'] / v['work']:.2f}x), "
                  f"warm {v['warm']:.3f}/{p['warm']:.3f} ({p['warm'] / v['warm']:.2f}x), "
                  f"warm CPU {v['warm_cpu']:.2f}/{p['warm_cpu']:.2f} s ({p['warm_cpu'] / v['warm_cpu']:.2f}x)",
                  flush=True)
            if a.baseline:
                b = med["baseline"]
                print(f"{case} {sampler}: baseline wall {b['wall']:.2f} s ({b['wall'] / v['wall']:.2f}x of video_hw's), "
                      f"work {b['work']:.3f} ({b['work'] / v['work']:.2f}x), warm {b['warm']:.3f} "
                      f"({b['warm'] / v['warm']:.2f}x)", flush=True)
    end_load = os.getloadavg()
    # The frames are checked after the timed runs, in this process: decoders made here
    # before them (with read-ahead threads decoding up to their budget) took cores from the
    # first timed case (its video_hw runs 1.59x where the same wheel gives 2.0x alone).
    checked = {} if a.no_check else check(a, peer)
    print("frames check:", json.dumps(checked), flush=True)
    lines = [f"video_hw against {peer}; device {a.device}; threads {a.threads or 'default'}; medians of {a.runs} "
             f"runs (run 0 not counted); ratio = {peer} / video_hw; load average at start {load[0]:.2f}, "
             f"at end {end_load[0]:.2f} on {os.cpu_count()} CPUs", "",
             f"| case | sampler | frames | whole process s (video_hw / {peer}) | ratio | whole-process CPU s | ratio | "
             f"work s (first pass) | ratio | warm s | ratio | warm CPU s | ratio |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for case, sampler, med in rows:
        v, p = med["video_hw"], med[peer]
        cells = []
        for k, fmt in (("wall", ".2f"), ("wall_cpu", ".2f"), ("work", ".3f"), ("warm", ".3f"), ("warm_cpu", ".2f")):
            cells += [f"{v[k]:{fmt}} / {p[k]:{fmt}}", f"{p[k] / v[k]:.2f}x"]
        lines.append(f"| {case} | {sampler} | {v['frames']} / {p['frames']} | " + " | ".join(cells) + " |")
        if a.baseline:
            b, cells = med["baseline"], []
            for k, fmt in (("wall", ".2f"), ("wall_cpu", ".2f"), ("work", ".3f"), ("warm", ".3f"), ("warm_cpu", ".2f")):
                cells += [f"{v[k]:{fmt}} / {b[k]:{fmt}}", f"{b[k] / v[k]:.2f}x"]
            lines.append(f"| {case} | {sampler}, against the baseline build | {v['frames']} / {b['frames']} | "
                         + " | ".join(cells) + " |")
    lines += ["", "Frames check: " + json.dumps(checked)]
    table = "\n".join(lines)
    print(table)
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        open(os.path.join(a.out, "table.md"), "w").write(table + "\n")
        json.dump({"raw": raw, "check": checked}, open(os.path.join(a.out, "raw.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
