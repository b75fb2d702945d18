"""video_hw: hardware video decode (NVDEC) and the embedded software default, with
frame-accurate random access and frames lent without copying (DLPack, the array
interfaces).

    >>> import video_hw, numpy as np
    >>> dec = video_hw.VideoDecoder("clip.mp4", pixel_format="rgb24", dimension_order="NHWC")
    >>> len(dec), dec.metadata.average_fps
    >>> batch = dec.get_frames_at([250, 3, 99])      # exact frames, in the order asked
    >>> pixels = np.from_dlpack(batch.data)          # (3, H, W, 3) uint8, no copy

On a GPU, ``device="cuda"`` keeps the frames in GPU memory: ``torch.from_dlpack`` and
CuPy take them as they are.
"""

from __future__ import annotations

import fractions
import numbers
import os
import threading
import warnings
from dataclasses import dataclass
from typing import Any, Iterator, List, Optional, Sequence, Tuple, Union

from ._video_hw import (
    Array,
    DecodeTimeoutError,
    DeviceLostError,
    EngineError,
    Frame,
    FrameBatch,
    InvalidBitstreamError,
    InvalidInputError,
    NativeDecoder,
    NativeEncoder,
    Packet,
    UnsupportedError,
    VideoHwError,
    __version__,
    add_ffmpeg_search_dir,
    engines,
    ffmpeg_info,
    gpu_memory,
    release_cached_decoders,
    reset_gpu_memory_peak,
    set_max_gpu_memory,
)
from ._video_hw import parse_gpu_budget as _parse_gpu_budget
from . import _ranges, _sources
from ._audio import AudioDecoder, AudioMetadata, AudioSamples


def _pyav_libraries() -> Optional[str]:
    """The folder of FFmpeg libraries an installed PyAV wheel bundles (``av.libs`` beside
    the ``av`` package), found without importing PyAV; None if there is none."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("av")
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        libs = os.path.join(os.path.dirname(location), "av.libs")
        if os.path.isdir(libs):
            return libs
    return None


# FFmpeg is searched for at run time (VIDEO_HW_FFMPEG_DIR, then the system's libraries);
# `pip install av` is a one-line way to get it, so a PyAV wheel's libraries come last.
_pyav = _pyav_libraries()
if _pyav is not None:
    add_ffmpeg_search_dir(_pyav)

# FFmpeg's libraries are loaded now, at import, as torchcodec loads them: their dlopen
# (libavcodec and the hundred libraries Debian's links, 13-16 ms) then falls on the import,
# not on the first decoder's open. VIDEO_HW_FFMPEG_DIR=none leaves them unloaded; folders
# given to add_ffmpeg_search_dir after this are no longer searched.
ffmpeg_info()

__all__ = [
    "Array",
    "AudioDecoder",
    "AudioMetadata",
    "AudioSamples",
    "DecodeTimeoutError",
    "DeviceLostError",
    "Encoder",
    "EngineError",
    "Frame",
    "FrameBatch",
    "InvalidBitstreamError",
    "InvalidInputError",
    "Packet",
    "UnsupportedError",
    "VideoDecoder",
    "VideoHwError",
    "VideoMetadata",
    "__version__",
    "decode_many",
    "engines",
    "ffmpeg_info",
    "gpu_memory",
    "release_cached_decoders",
    "reset_gpu_memory_peak",
    "set_max_gpu_memory",
]

Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, Any]


@dataclass(frozen=True)
class VideoMetadata:
    """What the container and the stream say of the video track, and what its frame
    index counts (frames are counted as a decoder outputs them). ``damage`` says where a
    file damaged part-way stops being readable (every frame before it is counted and
    decodes); asking for a frame past it raises ``InvalidBitstreamError``."""

    container: str
    codec: str
    stream_index: int
    width: Optional[int]
    height: Optional[int]
    num_frames: int
    num_key_frames: int
    average_fps: Optional[float]
    duration_seconds: Optional[float]
    begin_stream_seconds: Optional[float]
    end_stream_seconds: Optional[float]
    bit_depth: Optional[int]
    rotation: Optional[int]
    profile: Optional[str]
    color: Optional[dict]
    damage: Optional[str]
    seek_mode: str


def _index_cache_setting(value: Union[None, bool, str, "os.PathLike[str]"]) -> Optional[str]:
    """``VideoDecoder(index_cache=...)`` as the native decoder reads it: a name or a
    directory (a path object is always a directory, made absolute)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.path.abspath(os.fspath(value))
    raise TypeError("index_cache: None, a bool, 'auto', 'on', 'off', 'beside' or a directory")


