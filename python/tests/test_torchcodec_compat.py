"""video_hw.torchcodec: torchcodec's import paths, Frame/FrameBatch of torch tensors over
video_hw's frames (no copy), and torchcodec's errors (skipped without torch)."""

import math
import pathlib

import pytest

torch = pytest.importorskip("torch")

from video_hw.torchcodec import Frame, FrameBatch  # noqa: E402
from video_hw.torchcodec.decoders import VideoDecoder  # noqa: E402
from video_hw.torchcodec.samplers import clips_at_regular_indices, clips_at_random_timestamps  # noqa: E402

MEDIA = pathlib.Path(__file__).resolve().parents[2] / "testdata" / "media"


def test_frames_are_tensors_with_torchcodec_shapes():
    d = VideoDecoder(str(MEDIA / "h264-vfr.mkv"))
    m = d.metadata
    f = d.get_frame_at(-1)
    assert isinstance(f, Frame) and f.data.shape == (3, m.height, m.width) and f.data.dtype == torch.uint8
    b = d.get_frames_at(torch.tensor([0, 5]))
    assert isinstance(b, FrameBatch) and b.pts_seconds.dtype == torch.float64 and b.data.shape[0] == 2
    assert torch.equal(d[5], b.data[1])
    assert d[2:8:2].shape == (3, 3, m.height, m.width)
    r = d.get_frames_played_in_range(m.begin_stream_seconds, m.end_stream_seconds)
    assert len(r) == len(d)
    assert len(d.get_all_frames(fps=5)) == math.floor(m.duration_seconds * 5 + 0.5)  # C round: halves up
    data, pts, duration = d.get_frame_played_at(1.0)
    assert pts <= 1.0


def test_errors_as_torchcodec():
    d = VideoDecoder(str(MEDIA / "h264-vfr.mkv"))
    end = d.metadata.end_stream_seconds
    with pytest.raises(IndexError):
        d.get_frame_at(len(d))
    with pytest.raises(IndexError):
        d.get_frame_played_at(end)
    with pytest.raises(RuntimeError):
        d.get_frames_played_at([end])
    with pytest.raises(RuntimeError, match="Step must be greater than 0"):
        d[::-1]
    with pytest.raises(RuntimeError, match="fps must be positive"):
        d.get_frames_played_in_range(0, 1, fps=0)
    with pytest.raises(ValueError, match="Invalid stop seconds"):
        d.get_frames_played_in_range(0, end + 1)
    with pytest.raises(ValueError, match="Unsupported transform"):
        VideoDecoder(str(MEDIA / "h264-vfr.mkv"), transforms=[object()])


def test_samplers_return_5d_batches():
    d = VideoDecoder(str(MEDIA / "h264-vfr.mkv"), dimension_order="NHWC")
    c = clips_at_regular_indices(d, num_clips=3, num_frames_per_clip=4)
    assert c.data.shape == (3, 4, d.metadata.height, d.metadata.width, 3)
    assert c.pts_seconds.shape == c.duration_seconds.shape == (3, 4)
    assert [len(x) for x in c] == [4, 4, 4]
    torch.manual_seed(0)
    a = clips_at_random_timestamps(d, num_clips=2, num_frames_per_clip=2)
    torch.manual_seed(0)
    assert torch.equal(clips_at_random_timestamps(d, num_clips=2, num_frames_per_clip=2).pts_seconds, a.pts_seconds)


def test_nchw_frames_are_channels_last_views_as_torchcodec_gives_them():
    path = str(MEDIA / "h264-vfr.mkv")
    nchw, nhwc = VideoDecoder(path), VideoDecoder(path, dimension_order="NHWC")
    m = nchw.metadata
    f = nchw.get_frame_at(3).data
    assert f.shape == (3, m.height, m.width) and f[None].is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(f, nhwc.get_frame_at(3).data.permute(2, 0, 1))
    b = nchw.get_frames_at([1, 7]).data
    assert b.is_contiguous(memory_format=torch.channels_last) and torch.equal(b, nhwc.get_frames_at([1, 7]).data.permute(0, 3, 1, 2))
    assert torch.equal(nchw[2:5], nhwc[2:5].permute(0, 3, 1, 2))
    c = clips_at_regular_indices(nchw, num_clips=2, num_frames_per_clip=3)
    assert c.data.shape == (2, 3, 3, m.height, m.width)
    assert torch.equal(c.data, clips_at_regular_indices(nhwc, num_clips=2, num_frames_per_clip=3).data.permute(0, 1, 4, 2, 3))


def test_sources_and_index_errors_as_torchcodec():
    import io

    path = MEDIA / "h264-vfr.mkv"

    class Reader:  # read(size) only, as torchcodec's file-like protocol has it
        def __init__(self, f):
            self.f = f

        def read(self, size):
            return self.f.read(size)

        def seek(self, offset, whence):
            return self.f.seek(offset, whence)

    with open(path, "rb") as raw:
        d = VideoDecoder(Reader(raw))
    assert len(d) == len(VideoDecoder(str(path)))
    assert torch.equal(d[4], VideoDecoder(io.BytesIO(path.read_bytes()))[4])
    with pytest.raises(TypeError, match="Unknown source type"):
        VideoDecoder(123)
    with open(path, "r") as text, pytest.raises(TypeError, match="binary reading"):
        VideoDecoder(text)
    with pytest.raises(ValueError, match="No valid stream found"):
        VideoDecoder(str(path), stream_index=40)
    n = len(d)
    with pytest.raises(IndexError, match=f"Invalid frame index={n}.*must be less than {n}"):
        d[n]
    with pytest.raises(IndexError, match="negative indices must have an absolute value less than the number of frames"):
        d.get_frames_at([-n - 1])
    with pytest.raises(RuntimeError, match="Expected a value of type"):
        d.get_frames_at([0.5])
    assert len(d.get_frames_at(torch.tensor([0.0, 2.0]))) == 2
    end = d.metadata.end_stream_seconds
    with pytest.raises(RuntimeError, match="must be greater than or equal to"):
        d.get_frames_played_at([-1])
    with pytest.raises(RuntimeError, match="must be less than"):
        d.get_frames_played_at([end])
