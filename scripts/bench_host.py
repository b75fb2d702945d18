#!/usr/bin/env python3
"""Frames to host memory: `video-hw decode` against `ffmpeg -hwaccel cuda`, whole process.

For each input, pixel format (yuv420p, nv12) and destination (/dev/null, a pipe whose reader
keeps up, or with --dests file a file in --file-dir, removed after each run), runs, interleaved
and rotating the order each round:

  video-hw-1    video-hw decode IN -o DEST --pix-fmt P --backend nvdec --sessions=1
  video-hw      video-hw decode IN -o DEST --pix-fmt P --backend nvdec   (the default:
                a file read ahead on several sessions)
  ffmpeg        ffmpeg -hwaccel cuda -i IN -pix_fmt P -f rawvideo DEST
  video-hw+ra=SIZE   the default with --read-ahead SIZE (its bound on frames held ahead)
  video-hw-1-wait, video-hw-wait   the same as video-hw-1 / video-hw with
                VIDEO_HW_NVDEC_HOST_SLOTS=0: every frame copied while the session waits, as
                before host copies overlapped decoding (what that change brings, same build)
  baseline      the default with the binary given by --baseline (another build, same runs)
  CONTENDER@VAR=VALUE   any of the above with VAR=VALUE in its environment
  video-hw-hostheld   the default with VIDEO_HW_READ_AHEAD_DEVICE=0: the frames read ahead
                held in host memory, as before they were held in device memory and copied
                as the writer takes them (what that change brings, same build)

Clock: wall time of the whole process (time.perf_counter around spawn to exit). Also each
process's CPU time (user+sys) and peak resident memory from os.wait4's rusage; for the pipe,
the reader reads into one reused 8 MiB buffer and counts bytes. Medians over --runs after one warm-up round;
ratios are ffmpeg's median over ours. Before timing, every contender's output of each input
and format is checked equal (MD5 of the whole byte stream, through a pipe).

  python3 scripts/bench_host.py --video-hw .gpu/bin/video-hw --input A.h265 --input B.h264 \
      [--runs 3] [--repeat 10] [--out bench/results/host-DATE-COMMIT]

--repeat K concatenates K copies of each (raw Annex-B) input first, in /tmp (a raw stream
that starts with its parameter sets and an IDR may be repeated by concatenation).
"""

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time

BLOCK = 8 << 20
# The --baseline binary (the contender "baseline").
BASELINE = [None]


def command(contender, exe, src, fmt, dest):
    if contender.startswith("baseline"):
        contender, exe = "video-hw" + contender[len("baseline"):], BASELINE[0]
    if contender.startswith("video-hw"):
        cmd = [exe, "decode", src, "-o", dest, "--pix-fmt", fmt, "--backend", "nvdec", "-q"]
        if contender.startswith("video-hw-1"):
            cmd += ["--sessions", "1"]
        if "+ra=" in contender:  # e.g. video-hw+ra=16g: the default with --read-ahead 16g
            cmd += ["--read-ahead", contender.split("+ra=", 1)[1]]
        return cmd
    return ["ffmpeg", "-nostdin", "-v", "error", "-hwaccel", "cuda", "-i", src, "-pix_fmt", fmt, "-f", "rawvideo", "-y", dest]


def env_of(contender):
    """The environment a contender runs in: the -wait ones turn NVDEC's copies that do not
    wait off, -hostheld holds the read-ahead's frames in host memory, NAME@VAR=VALUE sets
    VAR; the others inherit ours."""
    if "@" in contender:
        var, value = contender.split("@", 1)[1].split("=", 1)
        return dict(os.environ, **{var: value})
    if contender.endswith("-wait"):
        return dict(os.environ, VIDEO_HW_NVDEC_HOST_SLOTS="0")
    if contender.endswith("-hostheld"):
        return dict(os.environ, VIDEO_HW_READ_AHEAD_DEVICE="0")
    return None