# Set on a thread that opens decoders for ``decode_many``, which gives one warning for the
# whole call instead of one per file.
_QUIET_FALLBACK = threading.local()


class VideoDecoder:
    """One video track of a file, bytes or binary file object, with exact random access.

    Args:
        source: a path, ``bytes`` (or ``bytearray``/``memoryview``), a ``torch.Tensor``
            of encoded bytes (1-D uint8, as torchcodec takes it), or a binary file
            object (read whole). MP4/MOV (fragmented too), Matroska, WebM, MPEG-TS,
            M2TS, AVI, IVF, or a raw H.264/HEVC stream; the container is found from the
            content.
        device: where frames land: ``"cpu"`` (host memory) or ``"cuda"``/``"cuda:N"``
            (GPU memory; decoded by NVDEC). A stream NVDEC cannot decode there (AV1 on an
            H100 or H200, 4:4:4, a size past its limits) is decoded on the CPU and its frames
            copied to the GPU, in the format asked for: ``fallback`` says why, and one
            ``RuntimeWarning`` is given. ``engine="nvdec"`` refuses instead. ``"auto"``:
            each call is decoded where the library's cost model estimates it faster, on
            the CPU (a software engine) or the GPU (its engine, frames converted there and
            copied to the host); the frames land in host memory either way
            (``"auto:cuda"``/``"auto:cuda:N"``: in GPU memory either way). ``backend`` and
            ``stats["device_choice"]`` say which side ran the last call and why (see
            docs/python.md, "device='auto'").
        pixel_format: ffmpeg's names with ffmpeg's meaning: ``"rgb24"``, ``"bgr24"``,
            ``"rgba"``, ``"bgra"``; ``"yuv420p"`` and ``"nv12"`` (8-bit: a 10-bit stream is
            rounded to 8 bits), ``"yuv420p10le"`` and ``"p010le"`` (10-bit in uint16: an
            8-bit stream widened as ffmpeg widens it), ``"gray"`` and ``"gray10le"`` (the
            luma plane in full range, ``(H, W)``; host only); ``"yuv420p-auto"`` and
            ``"nv12-auto"`` keep the stream's own depth. The YUV forms are one
            ``(H*3/2, W)`` plane per frame; with ``device="cuda"`` the GPU makes them (NV12
            of the stream's depth is NVDEC's own surface). RGB uses the stream's colour
            matrix, range and chroma siting; where the stream names no matrix, BT.601, as
            FFmpeg (and so torchcodec, PyAV and ``ffmpeg -pix_fmt rgb24``) takes it (see
            ``color_matrix``).
        dimension_order: ``"NCHW"`` or ``"NHWC"`` for RGB: ``(3, H, W)`` or ``(H, W, 3)``.
        dtype: ``"uint8"``, ``"float16"`` or ``"float32"`` (RGB). Floats are in [0, 1],
            or normalised with ``mean`` and ``std``.
        resize: ``(width, height)`` of the frames handed back: bilinear with half-pixel
            centres, area averaging (``interpolation="area"``) or bilinear widened with the
            shrink (``interpolation="triangle"``), in the same pass as the colour conversion.
        crop: ``(x, y, width, height)`` kept of each picture, before ``resize``.
        interpolation: ``"bilinear"``, ``"area"`` (box average when shrinking) or
            ``"triangle"`` (a tent as wide as the shrink: torchvision's ``Resize`` with
            antialiasing, PIL's bilinear, swscale's bilinear; torchcodec's decoder ``Resize``).
        mean, std: per-channel (R, G, B) normalisation of float output:
            ``(value - mean) / std`` with values in [0, 1].
        seek_mode: ``"exact"`` or ``"approximate"``. Both use the file's frame index (from
            the container's tables where it has them; MPEG-TS and raw streams are
            scanned), so both are exact.
        sessions: decode sessions for random access (independent GOPs decode at once;
            with NVDEC one per engine is best). Default: the measured best for the engine,
            and with FFmpeg on the CPU, a call's independent GOPs (a sampler's clips) on
            sessions of their own, one per CPU thread at most, each on its share of the
            cores. A count given runs every call on that many.
        engine: ``"auto"`` (the best on the machine, NVDEC where there is a GPU),
            ``"nvdec"``, ``"ffmpeg"``, ``"rav1d"`` (AV1, built in) or ``"openh264"``;
            ``"software"``: the best engine that decodes the stream on the CPU.
        on_error: ``"raise"``: a frame the file's damage keeps from decoding raises
            ``InvalidBitstreamError`` (with ``offset``); ``"skip"``: such frames are left
            out of batches.
        stream_index: the track to decode (default: the largest video track, then the
            first of those, as ffmpeg and torchcodec pick it).
        read_ahead_bytes: iteration with several sessions decodes the GOPs ahead at once
            (on NVDEC, one file then uses every engine); this bounds the frames held ahead
            of the reader (default 4 GiB; in GPU memory with ``device="cuda"``, and for
            ``nv12``, ``yuv420p`` and ``rgb24`` on NVDEC, copied to the host as they are taken).
        threads: threads of each software decode session (FFmpeg's frame and slice
            threads, as ``ffmpeg -threads N``; rav1d's workers). Default: every core for
            one session, shared by the sessions open at once.
        film_grain: apply AV1 film grain as the stream asks (default). ``False`` gives
            the pictures before grain synthesis (the built-in rav1d engine; the others
            always apply it).
        color_matrix: the YUV -> RGB matrix. ``"auto"`` (default): the stream's, BT.601
            where it names none (FFmpeg's rule); ``"auto-hd"``: the stream's, and where it
            names none BT.709 from 720 lines up, BT.601 below (what players assume);
            ``"bt601"``, ``"bt709"``, ``"bt2020"``: that matrix, whatever the stream says
            (as ffmpeg's ``in_color_matrix``). Range and chroma siting stay the stream's.
        autorotate: turn frames as the container's display matrix asks (default), as
            ffmpeg and torchcodec do: ``metadata.rotation`` degrees counter-clockwise, and
            ``metadata.width``/``height`` are of the turned frames; ``crop`` and ``resize``
            are of the turned picture. ``False`` keeps the coded orientation (and size).
        index_cache: where the frame index is saved and read back, so that a file whose
            index is a scan (MPEG-TS, raw streams) is scanned once, not in every process,
            DataLoader worker and epoch. ``None`` (default): the ``VIDEO_HW_INDEX_CACHE``
            environment variable, else ``"auto"``: ``$XDG_CACHE_HOME/video-hw/index`` (or
            ``~/.cache/video-hw/index``) for files that need the scan. ``True``/``"on"``:
            that directory for every container; a directory (``str`` or path); ``"beside"``:
            ``<file>.vhidx`` next to the file; ``False``/``"off"``: never. A saved index is
            tagged with the file's path, size, modification time, inode and a hash of its
            first and last 64 KiB, and with the library's version: any difference, or
            damage, and it is built again and replaced, never used. ``stats["index_cache"]``
            says what happened: ``"hit"``, ``"built"``, ``"remade"`` or ``"off"``. Sources
            that are bytes are never cached.
    """

    def __init__(
        self,
        source: Source,
        *,
        device: str = "cpu",
        pixel_format: str = "rgb24",
        dimension_order: str = "NCHW",
        seek_mode: str = "exact",
        sessions: Optional[int] = None,
        engine: str = "auto",
        on_error: str = "raise",
        stream_index: Optional[int] = None,
        read_ahead_bytes: Optional[int] = None,
        dtype: str = "uint8",
        resize: Optional[Tuple[int, int]] = None,
        crop: Optional[Tuple[int, int, int, int]] = None,
        interpolation: str = "bilinear",
        mean: Optional[Sequence[float]] = None,
        std: Optional[Sequence[float]] = None,
        threads: Optional[int] = None,
        film_grain: bool = True,
        color_matrix: str = "auto",
        autorotate: bool = True,
        index_cache: Union[None, bool, str, "os.PathLike[str]"] = None,
    ) -> None:
        source = _sources.readable(source)
        # The options, kept for pickling: the receiving process (spawn, forkserver, Ray,
        # multiprocessing.Pool) opens the decoder again from them and the path as given
        # (bytes and file objects travel as the bytes the decoder read).
        self._path = source if isinstance(source, (str, os.PathLike)) else None
        self._options = dict(
            device=device,
            pixel_format=pixel_format,
            dimension_order=dimension_order,
            seek_mode=seek_mode,
            sessions=sessions,
            engine=engine,
            on_error=on_error,
            stream_index=stream_index,
            read_ahead_bytes=read_ahead_bytes,
            dtype=dtype,
            resize=None if resize is None else tuple(resize),
            crop=None if crop is None else tuple(crop),
            interpolation=interpolation,
            mean=None if mean is None else [float(v) for v in mean],
            std=None if std is None else [float(v) for v in std],
            threads=threads,
            film_grain=film_grain,
            color_matrix=color_matrix,
            autorotate=autorotate,
            index_cache=_index_cache_setting(index_cache),
        )
        if str(device).startswith("auto"):
            from ._auto import _AutoNative

            self._native = _AutoNative(source, self._options)
        else:
            self._native = NativeDecoder(source, **self._options)
        self.metadata = VideoMetadata(**self._native.metadata)
        if self._native.fallback is not None and not getattr(_QUIET_FALLBACK, "on", False):
            warnings.warn(
                f"video_hw: {self._native.fallback}; decoding with {self._native.backend}",
                RuntimeWarning,
                stacklevel=2,
            )
        self._times: Optional[_ranges.Times] = None

    def __len__(self) -> int:
        return len(self._native)

    def __getitem__(self, key: Union[int, slice]) -> Array:
        """The pixels of frame ``key`` (an ``Array``; negative counts from the end), or of
        a slice of frames (a batch ``Array`` with a first dimension N), as torchcodec's
        ``decoder[key]``. Where torchcodec fails (a negative step, ``stop`` before
        ``start``), this gives what a Python list would: the frames in reverse, or none."""
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step < 0:
                return self._native.get_frames_at(list(range(start, stop, step))).data
            if stop <= start:
                return self._empty_batch().data
            return self._native.get_frames_in_range(start, stop, step).data
        if isinstance(key, numbers.Integral) and not isinstance(key, bool):
            return self._native.get_frame_at(int(key)).data
        raise TypeError(f"Unsupported key type: {type(key)}. Supported types are int and slice.")

    def __iter__(self) -> Iterator[Frame]:
        """Every frame in presentation order. With several sessions the GOPs ahead decode
        at once while the frames are taken (``read_ahead_bytes``)."""
        self._native.seek(0)
        while True:
            frame = self._native.next_frame()
            if frame is None:
                return
            yield frame

    @property
    def backend(self) -> Optional[str]:
        """The engine that decodes, described."""
        return self._native.backend

    @property
    def fallback(self) -> Optional[str]:
        """Why the frames are not decoded where ``device`` asked, or None: with
        ``device="cuda"``, a stream the GPU's decoder cannot take is decoded on the CPU and
        its frames are copied to the GPU (``backend`` names the engine)."""
        return self._native.fallback

    @property
    def max_sessions(self) -> int:
        """Decode sessions this decoder runs at once (``sessions``, or the measured best
        for the engine)."""
        return self._native.max_sessions

    @property
    def decode_threads(self) -> Optional[int]:
        """Threads each decode session keeps busy, from the engine (FFmpeg's frame or slice
        threads; 1 for engines that decode on one thread or on the GPU), once the first
        session is open (None before). Times ``max_sessions``: the cores this decoder can
        keep busy."""
        return self._native.decode_threads

    @property
    def stats(self) -> dict:
        """What the decoder did: runs (decodes from a random access point), packets decoded,
        packets parsed for their headers only (H.264 reference pictures no frame asked for
        needs; NVDEC does not decode them), frames returned, frames kept (served from the
        frames decoded ahead or kept from an earlier call, without decoding), sessions, and
        ``index_cache``: what the index cache did at open (``"hit"``: the saved index was
        read, the file not scanned; ``"built"``; ``"remade"``: a saved one was stale or
        damaged; ``"off"``). On a GPU, ``gpu_memory``: the GPU's figures as
        ``video_hw.gpu_memory()`` gives them (what this process's sessions hold, by use, the
        peak and the budget). With ``device="auto"``, ``device_choice``: the last call's
        choice (``device``, ``why``, ``estimate_s`` of each side, the GPU's facts) and
        ``device_choices``: the calls decided for each side."""
        stats = self._native.stats
        device = str(self._options.get("device", "cpu"))
        if device.startswith("cuda"):
            stats["gpu_memory"] = gpu_memory(int(device.partition(":")[2] or 0))
        return stats

    def get_frame_at(self, index: int) -> Frame:
        """The frame at presentation index ``index`` (negative counts from the end)."""
        return self._native.get_frame_at(index)

    def get_frames_at(self, indices: Sequence[int]) -> FrameBatch:
        """The frames at ``indices``, in the order given (repeats allowed). Each GOP is
        decoded once, from the random access point the frames need."""
        return self._native.get_frames_at([int(i) for i in indices])

    def get_frame_played_at(self, seconds: float) -> Frame:
        """The frame shown at ``seconds`` (its ``[pts, pts + duration)`` holds it)."""
        return self._native.get_frame_played_at(float(seconds))

    def get_frames_played_at(self, seconds: Sequence[float]) -> FrameBatch:
        """The frames shown at each of ``seconds``, in the order given."""
        return self._native.get_frames_played_at([float(s) for s in seconds])

    def get_frames_in_range(self, start: int, stop: int, step: int = 1) -> FrameBatch:
        """Frames ``start, start + step, ...`` below ``stop``."""
        return self._native.get_frames_in_range(start, stop, step)

    def frame_times(self) -> Tuple[List[float], List[float]]:
        """Every frame's pts and duration in seconds, in presentation order (read from the
        frame index: nothing is decoded)."""
        t = self._frame_times()
        return list(t.pts), list(t.durations)

    def _frame_ticks(self) -> Tuple[List[int], Tuple[int, int]]:
        """Every frame's pts in the stream's time base, in presentation order, and that
        time base as ``(num, den)`` (what torchcodec's ``custom_frame_mappings`` hold)."""
        return self._native.frame_ticks()

    def _frame_times(self) -> _ranges.Times:
        if self._times is None:
            pts, durations = self._native.frame_times()
            m = self.metadata
            begin = m.begin_stream_seconds if m.begin_stream_seconds is not None else 0.0
            end = m.end_stream_seconds if m.end_stream_seconds is not None else 0.0
            self._times = _ranges.Times(pts, durations, begin, end)
        return self._times

    def get_frames_played_in_range(
        self, start_seconds: float, stop_seconds: float, fps: Optional[float] = None
    ) -> FrameBatch:
        """The frames played in ``[start_seconds, stop_seconds)``, as torchcodec gives them:
        from the frame shown at ``start_seconds`` (it may have begun before) to the last
        whose pts is below ``stop_seconds``; none when the two are equal.

        With ``fps``, the range is resampled to that rate: ``round((stop - start) * fps)``
        frames, the i-th the one shown at ``start + i / fps`` (frames repeat or drop), each
        with that time as its pts and ``1 / fps`` as its duration. Every frame is decoded
        once however often it repeats.

        Raises ``ValueError`` (torchcodec's messages) when ``start > stop``, when ``start``
        lies outside ``[begin_stream_seconds, end_stream_seconds)``, when ``stop`` is past
        ``end_stream_seconds``, or when ``fps`` is not positive."""
        times = self._frame_times()
        start, stop = float(start_seconds), float(stop_seconds)
        if fps is None:
            frames = times.in_range(start, stop)
            return self._native.get_frames_at(frames) if frames else self._empty_batch()
        frames, pts, step = times.resampled(start, stop, float(fps))
        if not frames:
            return self._empty_batch()
        batch = self._native.get_frames_at(frames)
        return FrameBatch(batch.data, pts, [step] * len(pts), list(batch.indices), batch.fallback)

    def get_all_frames(self, fps: Optional[float] = None) -> FrameBatch:
        """Every frame (or the whole stream resampled to ``fps``): the range from
        ``begin_stream_seconds`` to ``end_stream_seconds``."""
        times = self._frame_times()
        return self.get_frames_played_in_range(times.begin, times.end, fps)

    def _empty_batch(self) -> FrameBatch:
        """A batch of no frames, its data shaped ``(0, …)`` as a frame of this decoder is."""
        data = self._native.get_frames_at([]).data
        shape = _frame_shape(self._options, self.metadata)
        if shape is not None:
            data = data.reshape([0, *shape])
        return FrameBatch(data, [], [], [], self.fallback)

    def __repr__(self) -> str:
        m = self.metadata
        return f"VideoDecoder({m.codec} {m.width}x{m.height}, {m.num_frames} frames, {m.container})"

    def close(self) -> None:
        """Closes the decoder: its sessions and the frames it keeps for later calls are
        freed (once a call in progress on another thread ends). Frames and batches already
        handed out stay valid: their pixels are their own. Any later call raises
        ``ValueError``; closing again does nothing."""
        self._native = _CLOSED
        # The samplers' audio tracks of this file (``samplers``' ``audio=``).
        self.__dict__.pop("_audio_tracks", None)

    def __enter__(self) -> "VideoDecoder":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __reduce__(self) -> Tuple[Any, Tuple[Any, dict]]:
        """Pickles as its source and options: the receiving process (a ``spawn`` or
        ``forkserver`` DataLoader worker, a ``multiprocessing.Pool``, Ray) opens it again,
        with sessions of its own. A path travels as the path (the receiver must see the same
        file); bytes and file objects travel as the bytes read."""
        return (_reopen_decoder, (self._source(), dict(self._options)))

    def _source(self) -> Any:
        """What opens this file again: the path as given, else the bytes the decoder read
        (pickling, and the audio track that ``audio=`` opens beside the frames)."""
        return self._path if self._path is not None else self._native.source_bytes()


