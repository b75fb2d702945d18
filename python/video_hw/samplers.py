"""Clip samplers with torchcodec's parameters and meaning: clips of frames at random or
regular indices, or at random or regular times.

    >>> from video_hw import VideoDecoder, samplers
    >>> dec = VideoDecoder("clip.mp4")
    >>> clips = samplers.clips_at_regular_indices(dec, num_clips=8, num_frames_per_clip=16)
    >>> clips.data.shape                 # (8, 16, 3, H, W), one array, no copy
    >>> clips.pts_seconds[2][0]          # nested lists: (clips, frames)

Every clip's frames are asked for in one ``get_frames_at`` call, so each GOP the clips
need is decoded once, on the decoder's sessions. The result is a ``FrameBatch`` whose data
is the batch of all frames seen as ``(clips, frames, …)`` (the same memory, on the CPU or
the GPU) and whose ``pts_seconds``, ``duration_seconds`` and ``indices`` are nested lists.

With ``audio=True`` (or a dict of ``AudioDecoder``'s options: ``stream_index``,
``sample_rate``, ``num_channels``, ``engine``), the batch's ``audio`` is a list with one
``AudioSamples`` per clip: the samples played from the clip's earliest frame's time to the
end of its latest frame (sample-accurate, the same samples ``AudioDecoder`` gives for that
range), cut to the track; None when the file has no audio track. The audio decoder is
opened once per video decoder and options, and kept with it.

The regular samplers pick the frames torchcodec 0.17 picks: their clip starts are computed
with torch's own ``linspace`` and ``arange`` arithmetic (``video_hw._torch_numerics``),
without torch. The random ones draw from ``generator``: a ``torch.Generator``, an int seed
or a ``random.Random``; by default torch's global generator when torch is imported (so
``torch.manual_seed(k)`` gives torchcodec's clips), else Python's ``random``.
"""

from __future__ import annotations

import random
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, TypeVar

from . import _audio, _torch_numerics
from ._video_hw import FrameBatch

__all__ = [
    "clips_at_random_indices",
    "clips_at_random_timestamps",
    "clips_at_regular_indices",
    "clips_at_regular_timestamps",
]

T = TypeVar("T", int, float)


def _repeat_last(values: List[T], length: int) -> List[T]:
    return values + [values[-1]] * (length - len(values))


