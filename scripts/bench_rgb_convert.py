#!/usr/bin/env python3
"""RGB24 conversion alone, video-hw against swscale through ffmpeg, same file, same thread
count, same run (issue #56: >= 1.5x at 1080p).

    python3 scripts/bench_rgb_convert.py [--file bench/inputs/loops-1080p.mp4] [--runs 5]
        [--threads 2] [--frames 300] [--bin target/release/video-hw] [--baseline OTHER_BIN]
        [--out FILE.md]

--baseline adds the two video-hw commands run with another build (an earlier commit's, to
compare builds in the same run, alternating with the rest).

Four commands, each a fresh process, in alternating order within a run (run 0 warms the page
cache and is not counted):

    ffmpeg -threads T -i FILE -frames:v N -f null -pix_fmt yuv420p -     decode only
    ffmpeg -threads T -i FILE -frames:v N -f null -pix_fmt rgb24 -       decode + swscale to RGB24
    video-hw decode FILE --threads T --count N --pix-fmt yuv420p -o /dev/null
    video-hw decode FILE --threads T --count N --pix-fmt rgb24 -o /dev/null

Clocks: wall time of each process (time.perf_counter around it) and its CPU time (user +
system, from the rusage os.wait4 returns), which a shared machine's other work disturbs less.
The conversion's cost is the RGB command's median minus the YUV command's median, for each
tool and clock; the ratio is swscale's cost over ours (above 1: ours is faster). Both tools decode with FFmpeg's libavcodec (video-hw
with --backend ffmpeg), so the decode halves are alike.
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd):
    """Wall time and CPU time (user + system, from the process's own rusage) of one run."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise subprocess.CalledProcessError(os.waitstatus_to_exitcode(status), cmd)
    return wall, usage.ru_utime + usage.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", default=os.path.join(ROOT, "bench/inputs/loops-1080p.mp4"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/video-hw"))
    ap.add_argument("--baseline")
    ap.add_argument("--out")
    a = ap.parse_args()
    t, n = str(a.threads), str(a.frames)
    ff = ["ffmpeg", "-nostdin", "-v", "error", "-threads", t, "-i", a.file, "-frames:v", n, "-f", "null"]
    ours = [a.bin, "decode", a.file, "--backend", "ffmpeg", "--threads", t, "--count", n, "-o", "/dev/null"]
    cmds = {
        "ffmpeg yuv420p": ff + ["-pix_fmt", "yuv420p", "-"],
        "ffmpeg rgb24": ff + ["-pix_fmt", "rgb24", "-"],
        "video-hw yuv420p": ours + ["--pix-fmt", "yuv420p"],
        "video-hw rgb24": ours + ["--pix-fmt", "rgb24"],
    }
    if a.baseline:
        base = [a.baseline] + ours[1:]
        cmds["baseline yuv420p"] = base + ["--pix-fmt", "yuv420p"]
        cmds["baseline rgb24"] = base + ["--pix-fmt", "rgb24"]
    times = {k: [] for k in cmds}
    cpus = {k: [] for k in cmds}
    order = list(cmds)
    for run in range(a.runs + 1):
        for k in order if run % 2 == 0 else order[::-1]:
            wall, cpu_s = timed(cmds[k])
            if run > 0:
                times[k].append(wall)
                cpus[k].append(cpu_s)
    med = {k: statistics.median(v) for k, v in times.items()}
    cmed = {k: statistics.median(v) for k, v in cpus.items()}
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    ffv = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    load = os.getloadavg()
    lines = [
        f"# RGB24 conversion alone: video-hw against swscale through ffmpeg ({time.strftime('%Y-%m-%d')}, "
        f"commit {commit.stdout.strip()})",
        "",
        f"`python3 scripts/bench_rgb_convert.py --threads {t} --frames {n} --runs {a.runs}` on "
        f"`{os.path.relpath(a.file, ROOT)}`; {cpu}, {os.cpu_count()} cores, {platform.system()}; {ffv}. "
        "Clocks: wall time per process (`time.perf_counter`) and its CPU time (user + system, the "
        f"process's rusage), medians of {a.runs} runs (one warm-up run not counted), commands "
        f"alternating in order. Load average at the end: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}.",
        "",
        "| command | wall median (s) | CPU median (s) | wall runs (s) | CPU runs (s) |",
        "|---|---|---|---|---|",
    ]
    for k in cmds:
        lines.append(
            f"| {k} | {med[k]:.3f} | {cmed[k]:.3f} | {', '.join(f'{x:.3f}' for x in times[k])} | "
            f"{', '.join(f'{x:.3f}' for x in cpus[k])} |"
        )
    lines.append("")
    for clock, m in (("wall", med), ("CPU", cmed)):
        sws = m["ffmpeg rgb24"] - m["ffmpeg yuv420p"]
        for who in ("video-hw", "baseline") if a.baseline else ("video-hw",):
            ours_cost = m[f"{who} rgb24"] - m[f"{who} yuv420p"]
            if ours_cost > 0 and sws > 0:
                lines.append(
                    f"Conversion to RGB24 of {n} frames, {clock} clock: swscale {sws:.3f} s "
                    f"({1e3 * sws / int(n):.2f} ms/frame), {who} {ours_cost:.3f} s "
                    f"({1e3 * ours_cost / int(n):.2f} ms/frame): **{sws / ours_cost:.2f}x** swscale's speed."
                )
            else:
                lines.append(
                    f"{clock} clock: within noise (swscale {sws:.3f} s, {who} {ours_cost:.3f} s: a difference "
                    "of medians at or below zero)."
                )
            lines.append("")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    sys.exit(main())
