#!/usr/bin/env python3
"""Where video_hw's and torchcodec's RGB stand against float64 conversions of the same YUV
(issue #57: the 10-bit and odd-size rows of scripts/compare_rgb_torchcodec.py under 45 dB).

    python3 scripts/rgb_float_reference.py [FILE ...]      # markdown table on stdout

For each 4:2:0 file (default: the 10-bit and 8-bit cars fixtures and the odd-size AV1 one),
ffmpeg gives the decoded YUV (rawvideo, the stream's depth), and three float64 BT.601
limited-range conversions of it are made, one per chroma rule:
  nearest    every pixel of a 2x2 block takes the block's chroma sample (video_hw's rule,
             and swscale's unscaled 8-bit converter's)
  bilinear   chroma interpolated both ways, co-sited with even luma columns and halfway
             between luma rows (MPEG-2 siting, what the fixtures' "left" tag says)
  v-bilinear pairs of pixels share a chroma column, rows interpolated (chroma centred):
             swscale's scaler when it does not interpolate chroma horizontally
PSNR (peak 255) of video_hw's and torchcodec's rgb24 against each, mean over the frames, and
the largest difference on the first frame. The files' matrix is BT.601 (untagged).
"""
import math
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT = [
    "testdata/colour/yuv420p-cars-96x64.mp4",
    "testdata/colour/yuv420p10-cars-96x64.mp4",
    "testdata/av1/libaom-odd-317x179-cars.ivf",
]
RULES = ("nearest", "bilinear", "v-bilinear")


def probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height,pix_fmt", "-of", "csv=p=0", path], capture_output=True, text=True,
                         check=True).stdout.strip().split(",")
    return int(out[0]), int(out[1]), "10" in out[2]


def planes(path, w, h, ten):
    fmt, dt = ("yuv420p10le", np.uint16) if ten else ("yuv420p", np.uint8)
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", fmt, "-"],
                         capture_output=True, check=True).stdout
    a = np.frombuffer(raw, dt).astype(np.float64)
    cw, ch = (w + 1) // 2, (h + 1) // 2
    per = w * h + 2 * cw * ch
    for k in range(a.size // per):
        f = a[k * per:(k + 1) * per]
        yield f[:w * h].reshape(h, w), f[w * h:w * h + cw * ch].reshape(ch, cw), f[w * h + cw * ch:].reshape(ch, cw)


def lerp_axis(c, coords, axis):
    n = c.shape[axis]
    i0 = np.clip(np.floor(coords).astype(int), 0, n - 1)
    i1 = np.clip(i0 + 1, 0, n - 1)
    t = np.where(coords < 0, 0.0, coords - np.floor(coords))
    a, b = np.take(c, i0, axis), np.take(c, i1, axis)
    shape = [1, 1]
    shape[axis] = -1
    return a * (1 - t).reshape(shape) + b * t.reshape(shape)


def upsample(c, w, h, rule):
    rows = (np.arange(h) + 0.5) / 2 - 0.5  # chroma halfway between luma rows
    if rule == "nearest":
        return np.repeat(np.repeat(c, 2, 0), 2, 1)[:h, :w]
    if rule == "v-bilinear":
        return lerp_axis(np.repeat(c, 2, 1)[:, :w], rows, 0)
    return lerp_axis(lerp_axis(c, rows, 0), np.arange(w) / 2.0, 1)


def rgb(y, u, v, ten, rule):
    h, w = y.shape
    s = 4.0 if ten else 1.0
    Y = (y / s - 16) / 219
    U = (upsample(u, w, h, rule) / s - 128) / 224
    V = (upsample(v, w, h, rule) / s - 128) / 224
    kr, kb = 0.299, 0.114
    r, b = Y + 2 * (1 - kr) * V, Y + 2 * (1 - kb) * U
    g = (Y - kr * r - kb * b) / (1 - kr - kb)
    return np.clip(np.stack([r, g, b], -1) * 255, 0, 255)


def psnr(a, b):
    mse = float(np.mean((a - b) ** 2))
    return 99.0 if mse == 0 else 10 * math.log10(255 * 255 / mse)


def main(files):
    import video_hw
    from torchcodec.decoders import VideoDecoder as TorchCodec

    print("| file | size | frames | " + " | ".join(f"{who} ~ {r} dB (max)" for who in ("video_hw", "torchcodec")
                                                  for r in RULES) + " | video_hw ~ torchcodec dB |")
    print("|---|---|---|" + "---|" * (2 * len(RULES) + 1))
    for f in files:
        path = os.path.join(ROOT, f) if not os.path.isabs(f) else f
        w, h, ten = probe(path)
        ours = video_hw.VideoDecoder(path, dimension_order="NHWC")
        theirs = TorchCodec(path, dimension_order="NHWC")
        scores = {(who, r): [] for who in ("v", "t") for r in RULES}
        peaks, between, n = {}, [], 0
        for i, (y, u, v) in enumerate(planes(path, w, h, ten)):
            o = np.array(ours[i]).astype(np.float64)
            t = theirs[i].numpy().astype(np.float64)
            between.append(psnr(o, t))
            for r in RULES:
                ref = rgb(y, u, v, ten, r)
                for who, x in (("v", o), ("t", t)):
                    scores[(who, r)].append(psnr(x, ref))
                    if i == 0:
                        peaks[(who, r)] = float(np.abs(x - ref).max())
            n += 1
        cells = [f"{np.mean(scores[(who, r)]):.1f} ({peaks[(who, r)]:.1f})" for who in ("v", "t") for r in RULES]
        print(f"| {f} | {w}x{h}{' 10-bit' if ten else ''} | {n} | " + " | ".join(cells) + f" | {np.mean(between):.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT)
