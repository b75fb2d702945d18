"""torchcodec's clip samplers (``torchcodec.samplers``) over video_hw: the same
parameters and results (``FrameBatch`` of torch tensors, ``(clips, frames, …)``). Random
draws use torch's global generator, as torchcodec's do, unless ``generator`` is given."""

from __future__ import annotations

from typing import Any, Optional

from .. import samplers as _s
from ._frame import FrameBatch, Layout, batch

__all__ = [
    "clips_at_random_indices",
    "clips_at_random_timestamps",
    "clips_at_regular_indices",
    "clips_at_regular_timestamps",
]


def _inner(decoder: Any) -> Any:
    """The video_hw decoder behind a compat decoder (or the decoder itself)."""
    return getattr(decoder, "_decoder", decoder)


def _layout(decoder: Any) -> Layout:
    """How the compat decoder hands its frames out (a plain video_hw decoder: as they are)."""
    return getattr(decoder, "_layout", Layout())


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
) -> FrameBatch:
    """See ``video_hw.samplers.clips_at_random_indices``."""
    return batch(_s.clips_at_random_indices(_inner(decoder), **_args(locals())), _layout(decoder))


def clips_at_regular_indices(
    decoder: Any,
    *,
    num_clips: int = 1,
    num_frames_per_clip: int = 1,
    num_indices_between_frames: int = 1,
    sampling_range_start: int = 0,
    sampling_range_end: Optional[int] = None,
    policy: str = "repeat_last",
) -> FrameBatch:
    """See ``video_hw.samplers.clips_at_regular_indices``."""
    return batch(_s.clips_at_regular_indices(_inner(decoder), **_args(locals())), _layout(decoder))


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
) -> FrameBatch:
    """See ``video_hw.samplers.clips_at_random_timestamps``."""
    return batch(_s.clips_at_random_timestamps(_inner(decoder), **_args(locals())), _layout(decoder))


def clips_at_regular_timestamps(
    decoder: Any,
    *,
    seconds_between_clip_starts: float,
    num_frames_per_clip: int = 1,
    seconds_between_frames: Optional[float] = None,
    sampling_range_start: Optional[float] = None,
    sampling_range_end: Optional[float] = None,
    policy: str = "repeat_last",
) -> FrameBatch:
    """See ``video_hw.samplers.clips_at_regular_timestamps``."""
    return batch(_s.clips_at_regular_timestamps(_inner(decoder), **_args(locals())), _layout(decoder))


def _args(names: dict) -> dict:
    return {k: v for k, v in names.items() if k != "decoder"}
