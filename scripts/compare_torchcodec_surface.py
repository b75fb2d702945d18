#!/usr/bin/env python3
"""Runs torchcodec (0.17, CPU) and video_hw on the same files and compares what issue #57's
time ranges and samplers return: metadata, every frame's pts, the regular samplers' frame
indices (and pts), and get_frames_played_in_range with and without fps. Prints a Markdown
table (one row per file and check) and exits 1 if any check differs.

    python scripts/compare_torchcodec_surface.py [files...]   # default: testdata/media/*

Frames are compared by index and pts only (pixels are another script's job). Needs torch,
torchcodec and an installed video_hw; run it from outside the source tree.
"""

import argparse
import math
import pathlib
import sys

import torch
import torchcodec
from torchcodec import samplers as tc_samplers
from torchcodec.decoders import VideoDecoder as TcDecoder

import video_hw
from video_hw import samplers as vh_samplers

ROOT = pathlib.Path(__file__).resolve().parents[1]
MEDIA = ROOT / "testdata" / "media"
SUFFIXES = {".mp4", ".mkv", ".webm", ".ts", ".m2ts"}


def tc_indices(dec, batch):
    """The indices of the frames of a torchcodec batch, from their pts."""
    every = dec.get_frames_played_in_range(dec.metadata.begin_stream_seconds, dec.metadata.end_stream_seconds)
    where = {round(p, 9): i for i, p in enumerate(every.pts_seconds.tolist())}
    return [where.get(round(p, 9)) for p in batch.pts_seconds.flatten().tolist()]


def same_floats(a, b, tol=1e-9):
    return len(a) == len(b) and all(
        (x is None and y is None) or (x is not None and y is not None and abs(x - y) <= tol) for x, y in zip(a, b)
    )