def _wrap(values: List[T], length: int) -> List[T]:
    return (values * (length // len(values) + 1))[:length]


def _error(values: List[T], length: int) -> List[T]:
    raise ValueError(
        "You set the 'error' policy, and the sampler tried to decode a frame that is beyond the "
        "number of frames in the video. Try to leave sampling_range_end to its default value?"
    )


# What fills a clip that runs past the end of the video (torchcodec's three policies).
POLICIES: Dict[str, Callable[[List[Any], int], List[Any]]] = {
    "repeat_last": _repeat_last,
    "wrap": _wrap,
    "error": _error,
}


def _check_common(num_frames: int, num_frames_per_clip: int, policy: str) -> None:
    if num_frames < 1:
        raise ValueError(f"Decoder must have at least one frame, found {num_frames} frames.")
    if num_frames_per_clip <= 0:
        raise ValueError(f"num_frames_per_clip ({num_frames_per_clip}) must be strictly positive")
    if policy not in POLICIES:
        raise ValueError(f"Invalid policy ({policy}). Supported values are {POLICIES.keys()}.")


# ---------------------------------------------------------------------------------------
# Random draws


def _torch_generator(generator: Any) -> bool:
    return type(generator).__module__.startswith("torch")


def _randints(low: int, high: int, n: int, generator: Any) -> List[int]:
    """``n`` integers in ``[low, high)``: torch's ``randint`` for a torch generator or, with
    None, when torch is imported (torchcodec's draw); else ``random``."""
    torch = sys.modules.get("torch")
    if _torch_generator(generator) or (generator is None and torch is not None):
        import torch as t

        return t.randint(low, high, (n,), generator=generator).tolist()
    rng = _python_rng(generator)
    return [rng.randrange(low, high) for _ in range(n)]


def _uniforms(n: int, generator: Any) -> List[float]:
    """``n`` floats in ``[0, 1)``, drawn as ``_randints`` says (torch's float64 ``rand``)."""
    torch = sys.modules.get("torch")
    if _torch_generator(generator) or (generator is None and torch is not None):
        import torch as t

        return t.rand(n, dtype=t.float64, generator=generator).tolist()
    rng = _python_rng(generator)
    return [rng.random() for _ in range(n)]


def _python_rng(generator: Any) -> Any:
    if generator is None:
        return random
    if isinstance(generator, random.Random):
        return generator
    if isinstance(generator, int) and not isinstance(generator, bool):
        return random.Random(generator)
    raise TypeError(
        f"generator: a torch.Generator, an int seed or a random.Random (or None), not {type(generator).__name__}"
    )


# ---------------------------------------------------------------------------------------
# Index-based clips


def clip_span(num_indices_between_frames: int, num_frames_per_clip: int) -> int:
    """Indices from a clip's first frame to its last, both counted."""
    return num_indices_between_frames * (num_frames_per_clip - 1) + 1


def index_sampling_range(
    num_frames: int,
    num_frames_per_clip: int,
    num_indices_between_frames: int,
    sampling_range_start: int,
    sampling_range_end: Optional[int],
) -> "tuple[int, int]":
    """Where clips may start, ``[start, end)``, checked as torchcodec checks it (negative
    values count from the end; the default end keeps every clip inside the video)."""
    if sampling_range_start < 0:
        sampling_range_start = num_frames + sampling_range_start
    if sampling_range_start >= num_frames:
        raise ValueError(
            f"sampling_range_start ({sampling_range_start}) must be smaller than the number of frames ({num_frames})."
        )
    span = clip_span(num_indices_between_frames, num_frames_per_clip)
    if sampling_range_end is None:
        sampling_range_end = max(num_frames - span + 1, 1)
        if sampling_range_start >= sampling_range_end:
            raise ValueError(
                f"We determined that sampling_range_end should be {sampling_range_end}, but it is smaller than "
                f"or equal to sampling_range_start ({sampling_range_start})."
            )
    else:
        if sampling_range_end < 0:
            sampling_range_end = num_frames + sampling_range_end
        sampling_range_end = min(sampling_range_end, num_frames)
        if sampling_range_start >= sampling_range_end:
            raise ValueError(
                f"sampling_range_start ({sampling_range_start}) must be smaller than "
                f"sampling_range_end ({sampling_range_end})."
            )
    return sampling_range_start, sampling_range_end


def clip_indices(
    starts: Sequence[int], num_frames: int, num_frames_per_clip: int, num_indices_between_frames: int, policy: str
) -> List[List[int]]:
    """Each clip's frame indices from its start; a clip that runs past the video's end is
    filled by ``policy``."""
    span = clip_span(num_indices_between_frames, num_frames_per_clip)
    fill = POLICIES[policy]
    clips = []
    for s in starts:
        frames = list(range(s, min(s + span, num_frames), num_indices_between_frames))
        if len(frames) < num_frames_per_clip:
            frames = fill(frames, num_frames_per_clip)
        clips.append(frames)
    return clips


def _index_clips(
    kind: str,
    num_frames: int,
    *,
    num_clips: int,
    num_frames_per_clip: int,
    num_indices_between_frames: int,
    sampling_range_start: int,
    sampling_range_end: Optional[int],
    policy: str,
    generator: Any = None,
) -> List[List[int]]:
    """The frame indices of every clip of an index-based sampler (``kind``: ``"random"``
    or ``"regular"``) over a video of ``num_frames`` frames."""
    _check_common(num_frames, num_frames_per_clip, policy)
    if num_clips <= 0:
        raise ValueError(f"num_clips ({num_clips}) must be > 0")
    if num_indices_between_frames <= 0:
        raise ValueError(f"num_indices_between_frames ({num_indices_between_frames}) must be strictly positive")
    start, end = index_sampling_range(
        num_frames, num_frames_per_clip, num_indices_between_frames, sampling_range_start, sampling_range_end
    )
    if kind == "random":
        starts = _randints(start, end, num_clips, generator)
    else:
        # torchcodec's linspace to int32: more clips than starts repeat starts.
        starts = _torch_numerics.linspace_int(start, end - 1, num_clips)
    return clip_indices(starts, num_frames, num_frames_per_clip, num_indices_between_frames, policy)


# ---------------------------------------------------------------------------------------
# Time-based clips


def _seconds_between_frames(metadata: Any, num_clips: Optional[int], between_starts: Optional[float], between_frames: Optional[float]) -> float:
    if between_starts is not None and between_starts <= 0:
        raise ValueError(f"seconds_between_clip_starts ({between_starts}) must be > 0")
    if num_clips is not None and num_clips <= 0:
        raise ValueError(f"num_clips ({num_clips}) must be > 0")
    if metadata.average_fps is None:
        raise ValueError("Could not infer average fps from video metadata. Try using an index-based sampler instead.")
    if metadata.end_stream_seconds is None:
        raise ValueError("Could not infer stream end from video metadata. Try using an index-based sampler instead.")
    if between_frames is None:
        return 1 / metadata.average_fps
    if between_frames <= 0:
        raise ValueError(f"seconds_between_frames ({between_frames}) must be > 0")
    return between_frames


def time_sampling_range(
    num_frames_per_clip: int,
    seconds_between_frames: float,
    sampling_range_start: Optional[float],
    sampling_range_end: Optional[float],
    begin: float,
    end: float,
) -> "tuple[float, float]":
    """Where clips may start, ``[start, end)`` in seconds, checked as torchcodec checks it
    (the default end keeps every clip's times below the stream's end)."""
    if sampling_range_start is None:
        sampling_range_start = begin
    else:
        if sampling_range_start < begin:
            raise ValueError(f"sampling_range_start ({sampling_range_start}) must be at least {begin}")
        if sampling_range_start >= end:
            raise ValueError(f"sampling_range_start ({sampling_range_start}) must be smaller than {end}")
    if sampling_range_end is None:
        sampling_range_end = end - (num_frames_per_clip - 1) * seconds_between_frames
    elif sampling_range_end <= begin:
        raise ValueError(f"sampling_range_end ({sampling_range_end}) must be at least {begin}")
    if sampling_range_start >= sampling_range_end:
        raise ValueError(
            f"sampling_range_start ({sampling_range_start}) must be smaller than sampling_range_end ({sampling_range_end})"
        )
    return sampling_range_start, min(sampling_range_end, end)


def clip_timestamps(
    starts: Sequence[float], num_frames_per_clip: int, seconds_between_frames: float, end: float, policy: str
) -> List[List[float]]:
    """Each clip's sampling times from its start (those at or past ``end`` are filled by
    ``policy``)."""
    fill = POLICIES[policy]
    clips = []
    for s in starts:
        times = [t for i in range(num_frames_per_clip) if (t := s + i * seconds_between_frames) < end]
        if len(times) < num_frames_per_clip:
            times = fill(times, num_frames_per_clip)
        clips.append(times)
    return clips


def _time_clips(
    kind: str,
    metadata: Any,
    num_frames: int,
    *,
    num_clips: Optional[int],
    seconds_between_clip_starts: Optional[float],
    num_frames_per_clip: int,
    seconds_between_frames: Optional[float],
    sampling_range_start: Optional[float],
    sampling_range_end: Optional[float],
    policy: str,
    generator: Any = None,
) -> List[List[float]]:
    """The sampling times of every clip of a time-based sampler."""
    _check_common(num_frames, num_frames_per_clip, policy)
    between = _seconds_between_frames(metadata, num_clips, seconds_between_clip_starts, seconds_between_frames)
    begin = metadata.begin_stream_seconds if metadata.begin_stream_seconds is not None else 0.0
    end = metadata.end_stream_seconds
    start, stop = time_sampling_range(num_frames_per_clip, between, sampling_range_start, sampling_range_end, begin, end)
    if kind == "random":
        assert num_clips is not None
        width = stop - start
        starts = [u * width + start for u in _uniforms(num_clips, generator)]
    else:
        assert seconds_between_clip_starts is not None
        # torch.arange in float64, as torchcodec computes it; float error can put the last
        # value at the end, which torchcodec drops.
        starts = [s for s in _torch_numerics.arange_f64(start, stop, seconds_between_clip_starts) if s < stop]
    return clip_timestamps(starts, num_frames_per_clip, between, end, policy)


# ---------------------------------------------------------------------------------------
# The samplers


def _decode_clips(decoder: Any, clips: List[List[int]], audio: Any = None) -> FrameBatch:
    """Every clip's frames in one call (each GOP decoded once), seen as (clips, frames, …);
    with ``audio``, each clip's sound beside them (the module's docs)."""
    options = _audio.audio_options(audio)
    flat = [i for clip in clips for i in clip]
    batch = decoder.get_frames_at(flat)
    n, per = len(clips), len(clips[0])
    data = batch.data.reshape([n, per, *batch.data.shape[1:]])

    def nest(values: List[Any]) -> List[List[Any]]:
        return [values[c * per : (c + 1) * per] for c in range(n)]

    pts, durations = nest(list(batch.pts_seconds)), nest(list(batch.duration_seconds))
    sound = None
    if options is not None:
        track = _audio_track(decoder, options)
        if track is not None:
            sound = [_audio.samples_with(track, p, d) for p, d in zip(pts, durations)]
    return FrameBatch(data, pts, durations, nest(list(batch.indices)), batch.fallback, sound)


def _audio_track(decoder: Any, options: dict) -> Any:
    """The audio decoder of ``decoder``'s file for these options, opened once and kept
    with the video decoder (an epoch's calls reuse it; ``close()`` drops it), or None
    when the file has no audio track."""
    key = tuple(sorted(options.items()))
    kept = decoder.__dict__.setdefault("_audio_tracks", {})
    if key not in kept:
        kept[key] = _audio.open_track(decoder._source(), options)
    return kept[key]


def clips_at_random_indices(
    decoder: Any,
    *,
    num_clips: int = 1,
    num_frames_per_clip: int = 1,
    num_indices_between_frames: int = 1,
    sampling_range_start: int = 0,
    sampling_range_end: Optional[int] = None,
    policy: str = "repeat_last",
    generator: Any = None,
    audio: Any = None,
) -> FrameBatch:
    """``num_clips`` clips starting at random indices in ``[sampling_range_start,
    sampling_range_end)``, each of ``num_frames_per_clip`` frames ``num_indices_between_frames``
    apart. ``sampling_range_end`` None keeps clips inside the video; negative values count
    from the end. ``policy`` fills clips that run past the end: ``"repeat_last"``,
    ``"wrap"`` (from the clip's start again) or ``"error"`` (``ValueError``).
    ``generator``: see the module's docs. Returns a batch of ``(clips, frames, …)``."""
    clips = _index_clips(
        "random",
        len(decoder),
        num_clips=num_clips,
        num_frames_per_clip=num_frames_per_clip,
        num_indices_between_frames=num_indices_between_frames,
        sampling_range_start=sampling_range_start,
        sampling_range_end=sampling_range_end,
        policy=policy,
        generator=generator,
    )
    return _decode_clips(decoder, clips, audio)


def clips_at_regular_indices(
    decoder: Any,
    *,
    num_clips: int = 1,
    num_frames_per_clip: int = 1,
    num_indices_between_frames: int = 1,
    sampling_range_start: int = 0,
    sampling_range_end: Optional[int] = None,
    policy: str = "repeat_last",
    audio: Any = None,
) -> FrameBatch:
    """As ``clips_at_random_indices``, with the clips' starts equally spaced over the
    sampling range (torch's ``linspace`` to int; more clips than starts repeat starts):
    the frames torchcodec's sampler picks."""
    clips = _index_clips(
        "regular",
        len(decoder),
        num_clips=num_clips,
        num_frames_per_clip=num_frames_per_clip,
        num_indices_between_frames=num_indices_between_frames,
        sampling_range_start=sampling_range_start,
        sampling_range_end=sampling_range_end,
        policy=policy,
    )
    return _decode_clips(decoder, clips, audio)


def _frames_played(decoder: Any, clips: List[List[float]]) -> List[List[int]]:
    """The frame shown at each time (torchcodec's rule: until the next frame's pts)."""
    times = decoder._frame_times()
    return [[times.played_at(t) for t in clip] for clip in clips]


def clips_at_random_timestamps(
    decoder: Any,
    *,
    num_clips: int = 1,
    num_frames_per_clip: int = 1,
    seconds_between_frames: Optional[float] = None,
    sampling_range_start: Optional[float] = None,
    sampling_range_end: Optional[float] = None,
    policy: str = "repeat_last",
    generator: Any = None,
    audio: Any = None,
) -> FrameBatch:
    """``num_clips`` clips starting at random times in ``[sampling_range_start,
    sampling_range_end)`` (default: the stream's start, and an end that keeps every clip's
    times inside the stream), each the frames shown at ``num_frames_per_clip`` times
    ``seconds_between_frames`` apart (default ``1 / average_fps``). ``policy`` fills clips
    whose times pass the stream's end. ``generator``: see the module's docs."""
    clips = _time_clips(
        "random",
        decoder.metadata,
        len(decoder),
        num_clips=num_clips,
        seconds_between_clip_starts=None,
        num_frames_per_clip=num_frames_per_clip,
        seconds_between_frames=seconds_between_frames,
        sampling_range_start=sampling_range_start,
        sampling_range_end=sampling_range_end,
        policy=policy,
        generator=generator,
    )
    return _decode_clips(decoder, _frames_played(decoder, clips), audio)


def clips_at_regular_timestamps(
    decoder: Any,
    *,
    seconds_between_clip_starts: float,
    num_frames_per_clip: int = 1,
    seconds_between_frames: Optional[float] = None,
    sampling_range_start: Optional[float] = None,
    sampling_range_end: Optional[float] = None,
    policy: str = "repeat_last",
    audio: Any = None,
) -> FrameBatch:
    """Clips starting every ``seconds_between_clip_starts`` over the sampling range (the
    starts torchcodec computes, to the last bit); the rest as
    ``clips_at_random_timestamps``."""
    clips = _time_clips(
        "regular",
        decoder.metadata,
        len(decoder),
        num_clips=None,
        seconds_between_clip_starts=seconds_between_clip_starts,
        num_frames_per_clip=num_frames_per_clip,
        seconds_between_frames=seconds_between_frames,
        sampling_range_start=sampling_range_start,
        sampling_range_end=sampling_range_end,
        policy=policy,
    )
    return _decode_clips(decoder, _frames_played(decoder, clips), audio)
