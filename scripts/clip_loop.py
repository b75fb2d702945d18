#!/usr/bin/env python3
"""The loop a torchcodec user writes over a data set of short files, in one process: for each
file a new decoder and one clip of 16 frames (clips_at_regular_indices, or random with
--random), RGB on the CPU, handed to torch. Written as users write it, `dec = VideoDecoder(f)`
replaces the last file's decoder only once the new one is made, so the last one is still
open while the next opens; --drop-last deletes it first.

    python3 scripts/clip_loop.py DIR [--files 20] [--passes 3] [--random] [--drop-last]
        [--engine E] [--pixel-format rgb24] [--threads N]

Prints each pass's wall time (time.perf_counter: opening every file to the last clip in
torch), the part spent opening decoders, and the last decoder's decode_threads (FFmpeg's
frame threads: a session opened beside another gets its share of the cores). Run it with
each build on PYTHONPATH, alternating, to compare builds
(bench/results/reopen-first-session-cpu-20261128-05701d7).
"""
import argparse
import os
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", help="a folder of video files (scripts/make-python-bench-inputs.sh: OUT/clips)")
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--random", action="store_true")
    ap.add_argument("--drop-last", action="store_true")
    ap.add_argument("--engine", default="auto")
    ap.add_argument("--pixel-format", default="rgb24")
    ap.add_argument("--threads", type=int, help="the decoders' threads= (default: the library's)")
    a = ap.parse_args()
    import torch

    import video_hw
    from video_hw import samplers

    files = sorted(os.path.join(a.dir, f) for f in os.listdir(a.dir))[: a.files]
    sample = samplers.clips_at_random_indices if a.random else samplers.clips_at_regular_indices
    kw = dict(device="cpu", pixel_format=a.pixel_format, seek_mode="exact", engine=a.engine)
    if a.threads:
        kw["threads"] = a.threads
    for p in range(a.passes):
        torch.manual_seed(1234)
        opening = 0.0
        threads = None
        t0 = time.perf_counter()
        for f in files:
            t = time.perf_counter()
            dec = video_hw.VideoDecoder(f, **kw)
            opening += time.perf_counter() - t
            batch = sample(dec, num_clips=1, num_frames_per_clip=16)
            torch.from_dlpack(batch.data)
            threads = dec.decode_threads
            if a.drop_last:
                del dec, batch
        wall = time.perf_counter() - t0
        print(f"pass {p}: {wall:.3f} s, opening {opening:.3f} s, decode_threads {threads}", flush=True)


if __name__ == "__main__":
    main()
