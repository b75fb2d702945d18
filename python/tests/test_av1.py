"""AV1 on the CPU with no FFmpeg needed: the built-in rav1d engine decodes every AV1
container fixture (MPEG-TS included) to its libdav1d reference frames (ffmpeg's framemd5), with the exact
frame count; random access gives a straight decode's frames; film grain can be left out.
These run in every CI pass, FFmpeg or not (engine="rav1d" never falls back)."""

import hashlib
import pathlib

import numpy as np
import pytest

import video_hw

ROOT = pathlib.Path(__file__).resolve().parents[2]
AV1 = ROOT / "testdata" / "av1"
FILES = [
    "libaom-kf8-cars-320x240.ivf",
    "libaom-kf8-cars-320x240.mp4",
    "libaom-kf8-cars-320x240-frag.mp4",
    "libaom-kf8-cars-320x240.mkv",
    "libaom-kf8-cars-320x240.webm",
    "libaom-kf8-cars-320x240.obu",
    "svtav1-10bit-cars-320x240.ivf",
    "libaom-odd-317x179-cars.ivf",
    "aomenc-fwdkf-cars-320x240.ivf",
    # MPEG-TS, both forms: AOM's specification (a PES per temporal unit; per access unit)
    # and ffmpeg's private data. They hold the IVF files' units (REFERENCE_OF).
    "libaom-kf8-cars-320x240.ts",
    "libaom-kf8-cars-320x240-split.ts",
    "libaom-kf8-cars-320x240-ffmpeg.ts",
    "aomenc-fwdkf-cars-320x240-split.ts",
]
# No ffmpeg decodes AV1 in MPEG-TS as video: these files' references are the IVF files'.
REFERENCE_OF = {
    "libaom-kf8-cars-320x240.ts": "libaom-kf8-cars-320x240.ivf",
    "libaom-kf8-cars-320x240-split.ts": "libaom-kf8-cars-320x240.ivf",
    "libaom-kf8-cars-320x240-ffmpeg.ts": "libaom-kf8-cars-320x240.ivf",
    "aomenc-fwdkf-cars-320x240-split.ts": "aomenc-fwdkf-cars-320x240.ivf",
}


def reference(name, tag="yuv"):
    name = REFERENCE_OF.get(name, name)
    lines = (AV1 / f"{name}.{tag}.framemd5").read_text().splitlines()
    return [l.split(",")[5].strip() for l in lines if l and not l.startswith("#")]


def md5(frame):
    return hashlib.md5(np.ascontiguousarray(np.from_dlpack(frame.data)).tobytes()).hexdigest()


@pytest.mark.parametrize("name", FILES)
def test_rav1d_decodes_every_container_exactly(name):
    dec = video_hw.VideoDecoder(AV1 / name, device="cpu", pixel_format="yuv420p-auto", engine="rav1d")
    assert "rav1d" in dec.backend
    got = [md5(f) for f in dec]
    want = reference(name)
    assert len(got) == len(want), f"{name}: {len(got)} frames, the reference has {len(want)}"
    assert got == want


@pytest.mark.parametrize(
    "name", ["libaom-kf8-cars-320x240.mkv", "aomenc-fwdkf-cars-320x240.ivf", "aomenc-fwdkf-cars-320x240-split.ts"]
)
def test_random_access_gives_the_straight_decodes_frames(name):
    want = reference(name)
    dec = video_hw.VideoDecoder(AV1 / name, device="cpu", pixel_format="yuv420p-auto", engine="rav1d")
    picks = [len(want) - 1, 3, 17, 9, 3]
    batch = dec.get_frames_at(picks)
    got = [hashlib.md5(np.ascontiguousarray(np.from_dlpack(batch.data)[i]).tobytes()).hexdigest() for i in range(len(picks))]
    assert got == [want[i] for i in picks]


def test_film_grain_can_be_left_out():
    name = "svtav1-filmgrain-cars-320x240.ivf"
    for grain, tag in [(True, "yuv"), (False, "nograin.yuv")]:
        dec = video_hw.VideoDecoder(AV1 / name, device="cpu", pixel_format="yuv420p-auto", engine="rav1d", film_grain=grain)
        assert [md5(f) for f in dec] == reference(name, tag)
