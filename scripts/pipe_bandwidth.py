#!/usr/bin/env python3
"""How fast bytes go through a pipe on this machine, with the reader scripts/bench_host.py
uses: what bounds `video-hw decode … -o -` (and ffmpeg's `-f rawvideo -`) to a pipe.

A child process writes --frames 1080p yuv420p frames (3,110,400 bytes each, one write per
frame from one buffer, no per-frame work) to its standard output, a pipe it first grows to
1 MiB as the CLI does (F_SETPIPE_SZ); this process reads them into one reused 8 MiB buffer,
as bench_host.py does. Prints the median GB/s of --runs, and the shortest time the frames
of a 3,030-frame decode could take through such a pipe. Clock: time.perf_counter around
each whole transfer, the child's start included.

    python3 scripts/pipe_bandwidth.py [--frames 3030] [--runs 5]
"""

import argparse
import statistics
import subprocess
import sys
import time

FRAME = 1920 * 1080 * 3 // 2
BLOCK = 8 << 20

WRITER = r"""
import fcntl, os, sys
try:
    fcntl.fcntl(1, 1031, 1 << 20)  # F_SETPIPE_SZ, as the CLI does; ignored where refused
except OSError:
    pass
frame = memoryview(bytes(range(256)) * (%(frame)d // 256 + 1))[:%(frame)d]
for _ in range(%(frames)d):
    view = frame
    while view:
        view = view[os.write(1, view):]
"""


def once(frames):
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", WRITER % {"frame": FRAME, "frames": frames}],
                            stdout=subprocess.PIPE, bufsize=0)
    buf = bytearray(BLOCK)
    view = memoryview(buf)
    count = 0
    while True:
        n = proc.stdout.readinto(view)
        if not n:
            break
        count += n
    if proc.wait() != 0 or count != frames * FRAME:
        sys.exit(f"writer failed: exit {proc.returncode}, {count} bytes")
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=3030)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    once(100)  # warm-up
    times = [once(a.frames) for _ in range(a.runs)]
    wall = statistics.median(times)
    gbs = a.frames * FRAME / wall / 1e9
    print(f"pipe: {a.frames} frames of 1080p yuv420p ({a.frames * FRAME / 1e9:.2f} GB) in {wall:.3f} s "
          f"(median of {a.runs}: {', '.join(f'{t:.3f}' for t in times)}): {gbs:.2f} GB/s, "
          f"{a.frames / wall:.0f} frames/s")


if __name__ == "__main__":
    main()
