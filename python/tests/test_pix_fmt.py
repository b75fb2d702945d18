"""``pixel_format`` takes ffmpeg's names with ffmpeg's meaning, as ``video-hw decode
--pix-fmt`` does (video_hw::pix_fmt): ``yuv420p`` and ``nv12`` are 8-bit, ``yuv420p10le``
and ``p010le`` 10-bit, ``gray`` and ``gray10le`` the luma plane in full range;
``yuv420p-auto`` and ``nv12-auto`` keep the stream's depth.

The built-in rav1d engine decodes the AV1 fixtures here (no FFmpeg needed); where the
ffmpeg tool is installed (CI), the 8-bit stream widened is compared with its bytes."""

import hashlib
import pathlib
import shutil
import subprocess

import numpy as np
import pytest

import video_hw

AV1 = pathlib.Path(__file__).resolve().parents[2] / "testdata" / "av1"
TEN = AV1 / "svtav1-10bit-cars-320x240.ivf"
EIGHT = AV1 / "libaom-kf8-cars-320x240.ivf"
W, H = 320, 240


def frames(path, pixel_format, **kw):
    dec = video_hw.VideoDecoder(path, pixel_format=pixel_format, engine="rav1d", **kw)
    return [np.from_dlpack(f.data) for f in dec]


def reference(path, tag):
    lines = pathlib.Path(f"{path}.{tag}.framemd5").read_text().splitlines()
    return [l.split(",")[5].strip() for l in lines if l and not l.startswith("#")]


def md5(a):
    return hashlib.md5(np.ascontiguousarray(a).tobytes()).hexdigest()


def ffmpeg(path, pix_fmt):
    """ffmpeg's frames of ``path`` (libdav1d) as ``pix_fmt``, raw; None without the tool."""
    if not shutil.which("ffmpeg"):
        return None
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-threads", "1", "-c:v", "libdav1d", "-i", str(path),
         "-map", "0:v:0", "-pix_fmt", pix_fmt, "-f", "rawvideo", "-"],
        capture_output=True,
    )
    return out.stdout if out.returncode == 0 else None


@pytest.mark.parametrize(
    "path, name, tag",
    [
        (TEN, "yuv420p10le", "yuv"),
        (TEN, "p010le", "p010"),
        (TEN, "yuv420p-auto", "yuv"),
        (TEN, "nv12-auto", "p010"),
        (EIGHT, "yuv420p", "yuv"),
        (EIGHT, "nv12", "nv12"),
        (EIGHT, "yuv420p-auto", "yuv"),
    ],
)
def test_the_streams_own_depth_equals_the_references(path, name, tag):
    assert [md5(f) for f in frames(path, name)] == reference(path, tag)


