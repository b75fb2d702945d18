#!/usr/bin/env python3
"""Decoder transforms, torchcodec's against video_hw's (issue #57): the same chains of
Resize / CenterCrop / RandomCrop through ``torchcodec.decoders.VideoDecoder(transforms=)``
and ``video_hw.torchcodec.decoders.VideoDecoder(transforms=)`` on the same files and frames.
Prints a Markdown table: for each file and chain, the shapes (which must be equal), the PSNR
of ours against torchcodec's, and, for reference, of each against torchvision's ``v2``
transforms applied to that library's own full frames (what a model trained with
torchvision on full frames would have seen). Exits 1 where a shape differs.

    python scripts/compare_torchcodec_transforms.py [files...]   # default: a camera clip, testdata/media's MP4/MKV

Random crops are drawn with the same seed on both sides (torchcodec and video_hw draw
torchvision's way, so the place is the same). Needs torch, torchvision, torchcodec and an
installed video_hw; run it from outside the source tree.
"""

import argparse
import math
import pathlib
import subprocess
import sys
import tempfile

import torch
import torchcodec
from torchcodec import transforms as tc_t
from torchcodec.decoders import VideoDecoder as TcDecoder
from torchvision.transforms import v2

import video_hw
from video_hw.torchcodec import transforms as vh_t
from video_hw.torchcodec.decoders import VideoDecoder as VhDecoder

ROOT = pathlib.Path(__file__).resolve().parents[1]
INDICES = [0, 5, 10]


def chains(h, w):
    """(label, torchcodec's chain, ours, torchvision's) for an h x w video."""
    def both(make):
        return make(tc_t), make(vh_t), make(v2)
    out = [
        ("Resize 224x224", lambda m: [m.Resize((224, 224))]),
        ("Resize half", lambda m: [m.Resize((h // 2, w // 2))]),
        ("Resize 1/4 x 1/3", lambda m: [m.Resize((h // 4, w // 3))]),
        ("Resize 1.5x", lambda m: [m.Resize((h * 3 // 2, w * 3 // 2))]),
        ("CenterCrop 2/3", lambda m: [m.CenterCrop((h * 2 // 3 + 1, w * 2 // 3 + 1))]),
        ("RandomCrop 1/2, seed 5", lambda m: [m.RandomCrop((h // 2, w // 2))]),
        ("CenterCrop 3/4 then Resize 112x112", lambda m: [m.CenterCrop((h * 3 // 4, w * 3 // 4)), m.Resize((112, 112))]),
        ("Resize 256 short side then CenterCrop 224", lambda m: [m.Resize((256, 256 * w // h)), m.CenterCrop((224, 224))]),
    ]
    return [(label, *both(make)) for label, make in out]


def psnr(a, b):
    mse = ((a.float() - b.float()) ** 2).mean().item()
    return 10 * math.log10(255**2 / mse) if mse else math.inf


def run(dec_class, path, chain, seed):
    torch.manual_seed(seed)
    return dec_class(str(path), transforms=chain).get_frames_at(INDICES).data


def compare(path):
    tc_full = TcDecoder(str(path)).get_frames_at(INDICES).data
    vh_full = VhDecoder(str(path)).get_frames_at(INDICES).data
    h, w = tc_full.shape[-2:]
    rows = []
    for label, tc_chain, vh_chain, tv_chain in chains(h, w):
        tc = run(TcDecoder, path, tc_chain, 5)
        vh = run(VhDecoder, path, vh_chain, 5)
        torch.manual_seed(5)
        tv_tc = v2.Compose(tv_chain)(tc_full)
        torch.manual_seed(5)
        tv_vh = v2.Compose(tv_chain)(vh_full)
        same = tc.shape == vh.shape
        rows.append((path.name, f"{h}x{w}", label, "x".join(map(str, vh.shape[-2:])) if same else f"DIFFERS {tuple(tc.shape)} {tuple(vh.shape)}",
                     psnr(vh, tc) if same else None, psnr(tc, tv_tc), psnr(vh, tv_vh)))
    return rows


def camera_clip(tmp):
    """The repository's camera clip (raw H.264, natural content) in an MP4 torchcodec can seek."""
    out = pathlib.Path(tmp) / "camera-640x360.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(ROOT / "testdata/real/camera-640x360.h264"),
                    "-frames:v", "30", "-c:v", "libx264", "-crf", "16", "-bf", "0", "-pix_fmt", "yuv420p", str(out)],
                   check=True)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="*", type=pathlib.Path)
    files = p.parse_args().files
    print(f"torchcodec {torchcodec.__version__}, torch {torch.__version__}, video_hw {video_hw.__version__}; "
          f"frames {INDICES}; PSNR over RGB, uint8\n")
    print("| file | size | chain | output | ours vs torchcodec (dB) | torchcodec vs torchvision on its frames | "
          "ours vs torchvision on ours |\n|---|---|---|---|---|---|---|")
    differs = 0
    with tempfile.TemporaryDirectory() as tmp:
        if not files:
            media = ROOT / "testdata" / "media"
            files = [camera_clip(tmp), media / "h264-vfr.mp4", media / "hevc-aac.mkv", media / "vp9-opus.webm"]
        for f in files:
            for name, size, label, shape, ours, tc_tv, vh_tv in compare(f):
                differs += shape.startswith("DIFFERS")
                fmt = lambda v: "-" if v is None else ("inf" if v == math.inf else f"{v:.1f}")  # noqa: E731
                print(f"| {name} | {size} | {label} | {shape} | {fmt(ours)} | {fmt(tc_tv)} | {fmt(vh_tv)} |")
    print(f"\n{differs} chain(s) with another output shape")
    return 1 if differs else 0


if __name__ == "__main__":
    sys.exit(main())