def compare(path):
    rows = []

    def row(check, ok, detail=""):
        rows.append((path.name, check, "ok" if ok else "DIFFERS", detail))

    try:
        tc = TcDecoder(str(path))
    except Exception as e:  # torchcodec cannot open it: nothing to compare
        return [(path.name, "open", "torchcodec fails", f"{type(e).__name__}: {str(e)[:80]}")]
    try:
        vh = video_hw.VideoDecoder(path)
    except Exception as e:
        return [(path.name, "open", "video_hw fails", f"{type(e).__name__}: {str(e)[:80]}")]
    tm, vm = tc.metadata, vh.metadata
    for name in ("num_frames", "width", "height", "begin_stream_seconds", "end_stream_seconds", "average_fps"):
        a, b = getattr(tm, name), getattr(vm, name)
        ok = (a == b) if not isinstance(a, float) else (b is not None and abs(a - b) < 1e-6)
        row(f"metadata.{name}", ok, "" if ok else f"torchcodec {a}, video_hw {b}")
    if tm.num_frames != vm.num_frames:
        return rows
    every = tc.get_frames_played_in_range(tm.begin_stream_seconds, tm.end_stream_seconds)
    tc_pts = every.pts_seconds.tolist()
    vh_pts, _ = vh.frame_times()
    row("every frame's pts (to the bit)", same_floats(tc_pts, vh_pts, 0.0), f"{len(tc_pts)} frames")

    # Regular samplers: the same frames for several parameter sets.
    bad = []
    cases = [dict(num_clips=n, num_frames_per_clip=f, num_indices_between_frames=s)
             for n in (1, 3, 8, 40) for f in (1, 4) for s in (1, 3)]
    for kw in cases:
        try:
            a = tc_indices(tc, tc_samplers.clips_at_regular_indices(tc, **kw))
        except ValueError:
            a = "ValueError"
        try:
            b = [i for c in vh_samplers.clips_at_regular_indices(vh, **kw).indices for i in c]
        except ValueError:
            b = "ValueError"
        if a != b:
            bad.append(kw)
    row("clips_at_regular_indices", not bad, f"{len(cases)} parameter sets" + (f"; differ: {bad[:2]}" if bad else ""))
    bad = []
    span = tm.end_stream_seconds - tm.begin_stream_seconds
    cases = [dict(seconds_between_clip_starts=span / k, num_frames_per_clip=f, seconds_between_frames=g)
             for k in (1.5, 4, 9.7, 30) for f in (1, 3) for g in (None, 0.1, 0.37)]
    for kw in cases:
        try:
            t = tc_samplers.clips_at_regular_timestamps(tc, **kw)
            a = (tc_indices(tc, t), t.pts_seconds.flatten().tolist())
        except ValueError:
            a = "ValueError"
        try:
            v = vh_samplers.clips_at_regular_timestamps(vh, **kw)
            b = ([i for c in v.indices for i in c], [p for c in v.pts_seconds for p in c])
        except ValueError:
            b = "ValueError"
        if a != b and not (a != "ValueError" and b != "ValueError" and a[0] == b[0] and same_floats(a[1], b[1])):
            bad.append(kw)
    row("clips_at_regular_timestamps", not bad, f"{len(cases)} parameter sets" + (f"; differ: {bad[:1]}" if bad else ""))

    # Ranges, without and with fps, inside the bounds both report.
    begin = max(tm.begin_stream_seconds, vm.begin_stream_seconds)
    end = min(tm.end_stream_seconds, vm.end_stream_seconds)
    bad = []
    ranges = [(begin + a * (end - begin), begin + b * (end - begin)) for a, b in
              [(0, 1), (0, 0.25), (0.13, 0.71), (0.5, 0.5), (0.333, 0.999)]]
    for start, stop in ranges:
        for fps in (None, 1.0, 7.3, 24.0, 30.0, 59.94, 120.0):
            t = tc.get_frames_played_in_range(start, stop, fps=fps)
            v = vh.get_frames_played_in_range(start, stop, fps=fps)
            a = (tc_indices(tc, t) if fps is None else None, t.pts_seconds.tolist(), t.duration_seconds.tolist())
            b = (list(v.indices) if fps is None else None, list(v.pts_seconds), list(v.duration_seconds))
            ok = a[0] == b[0] and same_floats(a[1], b[1]) and (fps is None or same_floats(a[2], b[2]))
            if fps is not None and len(v):
                # The frames picked (torchcodec reports only the target times): torchcodec's
                # own frames at video_hw's indices are its output, pixel for pixel.
                ok = ok and torch.equal(tc.get_frames_at(list(v.indices)).data, t.data)
            if not ok:
                bad.append((round(start, 3), round(stop, 3), fps))
    row("get_frames_played_in_range (fps None and 6 rates)", not bad,
        f"{len(ranges) * 7} calls" + (f"; differ: {bad[:3]}" if bad else ""))
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="*", type=pathlib.Path)
    files = p.parse_args().files or sorted(f for f in MEDIA.iterdir() if f.suffix in SUFFIXES)
    print(f"torchcodec {torchcodec.__version__}, torch {torch.__version__}, video_hw {video_hw.__version__}\n")
    print("| file | check | result | detail |\n|---|---|---|---|")
    differs = peer_failures = 0
    for f in files:
        try:
            rows = compare(f)
        except Exception as e:  # noqa: BLE001 - which library raised is the finding
            # torchcodec fails on some files we read (MPEG-TS among them): a row that says
            # so, not the end of the comparison. An error of video_hw's counts as a difference.
            import traceback

            where = traceback.extract_tb(e.__traceback__)[-1].filename
            ours = "torchcodec" not in where and "torch/" not in where
            differs += ours
            peer_failures += not ours
            who = "video_hw" if ours else "torchcodec"
            rows = [(f.name, "(every check)", "DIFFERS" if ours else "peer failed", f"{who} raised {type(e).__name__}: {e}")]
        for name, check, result, detail in rows:
            differs += result == "DIFFERS" and check != "(every check)"
            print(f"| {name} | {check} | {result} | {detail} |")
    print(f"\n{differs} check(s) differ; torchcodec failed on {peer_failures} file(s)")
    return 1 if differs else 0


if __name__ == "__main__":
    sys.exit(main())
