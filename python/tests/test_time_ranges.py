"""Time ranges and slices with torchcodec's meaning: get_frames_played_in_range (with and
without fps), get_all_frames, decoder[a:b:c], torch tensors of bytes as sources, and the
errors torchcodec raises for ranges outside the stream."""

import pathlib
import pickle

import numpy as np
import pytest

import video_hw
from video_hw import _ranges

MEDIA = pathlib.Path(__file__).resolve().parents[2] / "testdata" / "media"


def decoder(name="h264-vfr.mkv", **kw):
    return video_hw.VideoDecoder(MEDIA / name, **kw)


def pixels(a):
    return np.asarray(np.from_dlpack(a))


def played_at_reference(pts, t):
    """The frame shown at t, by a linear scan: the last frame whose pts is at or before t
    (the first frame before it starts)."""
    shown = 0
    for i, p in enumerate(pts):
        if p <= t:
            shown = i
    return shown


def test_frame_times_are_the_index_in_presentation_order():
    d = decoder()
    pts, durations = d.frame_times()
    assert len(pts) == len(durations) == len(d)
    assert pts == sorted(pts)
    assert pts[0] == d.metadata.begin_stream_seconds
    assert pts[-1] + durations[-1] == pytest.approx(d.metadata.end_stream_seconds)
    batch = d.get_frames_at([0, len(d) - 1])
    assert list(batch.pts_seconds) == [pts[0], pts[-1]]


@pytest.mark.parametrize("name", ["h264-vfr.mkv", "h264-aac.mp4", "h264-aac.ts"])
def test_range_holds_the_frames_played_in_it(name):
    d = decoder(name)
    pts, _ = d.frame_times()
    m = d.metadata
    span = m.end_stream_seconds - m.begin_stream_seconds
    for a, b in [(0.0, 0.3), (0.13, 0.77), (0.5, 1.0), (0.0, 1.0)]:
        start, stop = m.begin_stream_seconds + a * span, m.begin_stream_seconds + b * span
        got = d.get_frames_played_in_range(start, stop)
        first = played_at_reference(pts, start)
        want = [i for i in range(len(pts)) if i >= first and pts[i] < stop]
        assert list(got.indices) == want
        assert list(got.pts_seconds) == [pts[i] for i in want]
        assert got.data.shape[0] == len(want)


def test_empty_range_has_the_frame_shape():
    d = decoder(dimension_order="NHWC")
    m = d.metadata
    got = d.get_frames_played_in_range(0.2, 0.2)
    assert len(got) == 0 and got.data.shape == (0, m.height, m.width, 3)
    got = d.get_frames_played_in_range(0.2, 0.2, fps=10)
    assert got.data.shape == (0, m.height, m.width, 3)


def test_ranges_outside_the_stream_are_value_errors():
    d = decoder()
    m = d.metadata
    begin, end = m.begin_stream_seconds, m.end_stream_seconds
    with pytest.raises(ValueError, match="less than or equal to stop seconds"):
        d.get_frames_played_in_range(0.5, 0.4)
    with pytest.raises(ValueError, match="Invalid start seconds"):
        d.get_frames_played_in_range(begin - 1, 0.4)
    with pytest.raises(ValueError, match="Invalid start seconds"):
        d.get_frames_played_in_range(end, end)
    with pytest.raises(ValueError, match="Invalid stop seconds"):
        d.get_frames_played_in_range(begin, end + 1)
    with pytest.raises(ValueError, match="fps must be positive"):
        d.get_frames_played_in_range(begin, end, fps=0)


@pytest.mark.parametrize("fps", [3.0, 7.3, 25.0, 60.0, 100.0])
def test_fps_resamples_by_repeating_or_dropping(fps):
    d = decoder()
    pts, _ = d.frame_times()
    start, stop = 0.1, 1.7
    got = d.get_frames_played_in_range(start, stop, fps=fps)
    n = int(_ranges.round_half_away((stop - start) * fps))
    times = [start + i * (1.0 / fps) for i in range(n)]
    assert len(got) == n
    assert list(got.pts_seconds) == times
    assert list(got.duration_seconds) == [1.0 / fps] * n
    assert list(got.indices) == [played_at_reference(pts, t) for t in times]
    # Repeated frames are the same pixels as the frame decoded on its own.
    for k in (0, n // 2, n - 1):
        assert np.array_equal(pixels(got.data)[k], pixels(d.get_frame_at(got.indices[k]).data))


def test_all_frames_equal_iterating():
    d = decoder()
    every = d.get_all_frames()
    frames = list(d)
    assert len(every) == len(frames) == len(d)
    assert list(every.pts_seconds) == [f.pts_seconds for f in frames]
    stacked = pixels(every.data)
    for i in (0, 7, len(d) - 1):
        assert np.array_equal(stacked[i], pixels(frames[i].data))
    slow = d.get_all_frames(fps=d.metadata.average_fps / 3)
    assert len(slow) == int(_ranges.round_half_away(d.metadata.duration_seconds * d.metadata.average_fps / 3))


def test_round_half_away_is_c_round():
    assert [_ranges.round_half_away(x) for x in (0.5, 1.5, 2.5, 2.4999, -0.5, 0.49999999999999994)] == [
        1, 2, 3, 2, -1, 0
    ]


def test_slices_and_negative_indices():
    d = decoder()
    n = len(d)
    every = pixels(d.get_frames_at(list(range(n))).data)
    assert np.array_equal(pixels(d[-1]), every[-1])
    assert np.array_equal(pixels(d[-3:]), every[-3:])
    assert np.array_equal(pixels(d[2:11:3]), every[2:11:3])
    assert np.array_equal(pixels(d[::-7]), every[::-7])
    assert pixels(d[5:2]).shape == (0, *every.shape[1:])
    with pytest.raises(IndexError):
        d[n]
    with pytest.raises(IndexError):
        d[-n - 1]
    with pytest.raises(TypeError, match="Unsupported key type"):
        d[1.5]
    assert np.array_equal(pixels(d[np.int64(3)]), every[3])


def test_torch_tensor_source_decodes_and_pickles():
    torch = pytest.importorskip("torch")
    raw = (MEDIA / "h264-aac.mp4").read_bytes()
    d = video_hw.VideoDecoder(torch.frombuffer(bytearray(raw), dtype=torch.uint8))
    ref = video_hw.VideoDecoder(raw)
    assert len(d) == len(ref)
    assert np.array_equal(pixels(d[3]), pixels(ref[3]))
    again = pickle.loads(pickle.dumps(d))
    assert np.array_equal(pixels(again[3]), pixels(ref[3]))
    with pytest.raises(ValueError, match="1-D uint8"):
        video_hw.VideoDecoder(torch.zeros(4, dtype=torch.float32))