def test_a_10_bit_stream_as_yuv420p_is_8_bit_rounded():
    wide = frames(TEN, "yuv420p-auto")
    assert wide[0].dtype == np.uint16
    # (name, the same layout at the stream's depth, where its 10 bits sit: P010's at the top)
    for name, layout, shift in [("yuv420p", "yuv420p-auto", 0), ("nv12", "nv12-auto", 6)]:
        got = frames(TEN, name)
        want = [(((f.astype(np.uint32) >> shift) + 2) >> 2).clip(0, 255).astype(np.uint8) for f in frames(TEN, layout)]
        assert len(got) == len(want) == 20
        assert got[0].dtype == np.uint8 and got[0].shape == (H * 3 // 2, W)
        assert all(np.array_equal(g, w) for g, w in zip(got, want)), name


def test_an_8_bit_stream_widened_is_ffmpegs():
    planar = frames(EIGHT, "yuv420p-auto")
    ten = frames(EIGHT, "yuv420p10le")
    p010 = frames(EIGHT, "p010le")
    assert ten[0].dtype == np.uint16 and ten[0].shape == (H * 3 // 2, W)
    assert all(np.array_equal(t, p.astype(np.uint16) << 2) for t, p in zip(ten, planar))
    nv12 = frames(EIGHT, "nv12-auto")
    assert all(np.array_equal(t, n.astype(np.uint16) * 257) for t, n in zip(p010, nv12))
    for name, got in [("yuv420p10le", ten), ("p010le", p010)]:
        want = ffmpeg(EIGHT, name)
        if want is not None:
            assert b"".join(np.ascontiguousarray(g).tobytes() for g in got) == want, name


def test_gray_is_the_luma_plane_in_full_range():
    # (file, name, dtype, top code; the source's limited range: black, white - black)
    for path, name, dtype, top, (low, span) in [
        (EIGHT, "gray", np.uint8, 255, (16.0, 219.0)),
        (TEN, "gray10le", np.uint16, 1023, (64.0, 876.0)),
        (TEN, "gray", np.uint8, 255, (64.0, 876.0)),
    ]:
        got = frames(path, name)
        assert got[0].shape == (H, W) and got[0].dtype == dtype
        luma = frames(path, "yuv420p-auto")[0][:H].astype(np.float64)
        want = np.clip(np.floor((luma - low) * top / span + 0.5), 0, top).astype(dtype)
        assert np.abs(got[0].astype(np.int32) - want.astype(np.int32)).max() <= 1, name
    want = ffmpeg(EIGHT, "gray")
    if want is not None:
        assert b"".join(g.tobytes() for g in frames(EIGHT, "gray")) == want


def test_gbrp_is_planar_rgb_in_ffmpegs_plane_order():
    """``gbrp`` is ffmpeg's planar RGB: planes G, B, R, as (3, H, W) uint8, whatever the
    dimension order; the same pixels as ``rgb24`` in NCHW (planes R, G, B), reordered."""
    gbrp = frames(EIGHT, "gbrp", dimension_order="NHWC")
    rgb = frames(EIGHT, "rgb24", dimension_order="NCHW")
    assert len(gbrp) == len(rgb) == 24
    assert gbrp[0].shape == (3, H, W) and gbrp[0].dtype == np.uint8
    for g, r in zip(gbrp, rgb):
        assert np.array_equal(g, r[[1, 2, 0]])
    batch = np.from_dlpack(video_hw.VideoDecoder(EIGHT, pixel_format="gbrp", engine="rav1d").get_frames_at([3, 1]).data)
    assert batch.shape == (2, 3, H, W)
    assert np.array_equal(batch[0], gbrp[3]) and np.array_equal(batch[1], gbrp[1])
    want = ffmpeg(EIGHT, "gbrp")
    if want is not None:
        # Another conversion than ffmpeg's swscale, but each plane in its place: a swapped
        # plane would be far below this.
        ours = np.concatenate([g.ravel() for g in gbrp]).astype(np.float64)
        theirs = np.frombuffer(want, np.uint8).astype(np.float64)
        mse = np.mean((ours - theirs) ** 2)
        assert 10 * np.log10(255 * 255 / mse) >= 40
    with pytest.raises(ValueError, match="host output"):
        video_hw.VideoDecoder(EIGHT, pixel_format="gbrp", device="cuda")


def test_batches_and_random_access_take_the_names_too():
    dec = video_hw.VideoDecoder(TEN, pixel_format="yuv420p", engine="rav1d")
    batch = np.from_dlpack(dec.get_frames_at([5, 0]).data)
    assert batch.shape == (2, H * 3 // 2, W) and batch.dtype == np.uint8
    one = np.from_dlpack(dec.get_frame_at(5).data)
    assert np.array_equal(batch[0], one)
    gray = np.from_dlpack(video_hw.VideoDecoder(EIGHT, pixel_format="gray", engine="rav1d").get_frames_at([1, 2]).data)
    assert gray.shape == (2, H, W)


def test_names_are_refused_with_the_list():
    with pytest.raises(ValueError, match="yuv420p10le"):
        video_hw.VideoDecoder(EIGHT, pixel_format="yuv444p")
    with pytest.raises(ValueError, match="integers"):
        video_hw.VideoDecoder(EIGHT, pixel_format="yuv420p", dtype="float32")
    # Refused before anything opens, so this needs no GPU.
    with pytest.raises(ValueError, match="host output"):
        video_hw.VideoDecoder(EIGHT, pixel_format="gray", device="cuda")
