"""torchcodec's ``custom_frame_mappings``: a JSON list of frames (``ffprobe -show_frames
-of json`` output: each frame's ``pts``, ``duration`` and ``key_frame``, or the older
``pkt_pts`` and ``pkt_duration``), read as torchcodec reads it and checked against the
file's own frame index.

torchcodec takes the mappings instead of scanning the file. video_hw indexes every file
itself (from the container's tables where it has them, kept across processes with
``index_cache=``) and seeks by that index, so the mappings change no frame: they are
checked, every frame's pts in the stream's time base, and a mapping that disagrees with the
file raises ``ValueError`` naming the first frame that differs (torchcodec would seek by it
and return other frames than the file's)."""

from __future__ import annotations

import json
from typing import Any, List


def read(mappings: Any) -> List[int]:
    """The frames' pts in presentation order from ``mappings`` (a JSON string, bytes or a
    file object), with torchcodec's errors for what is not such a list."""
    try:
        data = json.load(mappings) if hasattr(mappings, "read") else json.loads(mappings)
    except json.JSONDecodeError as e:
        raise ValueError(
            f"Invalid custom frame mappings: {e}. It should be a valid JSON string or a file-like object."
        ) from e
    if not isinstance(data, dict) or not data.get("frames"):
        raise ValueError("Invalid custom frame mappings. The input is empty or missing the required 'frames' key.")
    frames = data["frames"]
    first = frames[0]
    pts_key = next((k for k in ("pts", "pkt_pts") if k in first), None)
    duration_key = next((k for k in ("duration", "pkt_duration") if k in first), None)
    if pts_key is None or duration_key is None or "key_frame" not in first:
        raise ValueError(
            "Invalid custom frame mappings. The 'pts'/'pkt_pts', 'duration'/'pkt_duration', and 'key_frame' keys "
            "are required in the frame metadata."
        )
    try:
        return sorted(int(f[pts_key]) for f in frames)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"Invalid custom frame mappings: a frame without an integer '{pts_key}' ({e})") from e


def check(pts: List[int], file_pts: List[int], time_base: Any) -> None:
    """``ValueError`` where the mappings' pts (sorted) are not the file's frames'."""
    num, den = time_base
    if len(pts) != len(file_pts):
        raise ValueError(
            f"custom_frame_mappings list {len(pts)} frames; the stream has {len(file_pts)} "
            f"(pts in its time base {num}/{den})"
        )
    # MPEG-TS clocks are 33 bits at 90 kHz and wrap: FFmpeg's tools give the frames before a
    # wrap negative pts where the index counts on from the wrap.
    wrap = 1 << 33 if (num, den) == (1, 90000) else None
    for i, (a, b) in enumerate(zip(pts, file_pts)):
        if a != b and (wrap is None or (a - b) % wrap):
            raise ValueError(
                f"custom_frame_mappings differ from the stream at frame {i}: pts {a} in the mappings, {b} in the "
                f"file (time base {num}/{den}); video_hw seeks by the file's own index"
            )
