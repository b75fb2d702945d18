"""``AudioDecoder``: the samples of an audio track as float32 ``(channels, samples)``
arrays, with torchcodec's meaning (sample-accurate ranges, resampling, mixing)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Optional, Tuple

from ._video_hw import Array, InvalidInputError, NativeAudioDecoder
from . import _sources

__all__ = ["AudioDecoder", "AudioMetadata", "AudioSamples"]


@dataclass(frozen=True)
class AudioMetadata:
    """What an audio track holds and how it is decoded."""

    codec: str
    """The codec, as ffprobe names it (``aac``, ``opus``, ``mp3``, ``pcm_s16le``, …)."""
    stream_index: int
    """The track's index in the file (ffmpeg's stream index)."""
    sample_rate: int
    """Samples per second of the track (before resampling)."""
    num_channels: int
    """Channels of the track (before mixing)."""
    channel_layout: str
    """The layout, as ffmpeg names it (``mono``, ``stereo``, ``5.1``, …)."""
    duration_seconds: Optional[float]
    """Duration from the container's header, where it states one."""
    begin_stream_seconds: float
    """Time of the first sample shown (priming dropped)."""
    engine: str
    """The engine that decodes: ``ffmpeg``, ``symphonia`` or ``ropus``."""
    decoder: str
    """What runs, e.g. ``symphonia aac``."""
    output_sample_rate: int
    """Rate of the samples handed back (``sample_rate=`` where given)."""
    output_num_channels: int
    """Channels of the samples handed back (``num_channels=`` where given)."""


@dataclass(frozen=True)
class AudioSamples:
    """Decoded samples: ``data`` is float32 ``(channels, samples)`` in [-1, 1] (DLPack and
    the array interface: ``np.from_dlpack(s.data)``, ``torch.from_dlpack(s.data)``)."""

    data: Array
    pts_seconds: float
    """Time of the first sample."""
    duration_seconds: float
    sample_rate: int


class AudioDecoder:
    """One audio track of a file, bytes or binary file object.

    Args:
        source: a path, ``bytes`` (or ``bytearray``/``memoryview``), a ``torch.Tensor``
            of encoded bytes, or a binary file object (read whole). MP4/MOV, fragmented
            MP4, Matroska/WebM, MPEG-TS, and audio files: WAV, FLAC, Ogg (Vorbis, Opus),
            MP3, ADTS AAC (``.aac``).
        stream_index: the track (ffmpeg's stream index); default: the one ffmpeg and
            torchcodec open (of the tracks marked default, the highest bit rate, then the
            first: docs/audio.md).
        sample_rate: resample to this rate (default: the track's own).
        num_channels: mix to this many channels (default: the track's own).
        engine: ``"auto"`` (FFmpeg where it is found, else the built-in decoders, with a
            warning), ``"ffmpeg"``, ``"symphonia"`` (AAC-LC, MP3, FLAC, Vorbis, PCM) or
            ``"ropus"`` (Opus); a named engine never falls back.
    """

    def __init__(
        self,
        source: Any,
        *,
        stream_index: Optional[int] = None,
        sample_rate: Optional[int] = None,
        num_channels: Optional[int] = None,
        engine: str = "auto",
    ) -> None:
        if isinstance(source, (bytearray, memoryview)):
            source = bytes(source)
        elif type(source).__module__.startswith("torch") and hasattr(source, "numpy"):
            source = source.contiguous().cpu().numpy().tobytes()
        elif _sources.is_file_object(source):
            source = _sources.file_bytes(source)
        self._path = source if isinstance(source, (str, os.PathLike)) else None
        self._options = dict(stream_index=stream_index, sample_rate=sample_rate, num_channels=num_channels, engine=engine)
        self._native = NativeAudioDecoder(source, stream_index, sample_rate, num_channels, engine)
        self.metadata = AudioMetadata(**self._native.metadata)
        self.stream_index = self.metadata.stream_index

    def get_all_samples(self) -> AudioSamples:
        """Every sample of the track, as ffmpeg gives them (priming and padding dropped)."""
        return self._samples(self.metadata.begin_stream_seconds, None)

    def get_samples_played_in_range(self, start_seconds: float = 0.0, stop_seconds: Optional[float] = None) -> AudioSamples:
        """The samples played in ``[start_seconds, stop_seconds)``, cut inside packets;
        consecutive ranges give the samples one call for the whole would."""
        if stop_seconds is not None and not start_seconds <= stop_seconds:
            raise ValueError(
                f"Invalid start seconds: {start_seconds}. It must be less than or equal to stop seconds ({stop_seconds})."
            )
        return self._samples(start_seconds, stop_seconds)

    def _samples(self, start: float, stop: Optional[float]) -> AudioSamples:
        data, pts, rate = self._native.samples(float(start), None if stop is None else float(stop))
        frames = data.shape[1] if len(data.shape) == 2 else 0
        return AudioSamples(data=data, pts_seconds=pts, duration_seconds=frames / rate if rate else 0.0, sample_rate=rate)

    @property
    def damaged_packets(self) -> int:
        """Packets that could not be decoded (damage), skipped; their samples are missing."""
        return self._native.damaged_packets

    def __repr__(self) -> str:
        m = self.metadata
        return f"AudioDecoder({m.codec}, {m.sample_rate} Hz, {m.channel_layout}, engine={m.engine})"

    def __reduce__(self) -> Tuple[Any, Tuple[Any, dict]]:
        # Another process (spawn, DataLoader workers) opens the track again from the path
        # or the bytes.
        source = self._path if self._path is not None else self._native.source_bytes()
        return (_reopen, (source, self._options))


def _reopen(source: Any, options: dict) -> AudioDecoder:
    return AudioDecoder(source, **options)


# ---------------------------------------------------------------------------------------
# The sound of a batch of frames (``audio=`` of ``decode_many`` and the samplers)

_AUDIO_KEYS = ("stream_index", "sample_rate", "num_channels", "engine")


def audio_options(audio: Any) -> Optional[dict]:
    """``audio=`` as ``AudioDecoder``'s options: None when no sound is asked for (None or
    False), ``{}`` for True (the default audio track as it is), else a dict of
    ``stream_index``, ``sample_rate``, ``num_channels`` and ``engine``."""
    if audio is None or audio is False:
        return None
    if audio is True:
        return {}
    if isinstance(audio, dict):
        unknown = sorted(set(audio) - set(_AUDIO_KEYS))
        if unknown:
            raise TypeError(f"audio: unknown option(s) {unknown}; known: {list(_AUDIO_KEYS)}")
        return dict(audio)
    raise TypeError("audio: True, False, None or a dict of AudioDecoder's options")


def open_track(source: Any, options: dict) -> Optional[AudioDecoder]:
    """The audio track ``options`` name, or None when the file has none and none was named
    (a set of files where some are silent is common in training data; a track asked for
    by ``stream_index`` that is not there stays an error)."""
    try:
        return AudioDecoder(source, **options)
    except InvalidInputError as e:
        # The library's words for "no audio track at all" (audio/decoder.rs), pinned by
        # test_audio_with_frames.py.
        if options.get("stream_index") is None and "no audio stream" in str(e):
            return None
        raise


def samples_with(track: AudioDecoder, pts: Any, durations: Any) -> AudioSamples:
    """The samples played while frames of these times are shown: from the earliest
    frame's time to the end of the latest (its time plus its duration), sample-accurate;
    cut to the track where the frames go past it (``pts_seconds`` says where the samples
    start, and there may be none)."""
    start = min(pts)
    stop = max(p + d for p, d in zip(pts, durations))
    return track.get_samples_played_in_range(start, max(start, stop))
