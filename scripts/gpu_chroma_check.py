#!/usr/bin/env python3
"""Usage: python3 scripts/gpu_chroma_check.py FILE (1080p H.264 of 300+ frames; a GPU; PyNvVideoCodec
optional). video_hw's GPU RGB through the transform kernel (color_matrix
override, identity crop) against NVDEC's plain RGB output, the CPU's, and PyNvVideoCodec."""
import math, sys
import numpy as np
import torch
import video_hw

path = sys.argv[1]
idx = [0, 7, 100, 249, 250, 299]
def frames(**kw):
    d = video_hw.VideoDecoder(path, **kw)
    return list(torch.from_dlpack(d.get_frames_at(idx).data).cpu().numpy().astype(np.float64))
def low(a, b):
    out = 99.0
    for x, y in zip(a, b):
        m = float(np.mean((x - y) ** 2)); out = min(out, 99.0 if m == 0 else 10 * math.log10(255 ** 2 / m))
    return round(out, 2)
plain = frames(device="cuda")
over = frames(device="cuda", color_matrix="bt709")
crop = frames(device="cuda", crop=(0, 0, 1920, 1080))
cpu = frames(device="cpu")
cpu709 = frames(device="cpu", color_matrix="bt709")
print("gpu plain vs gpu identity crop:", low(plain, crop))
print("gpu plain vs cpu plain:", low(plain, cpu))
print("gpu bt709 override vs cpu bt709 override:", low(over, cpu709))
try:
    import PyNvVideoCodec as nvc
    dec = nvc.SimpleDecoder(path, gpu_id=0, use_device_memory=True, output_color_type=nvc.OutputColorType.RGBP)
    theirs = [torch.from_dlpack(f).cpu().numpy().astype(np.float64) for f in dec.get_batch_frames_by_index(idx)]
    print("gpu bt709 override vs PyNvVideoCodec:", low(over, theirs))
    print("gpu plain (bt601 for untagged) vs PyNvVideoCodec:", low(plain, theirs))
except ImportError:
    print("no PyNvVideoCodec")
