"""AV1 on the CPU with no FFmpeg needed: the built-in rav1d engine decodes every AV1
fixture with a reference (listed from testdata/av1/, so a new one is covered the day it is
added; MPEG-TS included) to its libdav1d reference frames (ffmpeg's framemd5), with the
exact frame count; random access gives a straight decode's frames; film grain can be left
out. These run in every CI pass, FFmpeg or not (engine="rav1d" never falls back); where
FFmpeg is loaded, its libdav1d engine decodes the same fixtures (10-bit and grain
included), and with VIDEO_HW_FFMPEG_DIR=none the default engine is rav1d."""

import hashlib
import os
import pathlib

import numpy as np
import pytest

import video_hw

ROOT = pathlib.Path(__file__).resolve().parents[2]
AV1 = ROOT / "testdata" / "av1"
# No ffmpeg decodes AV1 in MPEG-TS as video: these files hold the IVF files' units, and
# theirs are the references. Both forms: AOM's specification (a PES per temporal unit; per
# access unit) and ffmpeg's private data.
REFERENCE_OF = {
    "libaom-kf8-cars-320x240.ts": "libaom-kf8-cars-320x240.ivf",
    "libaom-kf8-cars-320x240-split.ts": "libaom-kf8-cars-320x240.ivf",
    "libaom-kf8-cars-320x240-ffmpeg.ts": "libaom-kf8-cars-320x240.ivf",
    "aomenc-fwdkf-cars-320x240-split.ts": "aomenc-fwdkf-cars-320x240.ivf",
}
# A reference names its file ("x.ivf.yuv.framemd5"); one made another way than a straight
# decode ("x.ivf.nograin.yuv.framemd5": film grain left out) names no file of its own.
FILES = sorted(
    n for n in (p.name[: -len(".yuv.framemd5")] for p in AV1.glob("*.yuv.framemd5")) if (AV1 / n).is_file()
) + list(REFERENCE_OF)


def ffmpeg_loaded():
    if video_hw.ffmpeg_info()["loaded"]:
        return True
    if os.environ.get("VIDEO_HW_REQUIRE_FFMPEG") == "1":
        pytest.fail("VIDEO_HW_REQUIRE_FFMPEG=1 but no FFmpeg")
    return False


def reference(name, tag="yuv"):
    name = REFERENCE_OF.get(name, name)
    lines = (AV1 / f"{name}.{tag}.framemd5").read_text().splitlines()
    return [l.split(",")[5].strip() for l in lines if l and not l.startswith("#")]


def md5(frame):
    return hashlib.md5(np.ascontiguousarray(np.from_dlpack(frame.data)).tobytes()).hexdigest()


def test_every_fixture_is_listed():
    assert len(FILES) >= 18, FILES


@pytest.mark.parametrize("engine", ["rav1d", "ffmpeg"])
@pytest.mark.parametrize("name", FILES)
def test_every_fixture_decodes_exactly(name, engine):
    if engine == "ffmpeg" and not ffmpeg_loaded():
        pytest.skip("no FFmpeg here")
    dec = video_hw.VideoDecoder(AV1 / name, device="cpu", pixel_format="yuv420p-auto", engine=engine)
    assert engine in dec.backend
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


def test_the_default_engine_is_rav1d_without_ffmpeg():
    if os.environ.get("VIDEO_HW_FFMPEG_DIR") != "none":
        pytest.skip("FFmpeg is not turned off in this run")
    name = "svtav1-10bit-cars-320x240.ivf"
    dec = video_hw.VideoDecoder(AV1 / name, device="cpu", pixel_format="yuv420p-auto")
    assert "rav1d" in dec.backend
    assert [md5(f) for f in dec] == reference(name)


@pytest.mark.parametrize("engine", ["rav1d", "ffmpeg"])
def test_film_grain_can_be_left_out(engine):
    if engine == "ffmpeg" and not ffmpeg_loaded():
        pytest.skip("no FFmpeg here")
    name = "svtav1-filmgrain-cars-320x240.ivf"
    for grain, tag in [(True, "yuv"), (False, "nograin.yuv")]:
        dec = video_hw.VideoDecoder(AV1 / name, device="cpu", pixel_format="yuv420p-auto", engine=engine, film_grain=grain)
        assert [md5(f) for f in dec] == reference(name, tag)