class _Closed:
    """What a closed ``VideoDecoder`` holds instead of its native decoder: every use is
    a ``ValueError`` that says so."""

    def __getattr__(self, name: str) -> Any:
        raise ValueError(f"the VideoDecoder is closed ({name})")

    def __len__(self) -> int:
        raise ValueError("the VideoDecoder is closed")


_CLOSED = _Closed()


def _frame_shape(options: dict, metadata: VideoMetadata) -> Optional[Tuple[int, ...]]:
    """The shape of one frame as the decoder hands it back, from its options (for empty
    batches); None where it cannot be told before decoding (odd-sized YUV)."""
    if options.get("resize") is not None:
        w, h = options["resize"]
    elif options.get("crop") is not None:
        w, h = options["crop"][2], options["crop"][3]
    else:
        w, h = metadata.width, metadata.height
    if w is None or h is None:
        return None
    fmt = options["pixel_format"]
    channels = {"rgb24": 3, "rgb": 3, "bgr24": 3, "bgr": 3, "rgba": 4, "bgra": 4, "gbrp": 3}.get(fmt)
    if channels is not None:
        planar = options["dimension_order"] == "NCHW" or fmt == "gbrp"
        return (channels, h, w) if planar else (h, w, channels)
    if fmt in ("gray", "gray10le"):
        return (h, w)
    return (h + (h + 1) // 2, w) if w % 2 == 0 else None


def _reopen_decoder(source: Source, options: dict) -> VideoDecoder:
    """A pickled ``VideoDecoder`` opened again (see ``VideoDecoder.__reduce__``)."""
    return VideoDecoder(source, **options)


def _rate(fps: Union[int, float, str, Tuple[int, int]]) -> Tuple[int, int]:
    """A frame rate as (numerator, denominator): 25, 29.97 (30000/1001), "30000/1001", (24, 1)."""
    if isinstance(fps, tuple):
        return int(fps[0]), int(fps[1])
    if isinstance(fps, str) and "/" in fps:
        num, den = fps.split("/", 1)
        return int(num), int(den)
    f = float(fps)
    for base in (24, 30, 48, 60, 120, 240):
        if abs(f - base * 1000 / 1001) < 0.005:
            return base * 1000, 1001
    r = fractions.Fraction(f).limit_denominator(1001)
    return r.numerator, r.denominator


class Encoder:
    """Encodes pictures into H.264/HEVC (or AV1/VP9 where an engine has them) packets, and
    into a file when ``path`` is given: ``.mp4``/``.mov``/``.mkv``/``.webm`` through the
    library's muxers, any other name as a raw Annex-B stream.

        >>> with video_hw.Encoder("out.mp4", width=640, height=360, fps=30) as enc:
        ...     for picture in pictures:             # (540, 640) uint8 I420 planes
        ...         enc.encode(picture)

    Args:
        path: the output file, or None for packets only.
        width, height: the picture size.
        fps: frame rate (25, 29.97, "30000/1001" or (30000, 1001)).
        codec: ``"h264"``, ``"hevc"``, ``"av1"`` (what the engines of the machine encode).
        pixel_format: the pictures given: ``"yuv420p"`` (one ``(H*3/2, W)`` plane: Y, then
            U, then V), ``"nv12"``, ``"rgb24"`` (``(H, W, 3)``), ``"bgra"`` (where the engine
            takes it; the embedded engine converts RGB itself).
        rate_control: ``"cbr"`` or ``"vbr"`` (``bitrate``, ``max_bitrate`` in bit/s) or
            ``"cqp"`` (``qp``).
        gop: frames between key frames; ``b_frames``: consecutive B-frames (None: the
            encoder's own default: libx264 3, libx265 4, none on the other engines).
        preset: ``"fastest"`` … ``"medium"`` … ``"slowest"``; ``tuning``: ``"hq"``,
            ``"low-latency"``, ``"ultra-low-latency"``, ``"lossless"``.
        engine: ``"auto"`` (NVENC where the GPU has it, else the embedded OpenH264),
            ``"nvenc"``, ``"openh264"``, ``"ffmpeg"``.
        device: ``"cpu"`` or ``"cuda:N"``: the GPU NVENC runs on and CUDA pictures come from.
        ffmpeg_encoder: an FFmpeg encoder by name, as ``ffmpeg -c:v`` takes it
            (``"libaom-av1"``, ``"libsvtav1"``, ``"libx265"``, …); only the engine that
            drives it opens. None: the engine's own choice (for AV1, SVT-AV1 first).

    ``encode`` takes a numpy array (any C-ordered uint8 buffer), a ``video_hw`` frame or
    array, or a CUDA array (``__cuda_array_interface__``: CuPy, torch; copied from the GPU).
    Every call returns the packets that became ready (``Packet``: ``data``,
    ``pts_seconds``, ``dts_seconds``, ``key_frame``); ``close`` drains the encoder, returns
    the last ones and finishes the file.
    """

    def __init__(
        self,
        path: Optional[Union[str, "os.PathLike[str]"]] = None,
        *,
        width: int,
        height: int,
        fps: Union[int, float, str, Tuple[int, int]] = 30,
        codec: str = "h264",
        pixel_format: str = "yuv420p",
        rate_control: str = "cbr",
        bitrate: Optional[int] = None,
        max_bitrate: Optional[int] = None,
        qp: Optional[int] = None,
        gop: Optional[int] = None,
        b_frames: Optional[int] = None,
        preset: str = "medium",
        tuning: str = "hq",
        engine: str = "auto",
        device: str = "cpu",
        ffmpeg_encoder: Optional[str] = None,
    ) -> None:
        gpu = 0 if device in ("cpu", "cuda") else int(device.split(":", 1)[1])
        self._native = NativeEncoder(
            None if path is None else os.fspath(path),
            codec=codec,
            width=width,
            height=height,
            fps=_rate(fps),
            pixel_format=pixel_format,
            rate_control=rate_control,
            bitrate=bitrate,
            max_bitrate=max_bitrate,
            qp=qp,
            gop=gop,
            b_frames=b_frames,
            preset=preset,
            tuning=tuning,
            engine=engine,
            device=gpu,
            ffmpeg_encoder=ffmpeg_encoder,
        )

    @property
    def backend(self) -> str:
        """The engine that encodes, described."""
        return self._native.backend

    @property
    def stats(self) -> dict:
        """Frames in, packets and bytes out, key frames."""
        return self._native.stats

    def encode(self, frame: Any, *, frame_number: Optional[int] = None, key_frame: bool = False) -> List[Packet]:
        """Encodes one picture; ``frame_number`` (frames since the start) sets its time,
        ``key_frame`` forces an IDR. Returns the packets ready now."""
        return self._native.encode(frame, frame_number, key_frame)

    def close(self) -> List[Packet]:
        """Drains the encoder, finishes the file; returns the last packets."""
        return self._native.close()

    def __enter__(self) -> "Encoder":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


#: The GPU memory budget of ``decode_many`` where none is set (bytes): see ``decode_many``.
DECODE_MANY_GPU_MEMORY: Optional[int] = None


# decode_many and its NVDEC ramp live in _many.py (this file had grown past the size the
# project keeps files to); imported here, after everything they use is defined.
from ._many import _NVDEC_RAMP, _Ramp, decode_many  # noqa: E402

# Imported last: the samplers take FrameBatch from the native module and decoders as
# arguments, so `video_hw.samplers` is there after `import video_hw`.
from . import samplers  # noqa: E402
