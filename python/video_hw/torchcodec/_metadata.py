"""The base of torchcodec's stream metadata classes (``torchcodec._core._metadata``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class StreamMetadata:
    """What every stream's metadata is: ``VideoStreamMetadata`` and
    ``AudioStreamMetadata`` derive from it, as in torchcodec."""
