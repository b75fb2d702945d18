"""``torchcodec.decoders.VideoDecoder`` over video_hw: the same constructor and methods,
frames as torch tensors (views of video_hw's arrays, no copy), and the errors torchcodec
raises for indices and times outside the stream."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

import torch

import video_hw
from video_hw import _sources

from . import _mappings, _source
from . import transforms as _transforms
from ._audio import AudioDecoder, AudioStreamMetadata, WavDecoder
from ._frame import Frame, FrameBatch, Layout, batch, frame, tensor
from ._metadata import StreamMetadata

__all__ = ["AudioDecoder", "AudioStreamMetadata", "VideoDecoder", "VideoStreamMetadata", "WavDecoder"]

# The pixel formats whose frames have a dimension order (interleaved or planar RGB).
_RGB = ("rgb24", "bgr24", "rgba", "bgra")


@dataclass
class VideoStreamMetadata(StreamMetadata):
    """The stream's metadata under torchcodec's names (from video_hw's ``VideoMetadata``:
    every value is from the frame index, so the ``_from_header`` and ``_from_content``
    forms are the same)."""

    codec: str
    stream_index: int
    width: Optional[int]
    height: Optional[int]
    num_frames: int
    average_fps: Optional[float]
    duration_seconds: Optional[float]
    begin_stream_seconds: float
    end_stream_seconds: Optional[float]
    rotation: Optional[int]
    bit_rate: Optional[float] = None

    @property
    def num_frames_from_content(self) -> int:
        return self.num_frames

    @property
    def num_frames_from_header(self) -> int:
        return self.num_frames

    @property
    def begin_stream_seconds_from_content(self) -> float:
        return self.begin_stream_seconds

    @property
    def end_stream_seconds_from_content(self) -> Optional[float]:
        return self.end_stream_seconds

    @property
    def duration_seconds_from_header(self) -> Optional[float]:
        return self.duration_seconds

    @property
    def average_fps_from_header(self) -> Optional[float]:
        return self.average_fps


def _device(device: Any) -> str:
    if device is None:
        return "cpu"
    d = str(device)
    return "cuda:0" if d == "cuda" else d


def _dtype(output_dtype: Any) -> str:
    if output_dtype is None or output_dtype == torch.uint8:
        return "uint8"
    if output_dtype == torch.float32:
        return "float32"
    raise ValueError(f"output_dtype {output_dtype}: torch.uint8 or torch.float32")


class CpuFallbackStatus:
    """torchcodec's ``CpuFallbackStatus``: truthy when the decoder fell back to the CPU;
    ``str()`` says why (or that it did not)."""

    def __init__(self, reason: Optional[str], backend: Optional[str]) -> None:
        self.status_known = True
        self.reason = reason
        self.backend = backend

    def __bool__(self) -> bool:
        return self.reason is not None

    def __str__(self) -> str:
        if self.reason is None:
            return f"[{self.backend}] Fallback status: No fallback required"
        return f"[{self.backend}] Fallback status: Falling back due to: {self.reason}"


class VideoDecoder:
    """torchcodec's ``VideoDecoder`` (see its docs) over ``video_hw.VideoDecoder``.

    ``transforms`` takes torchcodec's decoder transforms and torchvision's ``v2.Resize``,
    ``v2.CenterCrop`` and ``v2.RandomCrop`` (``video_hw.torchcodec.transforms``: how they
    run). ``custom_frame_mappings`` are read as torchcodec reads them and checked against
    the file's own index (``_mappings``: a mapping that disagrees raises ``ValueError``).
    Options video_hw has and torchcodec lacks go through ``**video_hw_options``."""

    def __init__(
        self,
        source: Any,
        *,
        stream_index: Optional[int] = None,
        dimension_order: str = "NCHW",
        num_ffmpeg_threads: int = 1,
        device: Any = None,
        seek_mode: str = "exact",
        transforms: Optional[Sequence[Any]] = None,
        output_dtype: Any = torch.uint8,
        custom_frame_mappings: Any = None,
        **video_hw_options: Any,
    ) -> None:
        if seek_mode not in ("exact", "approximate"):
            raise ValueError(f"Invalid seek mode ({seek_mode}). Supported values are exact, approximate.")
        if dimension_order not in ("NCHW", "NHWC"):
            raise ValueError(f"Invalid dimension order ({dimension_order}). Supported values are NCHW, NHWC.")
        if num_ffmpeg_threads is None:
            raise ValueError(f"{num_ffmpeg_threads = } should be an int.")
        if custom_frame_mappings is not None and seek_mode == "approximate":
            raise ValueError(
                "custom_frame_mappings is incompatible with seek_mode='approximate'. Leave seek_mode unspecified "
                "to use custom frame mappings."
            )
        mapped = None if custom_frame_mappings is None else _mappings.read(custom_frame_mappings)
        # torchcodec's NCHW frames are views of interleaved (NHWC) pixels, in
        # torch.channels_last memory: the frames are made interleaved and turned as views.
        nchw = dimension_order == "NCHW" and video_hw_options.get("pixel_format", "rgb24") in _RGB
        source = _source.checked(source)
        window = None
        try:
            if transforms:
                chain = _transforms.decoder_transforms(transforms)
                source, plan = _planned(source, chain, stream_index, video_hw_options)
                video_hw_options.update(plan.options())
                window = plan.window
            self._decoder = video_hw.VideoDecoder(
                source,
                stream_index=stream_index,
                dimension_order="NHWC" if nchw else dimension_order,
                device=_device(device),
                seek_mode=seek_mode,
                threads=num_ffmpeg_threads or None,
                dtype=_dtype(output_dtype),
                **video_hw_options,
            )
        except video_hw.InvalidInputError as e:
            if stream_index is not None:
                raise ValueError(f"No valid stream found in input file for stream_index={stream_index}: {e}") from e
            raise
        if mapped is not None:
            _mappings.check(mapped, *self._decoder._frame_ticks())
        m = self._decoder.metadata
        self.stream_index = m.stream_index
        self.metadata = VideoStreamMetadata(
            codec=m.codec,
            stream_index=m.stream_index,
            width=m.width,
            height=m.height,
            num_frames=m.num_frames,
            average_fps=m.average_fps,
            duration_seconds=m.duration_seconds,
            begin_stream_seconds=m.begin_stream_seconds or 0.0,
            end_stream_seconds=m.end_stream_seconds,
            rotation=m.rotation,
        )
        self._layout = Layout(nchw, window)

    @property
    def cpu_fallback(self) -> "CpuFallbackStatus":
        """Whether the frames of a ``device="cuda"`` decoder are decoded on the CPU (and
        copied to the GPU) because the GPU's decoder cannot take the stream: truthy then,
        and ``str()`` says why."""
        return CpuFallbackStatus(self._decoder.fallback, self._decoder.backend)

    def __len__(self) -> int:
        return len(self._decoder)

    def __getitem__(self, key: Any) -> torch.Tensor:
        """Frame ``key`` or a slice of frames as a tensor."""
        if isinstance(key, slice):
            if key.step is not None and key.step <= 0:
                raise RuntimeError("Step must be greater than 0")
        elif not isinstance(key, numbers.Integral):
            raise TypeError(f"Unsupported key type: {type(key)}. Supported types are int and slice.")
        else:
            self._check_index(int(key))
        return tensor(self._decoder[key], self._layout)

    def _check_index(self, index: int) -> None:
        """torchcodec's ``IndexError`` for a frame index outside the stream."""
        n = len(self)
        if index < -n:
            raise IndexError(
                f"Invalid frame index={index} for stream_index={self.stream_index}; negative indices must have "
                "an absolute value less than the number of frames, and the number of frames must be known."
            )
        if index >= n:
            raise IndexError(f"Invalid frame index={index} for stream_index={self.stream_index}; must be less than {n}")

    def get_frame_at(self, index: int) -> Frame:
        """The frame at ``index`` (negative counts from the end)."""
        self._check_index(int(index))
        return frame(self._decoder.get_frame_at(int(index)), self._layout)

    def get_frames_at(self, indices: Any) -> FrameBatch:
        """The frames at ``indices`` (a list or a tensor), in that order."""
        wanted = _ints(indices)
        for i in wanted:
            self._check_index(i)
        return batch(self._decoder.get_frames_at(wanted), self._layout)

    def get_frames_in_range(self, start: int, stop: int, step: int = 1) -> FrameBatch:
        """Frames ``start, start + step, …`` below ``stop`` (Python slice bounds)."""
        start, stop, step = slice(start, stop, step).indices(len(self))
        if step <= 0:
            raise RuntimeError(f"Step must be greater than 0; is {step}")
        return batch(self._decoder.get_frames_in_range(start, stop, step), self._layout)

    def get_frame_played_at(self, seconds: float) -> Frame:
        """The frame shown at ``seconds`` (until the next frame's pts)."""
        times = self._decoder._frame_times()
        times.check_played_at(float(seconds))
        return frame(self._decoder.get_frame_at(times.played_at(float(seconds))), self._layout)

    def get_frames_played_at(self, seconds: Any) -> FrameBatch:
        """The frames shown at each of ``seconds`` (a list or a tensor)."""
        times = self._decoder._frame_times()
        values = seconds.tolist() if hasattr(seconds, "tolist") else seconds
        if not all(isinstance(s, numbers.Real) for s in values):
            raise RuntimeError(f"Expected a value of type 'List[float]' for argument 'timestamps' but found {values!r}")
        wanted = [float(s) for s in values]
        for s in wanted:
            if s < times.begin:
                raise RuntimeError(f"frame pts is {s}; must be greater than or equal to {times.begin}.")
            if s >= times.end:
                raise RuntimeError(f"frame pts is {s}; must be less than {times.end}.")
        return batch(self._decoder.get_frames_at([times.played_at(s) for s in wanted]), self._layout)

    def get_frames_played_in_range(
        self, start_seconds: float, stop_seconds: float, fps: Optional[float] = None
    ) -> FrameBatch:
        """See ``video_hw.VideoDecoder.get_frames_played_in_range``."""
        if fps is not None and not fps > 0:
            # torchcodec checks the range first (ValueError), then fps (RuntimeError).
            # An empty range returns before the rate is looked at.
            self._decoder._frame_times().check_range(float(start_seconds), float(stop_seconds))
            if start_seconds != stop_seconds:
                raise RuntimeError(f"fps must be positive, got {fps}")
        return batch(self._decoder.get_frames_played_in_range(start_seconds, stop_seconds, fps), self._layout)

    def get_all_frames(self, fps: Optional[float] = None) -> FrameBatch:
        """Every frame, or the whole stream resampled to ``fps``."""
        m = self.metadata
        return self.get_frames_played_in_range(m.begin_stream_seconds, m.end_stream_seconds, fps)


