#!/usr/bin/env python3
"""Where the time of bench_python.py's clips pattern goes, in one process on the GPU
machine: each clip of a batch decoded alone on one thread (open, then get_frames_at,
synchronised), with the reader's statistics, then whole batches through decode_many.

usage: python3 scripts/profile_clips.py CLIPS_DIR [nv12|rgb24] [WORKERS,...]
(decode_many is timed with each number of threads given; default: its own choice)
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_python  # noqa: E402


def main():
    import video_hw

    clips, fmt = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "nv12"
    workers = [int(w) for w in sys.argv[3].split(",")] if len(sys.argv) > 3 else [None]
    args = {"device": "cuda", "pixel_format": fmt, "dimension_order": "NHWC"}

    class A:
        pass

    a = A()
    a.clips, a.long = clips, sorted(os.path.join(clips, f) for f in os.listdir(clips))[0]
    plan = bench_python.make_plan(a)["clips"]
    cuda = bench_python.Cuda()
    warm = video_hw.VideoDecoder(plan[0][0][0], **args)
    warm.get_frames_at(plan[0][0][1])
    cuda.sync()
    rows = []
    for path, idx in plan[1] + plan[2]:
        t0 = time.perf_counter()
        dec = video_hw.VideoDecoder(path, **args)
        t1 = time.perf_counter()
        dec.get_frames_at(idx)
        cuda.sync()
        t2 = time.perf_counter()
        s = dec.stats
        rows.append((t1 - t0, t2 - t1, s["packets_decoded"], s.get("packets_headers_only", 0), idx[0]))
    n = len(rows)
    mean = lambda i: sum(r[i] for r in rows) / n  # noqa: E731
    print(f"{n} clips alone ({fmt}): open {mean(0) * 1e3:.1f} ms, frames {mean(1) * 1e3:.1f} ms, "
          f"{mean(2):.1f} packets decoded, {mean(3):.1f} headers only; "
          f"{sum(r[2] for r in rows) / sum(r[1] for r in rows):.0f} decoded pictures/s on one session")
    for r in rows[:8]:
        print(f"  start {r[4]:3d}: open {r[0] * 1e3:5.1f} ms, frames {r[1] * 1e3:6.1f} ms, {r[2]} decoded, {r[3]} headers only")
    for w in workers:
        for b in plan:
            t0 = time.perf_counter()
            video_hw.decode_many([p for p, _ in b], [i for _, i in b], workers=w, **args)
            cuda.sync()
            print(f"decode_many of {len(b)} clips, workers {w or 'default'}: {time.perf_counter() - t0:.3f} s")


if __name__ == "__main__":
    main()
