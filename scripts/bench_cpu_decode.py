#!/usr/bin/env python3
"""CPU decode through a video-hw software engine against the ffmpeg tool, same thread
count, same run: whole-process wall time of

    video-hw decode IN -o /dev/null --backend ENGINE --threads N
    ffmpeg -threads N [-c:v libdav1d] -i IN -f null -

ENGINE is `ffmpeg` (libavcodec loaded at run time; the default) or `rav1d` (the built-in
AV1 decoder, run with FFmpeg turned off). AV1 inputs are decoded by the ffmpeg tool with
libdav1d. `--parallel K` starts K processes of each tool at once (K sessions sharing the
machine) and times the batch, spawn of the first to exit of the last.

RUNS runs of each, interleaved (video-hw, ffmpeg, video-hw, ...); medians and the ratio
ffmpeg time / video-hw time (above 1: video-hw is faster). Clock: time.perf_counter
around each process or batch; CPU: the children's user+system time.

video-hw writes its frames (yuv420p, 10-bit as yuv420p10le) to /dev/null; ffmpeg's null
muxer takes them without a copy, so video-hw does that copy on top.

    python3 scripts/bench_cpu_decode.py --video-hw target/release/video-hw \
        --threads 2 --runs 5 IN...
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time


def run(cmd, env, parallel=1):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env) for _ in range(parallel)]
    errs = [p.communicate()[1] for p in procs]
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for p, err in zip(procs, errs):
        if p.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed ({p.returncode}): {err.decode(errors='replace')[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, errs[0].decode(errors="replace")


def frames_of(path):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
         "stream=nb_read_frames,codec_name,width,height", "-of", "csv=p=0", path],
        capture_output=True, text=True, check=True).stdout.strip()
    codec, w, h, n = out.split(",")[:4]
    return codec, f"{w}x{h}", int(n)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video-hw", default="target/release/video-hw")
    ap.add_argument("--ffmpeg", default="ffmpeg")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--backend", default="ffmpeg", help="video-hw's engine: ffmpeg or rav1d")
    ap.add_argument("--parallel", type=int, default=1, help="processes of each tool at once")
    ap.add_argument("inputs", nargs="+")
    a = ap.parse_args()
    env = dict(os.environ, SVT_LOG="1")
    # The built-in engine runs as it does where no FFmpeg is installed.
    vh_env = dict(env, VIDEO_HW_FFMPEG_DIR="none") if a.backend != "ffmpeg" else env
    rows = []
    for path in a.inputs:
        codec, size, n = frames_of(path)
        vh = [a.video_hw, "decode", path, "-o", "/dev/null", "--backend", a.backend, "--threads", str(a.threads)]
        dav1d = ["-c:v", "libdav1d"] if codec == "av1" else []
        ff = [a.ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", str(a.threads), *dav1d,
              "-i", path, "-f", "null", "-"]
        t = {"video-hw": [], "ffmpeg": []}
        note = ""
        for _ in range(a.runs):
            wall, cpu, err = run(vh, vh_env, a.parallel)
            t["video-hw"].append((wall, cpu))
            note = next((l for l in err.splitlines() if l.startswith("video-hw: decoded")), note)
            wall, cpu, _ = run(ff, env, a.parallel)
            t["ffmpeg"].append((wall, cpu))
        med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in t.items()}
        rows.append((os.path.basename(path), codec, size, n, med, note))
        print(f"{os.path.basename(path)}: video-hw {med['video-hw'][0]:.3f} s, ffmpeg {med['ffmpeg'][0]:.3f} s, "
              f"ratio {med['ffmpeg'][0] / med['video-hw'][0]:.2f}x", file=sys.stderr)
    print(f"| input | codec | size | frames | video-hw wall s (fps) | ffmpeg wall s (fps) | ratio (ffmpeg / video-hw) "
          f"| video-hw CPU s | ffmpeg CPU s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, codec, size, n, med, _ in rows:
        (vw, vc), (fw, fc) = med["video-hw"], med["ffmpeg"]
        n *= a.parallel
        print(f"| {name} | {codec} | {size} | {n} | {vw:.3f} ({n / vw:.0f}) | {fw:.3f} ({n / fw:.0f}) | "
              f"**{fw / vw:.2f}x** | {vc:.2f} | {fc:.2f} |")
    print()
    print(f"Engine {a.backend}, threads {a.threads}, {a.parallel} process(es) of each tool at once (frames: all of "
          f"them), {a.runs} runs each, interleaved, medians; whole-process wall time (time.perf_counter, spawn to "
          f"exit).")
    for name, *_, note in rows:
        print(f"- {name}: {note}")


if __name__ == "__main__":
    main()
