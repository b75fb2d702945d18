"""``color_matrix``: untagged streams convert with BT.601 by default, as FFmpeg's swscale
(and so torchcodec, PyAV and ``ffmpeg -pix_fmt rgb24``) does; ``"auto-hd"`` is the players'
size rule; a named matrix overrides a stream's tag too (docs/transforms.md).

The fixtures are 1280x720 H.264 (testdata/colour/): real footage and a saturated pattern
without a colour description, and the pattern tagged BT.709. Where the ffmpeg tool is
installed (CI), frames are compared with its rgb24 output, and with torchcodec where that is
installed."""

import math
import pathlib
import shutil
import subprocess

import numpy as np
import pytest

import video_hw
from _engines import cpu_engine

COLOUR = pathlib.Path(__file__).resolve().parents[2] / "testdata" / "colour"
UNTAGGED = [COLOUR / "yuv420p-untagged-cars-1280x720.mp4", COLOUR / "yuv420p-untagged-testsrc2-1280x720.mp4"]
TAGGED = COLOUR / "yuv420p-bt709-testsrc2-1280x720.mp4"



def rgb(path, **kw):
    kw.setdefault("engine", cpu_engine())
    dec = video_hw.VideoDecoder(str(path), dimension_order="NHWC", **kw)
    return np.stack([np.from_dlpack(f.data) for f in dec])


def largest_difference(a, b):
    return int(np.abs(a.astype(np.int32) - b.astype(np.int32)).max())


def lowest_psnr(a, b):
    worst = math.inf
    for x, y in zip(a, b):
        mse = float(np.mean((x.astype(np.float64) - y.astype(np.float64)) ** 2))
        worst = min(worst, 99.0 if mse == 0 else 10 * math.log10(255.0**2 / mse))
    return worst


def ffmpeg_rgb24(path, shape):
    """``ffmpeg -i path -pix_fmt rgb24`` as (N, H, W, 3); None without the tool."""
    if shutil.which("ffmpeg") is None:
        return None
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, np.uint8).reshape(shape)


@pytest.mark.parametrize("path", UNTAGGED, ids=lambda p: p.name)
def test_untagged_hd_is_bt601_and_each_rule_changes_it(path):
    default = rgb(path)
    assert default.shape == (3, 720, 1280, 3)
    assert largest_difference(default, rgb(path, color_matrix="bt601")) <= 1
    bt709 = rgb(path, color_matrix="bt709")
    assert largest_difference(default, bt709) > 10
    # auto-hd: the players' rule, BT.709 at 720 lines for an untagged stream.
    assert largest_difference(rgb(path, color_matrix="auto-hd"), bt709) <= 1
    reference = ffmpeg_rgb24(path, default.shape)
    if reference is not None:
        assert lowest_psnr(default, reference) >= 45.0
        assert lowest_psnr(bt709, reference) < 40.0


def test_tagged_stream_keeps_its_tag_unless_a_matrix_is_named():
    default = rgb(TAGGED)
    assert largest_difference(default, rgb(TAGGED, color_matrix="bt709")) <= 1
    assert largest_difference(default, rgb(TAGGED, color_matrix="auto-hd")) <= 1
    assert largest_difference(default, rgb(TAGGED, color_matrix="bt601")) > 10
    reference = ffmpeg_rgb24(TAGGED, default.shape)
    if reference is not None:
        assert lowest_psnr(default, reference) >= 45.0


def test_color_matrix_reaches_every_rgb_layout_and_float():
    path = UNTAGGED[1]
    bt709 = rgb(path, color_matrix="bt709")
    bgr = rgb(path, color_matrix="bt709", pixel_format="bgr24")[..., ::-1]
    assert largest_difference(bt709, bgr) <= 1
    floats = rgb(path, color_matrix="bt709", dtype="float32")
    assert largest_difference(bt709, np.round(floats * 255.0).astype(np.uint8)) <= 1
    resized = rgb(path, color_matrix="bt709", resize=(1280, 720))
    assert largest_difference(bt709, resized) <= 1


def test_bad_color_matrix_names_the_option():
    with pytest.raises(video_hw.InvalidInputError) as e:
        video_hw.VideoDecoder(str(UNTAGGED[0]), color_matrix="bt2021")
    assert e.value.option == "color_matrix"
    assert "auto-hd" in str(e.value)


def test_torchcodec_compat_and_torchcodec_agree_on_untagged_hd():
    pytest.importorskip("torch")
    from video_hw.torchcodec.decoders import VideoDecoder as Compat

    path = UNTAGGED[0]
    default = rgb(path)
    ours = Compat(str(path), dimension_order="NHWC", engine=cpu_engine())[:].numpy()
    assert largest_difference(ours, default) == 0
    try:
        from torchcodec.decoders import VideoDecoder as Theirs
    except ImportError:
        return
    theirs = Theirs(str(path), dimension_order="NHWC")[:]
    assert lowest_psnr(default, theirs.numpy()) >= 45.0
