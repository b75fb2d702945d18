"""video_hw.samplers: shapes, pts, policies, validation, reproducible draws, and the
regular samplers' frames against an independent reference and (where torch is installed)
torch's own linspace and arange numerics, which torchcodec computes its clips with."""

import math
import pathlib
import random
import sys

import numpy as np
import pytest

import video_hw
from video_hw import _torch_numerics, samplers

MEDIA = pathlib.Path(__file__).resolve().parents[2] / "testdata" / "media"


@pytest.fixture(scope="module")
def dec():
    return video_hw.VideoDecoder(MEDIA / "h264-vfr.mkv")


def pixels(a):
    return np.asarray(np.from_dlpack(a))


def regular_starts_reference(start, end, n):
    """Equally spaced integer starts as torch.linspace(..., dtype=int) gives them, by
    exact rational arithmetic (the first half from the start, the rest from the end)."""
    from fractions import Fraction

    if n == 1:
        return [start]
    out = []
    for i in range(n):
        exact = start + Fraction(end - start, n - 1) * i
        out.append(math.floor(exact))
    return out


def test_shapes_pts_and_frames_equal_get_frames_at(dec):
    clips = samplers.clips_at_regular_indices(dec, num_clips=4, num_frames_per_clip=3, num_indices_between_frames=2)
    assert clips.data.shape == (4, 3, 3, dec.metadata.height, dec.metadata.width)
    assert len(clips) == 4 and len(clips.pts_seconds) == 4 and all(len(c) == 3 for c in clips.pts_seconds)
    flat = [i for c in clips.indices for i in c]
    ref = dec.get_frames_at(flat)
    assert np.array_equal(pixels(clips.data).reshape(pixels(ref.data).shape), pixels(ref.data))
    assert [p for c in clips.pts_seconds for p in c] == list(ref.pts_seconds)
    for c in clips.indices:
        assert [b - a for a, b in zip(c, c[1:])] == [2, 2]


def test_regular_indices_match_the_reference(dec):
    n = len(dec)
    for num_clips in (1, 2, 3, 7, 50, 150):
        clips = samplers._index_clips(
            "regular", n, num_clips=num_clips, num_frames_per_clip=4, num_indices_between_frames=1,
            sampling_range_start=0, sampling_range_end=None, policy="repeat_last",
        )
        end = n - 4 + 1
        assert [c[0] for c in clips] == regular_starts_reference(0, end - 1, num_clips)


def test_linspace_int_against_torch():
    torch = pytest.importorskip("torch")
    for a in range(0, 30, 3):
        for b in range(a, a + 400, 37):
            for steps in list(range(1, 40)) + [97, 300, 1001]:
                want = torch.linspace(a, b, steps=steps, dtype=torch.int).tolist()
                assert _torch_numerics.linspace_int(a, b, steps) == want, (a, b, steps)


def test_arange_f64_against_torch():
    torch = pytest.importorskip("torch")
    rng = random.Random(3)
    for _ in range(600):
        a = rng.choice([0.0, rng.uniform(-1, 5)])
        e = a + rng.uniform(0, 120)
        step = rng.choice([rng.uniform(0.01, 3), 1 / rng.choice([23.976, 24, 25, 29.97, 30, 60]), 0.1, 1 / 3])
        want = torch.arange(a, e, step, dtype=torch.float64).tolist()
        assert _torch_numerics.arange_f64(a, e, step) == want, (a, e, step)


@pytest.mark.parametrize("policy,want", [("repeat_last", [95, 97, 99, 99, 99]), ("wrap", [95, 97, 99, 95, 97])])
def test_policies_fill_clips_past_the_end(policy, want):
    assert samplers.clip_indices([95], 100, 5, 2, policy) == [want]


def test_error_policy_raises(dec):
    with pytest.raises(ValueError, match="'error' policy"):
        samplers.clips_at_regular_indices(
            dec, num_clips=2, num_frames_per_clip=5, sampling_range_end=len(dec), policy="error"
        )
    with pytest.raises(ValueError, match="'error' policy"):
        samplers.clips_at_regular_timestamps(
            dec, seconds_between_clip_starts=1.0, num_frames_per_clip=20,
            sampling_range_end=dec.metadata.end_stream_seconds, policy="error",
        )


