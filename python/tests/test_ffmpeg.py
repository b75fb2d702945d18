"""The FFmpeg engines from Python: FFmpeg's libraries found at run time (the system's, or
a PyAV wheel's), every container fixture of every codec decoded on the CPU to the
reference frames (ffmpeg's framemd5), with the exact frame count.

Without FFmpeg these tests skip, unless VIDEO_HW_REQUIRE_FFMPEG=1 (CI's runs with FFmpeg)
makes that a failure. With VIDEO_HW_FFMPEG_DIR=none they check the refusal instead."""

import hashlib
import os
import pathlib

import numpy as np
import pytest

import video_hw

ROOT = pathlib.Path(__file__).resolve().parents[2]
MEDIA = ROOT / "testdata" / "media"
FIXTURES = sorted(p.name[: -len(".framemd5")] for p in MEDIA.glob("*.framemd5"))


def ffmpeg_loaded():
    info = video_hw.ffmpeg_info()
    if info["loaded"]:
        return True
    if os.environ.get("VIDEO_HW_REQUIRE_FFMPEG") == "1":
        pytest.fail(f"VIDEO_HW_REQUIRE_FFMPEG=1 but no FFmpeg: {info['summary']}; tried {info['tried']}")
    return False


def reference(name):
    lines = (MEDIA / f"{name}.framemd5").read_text().splitlines()
    return [l.split(",")[5].strip() for l in lines if l and not l.startswith("#")]


def test_ffmpeg_info_says_what_was_found():
    info = video_hw.ffmpeg_info()
    assert set(info) == {"loaded", "summary", "tried"}
    if os.environ.get("VIDEO_HW_FFMPEG_DIR", "").lower() == "none":
        assert not info["loaded"] and "VIDEO_HW_FFMPEG_DIR=none" in info["summary"]
    elif info["loaded"]:
        assert info["summary"].startswith("FFmpeg ") and "libavcodec" in info["summary"]
        assert info["tried"][-1].endswith(": ok")


@pytest.mark.parametrize("name", FIXTURES)
def test_every_codec_decodes_to_the_reference_frames(name):
    if not ffmpeg_loaded():
        pytest.skip("no FFmpeg here")
    # ffmpeg's references are of the coded pictures (h264-rotate90.mp4 is not turned there).
    dec = video_hw.VideoDecoder(
        MEDIA / name, device="cpu", pixel_format="yuv420p-auto", engine="ffmpeg", autorotate=False
    )
    want = reference(name)
    got = [hashlib.md5(np.ascontiguousarray(np.from_dlpack(f.data)).tobytes()).hexdigest() for f in dec]
    assert len(got) == len(want), f"{name}: {len(got)} frames, the reference has {len(want)}"
    assert got == want


@pytest.mark.parametrize("name", ["libvpx-10bit-cars-320x240.ivf", "libvpx-10bit-cars-320x240.webm"])
@pytest.mark.parametrize("pixel_format, tag", [("yuv420p10le", "yuv"), ("p010le", "p010")])
def test_vp9_10_bit_decodes_to_the_reference_frames(name, pixel_format, tag):
    if not ffmpeg_loaded():
        pytest.skip("no FFmpeg here")
    path = ROOT / "testdata" / "vp9" / name
    dec = video_hw.VideoDecoder(path, device="cpu", pixel_format=pixel_format)
    lines = pathlib.Path(f"{path}.{tag}.framemd5").read_text().splitlines()
    want = [l.split(",")[5].strip() for l in lines if l and not l.startswith("#")]
    got = [hashlib.md5(np.ascontiguousarray(np.from_dlpack(f.data)).tobytes()).hexdigest() for f in dec]
    assert len(got) == len(want) == 12
    assert got == want


def test_without_ffmpeg_hevc_is_refused_by_name():
    if os.environ.get("VIDEO_HW_FFMPEG_DIR", "").lower() != "none":
        pytest.skip("FFmpeg is not turned off in this run")
    names = {e["engine"] for e in video_hw.engines() if e["codec"] == "hevc" and e["direction"] == "decode" and e["available"]}
    if names:
        pytest.skip(f"another engine decodes HEVC here: {names}")
    with pytest.raises(video_hw.UnsupportedError, match="VIDEO_HW_FFMPEG_DIR=none"):
        video_hw.VideoDecoder(MEDIA / "hevc-aac.mkv", device="cpu")


CODECS = ROOT / "testdata" / "codecs"


@pytest.mark.parametrize(
    "name, codec",
    [("mpeg2-cars-160x120.ts", "mpeg2video"), ("mpeg4-cars-160x120.mp4", "mpeg4"), ("vp8-cars-160x120.webm", "vp8")],
)
def test_codecs_only_ffmpeg_decodes_are_exact_with_random_access(name, codec):
    """MPEG-2, MPEG-4 Part 2 and VP8 (scripts/make-codec-fixtures.sh): every frame equal to
    ffmpeg's, the exact count, frames by index out of order equal to those in order, and the
    codec in the metadata; without FFmpeg, a refusal that names the codec."""
    path = CODECS / name
    if not ffmpeg_loaded():
        if os.environ.get("VIDEO_HW_FFMPEG_DIR", "").lower() != "none":
            pytest.skip("no FFmpeg here")
        with pytest.raises(video_hw.UnsupportedError, match=codec):
            dec = video_hw.VideoDecoder(path, device="cpu")
            dec[0]
        return
    dec = video_hw.VideoDecoder(path, device="cpu", pixel_format="yuv420p")
    assert dec.metadata.codec == codec
    lines = pathlib.Path(f"{path}.yuv.framemd5").read_text().splitlines()
    want = [l.split(",")[5].strip() for l in lines if l and not l.startswith("#")]
    md5 = lambda a: hashlib.md5(np.ascontiguousarray(np.from_dlpack(a)).tobytes()).hexdigest()
    got = [md5(f.data) for f in dec]
    assert len(got) == len(want) == len(dec) == 30
    assert got == want
    fresh = video_hw.VideoDecoder(path, device="cpu", pixel_format="yuv420p")
    for i in [17, 4, 29, 11]:
        assert md5(fresh[i]) == want[i], f"{name}: frame {i} by random access"
