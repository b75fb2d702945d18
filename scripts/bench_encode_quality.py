#!/usr/bin/env python3
"""Encode quality, bitrate and speed of every encode engine this machine has, against x264.

For each real clip, each engine and speed preset, and each rate (bitrate targets in bits per
pixel, and constant-quality values), the clip is encoded with `video-hw encode` (the engine
pinned with --backend, so no fallback), and then measured:

  * the actual bitrate (the packets' bytes over the clip's duration, ffprobe) and the frame count;
  * PSNR (Y and the 6:1:1 average) and SSIM (Y and all planes) against the source (ffmpeg's psnr
    and ssim filters); VMAF too when the ffmpeg tool has libvmaf (Debian's 5.1 and PyAV's 8.1 have
    not, nor does Debian or PyPI carry the library: see the report);
  * the encode's wall time (the whole `video-hw` process, time.perf_counter) as frames per second,
    and its CPU seconds per frame (user + system of the child, resource.getrusage).

The anchors, x264 `medium` and `veryfast`, run through the ffmpeg tool (libx264, -b:v = -maxrate
= -bufsize at the target: a one-second VBV; video-hw's engines get the same, `--bitrate R
--max-bitrate R`, VBR with its peak at the average, not CBR, which libx264 pads to the rate
with filler data; -crf for constant
quality), in the same run. The report gives Bjontegaard delta rates (BD-rate: the average bitrate
difference at equal quality, cubic fit of log-rate against quality over the overlapping quality
range; negative = fewer bits) of every engine/preset against both anchors, on PSNR (average) and
on SSIM (in dB, -10 log10(1 - SSIM)), from the bitrate-target points; and plots the rate-quality
curves per clip (PNG).

    python3 -m venv /tmp/bench-venv && /tmp/bench-venv/bin/pip install numpy matplotlib
    cargo build --release -p video-hw-cli
    /tmp/bench-venv/bin/python scripts/bench_encode_quality.py            # every engine found
    /tmp/bench-venv/bin/python scripts/bench_encode_quality.py --engines openh264 --clips camera --quick

Writes bench/results/encode-quality-DATE-COMMIT/ (report.md, results.json, one PNG per clip), or
--out DIR. NVENC runs where `video-hw probe` lists it available, with the in-flight depth
experiment (--nvenc-depths) when the CLI offers it; on a machine without NVENC the report says so.

Clips: `camera` (the shared corpus's video-hw/sample-10s.h265, camera footage, 1080p scaled to
1280x720; MIT OR Apache-2.0), `flower` (openh264/VID_1280x720_cavlc_temporal_direct.264, a
1280x720 camera clip of a flower; BSD-2-Clause), `cars` (libvpl's cars_320x240.h264, traffic
camera; MIT). Each is the first --frames frames (cars has 30). Without the shared corpus, the
committed testdata/real/camera-640x360.h264 and testdata/real/cars-320x240.h264 are used.
"""
import argparse
import datetime
import json
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.environ.get("VIDEO_HW_CORPUS", os.path.join(ROOT, "..", "shared", "testdata", "corpus"))

# name: (path relative to the corpus or to the repository, scale or None, licence/source)
CLIPS = {
    "camera": ("corpus:video-hw/sample-10s.h265", "1280:720", "Sanzentyo/video-hw sample-10s.h265, MIT OR Apache-2.0"),
    "flower": ("corpus:openh264/VID_1280x720_cavlc_temporal_direct.264", None, "cisco/openh264 res/, BSD-2-Clause"),
    "cars": ("corpus:libvpl/cars_320x240.h264", None, "intel/libvpl examples/content, MIT"),
}
FALLBACK = {
    "camera": ("repo:testdata/real/camera-640x360.h264", None, "Sanzentyo/video-hw sample-10s.h265 (3 s, 640x360), MIT OR Apache-2.0"),
    "cars": ("repo:testdata/real/cars-320x240.h264", None, "intel/libvpl examples/content, MIT"),
}

