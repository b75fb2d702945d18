#!/usr/bin/env python3
"""RGB from video_hw against torchcodec on the CPU, frame by frame, on the colour fixtures
(issue #56: >= 45 dB on 8-bit, 10-bit, 4:4:4 and odd-sized streams). Not in CI: torchcodec
and torch are not there.

    python3 scripts/compare_rgb_torchcodec.py [--out bench/results/rgb-vs-torchcodec-DATE-COMMIT.md]
        [FILE ...]

For each file (default: testdata/colour/*.mp4, including the untagged and tagged 1280x720
streams, testdata/av1/libaom-odd-317x179-cars.ivf and testdata/media/h264-rotate90.mp4, whose
frames both libraries turn as its display matrix asks),
every frame is decoded by both libraries as RGB uint8 and compared: PSNR (peak 255) over the
frame, lowest and mean over the frames, and the largest difference of one sample. video_hw
also gives each frame through its other host paths (bgr24, an identity crop, a resize to the
same size, float32 scaled back by 255); the largest difference of those to its plain rgb24 is
reported (its tests hold it to 1).
"""
import argparse
import glob
import math
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BAR_DB = 45.0


def psnr(a, b):
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * math.log10(255.0 * 255.0 / mse)


def ours(path, **kw):
    import video_hw

    dec = video_hw.VideoDecoder(path, device="cpu", dimension_order="NHWC", **kw)
    return [np.array(dec[i]) for i in range(len(dec))]


def compare(path):
    from torchcodec.decoders import VideoDecoder

    peer = VideoDecoder(path, device="cpu", seek_mode="exact")
    theirs = [peer[i].numpy().transpose(1, 2, 0) for i in range(len(peer))]
    plain = ours(path, pixel_format="rgb24")
    h, w, _ = plain[0].shape
    paths = {
        "bgr24": [f[..., ::-1] for f in ours(path, pixel_format="bgr24")],
        "crop": ours(path, pixel_format="rgb24", crop=(0, 0, w, h)),
        "resize": ours(path, pixel_format="rgb24", resize=(w, h)),
        "float32": [np.round(f * 255.0) for f in ours(path, pixel_format="rgb24", dtype="float32")],
    }
    spread = max(
        float(np.abs(p.astype(np.float64) - q.astype(np.float64)).max())
        for frames in paths.values()
        for p, q in zip(frames, plain)
    )
    scores = [psnr(a, b) for a, b in zip(plain, theirs)]
    worst = max(float(np.abs(a.astype(np.int32) - b.astype(np.int32)).max()) for a, b in zip(plain, theirs))
    return {
        "file": os.path.relpath(path, ROOT),
        "size": f"{w}x{h}",
        "frames": (len(plain), len(theirs)),
        "lowest_db": min(scores),
        "mean_db": sum(scores) / len(scores),
        "max_diff": worst,
        "paths_max_diff": spread,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*")
    ap.add_argument("--out", help="write the table (markdown) here too")
    a = ap.parse_args()
    files = a.files or sorted(glob.glob(os.path.join(ROOT, "testdata/colour/*.mp4"))) + [
        os.path.join(ROOT, "testdata/av1/libaom-odd-317x179-cars.ivf"),
        os.path.join(ROOT, "testdata/media/h264-rotate90.mp4"),
    ]
    import torchcodec
    import video_hw

    ff = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    lines = [
        f"torchcodec {torchcodec.__version__} (CPU; {ff}); video_hw {getattr(video_hw, '__version__', '?')}",
        "",
        "| file | size | frames (ours, torchcodec) | lowest PSNR (dB) | mean PSNR (dB) | largest difference | "
        f">= {BAR_DB:g} dB | our paths' largest difference to plain rgb24 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ok = True
    for path in files:
        r = compare(path)
        passed = r["lowest_db"] >= BAR_DB and r["frames"][0] == r["frames"][1]
        ok &= passed
        lines.append(
            f"| {r['file']} | {r['size']} | {r['frames'][0]}, {r['frames'][1]} | {r['lowest_db']:.2f} | "
            f"{r['mean_db']:.2f} | {r['max_diff']:.0f} | {'yes' if passed else 'NO'} | {r['paths_max_diff']:.0f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
