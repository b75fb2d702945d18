"""``torchcodec.decoders.AudioDecoder`` and ``torchcodec.AudioSamples`` over video_hw:
the same constructor, methods and errors, samples as float32 torch tensors (views of
video_hw's arrays, no copy)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Optional

import torch

import video_hw

from .. import _sources
from . import _source
from ._frame import tensor
from ._metadata import StreamMetadata

__all__ = ["AudioDecoder", "AudioSamples", "AudioStreamMetadata", "WavDecoder"]


@dataclass
class AudioSamples:
    """Samples as torchcodec gives them: ``data`` float32 ``(num_channels, num_samples)``."""

    data: torch.Tensor
    pts_seconds: float
    duration_seconds: float
    sample_rate: int

    def __iter__(self) -> Iterator[Any]:
        # torchcodec's AudioSamples unpacks like a tuple of its fields.
        return iter((self.data, self.pts_seconds, self.duration_seconds, self.sample_rate))


@dataclass
class AudioStreamMetadata(StreamMetadata):
    """The stream's metadata under torchcodec's names."""

    codec: str
    stream_index: int
    sample_rate: int
    num_channels: int
    duration_seconds_from_header: Optional[float]
    begin_stream_seconds_from_header: float
    sample_format: str = "fltp"
    bit_rate: Optional[float] = None

    @property
    def duration_seconds(self) -> Optional[float]:
        return self.duration_seconds_from_header

    @property
    def begin_stream_seconds(self) -> float:
        return self.begin_stream_seconds_from_header


class AudioDecoder:
    """``torchcodec.decoders.AudioDecoder(source, *, stream_index=None, sample_rate=None,
    num_channels=None)`` on video_hw's audio decoders."""

    def __init__(
        self,
        source: Any,
        *,
        stream_index: Optional[int] = None,
        sample_rate: Optional[int] = None,
        num_channels: Optional[int] = None,
    ) -> None:
        try:
            self._dec = video_hw.AudioDecoder(
                _source.checked(source), stream_index=stream_index, sample_rate=sample_rate, num_channels=num_channels
            )
        except video_hw.InvalidInputError as e:
            if stream_index is not None:
                raise ValueError(f"No valid stream found in input file for stream_index={stream_index}: {e}") from e
            raise
        m = self._dec.metadata
        self.stream_index = m.stream_index
        self.metadata = AudioStreamMetadata(
            codec=m.codec,
            stream_index=m.stream_index,
            sample_rate=m.sample_rate,
            num_channels=m.num_channels,
            duration_seconds_from_header=m.duration_seconds,
            begin_stream_seconds_from_header=m.begin_stream_seconds,
        )

    def get_all_samples(self) -> AudioSamples:
        return self._wrap(self._dec.get_all_samples())

    def get_samples_played_in_range(self, start_seconds: float = 0.0, stop_seconds: Optional[float] = None) -> AudioSamples:
        return self._wrap(self._dec.get_samples_played_in_range(start_seconds, stop_seconds))

    @staticmethod
    def _wrap(s: video_hw.AudioSamples) -> AudioSamples:
        return AudioSamples(
            data=tensor(s.data), pts_seconds=s.pts_seconds, duration_seconds=s.duration_seconds, sample_rate=s.sample_rate
        )


class WavDecoder(AudioDecoder):
    """``torchcodec.decoders.WavDecoder(source)``: an ``AudioDecoder`` for WAV files only
    (RIFF/RF64 ``WAVE``; anything else is a ``ValueError``), of their one stream, without
    resampling or mixing, samples as float in [-1, 1]. video_hw reads WAV with the same
    decoders as every other audio (Symphonia's, or FFmpeg's where found), exact for PCM."""

    def __init__(self, source: Any) -> None:
        data = _sources.readable(_source.checked(source))
        if isinstance(data, bytes):
            head = data[:12]
        else:
            with open(data, "rb") as f:
                head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
            raise ValueError("WavDecoder: the source is not a WAV file (RIFF or RF64 with a WAVE form)")
        super().__init__(data)
