#!/usr/bin/env python3
"""Ray Data against one process: the same files decoded by ``video_hw.ray_data.read_videos``
on a local cluster of ``--workers`` actors, and by a loop of ``VideoDecoder`` in this
process. Prints frames per second of both (median of ``--runs``, ``time.perf_counter`` from
the first file asked to the last row received; the cluster's start is timed apart) and the
per-file overhead of a Ray task (one frame per file, both ways).

    python3 scripts/bench_ray.py [--files 24] [--workers 2] [--runs 3] [--engine openh264]
"""

import argparse
import pathlib
import statistics
import time

import numpy as np

import video_hw
from video_hw.ray_data import read_videos, sample_indices

MEDIA = pathlib.Path(__file__).resolve().parents[1] / "testdata" / "media"


def one_process(paths, num_frames, args):
    frames = 0
    for p in paths:
        dec = video_hw.VideoDecoder(p, **args)
        batch = dec.get_frames_at(sample_indices(len(dec), num_frames))
        frames += np.from_dlpack(batch.data).shape[0]
    return frames


def cluster(paths, num_frames, workers, args):
    frames = 0
    for row in read_videos(paths, num_frames=num_frames, workers=workers, **args).iter_rows():
        assert row["error"] is None, row["error"]
        frames += row["frames"].shape[0]
    return frames


def timed(runs, f):
    f()  # warm-up (actors started, files cached)
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        n = f()
        out.append((time.perf_counter() - t, n))
    return statistics.median(t for t, _ in out), out[0][1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=24)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--engine", default="openh264")
    ap.add_argument("--input", default=str(MEDIA / "h264-opengop.mkv"))
    a = ap.parse_args()
    import ray

    t = time.perf_counter()
    ray.init(include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    ray.data.DataContext.get_current().enable_progress_bars = False
    print(f"ray.init: {time.perf_counter() - t:.2f} s", flush=True)
    args = dict(engine=a.engine, pixel_format="rgb24", resize=(224, 224), dimension_order="NHWC")
    for label, num_frames in (("every frame", None), ("one frame per file", 1)):
        # Two dataset sizes: the difference gives the cost per file without the actor
        # pool's start (each dataset starts its own), which the smaller one shows.
        rows = []
        for files in (a.files, 4 * a.files):
            paths = [a.input] * files
            single, n1 = timed(a.runs, lambda: one_process(paths, num_frames, args))
            ray_t, n2 = timed(a.runs, lambda: cluster(paths, num_frames, a.workers, args))
            assert n1 == n2, (n1, n2)
            rows.append((files, n1, single, ray_t))
            print(
                f"{label}: {files} files, {n1} frames; one process {single:.3f} s ({n1 / single:,.0f} fps), "
                f"Ray with {a.workers} workers {ray_t:.3f} s ({n2 / ray_t:,.0f} fps): {single / ray_t:.2f}x",
                flush=True,
            )
        (f1, _, s1, r1), (f2, _, s2, r2) = rows
        per_single, per_ray = (s2 - s1) / (f2 - f1), (r2 - r1) / (f2 - f1)
        print(
            f"{label}: per file {1000 * per_single:.1f} ms in one process, {1000 * per_ray:.1f} ms through Ray "
            f"({a.workers} workers at once); fixed cost of a dataset {r1 - f1 * per_ray:.2f} s",
            flush=True,
        )
    ray.shutdown()


if __name__ == "__main__":
    main()
