#!/usr/bin/env python3
"""Passes of one clip-sampler call over a file in one process, a new decoder each pass: what
the first call of a process pays (CUDA's start, NVDEC decoders made) and what the next ones
do once decoders are kept for reuse (issue #57's first pass against its warm pass).

    python3 scripts/sampler_passes.py FILE [regular|random] [--passes 4] [--device cuda]
        [--sessions N] [--threads N] [--engine E]

Each pass: VideoDecoder(FILE, device=D, pixel_format="rgb24", seek_mode="exact"), one
clips_at_{regular,random}_indices call of 8 clips x 16 frames (torch's generator seeded the
same each pass), the batch handed to torch and the GPU synchronised. Prints the pass's wall
time (time.perf_counter), the process's CPU time over it (time.process_time) and the
decoder's stats (sessions, runs, packets decoded). Run it in fresh processes, once per build,
to compare builds (bench/results/runs-at-once-*); --sessions and --threads pass the
decoder's own options (on the CPU, independent runs on more sessions of fewer threads).
"""
import argparse
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("sampler", nargs="?", default="regular", choices=["regular", "random"])
    ap.add_argument("--passes", type=int, default=4)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--sessions", type=int)
    ap.add_argument("--threads", type=int)
    ap.add_argument("--engine", help="the decoder's engine= (on a GPU machine, --device cpu still decodes on NVDEC unless ffmpeg or software is named)")
    a = ap.parse_args()
    import torch

    import video_hw
    from video_hw import samplers

    fn = samplers.clips_at_regular_indices if a.sampler == "regular" else samplers.clips_at_random_indices
    own = {k: v for k, v in (("sessions", a.sessions), ("threads", a.threads), ("engine", a.engine)) if v is not None}
    for p in range(a.passes):
        torch.manual_seed(1234)
        t, c = time.perf_counter(), time.process_time()
        dec = video_hw.VideoDecoder(a.file, device=a.device, pixel_format="rgb24", seek_mode="exact", **own)
        batch = fn(dec, num_clips=8, num_frames_per_clip=16)
        x = torch.from_dlpack(batch.data)
        if a.device != "cpu":
            torch.cuda.synchronize()
        s = dec.stats
        keys = ("sessions", "runs", "packets_decoded")
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        print(f"pass {p}: {wall:.3f} s, CPU {cpu:.3f} s", {k: s.get(k) for k in keys}, dec.backend, flush=True)
        del dec, batch, x


if __name__ == "__main__":
    main()
