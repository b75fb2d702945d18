#!/usr/bin/env python3
"""Where OpenH264's slowest preset stops against x264 `veryfast`, and why.

x264 `veryfast` is run as the anchor, then again with the coding tools that OpenH264's
encoder does not have switched off one after another (cumulatively):

  1. B-frames (`bframes=0`): OpenH264 codes I and P pictures only;
  2. the macroblock tree (`mbtree=0`): OpenH264 has no look-ahead that lowers the QP of
     blocks later pictures refer to;
  3. the 8x8 transform (`8x8dct=0`): a High-profile tool; OpenH264 encodes Constrained
     Baseline / Main with 4x4 transforms only;
  4. weighted prediction (`weightp=0`): OpenH264 does not search weights.

OpenH264 `slow` (video-hw's slowest distinct OpenH264 setting) runs in the same process on
the same rate points: bitrate targets at 0.02-0.16 bits per pixel, each with a one-second
VBV at the target, as in `bench_encode_quality.py` (whose clips, measurement and BD-rate
this reuses). The table gives each row's BD-rate (PSNR average and SSIM) against x264
`veryfast`: how much of OpenH264's gap those four tools explain.

    /tmp/bench-venv/bin/python scripts/openh264_gap_study.py [--frames 90] [--clips camera,flower,cars]

Writes bench/results/openh264-gap-DATE-COMMIT/report.md and results.json (or --out DIR).
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_encode_quality as bench  # noqa: E402  (the clips, measurement and BD-rate)

# (label, x264-params added to veryfast): each row keeps the ones above it.
STEPS = [
    ("x264 veryfast", ""),
    ("− B-frames", "bframes=0"),
    ("− macroblock tree", "bframes=0:mbtree=0"),
    ("− 8x8 transform", "bframes=0:mbtree=0:8x8dct=0"),
    ("− weighted prediction", "bframes=0:mbtree=0:8x8dct=0:weightp=0"),
]


def encode_x264(clip, params, rate, out, threads):
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", clip["y4m"], "-c:v", "libx264", "-preset", "veryfast",
           "-b:v", str(rate), "-maxrate", str(rate), "-bufsize", str(rate)]
    if params:
        cmd += ["-x264-params", params]
    if threads:
        cmd += ["-threads", str(threads)]
    return bench.timed(cmd + ["-f", "h264", out])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video-hw", default=os.path.join(bench.ROOT, "target", "release", "video-hw"))
    ap.add_argument("--clips", default="camera,flower,cars")
    ap.add_argument("--frames", type=int, default=90)
    # Each encoder's own thread count, as in the benchmark of record: an explicit count is
    # OpenH264's slice count, and slices cost it quality (docs/openh264.md).
    ap.add_argument("--threads", type=int, default=0, help="threads per encode (default: each encoder's own)")
    ap.add_argument("--out")
    args = ap.parse_args()
    if not os.path.exists(args.video_hw):
        sys.exit(f"no {args.video_hw}: cargo build --release -p video-hw-cli, or give --video-hw")
    commit = subprocess.run(["git", "-C", bench.ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    day = datetime.date.today().strftime("%Y%m%d")
    outdir = args.out or os.path.join(bench.ROOT, "bench", "results", f"openh264-gap-{day}-{commit}")
    os.makedirs(outdir, exist_ok=True)
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for name in args.clips.split(","):
            clip = bench.source_clip(name, args.frames, work)
            if clip is None:
                print(f"{name}: not here, skipped", flush=True)
                continue
            rows = {}
            rates = [int(round(b * clip["width"] * clip["height"] * clip["fps"], -3)) for b in bench.BPP]
            for label, params in STEPS:
                pts = []
                for rate in rates:
                    out = os.path.join(work, f"{name}.h264")
                    wall, cpu = encode_x264(clip, params, rate, out, args.threads)
                    m = bench.measure(clip, out, False)
                    m.update(target=rate, fps=clip["frames"] / wall)
                    pts.append(m)
                rows[label] = pts
                print(f"{name} {label}: " + ", ".join(f"{p['kbps']:.0f}k {p['psnr_avg']:.2f} dB" for p in pts), flush=True)
            pts = []
            for rate in rates:
                out = os.path.join(work, f"{name}-oh.h264")
                wall, cpu = bench.encode_video_hw(args, clip, "openh264", "h264", "slow", "rate", rate, out)
                m = bench.measure(clip, out, False)
                m.update(target=rate, fps=clip["frames"] / wall)
                pts.append(m)
            rows["OpenH264 slow"] = pts
            print(f"{name} OpenH264 slow: " + ", ".join(f"{p['kbps']:.0f}k {p['psnr_avg']:.2f} dB" for p in pts), flush=True)
            results[name] = {"clip": {k: clip[k] for k in ("width", "height", "fps", "frames", "source", "file")},
                             "rows": rows}
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    write_report(results, args, commit, outdir)


def write_report(results, args, commit, outdir):
    names = list(results)
    lines = [f"# Where OpenH264 stops against x264 veryfast ({datetime.date.today()}, commit {commit})", "",
             f"`scripts/openh264_gap_study.py --frames {args.frames}`; this machine: {os.cpu_count()} cores; threads "
             f"per encode: {args.threads or 'each encoder its own (OpenH264 `slow`: one slice, one thread)'}. BD-rate against x264 `veryfast` (negative: fewer bits for the same quality), "
             "from four bitrate targets (0.02-0.16 bits per pixel, a one-second VBV at each). Each x264 row keeps "
             "the tools switched off above it.", "",
             "| row | " + " | ".join(f"{n} PSNR | {n} SSIM" for n in names) + " | fps (first clip) |",
             "|---|" + "---|---|" * len(names) + "---|"]
    for label in [s[0] for s in STEPS] + ["OpenH264 slow"]:
        cells = []
        for n in names:
            rows = results[n]["rows"]
            anchor = rows["x264 veryfast"]
            for key in ("psnr_avg", "ssim"):
                conv = (lambda p: p[key]) if key == "psnr_avg" else (lambda p: bench.ssim_db(p["ssim"]))
                bd = bench.bd_rate([(p["kbps"], conv(p)) for p in anchor], [(p["kbps"], conv(p)) for p in rows[label]],
                                   key)
                cells.append("—" if bd is None else f"{bd:+.1f}%")
        pts = results[names[0]]["rows"][label]
        fps = sorted(p["fps"] for p in pts)[len(pts) // 2]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {fps:.0f} |")
    lines += ["", "Clips:"] + [f"- {n}: {results[n]['clip']['width']}x{results[n]['clip']['height']}, "
                               f"{results[n]['clip']['frames']} frames, {results[n]['clip']['source']}" for n in names]
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