def test_policies_on_a_decoder(dec):
    n = len(dec)
    for policy in ("repeat_last", "wrap"):
        clips = samplers.clips_at_regular_indices(
            dec, num_clips=2, num_frames_per_clip=4, num_indices_between_frames=3,
            sampling_range_start=-2, sampling_range_end=n, policy=policy,
        )
        assert clips.data.shape[:2] == (2, 4)
        assert all(0 <= i < n for c in clips.indices for i in c)


def test_validation_errors(dec):
    bad = [
        (samplers.clips_at_random_indices, dict(num_clips=0), "num_clips"),
        (samplers.clips_at_random_indices, dict(num_frames_per_clip=0), "num_frames_per_clip"),
        (samplers.clips_at_random_indices, dict(num_indices_between_frames=0), "num_indices_between_frames"),
        (samplers.clips_at_random_indices, dict(policy="nope"), "Invalid policy"),
        (samplers.clips_at_random_indices, dict(sampling_range_start=1000), "sampling_range_start"),
        (samplers.clips_at_random_indices, dict(sampling_range_start=5, sampling_range_end=5), "sampling_range_start"),
        (samplers.clips_at_random_indices, dict(sampling_range_start=50, num_frames_per_clip=60), "sampling_range_end should be"),
        (samplers.clips_at_random_timestamps, dict(num_clips=0), "num_clips"),
        (samplers.clips_at_random_timestamps, dict(seconds_between_frames=0), "must be > 0"),
        (samplers.clips_at_random_timestamps, dict(sampling_range_start=-1), "must be at least"),
        (samplers.clips_at_random_timestamps, dict(sampling_range_start=1000), "must be smaller than"),
        (samplers.clips_at_random_timestamps, dict(sampling_range_end=-1), "must be at least"),
        (samplers.clips_at_regular_timestamps, dict(seconds_between_clip_starts=0), "seconds_between_clip_starts"),
    ]
    for fn, kw, match in bad:
        with pytest.raises(ValueError, match=match):
            fn(dec, **kw)


def test_random_draws_are_reproducible(dec):
    for fn in (samplers.clips_at_random_indices, samplers.clips_at_random_timestamps):
        a = fn(dec, num_clips=5, num_frames_per_clip=2, generator=11).indices
        b = fn(dec, num_clips=5, num_frames_per_clip=2, generator=random.Random(11)).indices
        c = fn(dec, num_clips=5, num_frames_per_clip=2, generator=12).indices
        assert a == b and a != c
    with pytest.raises(TypeError, match="generator"):
        samplers.clips_at_random_indices(dec, generator="seed")


def test_random_draws_with_torch_generators(dec):
    torch = pytest.importorskip("torch")
    g = lambda: torch.Generator().manual_seed(5)  # noqa: E731
    a = samplers.clips_at_random_indices(dec, num_clips=6, generator=g()).indices
    assert a == samplers.clips_at_random_indices(dec, num_clips=6, generator=g()).indices
    # None: torch's global generator, as torchcodec draws.
    torch.manual_seed(9)
    first = samplers.clips_at_random_timestamps(dec, num_clips=4).indices
    torch.manual_seed(9)
    assert samplers.clips_at_random_timestamps(dec, num_clips=4).indices == first
    end = len(dec)
    torch.manual_seed(9)
    starts = torch.randint(0, end, (6,)).tolist()
    torch.manual_seed(9)
    assert [c[0] for c in samplers.clips_at_random_indices(dec, num_clips=6).indices] == starts


def test_regular_timestamps_frames_are_those_played_at_the_times(dec):
    m = dec.metadata
    clips = samplers.clips_at_regular_timestamps(dec, seconds_between_clip_starts=0.7, num_frames_per_clip=3)
    pts, _ = dec.frame_times()
    starts = [s for s in _torch_numerics.arange_f64(m.begin_stream_seconds, m.end_stream_seconds - 2 / m.average_fps, 0.7)]
    assert len(clips) == len(starts)
    for clip, s in zip(clips.indices, starts):
        for k, i in enumerate(clip):
            t = s + k * (1 / m.average_fps)
            assert pts[i] <= t and (i + 1 == len(pts) or pts[i + 1] > t)


def test_samplers_do_not_import_torch():
    import subprocess

    code = "import sys, video_hw.samplers; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