def run(cmd, to_pipe, digest=False, env=None):
    """Runs cmd; returns (wall s, cpu s, peak RSS MiB, bytes, md5 or None)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if to_pipe else subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env, bufsize=0)
    count, h = 0, hashlib.md5() if digest else None
    if to_pipe:
        # One reused buffer, filled straight from the pipe (no allocation per read), so
        # the reader keeps up with either writer; the pipe's own size is the writer's.
        buf = bytearray(BLOCK)
        view = memoryview(buf)
        while True:
            n = proc.stdout.readinto(view)
            if not n:
                break
            count += n
            if h:
                h.update(view[:n])
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {proc.returncode}: {err.decode(errors='replace')[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, count, h.hexdigest() if h else None


def frames_of(exe, src):
    out = subprocess.run([exe, "info", src, "--json"], capture_output=True, check=True).stdout
    return json.loads(out)["frames"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--video-hw", required=True)
    ap.add_argument("--input", action="append", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--formats", default="yuv420p,nv12")
    ap.add_argument("--dests", default="null,pipe")  # and "file": a file in --file-dir, removed after each run
    ap.add_argument("--file-dir", default="/tmp")
    ap.add_argument("--contenders", default="video-hw-1,video-hw,ffmpeg")
    ap.add_argument("--baseline")
    ap.add_argument("--out")
    a = ap.parse_args()
    contenders = a.contenders.split(",")
    BASELINE[0] = a.baseline
    inputs = []
    for src in a.input:
        # Equality first, on the input itself.
        for fmt in a.formats.split(","):
            sums = {c: run(command(c, a.video_hw, src, fmt, "-"), True, digest=True, env=env_of(c))[4] for c in contenders}
            if len(set(sums.values())) != 1:
                sys.exit(f"{src} {fmt}: outputs differ: {sums}")
            print(f"{os.path.basename(src)} {fmt}: every contender's output equal ({sums[contenders[0]]})", flush=True)
        if a.repeat > 1:
            big = f"/tmp/bench-host-{a.repeat}x-{os.path.basename(src)}"
            with open(big, "wb") as out:
                data = open(src, "rb").read()
                for _ in range(a.repeat):
                    out.write(data)
            src = big
        inputs.append(src)
    cells = [(src, fmt, dest) for src in inputs for fmt in a.formats.split(",") for dest in a.dests.split(",")]
    results = {}
    for src, fmt, dest in cells:
        frames = frames_of(a.video_hw, src)
        samples = {c: [] for c in contenders}
        for r in range(a.runs + 1):
            order = contenders[r % len(contenders):] + contenders[: r % len(contenders)]
            for c in order:
                to_pipe = dest == "pipe"
                out_path = {"pipe": "-", "null": "/dev/null"}.get(dest) or os.path.join(a.file_dir, "bench-host-out.raw")
                got = run(command(c, a.video_hw, src, fmt, out_path), to_pipe, env=env_of(c))
                if dest == "file":
                    # The bytes the file holds, then it goes (the next run writes a new one).
                    got = got[:3] + (os.path.getsize(out_path),) + got[4:]
                    os.remove(out_path)
                if r > 0:
                    samples[c].append(got)
        row = {}
        for c in contenders:
            s = samples[c]
            wall = statistics.median(x[0] for x in s)
            row[c] = {
                "wall_s": wall,
                "walls": [round(x[0], 3) for x in s],
                "fps": frames / wall,
                "cpu_ms_per_frame": 1000 * statistics.median(x[1] for x in s) / frames,
                "peak_rss_mib": max(x[2] for x in s),
                "gb_per_s": (statistics.median(x[3] for x in s) / wall / 1e9) if dest in ("pipe", "file") else None,
            }
        results[(os.path.basename(src), fmt, dest)] = (frames, row)
        base = row["ffmpeg"]["wall_s"] if "ffmpeg" in row else None
        line = f"{os.path.basename(src)} {fmt} -> {dest}: {frames} frames; " + "; ".join(
            f"{c} {row[c]['wall_s']:.3f} s ({row[c]['fps']:.0f} fps"
            + (f", {base / row[c]['wall_s']:.2f}x ffmpeg" if base and c != "ffmpeg" else "")
            + f", CPU {row[c]['cpu_ms_per_frame']:.2f} ms/frame, peak {row[c]['peak_rss_mib']:.0f} MiB)"
            for c in contenders
        )
        print(line, flush=True)
    if a.out:
        with open(a.out + ".json", "w") as f:
            json.dump([{"input": k[0], "format": k[1], "dest": k[2], "frames": v[0], "results": v[1]} for k, v in results.items()], f, indent=1)
        with open(a.out + ".md", "w") as f:
            # One ratio column per contender that is not ffmpeg (whichever were run).
            ours = [c for c in contenders if c != "ffmpeg"]
            f.write("| input | format | to | frames | " + " | ".join(f"{c} s (fps)" for c in contenders)
                    + "".join(f" | {c} vs ffmpeg" for c in ours) + " | CPU ms/frame (" + ", ".join(contenders)
                    + ") | peak RSS MiB (" + ", ".join(contenders) + ") |\n")
            f.write("|" + "---|" * (6 + len(contenders) + len(ours)) + "\n")
            for (name, fmt, dest), (frames, row) in results.items():
                base = row["ffmpeg"]["wall_s"] if "ffmpeg" in row else None
                f.write(f"| {name} | {fmt} | {dest} | {frames} | "
                        + " | ".join(f"{row[c]['wall_s']:.3f} ({row[c]['fps']:.0f})" for c in contenders)
                        + "".join(f" | {base / row[c]['wall_s']:.2f}x" if base else " | -" for c in ours) + " | "
                        + ", ".join(f"{row[c]['cpu_ms_per_frame']:.2f}" for c in contenders) + " | "
                        + ", ".join(f"{row[c]['peak_rss_mib']:.0f}" for c in contenders) + " |\n")

if __name__ == "__main__":
    main()
