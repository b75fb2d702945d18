#!/usr/bin/env python3
"""Live ingest under jitter: `video-hw encode tcp-listen://…` fed by a sender in bursts.

The sender delivers the frames of a Y4M file at the encoder's own mean rate (measured first
from the file), in bursts: it sleeps a random 0..J ms (seeded), then sends every frame whose
nominal time (i / rate) has come. Each (J, ring depth) cell is run --runs times; for each run:

  * output equal: the fragmented MP4 is byte-identical to the one encoded from the file (no
    frame lost, reordered or changed; OpenH264's output is deterministic);
  * busy: the encode stage's total time over the pipeline's elapsed time (`--stats`), against
    the same ratio read from the file (the encoder never waits there);
  * peak: the ring's peak fill, and how long the reader waited on a full ring.

The table gives medians. Clock: the CLI's own --stats (pipeline elapsed, stage totals).

  python3 scripts/bench_live_jitter.py --video-hw target/release/video-hw --input IN.y4m \\
      [--jitters 50,100,200] [--depths 1,2,4,8,16,32] [--runs 3] [--out bench/results/live-jitter-DATE-COMMIT]

Make IN.y4m with the benchmark clip graph (scripts/lib/bench-source.sh), e.g. 300 frames of
1920x1080: see bench/results/live-jitter-*.md for the command used.
"""

import argparse
import hashlib
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time

STATS = re.compile(r"stats: encode \(.*\): (\d+) frames in ([\d.]+) s")
QUEUE = re.compile(r"queue: (\d+) deep, peak (\d+).*producer waited (\d+)x \(([\d.]+) ms\)")
STAGE = re.compile(r"^\s*encode\s+(\d+)\s+([\d.]+)", re.M)


def parse(stderr):
    m, q, e = STATS.search(stderr), QUEUE.search(stderr), STAGE.search(stderr)
    if not (m and q and e):
        sys.exit(f"no --stats in: {stderr[-2000:]}")
    return {
        "frames": int(m.group(1)),
        "elapsed_s": float(m.group(2)),
        "busy_s": float(e.group(2)) / 1000,
        "peak": int(q.group(2)),
        "reader_waits": int(q.group(3)),
        "reader_wait_ms": float(q.group(4)),
    }


def md5(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_y4m(path):
    data = open(path, "rb").read()
    header_end = data.index(b"\n") + 1
    frames, at = [], header_end
    while at < len(data):
        nxt = data.find(b"FRAME", at + 5)
        end = nxt if nxt != -1 else len(data)
        frames.append(data[at:end])
        at = end
    return data[:header_end], frames


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def live_run(exe, header, frames, rate, jitter_ms, depth, seed, out):
    port = free_port()
    cmd = [exe, "--stats", "encode", f"tcp-listen://127.0.0.1:{port}", "-o", out, "--fragmented", "-q",
           "--ring-depth", str(depth)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(400):
        try:
            sock = socket.create_connection(("127.0.0.1", port))
            break
        except OSError:
            time.sleep(0.02)
    else:
        proc.kill()
        sys.exit("video-hw never listened")
    rng = random.Random(seed)
    sock.sendall(header)
    start = time.perf_counter()
    sent, burst_at = 0, 0.0
    while sent < len(frames):
        burst_at += rng.uniform(0, jitter_ms / 1000)
        delay = start + burst_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        due = min(len(frames), int(burst_at * rate) + 1)
        while sent < due:
            sock.sendall(frames[sent])
            sent += 1
    sock.close()
    _, err = proc.communicate()
    if proc.returncode != 0:
        sys.exit(f"exit {proc.returncode}: {err.decode()[-2000:]}")
    return parse(err.decode())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--video-hw", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--jitters", default="50,100,200")
    ap.add_argument("--depths", default="1,2,4,8,16,32")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out")
    a = ap.parse_args()
    header, frames = read_y4m(a.input)
    tmp = "/tmp/bench-live-jitter"
    os.makedirs(tmp, exist_ok=True)
    # The encoder's own pace, from the file.
    base = []
    for r in range(a.runs):
        out = f"{tmp}/file.mp4"
        p = subprocess.run([a.video_hw, "--stats", "encode", a.input, "-o", out, "--fragmented", "-q"],
                           capture_output=True, check=True)
        base.append(parse(p.stderr.decode()))
    reference = md5(f"{tmp}/file.mp4")
    file_busy = statistics.median(b["busy_s"] / b["elapsed_s"] for b in base)
    rate = len(frames) / statistics.median(b["busy_s"] for b in base)
    print(f"{len(frames)} frames; from the file: encoder busy {file_busy:.3f} of the time, "
          f"{rate:.1f} frames/s of encoder time (the sender's mean rate)", flush=True)
    rows = []
    for jitter in [int(j) for j in a.jitters.split(",")]:
        for depth in [int(d) for d in a.depths.split(",")]:
            runs = []
            for r in range(a.runs):
                out = f"{tmp}/live.mp4"
                got = live_run(a.video_hw, header, frames, rate, jitter, depth, a.seed + r, out)
                got["equal"] = md5(out) == reference and got["frames"] == len(frames)
                runs.append(got)
            busy = statistics.median(x["busy_s"] / x["elapsed_s"] for x in runs)
            row = (jitter, depth, busy, busy / file_busy, all(x["equal"] for x in runs),
                   max(x["peak"] for x in runs), statistics.median(x["reader_wait_ms"] for x in runs))
            rows.append(row)
            print(f"jitter 0-{jitter} ms, ring {depth}: busy {busy:.3f} ({row[3]:.3f} of the file's), "
                  f"output equal {row[4]}, peak {row[5]}, reader waited {row[6]:.0f} ms", flush=True)
    if a.out:
        with open(a.out + ".md", "w") as f:
            f.write(f"{len(frames)} frames, sender's mean rate {rate:.1f} frames/s (the encoder's, measured from "
                    f"the file); encoder busy {file_busy:.3f} of the pipeline's time from the file.\n\n")
            f.write("| pauses | ring depth | encoder busy | vs from the file | outputs byte-identical | ring peak | "
                    "reader waited (ms, median) |\n|---|---|---|---|---|---|---|\n")
            for j, d, b, ratio, eq, peak, wait in rows:
                f.write(f"| 0-{j} ms | {d} | {b:.3f} | {ratio:.3f} | {'yes' if eq else 'NO'} | {peak} | {wait:.0f} |\n")


if __name__ == "__main__":
    main()
