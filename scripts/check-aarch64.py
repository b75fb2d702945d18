#!/usr/bin/env python3
"""The aarch64 build of the command-line tool, run under qemu-user-static on an x86-64
machine: the built-in engines' ARM code paths against the x86 references.

    scripts/check-aarch64.py target/aarch64-unknown-linux-gnu/release/video-hw

- OpenH264 (its NEON assembly) decodes the progressive H.264 fixtures to their reference
  framemd5 (ffmpeg's, yuv420p), frame for frame and count for count;
- rav1d (dav1d's arm64 assembly: NEON, dotprod, i8mm, SVE2, picked by the CPU's features
  at run time) decodes every AV1 fixture in IVF and OBU form the same way, film grain,
  10-bit, odd sizes, resolution changes and switch frames included;
- rav1e and OpenH264 encode a synthetic clip that the same binary decodes back, frame count
  exact.

Each check runs twice: on qemu's `max` CPU (every extension, as a Grace CPU has SVE2,
dotprod and i8mm) and on a Cortex-A72 (NEON only), so both ends of the run-time dispatch
run. FFmpeg stays off (VIDEO_HW_FFMPEG_DIR=none): these are the engines built in. Prints one
line per check and a summary; exits 1 on any mismatch. Needs Debian's qemu-user-static and
libc6-arm64-cross (the aarch64 loader and libc in /usr/aarch64-linux-gnu)."""

import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
TESTDATA = ROOT / "testdata"
H264 = [
    "cbp-cavlc-cars-320x240.h264",
    "crop-318x178-cars.h264",
    "gop12-idr-cars-320x240.h264",
    "high-bpyramid-8x8-wp-cars-320x240.h264",
    "high-slices4-mandelbrot-320x240.h264",
    "intra-refresh-cars-320x240.h264",
    "main-cabac-bframes-testsrc2-320x240.h264",
    "open-gop-cars-320x240.h264",
]


# The CPU qemu emulates (set per pass in main).
CPU = ["max"]


def run(binary, args):
    env = dict(os.environ, VIDEO_HW_FFMPEG_DIR="none")
    cmd = ["qemu-aarch64-static", "-cpu", CPU[0], "-L", "/usr/aarch64-linux-gnu", str(binary), *args]
    return subprocess.run(cmd, capture_output=True, env=env, timeout=600)


def md5s(text):
    return [l.split(",")[5].strip() for l in text.splitlines() if l and not l.startswith("#")]


def check_decode(binary, path, backend):
    want = md5s(pathlib.Path(f"{path}.yuv.framemd5").read_text())
    out = run(binary, ["decode", str(path), "--backend", backend, "--pix-fmt", "yuv420p-auto",
                       "--framemd5", "-o", "-", "-q"])
    if out.returncode != 0:
        return False, f"exit {out.returncode}: {out.stderr.decode(errors='replace').strip()[-300:]}"
    got = md5s(out.stdout.decode())
    if len(got) != len(want):
        return False, f"{len(got)} frames, the reference has {len(want)}"
    bad = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
    return (not bad), (f"{len(got)} frames bit-exact" if not bad else f"frames {bad[:5]} differ")


def check_encode(binary, codec, name):
    with tempfile.TemporaryDirectory() as d:
        path = pathlib.Path(d) / name
        args = ["encode", "--synthetic", "30", "--size", "320x240", "--codec", codec, "-o", str(path), "-q"]
        if codec == "av1":
            args += ["--preset", "fastest"]
        out = run(binary, args)
        if out.returncode != 0:
            return False, f"encode exit {out.returncode}: {out.stderr.decode(errors='replace').strip()[-300:]}"
        back = run(binary, ["decode", str(path), "--framemd5", "-o", "-", "-q"])
        frames = len(md5s(back.stdout.decode()))
        ok = back.returncode == 0 and frames == 30
        return ok, f"{path.stat().st_size} bytes, decoded back: {frames} frames (exit {back.returncode})"


def main():
    binary = pathlib.Path(sys.argv[1]).resolve()
    arch = subprocess.run(["file", "-b", str(binary)], capture_output=True, text=True).stdout
    print(f"binary: {binary} ({arch.strip().split(',')[0] if arch else 'file(1) missing'})")
    checks = [(f"openh264 {n}", lambda n=n: check_decode(binary, TESTDATA / "h264" / n, "openh264")) for n in H264]
    av1 = sorted(p for p in (TESTDATA / "av1").iterdir() if p.suffix in (".ivf", ".obu"))
    av1 = [p for p in av1 if pathlib.Path(f"{p}.yuv.framemd5").exists()]
    checks += [(f"rav1d {p.name}", lambda p=p: check_decode(binary, p, "rav1d")) for p in av1]
    checks += [
        ("rav1e encode", lambda: check_encode(binary, "av1", "out.ivf")),
        ("openh264 encode", lambda: check_encode(binary, "h264", "out.h264")),
    ]
    failed = 0
    started = time.monotonic()
    cpus = ["max", "cortex-a72"]
    for cpu in cpus:
        CPU[0] = cpu
        for name, check in checks:
            t = time.monotonic()
            ok, what = check()
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} [{cpu}] {name}: {what} ({time.monotonic() - t:.1f} s)")
    total = len(checks) * len(cpus)
    print(f"aarch64 under qemu ({', '.join(cpus)}): {total - failed}/{total} checks pass "
          f"({time.monotonic() - started:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