# (engine as --backend names it, codec, label) -> presets; the labels name what the engine is.
# Presets: the ones that differ and finish here. OpenH264's seven map onto five settings,
# slow/slower/slowest being one (docs/openh264.md; fast differs from medium only in its slices);
# libx264/libx265/SVT-AV1 run faster, medium and slow (slower ones take
# minutes a clip on 2 cores); rav1e's medium (speed 6) is the slowest that finishes 150 frames
# of 720p in minutes (speed 1 takes hours). The hardware engines (NVENC directly; QSV, VA-API,
# AMF and VideoToolbox through FFmpeg; VideoToolbox natively on macOS) run wherever `video-hw
# probe` lists them: none exists on the machines here.
HW_PRESETS = ["fastest", "medium", "slowest"]
ENGINES = {
    ("openh264", "h264"): ("openh264", ["fastest", "faster", "fast", "medium", "slow"]),
    ("ffmpeg", "h264"): ("libx264", ["faster", "medium", "slow"]),
    ("ffmpeg", "hevc"): ("libx265", ["faster", "medium", "slow"]),
    # FFmpeg's two AV1 encoders by name (`--encoder`): unnamed, a bitrate target on an
    # SVT-AV1 before 4.0 goes to libaom-av1, which holds every target where that SVT-AV1
    # does not. libaom's `slow` (cpu-used 4) takes too long here.
    ("ffmpeg/libsvtav1", "av1"): ("svt-av1", ["faster", "medium", "slow"]),
    ("ffmpeg/libaom-av1", "av1"): ("libaom-av1", ["faster", "medium"]),
    ("rav1e", "av1"): ("rav1e", ["fastest", "faster", "medium"]),
    **{(hw, codec): (f"{hw}-{codec}", HW_PRESETS)
       for hw in ("nvenc", "qsv", "vaapi", "amf", "videotoolbox") for codec in ("h264", "hevc", "av1")},
}
EXT = {"h264": "h264", "hevc": "h265", "av1": "ivf"}
BPP = [0.02, 0.04, 0.08, 0.16]  # bits per pixel per frame: 720p30 0.55, 1.1, 2.2, 4.4 Mb/s
QUALITY = [24, 30, 36, 42]
ANCHORS = ["medium", "veryfast"]


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr[-1500:]}")
    return p


