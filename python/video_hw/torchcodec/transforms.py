"""torchcodec's decoder transforms (``torchcodec.transforms``) over video_hw's own crop and
resize: ``VideoDecoder(source, transforms=[...])`` takes these classes and torchvision's
``v2.Resize``, ``v2.CenterCrop`` and ``v2.RandomCrop`` with the options torchcodec accepts.

A chain is applied in its order, each step to the picture the one before it made, as
torchcodec does. video_hw runs it in its one conversion pass (on the CPU, or on the GPU
with NVDEC) as a crop of the decoded picture, one resize, and a crop of the resized
picture; that last crop is taken from the converted frame. So the chain may hold any
number of crops before and after one ``Resize``; a second ``Resize`` raises
``NotImplementedError``. A ``Resize`` uses video_hw's triangle filter: bilinear widened with
the shrink, the antialiased bilinear of torchvision's ``v2.Resize`` and of swscale, which
torchcodec's resize runs (docs/python.md has the figures against both).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

import torch

__all__ = ["CenterCrop", "DecoderTransform", "RandomCrop", "Resize"]


class DecoderTransform:
    """A transform the decoder applies before it hands a frame out (torchcodec's base
    class). ``size`` is the output's ``(height, width)``."""

    size: Tuple[int, int]

    def _origin(self, height: int, width: int) -> Optional[Tuple[int, int]]:
        """Where a crop of this transform starts in a ``height`` x ``width`` picture
        (``(top, left)``); None for a transform that is not a crop."""
        return None


def _pair(name: str, size: Any) -> Tuple[int, int]:
    """``size`` as a ``(height, width)`` pair of positive ints, else torchcodec's
    ``ValueError``."""
    if size is None or len(size) != 2:
        raise ValueError(f"{name} transform must have a (height, width) pair for the size, got {size}.")
    h, w = (int(s) for s in size)
    if h <= 0 or w <= 0:
        raise ValueError(f"{name} transform's size must be positive, got {size}.")
    return h, w


class Resize(DecoderTransform):
    """Resizes the frame to ``size`` = ``(height, width)`` (torchvision's ``v2.Resize``
    with bilinear interpolation and antialiasing, its default)."""

    def __init__(self, size: Sequence[int]):
        self.size = _pair("Resize", size)

    def __repr__(self) -> str:
        return f"Resize(size={self.size})"


class CenterCrop(DecoderTransform):
    """Crops ``size`` = ``(height, width)`` from the middle of the frame, the offsets
    rounded half to even (as torchvision's ``v2.CenterCrop`` and FFmpeg's crop)."""

    def __init__(self, size: Sequence[int]):
        self.size = _pair("CenterCrop", size)

    def _origin(self, height: int, width: int) -> Optional[Tuple[int, int]]:
        h, w = self.size
        if h > height or w > width:
            raise RuntimeError(
                f"Crop output size ({h}, {w}) is greater than its input ({height}, {width}) (CenterCrop)"
            )
        return round((height - h) / 2), round((width - w) / 2)

    def __repr__(self) -> str:
        return f"CenterCrop(size={self.size})"


class RandomCrop(DecoderTransform):
    """Crops ``size`` = ``(height, width)`` at a place drawn once, when the decoder is
    made, so every frame of that decoder is cropped at the same place. The draw is
    torchvision's ``v2.RandomCrop``'s (top, then left, from torch's global generator),
    so a seed gives the place it gives there."""

    def __init__(self, size: Sequence[int]):
        self.size = _pair("RandomCrop", size)

    def _origin(self, height: int, width: int) -> Optional[Tuple[int, int]]:
        h, w = self.size
        if h > height or w > width:
            raise ValueError(f"Input dimensions {(height, width)} are smaller than the crop size {self.size}.")
        top = int(torch.randint(0, height - h + 1, size=()).item())
        left = int(torch.randint(0, width - w + 1, size=()).item())
        return top, left

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size})"