def _planned(source: Any, chain: List[Any], stream_index: Optional[int], options: dict) -> Tuple[Any, Any]:
    """The transform chain's plan for ``source``, and the source to open (bytes where it
    was a file object or a tensor and has to be read twice). Where the chain crops before
    it resizes, the crop's place depends on the picture's size: the source is opened once
    to read it (its index only: no frame is decoded)."""
    for key in ("resize", "crop", "interpolation"):
        if key in options:
            raise ValueError(f"transforms and {key}=: give one or the other")
    if options.get("pixel_format", "rgb24") not in _RGB:
        raise ValueError(f"transforms need an RGB pixel format (rgb24, bgr24, rgba, bgra), not {options['pixel_format']}")
    if not _transforms.needs_size(chain):
        return source, _transforms.plan(chain, None, None)
    source = _sources.readable(source)
    kept = {k: options[k] for k in ("autorotate", "index_cache") if k in options}
    probe = video_hw.VideoDecoder(source, stream_index=stream_index, device="cpu", **kept)
    try:
        return source, _transforms.plan(chain, probe.metadata.height, probe.metadata.width)
    finally:
        probe.close()


def _ints(indices: Any) -> List[int]:
    if isinstance(indices, torch.Tensor):
        indices = indices.to(torch.int64)
    if hasattr(indices, "tolist"):
        indices = indices.tolist()
    if not all(isinstance(i, numbers.Integral) for i in indices):
        # What torchcodec's operator raises for anything but integers.
        raise RuntimeError(f"Expected a value of type 'List[int]' for argument 'frame_indices' but found {indices!r}")
    return [int(i) for i in indices]