def timed(cmd, env=None):
    """(wall seconds, CPU seconds of the child) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run(cmd, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def source_clip(name, frames, work):
    """The clip as a y4m file of its first `frames` frames, with (width, height, fps, count)."""
    spec = CLIPS[name]
    path = os.path.join(CORPUS, spec[0][7:])
    if not os.path.exists(path):
        if name not in FALLBACK:
            return None
        spec = FALLBACK[name]
        path = os.path.join(ROOT, spec[0][5:])
    out = os.path.join(work, f"{name}.y4m")
    vf = f"scale={spec[1]}:flags=bicubic," if spec[1] else ""
    run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", path, "-frames:v", str(frames), "-vf",
         f"{vf}format=yuv420p", "-f", "yuv4mpegpipe", out])
    with open(out, "rb") as f:
        header = f.readline().decode()
    fields = dict((t[0], t[1:]) for t in header.split()[1:])
    w, h = int(fields["W"]), int(fields["H"])
    num, den = (int(x) for x in fields["F"].split(":"))
    count = (os.path.getsize(out) - len(header)) // (w * h * 3 // 2 + 6)
    return {"y4m": out, "width": w, "height": h, "fps": num / den, "frames": count, "source": spec[2],
            "file": os.path.relpath(path, ROOT)}


def measure(clip, encoded, vmaf):
    """Bitrate, frame count, PSNR and SSIM (and VMAF) of `encoded` against the clip."""
    sizes = run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=size", "-of",
                 "csv=p=0", encoded]).stdout.split()
    frames = len(sizes)
    bits = sum(int(s) for s in sizes) * 8
    # Frames paired by their index, not their timestamps: a raw stream's are made up by
    # the demuxer (with B-frames they start a frame or two late) and the filters' sync
    # would then compare neighbouring frames.
    n = 3 if vmaf else 2
    outs_a = "".join(f"[a{i}]" for i in range(n))
    outs_b = "".join(f"[b{i}]" for i in range(n))
    lavfi = (f"[0:v]settb=1,setpts=N,split={n}{outs_a};[1:v]settb=1,setpts=N,split={n}{outs_b};"
             "[a0][b0]psnr;[a1][b1]ssim")
    if vmaf:
        lavfi += ";[a2][b2]libvmaf"
    # AV1 through libdav1d: FFmpeg 5.1's native av1 decoder needs a hardware decoder.
    dec = ["-c:v", "libdav1d"] if encoded.endswith(".ivf") else []
    err = run(["ffmpeg", "-nostdin", "-hide_banner", *dec, "-i", encoded, "-i", clip["y4m"], "-lavfi", lavfi, "-f",
               "null", "-"]).stderr
    psnr = re.search(r"PSNR y:([0-9.inf]+) u:[0-9.inf]+ v:[0-9.inf]+ average:([0-9.inf]+)", err)
    ssim = re.search(r"SSIM Y:([0-9.]+) .*All:([0-9.]+)", err)
    out = {
        "kbps": bits / (clip["frames"] / clip["fps"]) / 1000,
        "frames": frames,
        "psnr_y": float(psnr.group(1)),
        "psnr_avg": float(psnr.group(2)),
        "ssim_y": float(ssim.group(1)),
        "ssim": float(ssim.group(2)),
    }
    v = re.search(r"VMAF score: ([0-9.]+)", err)
    if v:
        out["vmaf"] = float(v.group(1))
    return out


def ssim_db(s):
    return -10 * math.log10(max(1e-10, 1 - s))


def bd_rate(anchor, test, key):
    """Bjontegaard delta rate of `test` against `anchor` (lists of (kbps, quality)), in %."""
    import numpy as np

    if len(anchor) < 4 or len(test) < 4:
        return None
    ra, qa = np.log([p[0] for p in anchor]), np.array([p[1] for p in anchor])
    rt, qt = np.log([p[0] for p in test]), np.array([p[1] for p in test])
    lo, hi = max(qa.min(), qt.min()), min(qa.max(), qt.max())
    if hi <= lo:
        return None
    pa, pt = np.polyfit(qa, ra, 3), np.polyfit(qt, rt, 3)
    ia, it = np.polyint(pa), np.polyint(pt)
    da = (np.polyval(ia, hi) - np.polyval(ia, lo)) / (hi - lo)
    dt = (np.polyval(it, hi) - np.polyval(it, lo)) / (hi - lo)
    return float((math.exp(dt - da) - 1) * 100)


def available_engines(video_hw):
    probe = json.loads(run([video_hw, "probe", "--json"]).stdout)
    have = {(e["engine"], e["codec"]) for e in probe if e["direction"] == "encode" and e["available"]}
    notes = {(e["engine"], e["codec"]): e["reason"] for e in probe if e["direction"] == "encode"}
    return have, notes


def encode_video_hw(args, clip, engine, codec, preset, mode, value, out, study=None):
    # "ffmpeg/libaom-av1": an engine and the FFmpeg encoder it is to open (`--encoder`).
    engine, _, encoder = engine.partition("/")
    cmd = [args.video_hw, "encode", clip["y4m"], "-q", "--backend", engine, "--codec", codec, "--preset", preset,
           "-o", out]
    if encoder:
        cmd += ["--encoder", encoder]
    if mode == "rate":
        # The average held by a one-second buffer at the target (VBR with its peak at the
        # average): the anchors' setting. Not CBR: libx264's CBR pads to the rate with
        # filler data (true CBR), bits that code nothing.
        cmd += ["--bitrate", str(value), "--max-bitrate", str(value)]
    else:
        cmd += ["--quality", str(value)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    env = None
    if study is not None:
        env = dict(os.environ, VIDEO_HW_OPENH264_STUDY=study)
    return timed(cmd, env=env)


def encode_x264(args, clip, preset, mode, value, out):
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", clip["y4m"], "-c:v", "libx264", "-preset", preset]
    if mode == "rate":
        cmd += ["-b:v", str(value), "-maxrate", str(value), "-bufsize", str(value)]
    else:
        cmd += ["-crf", str(value)]
    if args.threads:
        cmd += ["-threads", str(args.threads)]
    return timed(cmd + ["-f", "h264", out])


def inflight_experiment(args, clip, engine, codec):
    """The in-flight depth experiment: `engine` at depths --nvenc-depths, one mid rate; fps
    (whole process), the output lock's (`map` stage) mean/p95/p99 and the ring's peak, from
    `--stats`."""
    rows = []
    rate = int(round(0.08 * clip["width"] * clip["height"] * clip["fps"], -3))
    for depth in [int(d) for d in args.nvenc_depths.split(",")]:
        with tempfile.TemporaryDirectory() as work:
            out = os.path.join(work, f"out.{EXT[codec]}")
            cmd = [args.video_hw, "--stats", "encode", clip["y4m"], "--backend", engine, "--codec", codec,
                   "--in-flight", str(depth), "--bitrate", str(rate), "-o", out]
            start = time.perf_counter()
            p = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - start
        row = {"depth": depth, "fps": clip["frames"] / wall}
        if p.returncode != 0:
            row["error"] = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}"
        m = re.search(r"^\s*map\s+\d+\s+[0-9.]+\s+([0-9.]+)\s+[0-9.]+\s+([0-9.]+)\s+([0-9.]+)", p.stderr, re.M)
        if m:
            row["lock_ms"] = [float(x) / 1000 for x in m.groups()]
        q = re.search(r"queue: \d+ deep, peak (\d+)", p.stderr)
        if q:
            row["queue_peak"] = int(q.group(1))
        rows.append(row)
    lines = [f"`{engine}` {codec}, {clip['width']}x{clip['height']}, {clip['frames']} frames at {rate / 1000:.0f} kb/s "
             "(`--in-flight N`; lock = the `map` stage of `--stats`):", "",
             "| in flight | fps | lock mean ms | lock p95 ms | lock p99 ms | queue peak |", "|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['depth']} | failed: {r['error'][:100]} | | | | |")
            continue
        lock = r.get("lock_ms")
        cells = [f"{x:.3f}" for x in lock] if lock else ["—"] * 3
        lines.append(f"| {r['depth']} | {r['fps']:.1f} | {' | '.join(cells)} | {r.get('queue_peak', '—')} |")
    return rows, "\n".join(lines)


def report(results, clips, args, notes, vmaf, outdir):
    import numpy as np  # noqa: F401  (bd_rate needs it; fail early with a clear message)

    lines = [f"# Encode quality, bitrate and speed: {args.stamp}", "",
             f"Machine: {os.cpu_count()} cores ({args.machine}); threads per encode: "
             f"{args.threads or 'each engine default'}. Clock: time.perf_counter, whole process; CPU: getrusage of the child.",
             f"video-hw: {args.video_hw} ({args.commit}); ffmpeg tool: {args.ffmpeg_version}.", "",
             "Quality: ffmpeg's psnr (Y, and the 6:1:1 average) and ssim (Y, all planes) against the source. "
             "BD-rate: cubic fit of log(rate) against quality over the common quality range, bitrate-target points "
             "only; negative means fewer bits than the anchor for the same quality.", ""]
    lines.append("VMAF: " + ("measured (libvmaf in the ffmpeg tool)." if vmaf else
                             "not measured: neither Debian's ffmpeg 5.1 nor PyAV's FFmpeg 8.1 has libvmaf, Debian 12 "
                             "has no libvmaf package and PyPI no libvmaf wheel; the harness adds it where the ffmpeg "
                             "tool has the libvmaf filter."))
    lines.append("")
    lines.append("Clips:")
    for name, c in clips.items():
        lines.append(f"- `{name}`: {c['file']} ({c['source']}), {c['width']}x{c['height']}, {c['frames']} frames at "
                     f"{c['fps']:.3f} fps.")
    lines.append("")
    skipped = [f"- {e} {c}: {n}" for (e, c), n in notes.items() if (e, c) in ENGINES and (e, c) not in args.have]
    if skipped:
        lines += ["Engines not run here (from `video-hw probe`):", *skipped, ""]
    # BD-rate table, per clip.
    for name in clips:
        rows = [r for r in results if r["clip"] == name and r["mode"] != "inflight"]
        curves = {}
        for r in rows:
            if r["mode"] == "rate" and "error" not in r:
                curves.setdefault(r["label"], []).append(r)
        lines += [f"## {name}", "", "| engine/preset | BD-rate PSNR vs x264 medium | PSNR vs x264 veryfast | SSIM vs "
                  "x264 medium | SSIM vs x264 veryfast | fps (median) | CPU s/frame (median) |",
                  "|---|---|---|---|---|---|---|"]
        for label, pts in sorted(curves.items()):
            cells = []
            for key in ("psnr_avg", "ssim"):
                for anchor in ANCHORS:
                    a = curves.get(f"x264 {anchor} (ffmpeg)")
                    q = (lambda p: p[key]) if key == "psnr_avg" else (lambda p: ssim_db(p[key]))
                    bd = a and bd_rate([(p["kbps"], q(p)) for p in a], [(p["kbps"], q(p)) for p in pts], key)
                    cells.append("—" if bd is None else f"{bd:+.1f}%")
            fps = sorted(p["fps"] for p in pts)[len(pts) // 2]
            cpu = sorted(p["cpu_per_frame"] for p in pts)[len(pts) // 2]
            lines.append(f"| {label} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} | {fps:.1f} | {cpu:.4f} |")
        base = curves.get(f"openh264 {args.study_preset}")
        if args.openh264_study and base:
            lines += ["", f"Settings study: each variant against `openh264 {args.study_preset}` as it is.", "",
                      "| variant | settings | BD-rate PSNR | BD-rate SSIM | fps (median) |", "|---|---|---|---|---|"]
            for label, pts in sorted(curves.items()):
                if not label.startswith(f"openh264 {args.study_preset} "):
                    continue
                bd = [bd_rate([(p["kbps"], q(p)) for p in base], [(p["kbps"], q(p)) for p in pts], None)
                      for q in (lambda p: p["psnr_avg"], lambda p: ssim_db(p["ssim"]))]
                fps = sorted(p["fps"] for p in pts)[len(pts) // 2]
                cells = ["—" if b is None else f"{b:+.1f}%" for b in bd]
                lines.append(f"| {label} | `{pts[0]['study']}` | {cells[0]} | {cells[1]} | {fps:.1f} |")
        lines += ["", "| engine/preset | mode | asked | kb/s | error | frames | PSNR Y | PSNR avg | SSIM Y | SSIM | "
                  + ("VMAF | " if vmaf else "") + "fps |", "|---|---|---|---|---|---|---|---|---|---|" +
                  ("---|" if vmaf else "") + "---|"]
        for r in rows:
            if "error" in r:
                lines.append(f"| {r['label']} | {r['mode']} | {r['value']} | failed: {r['error'][:120]} |")
                continue
            asked = f"{r['value'] / 1000:.0f}k" if r["mode"] == "rate" else f"q {r['value']}"
            err = f"{r['kbps'] * 1000 / r['value'] - 1:+.1%}" if r["mode"] == "rate" else "—"
            lines.append(f"| {r['label']} | {r['mode']} | {asked} | {r['kbps']:.0f} | {err} | {r['frames']} | "
                         f"{r['psnr_y']:.2f} | {r['psnr_avg']:.2f} | {r['ssim_y']:.4f} | {r['ssim']:.4f} | "
                         + (f"{r.get('vmaf', float('nan')):.2f} | " if vmaf else "") + f"{r['fps']:.1f} |")
        lines += ["", f"![{name}]({name}.png)", ""]
    if args.nvenc_note:
        lines += [f"## In-flight depth ({args.inflight_engine})", "", args.nvenc_note, ""]
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def plot(results, clips, outdir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for name in clips:
        fig, axes = plt.subplots(1, 2, figsize=(13, 5))
        curves = {}
        for r in results:
            if r["clip"] == name and r["mode"] == "rate" and "error" not in r:
                curves.setdefault(r["label"], []).append(r)  # (the in-flight rows are mode "inflight")
        for label, pts in sorted(curves.items()):
            pts.sort(key=lambda p: p["kbps"])
            style = "--" if label.startswith("x264") else "-"
            axes[0].plot([p["kbps"] for p in pts], [p["psnr_avg"] for p in pts], style, marker="o", label=label)
            axes[1].plot([p["kbps"] for p in pts], [ssim_db(p["ssim"]) for p in pts], style, marker="o", label=label)
        for ax, what in zip(axes, ["PSNR average (dB)", "SSIM (dB)"]):
            ax.set_xscale("log")
            ax.set_xlabel("kb/s")
            ax.set_ylabel(what)
            ax.grid(True, which="both", alpha=0.3)
        axes[1].legend(fontsize=7, loc="lower right")
        fig.suptitle(f"{name}: {clips[name]['width']}x{clips[name]['height']}, {clips[name]['frames']} frames")
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, f"{name}.png"), dpi=90)
        plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--video-hw", default=os.path.join(ROOT, "target", "release", "video-hw"))
    ap.add_argument("--clips", default="camera,flower,cars")
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--engines", default="", help="labels or --backend names to run (default: every one found)")
    ap.add_argument("--modes", default="rate,quality", help="rate (bitrate targets), quality (constant quality)")
    ap.add_argument("--threads", type=int, default=0, help="threads per encode (default: each engine's own)")
    ap.add_argument("--quick", action="store_true", help="one preset per engine, 60 frames")
    ap.add_argument("--out", default="")
    ap.add_argument("--openh264-study", default="", help="OpenH264 settings variants, NAME:SPEC;… with SPEC as "
                    "VIDEO_HW_OPENH264_STUDY takes it (tl=3,bgd=0,…); each is also compared with the preset as it is")
    ap.add_argument("--study-preset", default="slow", help="the OpenH264 preset the study varies")
    ap.add_argument("--nvenc-depths", default="1,2,4,8", help="in-flight depths of the NVENC experiment")
    ap.add_argument("--inflight-engine", default="nvenc", help="engine of the in-flight experiment (nvenc; "
                    "another engine only checks the harness: it has no output lock)")
    args = ap.parse_args()
    for tool in ("ffmpeg", "ffprobe"):
        run([tool, "-version"])
    if not os.path.exists(args.video_hw):
        sys.exit(f"no {args.video_hw}: cargo build --release -p video-hw-cli, or give --video-hw")
    try:
        import matplotlib  # noqa: F401
        import numpy  # noqa: F401
    except ImportError:
        sys.exit("needs numpy and matplotlib: python3 -m venv /tmp/bench-venv && /tmp/bench-venv/bin/pip install numpy matplotlib")
    frames = 60 if args.quick else args.frames
    commit = run(["git", "-C", ROOT, "rev-parse", "--short=7", "HEAD"]).stdout.strip()
    dirty = run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"]).stdout.strip()
    args.commit = commit + (" with uncommitted changes" if dirty else "")
    args.stamp = f"{datetime.date.today():%Y-%m-%d}, commit {args.commit}"
    args.ffmpeg_version = run(["ffmpeg", "-version"]).stdout.splitlines()[0]
    args.machine = run(["uname", "-m"]).stdout.strip()
    outdir = args.out or os.path.join(ROOT, "bench", "results", f"encode-quality-{datetime.date.today():%Y%m%d}-{commit}")
    os.makedirs(outdir, exist_ok=True)
    vmaf = "libvmaf" in run(["ffmpeg", "-hide_banner", "-filters"]).stdout
    have, notes = available_engines(args.video_hw)
    args.have = have
    wanted = [e for e in args.engines.split(",") if e]
    plan = []
    for (engine, codec), (label, presets) in ENGINES.items():
        if (engine.partition("/")[0], codec) not in have:
            continue
        if wanted and label not in wanted and engine not in wanted and engine.partition("/")[0] not in wanted:
            continue
        for preset in presets[1:2] if args.quick and len(presets) > 1 else presets:
            plan.append((engine, codec, f"{label} {preset}", preset, None))
    # The OpenH264 settings study: variants of one preset, each against the preset as it is.
    if args.openh264_study and ("openh264", "h264") in have:
        preset = args.study_preset
        plan = [p for p in plan if p[2] != f"openh264 {preset}"]
        plan.append(("openh264", "h264", f"openh264 {preset}", preset, ""))
        for variant in args.openh264_study.split(";"):
            name, _, spec = variant.partition(":")
            plan.append(("openh264", "h264", f"openh264 {preset} {name}", preset, spec))
    modes = args.modes.split(",")
    args.nvenc_note = ""
    inflight = (args.inflight_engine, "h264") in have
    if args.inflight_engine == "nvenc" and not inflight:
        args.nvenc_note = ("Not run: no NVENC on this machine (`video-hw probe`: "
                           + notes.get(("nvenc", "h264"), "not listed") + "). The H100/H200 we have has none either. "
                           "On a GPU with an encoder the harness runs NVENC H.264/HEVC/AV1 like the other engines, "
                           "and the in-flight experiment: depths " + args.nvenc_depths + ", fps, the bitstream "
                           "lock's mean/p95/p99 and the ring's peak.")
    results = []
    with tempfile.TemporaryDirectory() as work:
        clips = {}
        for name in args.clips.split(","):
            c = source_clip(name, 30 if name == "cars" else frames, work)
            if c:
                clips[name] = c
        for name, clip in clips.items():
            pixels = clip["width"] * clip["height"] * clip["fps"]
            rates = [int(round(b * pixels, -3)) for b in BPP]
            jobs = [("x264", "h264", f"x264 {p} (ffmpeg)", p, None) for p in ANCHORS] + plan
            for engine, codec, full, preset, study in jobs:
                for mode, values in (("rate", rates), ("quality", QUALITY)):
                    if mode not in modes:
                        continue
                    for value in values:
                        out = os.path.join(work, f"out.{EXT[codec]}")
                        row = {"clip": name, "label": full, "engine": engine, "codec": codec, "preset": preset,
                               "mode": mode, "value": value, "study": study}
                        try:
                            if engine == "x264":
                                wall, cpu = encode_x264(args, clip, preset, mode, value, out)
                            else:
                                wall, cpu = encode_video_hw(args, clip, engine, codec, preset, mode, value, out,
                                                            study)
                            row.update(measure(clip, out, vmaf))
                            row["fps"] = clip["frames"] / wall
                            row["cpu_per_frame"] = cpu / clip["frames"]
                            if row["frames"] != clip["frames"]:
                                row["error"] = f"{row['frames']} frames of {clip['frames']}"
                        except (RuntimeError, AttributeError) as e:
                            row["error"] = str(e).replace("\n", " ")
                        results.append(row)
                        status = row.get("error") or (f"{row['kbps']:.0f} kb/s, PSNR {row['psnr_avg']:.2f}, "
                                                      f"SSIM {row['ssim']:.4f}, {row['fps']:.1f} fps")
                        print(f"{name} {full} {mode} {value}: {status}", flush=True)
        if inflight and clips:
            name = next(iter(clips))
            rows, table = inflight_experiment(args, clips[name], args.inflight_engine, "h264")
            args.nvenc_note = table
            results.append({"clip": name, "label": "in-flight experiment", "mode": "inflight", "rows": rows})
    with open(os.path.join(outdir, "results.json"), "w") as f:
        facts = {n: {k: v for k, v in c.items() if k != "y4m"} for n, c in clips.items()}
        json.dump({"stamp": args.stamp, "clips": facts, "results": results}, f, indent=1)
    report(results, clips, args, notes, vmaf, outdir)
    plot(results, clips, outdir)
    print(f"wrote {outdir}/report.md, results.json and the plots")


if __name__ == "__main__":
    main()