def _from_torchvision(t: Any) -> DecoderTransform:
    """A torchvision v2 transform as its decoder transform, with the checks torchcodec
    makes (the options a decoder transform cannot honour are refused, not ignored)."""
    try:
        from torchvision.transforms import v2
    except ImportError:
        v2 = None
    if v2 is None:
        raise ValueError(
            f"The supplied transform, {t}, is not a decoder transform, and torchvision (whose v2 "
            "transforms are also taken) is not installed."
        )
    if isinstance(t, v2.Resize):
        if t.interpolation not in (v2.InterpolationMode.BILINEAR, "bilinear"):
            raise ValueError("TorchVision Resize transform must use bilinear interpolation.")
        if t.antialias is False:
            raise ValueError("TorchVision Resize transform must have antialias enabled.")
        if t.size is None:
            raise ValueError("TorchVision Resize transform must have a size specified.")
        if getattr(t, "max_size", None) is not None:
            raise ValueError("TorchVision Resize transform must not specify max_size.")
        return Resize(_pair("TorchVision Resize", t.size))
    if isinstance(t, v2.CenterCrop):
        return CenterCrop(_pair("TorchVision CenterCrop", t.size))
    if isinstance(t, v2.RandomCrop):
        if t.padding is not None:
            raise ValueError("TorchVision RandomCrop transform must not specify padding.")
        if t.pad_if_needed:
            raise ValueError("TorchVision RandomCrop transform must not specify pad_if_needed.")
        if t.fill not in (0, None) and not (isinstance(t.fill, dict) and all(v in (0, None) for v in t.fill.values())):
            raise ValueError("TorchVision RandomCrop fill must be 0.")
        if t.padding_mode != "constant":
            raise ValueError("TorchVision RandomCrop padding_mode must be constant.")
        return RandomCrop(_pair("TorchVision RandomCrop", t.size))
    raise ValueError(
        f"Unsupported transform: {t}. Transforms must be decoder transforms (Resize, CenterCrop, "
        "RandomCrop) or their torchvision v2 forms."
    )


@dataclass(frozen=True)
class Plan:
    """A chain of transforms as video_hw runs it: ``crop`` (x, y, width, height) of the
    decoded picture, ``resize`` (width, height), then ``window`` (x, y, width, height)
    kept of the resized picture; each None where the chain has none."""

    crop: Optional[Tuple[int, int, int, int]]
    resize: Optional[Tuple[int, int]]
    window: Optional[Tuple[int, int, int, int]]

    def options(self) -> dict:
        """``video_hw.VideoDecoder``'s options for the crop and the resize."""
        out: dict = {}
        if self.crop is not None:
            out["crop"] = self.crop
        if self.resize is not None:
            out["resize"] = self.resize
            out["interpolation"] = "triangle"
        return out


def decoder_transforms(transforms: Sequence[Any]) -> List[DecoderTransform]:
    """``transforms`` as decoder transforms (torchvision's converted and checked)."""
    return [t if isinstance(t, DecoderTransform) else _from_torchvision(t) for t in transforms]


def needs_size(transforms: Sequence[DecoderTransform]) -> bool:
    """Whether ``plan`` needs the decoded picture's size: a crop comes before any resize
    (a crop's place, centred or drawn, depends on the picture it crops)."""
    return bool(transforms) and not isinstance(transforms[0], Resize)


def plan(transforms: Sequence[DecoderTransform], height: Optional[int], width: Optional[int]) -> Plan:
    """The chain ``transforms`` (``decoder_transforms``' result) for ``height`` x ``width``
    frames (None where ``needs_size`` says they are not needed) as one crop, one resize and
    one crop of the result; random crops draw their place here, in chain order."""
    crop: Optional[Tuple[int, int, int, int]] = None
    resize: Optional[Tuple[int, int]] = None
    window: Optional[Tuple[int, int, int, int]] = None
    h, w = height, width
    for t in transforms:
        if isinstance(t, Resize):
            if resize is not None:
                raise NotImplementedError(
                    "a second Resize in one chain: video_hw resizes once per frame (crops may come before "
                    "and after it)"
                )
            h, w = t.size
            resize = (w, h)
            continue
        if h is None or w is None:
            raise ValueError(f"{t} needs the frames' size, which is not known")
        origin = t._origin(h, w)
        if origin is None:
            raise ValueError(f"Unsupported transform: {t}.")
        top, left = origin
        ch, cw = t.size
        # A crop of a crop is one crop, offset by the first's origin.
        if resize is None:
            x0, y0 = (crop[0], crop[1]) if crop else (0, 0)
            crop = (x0 + left, y0 + top, cw, ch)
        else:
            x0, y0 = (window[0], window[1]) if window else (0, 0)
            window = (x0 + left, y0 + top, cw, ch)
        h, w = ch, cw
    return Plan(crop, resize, window)
