#!/usr/bin/env python3
"""Audio decode against torchcodec and the ffmpeg tool, in one run (issue #58's figures).

- whole track to float32: a 10-minute AAC stereo track and a 10-minute Opus track;
  in process (video_hw.AudioDecoder(...).get_all_samples() vs torchcodec's), and whole
  process (`video-hw decode F -f f32le -o /dev/null` vs `ffmpeg -i F -f f32le -y /dev/null`);
- 1,000 one-second ranges at random starts of a 1-hour AAC file, one decoder each side;
- the same Python jobs as whole processes (`python3 scripts/bench_audio.py --child …`: the
  interpreter's start, the imports — torch's, for torchcodec — and the job), which is how
  issue #58 states its figures; the in-process rows are the library's work alone.

Clocks: wall (time.perf_counter, in process; each process's wall time) and CPU time
(getrusage: user + system, of this process for in-process jobs, of the children for whole
processes). Medians of --runs. On a machine shared with other work the wall times are
noisy (they count time waiting for a core); the CPU times are the steadier figure, and
the ratios are given for both.

    python3 scripts/bench_audio.py --cli target/release/video-hw --runs 5 --out bench/results/NAME
"""

import argparse
import json
import os
import random
import resource
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


def cpu(who):
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def timed(fn, runs, who=resource.RUSAGE_SELF):
    """Medians of `runs` calls of `fn`: (wall seconds, CPU seconds of `who`)."""
    wall, used = [], []
    for _ in range(runs):
        c, t = cpu(who), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t)
        used.append(cpu(who) - c)
    return statistics.median(wall), statistics.median(used)


def row(job, engine, ours, peer, theirs):
    return dict(job=job, engine=engine, ours_s=ours[0], ours_cpu_s=ours[1], peer=peer, peer_s=theirs[0],
                peer_cpu_s=theirs[1], ratio=theirs[0] / ours[0], cpu_ratio=theirs[1] / ours[1])


def ranges_of(starts_seed, count):
    rng = random.Random(starts_seed)
    return [rng.uniform(0, 3598) for _ in range(count)]


def play_ranges(dec, starts):
    """One-second ranges from each start, one call each (the ranges job)."""
    for s in starts:
        dec.get_samples_played_in_range(s, s + 1.0)


def child(who, job, path, count):
    """One Python job in this process, as a whole-process run times it."""
    if who == "video_hw":
        import video_hw

        make = video_hw.AudioDecoder
    else:
        from torchcodec.decoders import AudioDecoder as make
    dec = make(path)
    if job == "all":
        dec.get_all_samples()
    else:
        play_ranges(dec, ranges_of(1, count))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
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
        kids = resource.RUSAGE_CHILDREN
        cli = timed(lambda: subprocess.run([a.cli, "-q", "decode", path, "-f", "f32le", "-o", "/dev/null"], check=True), a.runs, kids)
        ff = timed(lambda: subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", path, "-f", "f32le", "/dev/null"], check=True), a.runs, kids)
        rows.append(row(f"{name} all samples, in process", engine, ours, "torchcodec", theirs))
        rows.append(row(f"{name} to f32le, whole process", engine, cli, "ffmpeg", ff))
    starts = ranges_of(1, a.ranges)
    ours = timed(lambda: play_ranges(video_hw.AudioDecoder(hour), starts), max(1, a.runs // 2))
    theirs = timed(lambda: play_ranges(TcDecoder(hour), starts), max(1, a.runs // 2))
    engine = video_hw.AudioDecoder(hour).metadata.engine
    rows.append(row(f"{a.ranges} one-second ranges of a 1-hour AAC file", engine, ours, "torchcodec", theirs))
    # The Python jobs again, each a whole process (the interpreter, the imports and the job).
    kids = resource.RUSAGE_CHILDREN

    def process(who, job, path):
        cmd = [sys.executable, os.path.abspath(__file__), "--child", who, job, path, str(a.ranges)]
        return lambda: subprocess.run(cmd, check=True)

    for name, path in [*files.items(), ("aac-1h.m4a", hour)]:
        job = "ranges" if path == hour else "all"
        ours = timed(process("video_hw", job, path), a.runs, kids)
        theirs = timed(process("torchcodec", job, path), a.runs, kids)
        engine = video_hw.AudioDecoder(path).metadata.engine
        what = f"{a.ranges} one-second ranges of a 1-hour AAC file" if job == "ranges" else f"{name} all samples"
        rows.append(row(f"{what}, whole process", engine, ours, "torchcodec", theirs))
    lines = [
        "| job | engine | video_hw CPU (s) | peer | peer CPU (s) | CPU ratio | video_hw wall (s, noisy) | peer wall (s, noisy) | wall ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['job']} | {r['engine']} | {r['ours_cpu_s']:.3f} | {r['peer']} | {r['peer_cpu_s']:.3f} | {r['cpu_ratio']:.2f}x"
            f" | {r['ours_s']:.3f} | {r['peer_s']:.3f} | {r['ratio']:.2f}x |"
        )
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out + ".json", "w") as f:
            load = os.getloadavg()
            json.dump(dict(rows=rows, runs=a.runs, python=sys.version, ffmpeg=video_hw.ffmpeg_info().get("summary"), loadavg=load), f, indent=1)
        with open(a.out + ".md", "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
