"""Seconds to frames with torchcodec's meaning, from the frame index's times.

torchcodec's "player" shows a frame from its pts until the next frame's pts (the last one
forever after): durations play no part. So the frame played at ``t`` is the first whose
next pts is past ``t``, and a range ``[start, stop)`` holds the frames from the one
played at ``start`` to the last whose pts is below ``stop``. video_hw's own
``get_frame_played_at`` uses ``[pts, pts + duration)``; the two agree wherever durations
meet the next pts, and the time ranges and samplers follow torchcodec's rule so that they
pick the frames torchcodec picks on every file.
"""

from __future__ import annotations

import bisect
import math
from typing import List, Sequence, Tuple


class Times:
    """Every frame's pts and duration (seconds, presentation order) and the stream's
    bounds as the metadata reports them."""

    def __init__(self, pts: List[float], durations: List[float], begin: float, end: float) -> None:
        self.pts = pts
        self.durations = durations
        self.begin = begin
        self.end = end
        # The next frame's pts: where each frame stops being shown.
        self.next_pts = pts[1:] + [float("inf")] if pts else []

    def played_at(self, seconds: float) -> int:
        """The index of the frame shown at ``seconds`` (the first whose next pts is past
        it); ``len`` past the last."""
        return bisect.bisect_right(self.next_pts, seconds)

    def check_played_at(self, seconds: float) -> None:
        """torchcodec's bounds for a time a frame is asked at: ``[begin, end)``."""
        if not self.begin <= seconds < self.end:
            raise IndexError(
                f"Invalid pts in seconds: {seconds}. It must be greater than or equal to "
                f"{self.begin} and less than {self.end}."
            )

    def check_range(self, start: float, stop: float) -> None:
        """torchcodec's checks of a range: ``start <= stop``, ``begin <= start < end``,
        ``stop <= end`` (each a ``ValueError`` with its message)."""
        if not start <= stop:
            raise ValueError(
                f"Invalid start seconds: {start}. It must be less than or equal to stop seconds ({stop})."
            )
        if not self.begin <= start < self.end:
            raise ValueError(
                f"Invalid start seconds: {start}. It must be greater than or equal to {self.begin} "
                f"and less than {self.end}."
            )
        if not stop <= self.end:
            raise ValueError(f"Invalid stop seconds: {stop}. It must be less than or equal to {self.end}.")

    def in_range(self, start: float, stop: float) -> List[int]:
        """The frames of ``[start, stop)`` (checked): from the one shown at ``start`` to
        the last whose pts is below ``stop``; none when ``start == stop``."""
        self.check_range(start, stop)
        if start == stop:
            return []
        first = self.played_at(start)
        last = bisect.bisect_left(self.pts, stop)
        return list(range(first, last))

    def resampled(self, start: float, stop: float, fps: float) -> Tuple[List[int], List[float], float]:
        """``[start, stop)`` at ``fps`` (checked): ``round((stop - start) * fps)`` times
        ``start + i / fps``, each given the frame shown then (repeated or dropped as the
        rates differ). Returns the frames, the times (their new pts) and the duration
        ``1 / fps`` each is given."""
        self.check_range(start, stop)
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        if start == stop:
            return [], [], 1.0 / fps
        step = 1.0 / fps
        count = int(round_half_away((stop - start) * fps))
        times = [start + i * step for i in range(count)]
        return [self.played_at(t) for t in times], times, step


def round_half_away(x: float) -> float:
    """C's ``round``: halves away from zero (Python's ``round`` goes to even). ``x -
    floor(x)`` is exact, so the half is judged on ``x`` itself."""
    if x < 0:
        return -round_half_away(-x)
    whole = math.floor(x)
    return whole + 1 if x - whole >= 0.5 else whole


def played_at_many(times: Times, seconds: Sequence[float]) -> List[int]:
    """The frames shown at each of ``seconds`` (the samplers' timestamps; they lie in the
    stream's bounds by construction)."""
    return [min(times.played_at(float(t)), len(times.pts) - 1) for t in seconds]
