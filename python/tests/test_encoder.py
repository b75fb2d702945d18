"""video_hw.Encoder on the engines of the build (CI: the embedded OpenH264): numpy pictures
in, packets and files out (MP4, Matroska, raw H.264) that decode back to as many frames,
close to the source; typed errors."""

import numpy as np
import pytest

import video_hw

from test_decoder import MEDIA


def source_frames(fmt="yuv420p", order="NCHW"):
    dec = video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", pixel_format=fmt, dimension_order=order)
    return [np.from_dlpack(f.data).copy() for f in dec]


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".h264"])
def test_round_trip_through_a_file(tmp_path, suffix):
    src = source_frames()
    out = tmp_path / f"out{suffix}"
    packets = []
    with video_hw.Encoder(out, width=320, height=240, fps=25, gop=25, bitrate=1_500_000) as enc:
        # NVENC on a GPU with an encoder, libx264 where FFmpeg is found, else OpenH264.
        assert any(e in enc.backend.lower() for e in ("openh264", "nvenc", "libx264")), enc.backend
        for picture in src:
            packets += enc.encode(picture)
        packets += enc.close()
        assert enc.stats["frames_in"] == len(src)
    assert len(packets) == len(src)
    assert sum(p.key_frame for p in packets) == 4  # every 25 frames
    back = [np.from_dlpack(f.data) for f in video_hw.VideoDecoder(out, pixel_format="yuv420p")]
    assert len(back) == len(src)
    worst = min(psnr(a, b) for a, b in zip(src, back))
    assert worst > 28, f"worst PSNR {worst:.1f} dB"


def test_packets_only_rgb_input_and_times():
    src = source_frames("rgb24", "NHWC")
    # No B-frames: packets come in display order (the default is the engine's own).
    enc = video_hw.Encoder(width=320, height=240, fps=29.97, pixel_format="rgb24", gop=30, b_frames=0)
    packets = []
    for k, picture in enumerate(src[:40]):
        packets += enc.encode(picture, key_frame=(k == 10))
    packets += enc.close()
    assert len(packets) == 40
    assert [p.key_frame for p in packets[:11]] == [True] + [False] * 9 + [True]
    pts = [p.pts_seconds for p in packets]
    assert pts == sorted(pts) and abs(pts[1] - 1001 / 30000) < 1e-9
    first = bytes(packets[0])
    assert first[:4] == b"\x00\x00\x00\x01" and len(packets[0]) == len(first)
    assert enc.close() == []  # closing twice is harmless


def test_default_b_frames_are_the_engines_own():
    # libx264 (Auto's choice where FFmpeg is loaded) codes B-frames by default, as the ffmpeg
    # tool does; OpenH264 has none. Either way: every picture once, decode times rising.
    src = source_frames("rgb24", "NHWC")
    enc = video_hw.Encoder(width=320, height=240, fps=25, pixel_format="rgb24", gop=30)
    backend = enc.backend
    packets = []
    for picture in src[:30]:
        packets += enc.encode(picture)
    packets += enc.close()
    assert len(packets) == 30
    dts = [p.dts_seconds for p in packets]
    pts = [p.pts_seconds for p in packets]
    assert dts == sorted(dts) and len(set(dts)) == 30
    assert all(abs(t - k / 25) < 1e-9 for k, t in enumerate(sorted(pts)))
    if "libx264" in backend:
        assert pts != sorted(pts), "libx264's default B-frames reorder"


def test_encoder_errors():
    with pytest.raises(video_hw.VideoHwError) as e:
        video_hw.Encoder(width=320, height=240, codec="mpeg2")
    assert e.value.kind in ("invalid_input", "unsupported")
    enc = video_hw.Encoder(width=320, height=240)
    with pytest.raises(ValueError):
        enc.encode(np.zeros((240, 320), np.uint8))  # a luma plane alone
    with pytest.raises(ValueError):
        enc.encode(np.zeros((360, 320), np.uint16))
    enc.encode(np.zeros((360, 320), np.uint8))
    enc.close()
    with pytest.raises(RuntimeError):
        enc.encode(np.zeros((360, 320), np.uint8))


def test_ffmpeg_encoder_by_name():
    # A name no engine drives is refused whatever is loaded; where FFmpeg has libx264, naming
    # it opens it on the FFmpeg engine.
    with pytest.raises(video_hw.VideoHwError) as e:
        video_hw.Encoder(width=320, height=240, ffmpeg_encoder="nope")
    assert e.value.kind == "unsupported" and "no FFmpeg encoder of that name" in str(e.value)
    try:
        enc = video_hw.Encoder(width=320, height=240, ffmpeg_encoder="libx264")
    except video_hw.VideoHwError as e:
        assert e.kind == "unsupported", e  # no FFmpeg here, or one without libx264
        return
    assert enc.backend.startswith("ffmpeg libx264"), enc.backend
    enc.encode(np.zeros((360, 320), np.uint8))
    assert len(enc.close()) == 1
