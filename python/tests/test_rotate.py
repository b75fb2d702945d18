"""Rotation: frames come turned as the container's display matrix asks (as ffmpeg and
torchcodec turn them), ``metadata.width``/``height`` are the turned frames' size, a crop and
a resize are of the turned picture, and ``autorotate=False`` keeps the coded orientation.

The fixtures are testdata/media/h264-rotate90.mp4, 320x240 H.264 whose MP4 ``tkhd`` turns it
90 degrees counter-clockwise, and h264-rotate90.mkv, the same turn as Matroska carries it (a
flat ``Projection`` with ``ProjectionPoseRoll`` 90). Compared with torchcodec where it is
installed."""

import math
import pathlib

import numpy as np
import pytest

import video_hw
from _engines import cpu_engine

MEDIA = pathlib.Path(__file__).resolve().parents[2] / "testdata" / "media"


@pytest.fixture(params=["h264-rotate90.mp4", "h264-rotate90.mkv"])
def path(request):
    return str(MEDIA / request.param)


def frames(path, **kw):
    kw.setdefault("engine", cpu_engine())
    dec = video_hw.VideoDecoder(path, dimension_order="NHWC", **kw)
    return dec, np.stack([np.from_dlpack(f.data) for f in dec])


def test_frames_and_metadata_are_turned(path):
    dec, turned = frames(path)
    assert dec.metadata.rotation == 90
    assert (dec.metadata.width, dec.metadata.height) == (240, 320)
    assert turned.shape == (100, 320, 240, 3)
    coded_dec, coded = frames(path, autorotate=False)
    assert (coded_dec.metadata.width, coded_dec.metadata.height) == (320, 240)
    assert coded.shape == (100, 240, 320, 3)
    # Turned 90 degrees counter-clockwise: numpy's rot90 of each coded frame.
    assert np.array_equal(turned, np.rot90(coded, 1, axes=(1, 2)))
    # Single frames, batches and NCHW agree.
    assert np.array_equal(np.from_dlpack(dec[7]), turned[7])
    nchw = video_hw.VideoDecoder(path, engine=cpu_engine())
    assert np.array_equal(np.from_dlpack(nchw[3]).transpose(1, 2, 0), turned[3])


def test_yuv_is_turned_plane_by_plane(path):
    _, coded = frames(path, autorotate=False, pixel_format="yuv420p")
    dec = video_hw.VideoDecoder(path, pixel_format="yuv420p", engine=cpu_engine())
    got = np.from_dlpack(dec[0])
    assert got.shape == (320 * 3 // 2, 240)
    y = coded[0][:240]
    assert np.array_equal(got[:320], np.rot90(y, 1))


def test_crop_and_resize_are_of_the_turned_picture(path):
    _, turned = frames(path)
    _, cropped = frames(path, crop=(10, 20, 200, 100))
    assert cropped.shape == (100, 100, 200, 3)
    assert np.abs(cropped.astype(int) - turned[:, 20:120, 10:210].astype(int)).max() <= 1
    _, resized = frames(path, resize=(120, 160))
    assert resized.shape == (100, 160, 120, 3)


def test_same_frames_as_torchcodec(path):
    pytest.importorskip("torch")
    try:
        from torchcodec.decoders import VideoDecoder
    except ImportError:
        pytest.skip("torchcodec is not installed")
    theirs = VideoDecoder(path, dimension_order="NHWC")
    assert (theirs.metadata.width, theirs.metadata.height) == (240, 320)
    assert theirs.metadata.rotation == 90
    _, ours = frames(path)
    t = theirs[:].numpy()
    assert t.shape == ours.shape
    mse = float(np.mean((t.astype(np.float64) - ours.astype(np.float64)) ** 2))
    assert 10 * math.log10(255.0**2 / max(mse, 1e-12)) >= 45.0
    assert np.abs(t.astype(int) - ours.astype(int)).max() <= 3
