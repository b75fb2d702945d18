#!/usr/bin/env python3
"""What the Ctrl-C check costs a decode: a 300-frame loop timed with the installed
``video_hw`` (run it once with a wheel built before the check and once after, on the
same machine, and compare).

Two loops over the same 300 frames of a 640x360 H.264 clip (made with the ffmpeg CLI
unless ``--clip`` names one): one ``get_frames_at`` of all of them (one call: the reader
asks the check between packets), and ``dec[i]`` for each (300 calls: each sets the check
up once). The median of ``--repeat`` runs of each is printed, as JSON with ``--json``.

    python3 scripts/bench_signal_check.py --repeat 5
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_clip(folder):
    if shutil.which("ffmpeg") is None:
        sys.exit("no ffmpeg CLI: pass --clip")
    path = Path(folder) / "clip-360p.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", "10",
         "-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", type=Path)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pixel-format", default="yuv420p", help="yuv420p (default: the least work per frame, so the check's share is largest)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import video_hw

    with tempfile.TemporaryDirectory() as tmp:
        clip = args.clip or make_clip(tmp)
        times = {"get_frames_at_300": [], "index_loop_300": []}
        for _ in range(args.repeat):
            dec = video_hw.VideoDecoder(clip, pixel_format=args.pixel_format, sessions=1)
            t = time.perf_counter()
            dec.get_frames_at(list(range(300)))
            times["get_frames_at_300"].append(time.perf_counter() - t)
            dec = video_hw.VideoDecoder(clip, pixel_format=args.pixel_format, sessions=1)
            t = time.perf_counter()
            for i in range(300):
                dec[i]
            times["index_loop_300"].append(time.perf_counter() - t)
    result = {k: {"median_s": round(statistics.median(v), 4), "runs": [round(x, 4) for x in v]} for k, v in times.items()}
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k}: median {v['median_s']:.3f} s  runs {v['runs']}")


if __name__ == "__main__":
    main()
