#!/usr/bin/env python3
"""Usage: python3 scripts/pynvc_colour.py FILE (an 8-bit 4:2:0 H.264 of 300+ frames; PyNvVideoCodec on
PYTHONPATH, a GPU). Which conversion PyNvVideoCodec's RGB is: video_hw's exact YUV of the same frames
converted in numpy (BT.601 / BT.709, limited or full range; chroma nearest or bilinear at
MPEG-2 siting) against PyNvVideoCodec's RGBP, PSNR per variant."""
import math, sys
import numpy as np
import torch
import PyNvVideoCodec as nvc
import video_hw

path = sys.argv[1]
idx = [0, 7, 100, 249, 250, 299]
dec = nvc.SimpleDecoder(path, gpu_id=0, use_device_memory=True, output_color_type=nvc.OutputColorType.RGBP)
theirs = [torch.from_dlpack(f).cpu().numpy().astype(np.float64) for f in dec.get_batch_frames_by_index(idx)]
v = video_hw.VideoDecoder(path, device="cpu", pixel_format="yuv420p", engine="software" if False else "auto")
yuv = [np.from_dlpack(v[i]).astype(np.float64) for i in idx]
h = theirs[0].shape[1]; w = theirs[0].shape[2]
M = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}
def conv(f, kr, kb, chroma, full=False):
    y = f[:h]; u = f[h:h + h // 4].reshape(h // 2, w // 2); vv = f[h + h // 4:].reshape(h // 2, w // 2)
    if chroma == "nearest":
        U = np.repeat(np.repeat(u, 2, 0), 2, 1); V = np.repeat(np.repeat(vv, 2, 0), 2, 1)
    else:  # left siting horizontally (co-sited), centred vertically
        def up(c):
            c = np.repeat(c, 2, 0)
            c2 = c.copy(); c2[1:-1:2] = 0.75 * c[1:-1:2] + 0.25 * c[2::2]; c2[2::2] = 0.75 * c[2::2] + 0.25 * c[1:-1:2]
            out = np.empty((c.shape[0], c.shape[1] * 2)); out[:, 0::2] = c2; out[:, 1:-1:2] = 0.5 * (c2[:, :-1] + c2[:, 1:]); out[:, -1] = c2[:, -1]
            return out
        U, V = up(u), up(vv)
    kg = 1 - kr - kb
    if full:
        Y, Cb, Cr = y, U - 128, V - 128
    else:
        Y = (y - 16) * 255 / 219; Cb = (U - 128) * 255 / 224; Cr = (V - 128) * 255 / 224
    r = Y + 2 * (1 - kr) * Cr; b = Y + 2 * (1 - kb) * Cb; g = (Y - kr * r - kb * b) / kg
    return np.clip(np.round(np.stack([r, g, b])), 0, 255)
def psnr(a, b):
    m = float(np.mean((a - b) ** 2)); return 99.0 if m == 0 else 10 * math.log10(255 ** 2 / m)
for name, (kr, kb) in M.items():
    for chroma in ("nearest", "bilinear"):
        for full in (False, True):
            got = min(psnr(conv(f, kr, kb, chroma, full), t) for f, t in zip(yuv, theirs))
            print(f"{name} {'full' if full else 'limited'} {chroma}: lowest {got:.2f} dB")
