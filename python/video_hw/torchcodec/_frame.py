"""``Frame`` and ``FrameBatch`` as torchcodec defines them: dataclasses of torch tensors."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterator, Optional, Tuple

import torch


def _describe(obj: Any) -> str:
    lines = [type(obj).__name__ + ":"]
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        name = "data (shape)" if f.name == "data" else f.name
        lines.append(f"  {name}: {value.shape if f.name == 'data' else value}")
    return "\n".join(lines) + "\n"


@dataclass
class Frame:
    """One frame: ``data`` (3-D tensor), ``pts_seconds`` and ``duration_seconds`` (floats).
    Unpacks as ``data, pts, duration``."""

    data: torch.Tensor
    pts_seconds: float
    duration_seconds: float

    def __post_init__(self) -> None:
        if self.data.ndim != 3:
            raise ValueError(f"data must be 3-dimensional, got {self.data.shape = }")
        self.pts_seconds = float(self.pts_seconds)
        self.duration_seconds = float(self.duration_seconds)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.data, self.pts_seconds, self.duration_seconds))

    def __repr__(self) -> str:
        return _describe(self)


@dataclass
class FrameBatch:
    """Frames (``data`` 4-D) or clips (5-D) with ``pts_seconds`` and ``duration_seconds``
    tensors shaped as ``data``'s leading dimensions. Indexing and iterating give
    ``FrameBatch`` es of what is taken."""

    data: torch.Tensor
    pts_seconds: torch.Tensor
    duration_seconds: torch.Tensor

    def __post_init__(self) -> None:
        if self.data.ndim < 3:
            raise ValueError(f"data must be at least 3-dimensional, got {self.data.shape = }")
        leading = self.data.shape[:-3]
        if not (leading == self.pts_seconds.shape == self.duration_seconds.shape):
            raise ValueError(
                "Tried to create a FrameBatch but the leading dimensions of the inputs do not match. "
                f"Got {self.data.shape = } so we expected the shape of pts_seconds and duration_seconds "
                f"to be {leading = }, but got {self.pts_seconds.shape = } and {self.duration_seconds.shape = }."
            )

    def __iter__(self) -> Iterator["FrameBatch"]:
        for d, p, s in zip(self.data, self.pts_seconds, self.duration_seconds):
            yield FrameBatch(d, p, s)

    def __getitem__(self, key: Any) -> "FrameBatch":
        return FrameBatch(self.data[key], self.pts_seconds[key], self.duration_seconds[key])

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return _describe(self)


@dataclass(frozen=True)
class Layout:
    """How a compat decoder hands video_hw's arrays out: ``nchw``, interleaved RGB
    (``…, H, W, C``) turned to ``…, C, H, W`` as a view in ``torch.channels_last`` memory
    (what torchcodec's NCHW frames are); ``window``, the ``(x, y, width, height)`` of each
    picture kept (a crop after a resize, ``transforms.Plan.window``)."""

    nchw: bool = False
    window: Optional[Tuple[int, int, int, int]] = None


def tensor(array: Any, layout: Layout = Layout()) -> torch.Tensor:
    """A video_hw ``Array`` as a torch tensor, shaped by ``layout``: over the same memory
    (no copy) unless it has a window, whose pixels are copied into a tensor of their own
    (as torchcodec's frames are)."""
    t = torch.from_dlpack(array)
    if layout.window is not None:
        x, y, w, h = layout.window
        t = t[..., y : y + h, x : x + w, :].contiguous()
    return t.movedim(-1, -3) if layout.nchw else t


def frame(f: Any, layout: Layout = Layout()) -> Frame:
    """A video_hw ``Frame`` as torchcodec's."""
    return Frame(tensor(f.data, layout), f.pts_seconds, f.duration_seconds)


def batch(b: Any, layout: Layout = Layout()) -> FrameBatch:
    """A video_hw ``FrameBatch`` (frames or clips) as torchcodec's."""
    f64 = torch.float64
    return FrameBatch(
        tensor(b.data, layout),
        torch.tensor(list(b.pts_seconds), dtype=f64),
        torch.tensor(list(b.duration_seconds), dtype=f64),
    )
