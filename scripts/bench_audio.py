#!/usr/bin/env python3
"""Audio decode against torchcodec and the ffmpeg tool, in one run (issue #58's figures).

- whole track to float32: a 10-minute AAC stereo track and a 10-minute Opus track;
  in process (video_hw.AudioDecoder(...).get_all_samples() vs torchcodec's), and whole
  process (`video-hw decode F -f f32le -o /dev/null` vs `ffmpeg -i F -f f32le -y /dev/null`);
- 1,000 one-second ranges at random starts of a 1-hour AAC file, one decoder each side.

Clock: time.perf_counter (in process) and the wall time of each process. Medians of --runs.

    python3 scripts/bench_audio.py --cli target/release/video-hw --runs 5 --out bench/results/NAME
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time


def make(path, seconds, args):
    if not os.path.exists(path):
        src = f"aevalsrc=0.3*sin(2*PI*440*t)+0.1*sin(2*PI*3000*t)|0.3*sin(2*PI*660*t)+0.05*random(0):s=48000:d={seconds}"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", src, *args, path], check=True)
    return path


def timed(fn, runs):
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default="target/release/video-hw")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "video-hw-bench-audio"))
    ap.add_argument("--ranges", type=int, default=1000)
    ap.add_argument("--out")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    import video_hw
    from torchcodec.decoders import AudioDecoder as TcDecoder

    files = {
        "aac-10min.m4a": make(os.path.join(a.dir, "aac-10min.m4a"), 600, ["-c:a", "aac", "-b:a", "128k"]),
        "opus-10min.webm": make(os.path.join(a.dir, "opus-10min.webm"), 600, ["-c:a", "libopus", "-b:a", "96k"]),
    }
    hour = make(os.path.join(a.dir, "aac-1h.m4a"), 3600, ["-c:a", "aac", "-b:a", "96k"])
    rows = []
    for name, path in files.items():
        ours = timed(lambda: video_hw.AudioDecoder(path).get_all_samples(), a.runs)
        theirs = timed(lambda: TcDecoder(path).get_all_samples(), a.runs)
        engine = video_hw.AudioDecoder(path).metadata.engine
        cli = timed(lambda: subprocess.run([a.cli, "-q", "decode", path, "-f", "f32le", "-o", "/dev/null"], check=True), a.runs)
        ff = timed(lambda: subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", path, "-f", "f32le", "/dev/null"], check=True), a.runs)
        rows.append(dict(job=f"{name} all samples, in process", engine=engine, ours_s=ours, peer="torchcodec", peer_s=theirs, ratio=theirs / ours))
        rows.append(dict(job=f"{name} to f32le, whole process", engine=engine, ours_s=cli, peer="ffmpeg", peer_s=ff, ratio=ff / cli))
    rng = random.Random(1)
    starts = [rng.uniform(0, 3598) for _ in range(a.ranges)]

    def ranges(dec):
        for s in starts:
            dec.get_samples_played_in_range(s, s + 1.0)

    ours = timed(lambda: ranges(video_hw.AudioDecoder(hour)), max(1, a.runs // 2))
    theirs = timed(lambda: ranges(TcDecoder(hour)), max(1, a.runs // 2))
    rows.append(dict(job=f"{a.ranges} one-second ranges of a 1-hour AAC file", engine=video_hw.AudioDecoder(hour).metadata.engine, ours_s=ours, peer="torchcodec", peer_s=theirs, ratio=theirs / ours))
    lines = ["| job | engine | video_hw (s) | peer | peer (s) | ratio |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['job']} | {r['engine']} | {r['ours_s']:.3f} | {r['peer']} | {r['peer_s']:.3f} | {r['ratio']:.2f}x |")
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out + ".json", "w") as f:
            json.dump(dict(rows=rows, runs=a.runs, python=sys.version, ffmpeg=video_hw.ffmpeg_info().get("summary")), f, indent=1)
        with open(a.out + ".md", "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
