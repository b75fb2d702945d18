#!/usr/bin/env python3
"""AV1 encode: the built-in rav1e (video-hw, FFmpeg turned off) against SVT-AV1 (the
ffmpeg tool's libsvtav1), same input, same thread count, same run.

For each rav1e preset and each SVT-AV1 preset, at each target bitrate:

    video-hw encode IN.y4m --codec av1 --preset P --bitrate R --threads N -o OUT.ivf
    ffmpeg -i IN.y4m -c:v libsvtav1 -preset S -b:v R -svtav1-params lp=N -f ivf OUT.ivf

and reports the actual bitrate, luma PSNR and SSIM of the decode against the source
(ffmpeg's psnr and ssim filters; decoded with libdav1d), the encode's wall time (whole
process, time.perf_counter) and frames per second. Pair rows of similar speed to compare
quality at a matched speed.

    python3 scripts/bench_av1_encode.py --video-hw target/release/video-hw --threads 2 \
        --rates 500k,1M,2M --rav1e-presets fastest,faster,fast --svt-presets 12,10,8 IN.y4m
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time


def rate(text):
    m = re.fullmatch(r"([0-9.]+)([kKmM]?)", text)
    if not m:
        sys.exit(f"bad rate {text}")
    return int(float(m.group(1)) * {"": 1, "k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6}[m.group(2)])


def timed(cmd, env=None):
    start = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {p.stderr.decode(errors='replace')[-2000:]}")
    return wall


def y4m_facts(path):
    with open(path, "rb") as f:
        header = f.readline().decode()
    fields = dict((t[0], t[1:]) for t in header.split()[1:])
    num, den = (int(x) for x in fields["F"].split(":"))
    size = int(fields["W"]) * int(fields["H"]) * 3 // 2
    frames = (os.path.getsize(path) - len(header)) // (size + 6)
    return num / den, frames


def quality(ffmpeg, source, encoded):
    """Luma PSNR and SSIM of `encoded` (decoded with libdav1d) against `source`."""
    out = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-c:v", "libdav1d", "-i", encoded, "-i", source, "-lavfi",
         "[0:v][1:v]psnr=stats_file=-;[0:v][1:v]ssim", "-f", "null", "-"],
        capture_output=True, text=True).stderr
    psnr = re.search(r"PSNR y:([0-9.inf]+)", out)
    ssim = re.search(r"SSIM Y:([0-9.]+)", out)
    if not psnr or not ssim:
        sys.exit(f"no PSNR/SSIM for {encoded}: {out[-1500:]}")
    return float(psnr.group(1)), float(ssim.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video-hw", default="target/release/video-hw")
    ap.add_argument("--ffmpeg", default="ffmpeg")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--rates", default="500k,1M,2M")
    ap.add_argument("--rav1e-presets", default="fastest,faster,fast")
    ap.add_argument("--svt-presets", default="12,10,8")
    ap.add_argument("--rav1e-vbr", action="store_true",
                    help="rav1e in VBR (--max-bitrate 2R: rav1e's long rate buffer) instead of CBR (12 frames)")
    ap.add_argument("input")
    a = ap.parse_args()
    fps, frames = y4m_facts(a.input)
    seconds = frames / fps
    env = dict(os.environ, VIDEO_HW_FFMPEG_DIR="none", SVT_LOG="1")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in a.rates.split(","):
            bps = rate(r)
            vbr = ["--max-bitrate", str(2 * bps)] if a.rav1e_vbr else []
            label = "rav1e VBR" if a.rav1e_vbr else "rav1e CBR"
            runs = [(label, p, [a.video_hw, "encode", a.input, "--codec", "av1", "--preset", p, "--bitrate", str(bps),
                                *vbr, "--threads", str(a.threads), "-q"]) for p in a.rav1e_presets.split(",") if p]
            runs += [("SVT-AV1", s, [a.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", a.input,
                                     "-c:v", "libsvtav1", "-preset", s, "-b:v", str(bps), "-svtav1-params",
                                     f"lp={a.threads}"]) for s in a.svt_presets.split(",") if s]
            for engine, preset, cmd in runs:
                out = os.path.join(tmp, f"{engine.replace(' ', '-')}-{preset}-{bps}.ivf")
                cmd = cmd + (["-o", out] if engine.startswith("rav1e") else ["-f", "ivf", out])
                wall = timed(cmd, env)
                kbps = os.path.getsize(out) * 8 / seconds / 1000
                psnr, ssim = quality(a.ffmpeg, a.input, out)
                rows.append((r, engine, preset, kbps, psnr, ssim, wall, frames / wall))
                print(f"{r} {engine} {preset}: {kbps:.0f} kb/s, {psnr:.2f} dB, SSIM {ssim:.4f}, "
                      f"{frames / wall:.1f} fps", file=sys.stderr)
    print("| target | engine | preset | kb/s | PSNR-Y dB | SSIM-Y | wall s | fps |")
    print("|---|---|---|---|---|---|---|---|")
    for r, engine, preset, kbps, psnr, ssim, wall, f in rows:
        print(f"| {r} | {engine} | {preset} | {kbps:.0f} | {psnr:.2f} | {ssim:.4f} | {wall:.2f} | {f:.1f} |")
    print()
    print(f"{frames} frames at {fps:g} fps, threads {a.threads}; whole-process wall time (time.perf_counter); "
          f"PSNR/SSIM of the luma plane, ffmpeg's psnr/ssim filters on the libdav1d decode.")


if __name__ == "__main__":
    main()
