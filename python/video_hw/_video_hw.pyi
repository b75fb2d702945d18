"""Type stubs of the native module (built from crates/video-hw-py)."""

from typing import Any, Dict, List, Optional, Tuple, Union

__version__: str

class VideoHwError(Exception):
    """Base class of every error video_hw raises. ``kind`` names the library's error kind
    (``"invalid_bitstream"``, ``"unsupported"``, ...); ``offset`` is the byte offset of
    damaged input where known; ``engine`` and ``code`` an engine's own failure."""

    kind: str
    offset: Optional[int]
    engine: Optional[str]
    code: Optional[str]

class UnsupportedError(VideoHwError): ...
class InvalidInputError(VideoHwError): ...
class InvalidBitstreamError(VideoHwError): ...
class DeviceLostError(VideoHwError): ...
class EngineError(VideoHwError): ...
class DecodeTimeoutError(VideoHwError): ...

class Array:
    """Pixels in host or GPU memory, lent without copying through DLPack and the array
    interfaces."""

    @property
    def shape(self) -> Tuple[int, ...]: ...
    @property
    def strides(self) -> Tuple[int, ...]: ...
    @property
    def dtype(self) -> str: ...
    @property
    def device(self) -> str: ...
    def __len__(self) -> int: ...
    def __dlpack__(
        self,
        *,
        stream: Any = None,
        max_version: Optional[Tuple[int, int]] = None,
        dl_device: Optional[Tuple[int, int]] = None,
        copy: Optional[bool] = None,
    ) -> Any: ...
    def __dlpack_device__(self) -> Tuple[int, int]: ...
    @property
    def __array_interface__(self) -> Dict[str, Any]: ...
    @property
    def __cuda_array_interface__(self) -> Dict[str, Any]: ...
    def tobytes(self) -> bytes: ...
    def reshape(self, shape: List[int]) -> "Array":
        """The same memory with another shape (no copy); the array must be compact."""
        ...

class Frame:
    """One decoded frame."""

    data: Array
    pts_seconds: float
    duration_seconds: float
    index: int
    key_frame: bool
    def __dlpack__(self, **kwargs: Any) -> Any: ...
    def __dlpack_device__(self) -> Tuple[int, int]: ...

class FrameBatch:
    """Frames decoded together; ``data`` has a first dimension N."""

    data: Array
    pts_seconds: List[float]
    duration_seconds: List[float]
    indices: List[int]
    fallback: Optional[str]
    """Why the frames were not decoded where ``device`` asked (decoded on the CPU and
    copied to the GPU), or None."""
    audio: Any
    """The sound played with the frames where ``audio=`` asked for it: an ``AudioSamples``
    (``decode_many``), a list of them, one per clip (the samplers), or None."""
    def __init__(
        self,
        data: Array,
        pts_seconds: List[Any],
        duration_seconds: List[Any],
        indices: List[Any],
        fallback: Optional[str] = None,
        audio: Any = None,
    ) -> None:
        """A batch made of parts (nested lists for a batch of clips)."""
        ...
    def __len__(self) -> int: ...
    def __dlpack__(self, **kwargs: Any) -> Any: ...
    def __dlpack_device__(self) -> Tuple[int, int]: ...

class NativeAudioDecoder:
    def __init__(
        self,
        source: Any,
        stream_index: Optional[int] = None,
        sample_rate: Optional[int] = None,
        num_channels: Optional[int] = None,
        engine: str = "auto",
    ) -> None: ...
    @property
    def metadata(self) -> Dict[str, Any]: ...
    def samples(self, start: float, stop: Optional[float] = None) -> Tuple[Array, float, int]: ...
    @property
    def damaged_packets(self) -> int: ...
    def source_bytes(self) -> Optional[bytes]: ...

class NativeDecoder:
    def __init__(
        self,
        source: Any,
        *,
        device: str = ...,
        pixel_format: str = ...,
        dimension_order: str = ...,
        seek_mode: str = ...,
        sessions: Optional[int] = ...,
        engine: str = ...,
        on_error: str = ...,
        stream_index: Optional[int] = ...,
        read_ahead_bytes: Optional[int] = ...,
        dtype: str = ...,
        resize: Optional[Tuple[int, int]] = ...,
        crop: Optional[Tuple[int, int, int, int]] = ...,
        interpolation: str = ...,
        mean: Optional[List[float]] = ...,
        std: Optional[List[float]] = ...,
        threads: Optional[int] = ...,
        film_grain: bool = ...,
        color_matrix: str = ...,
        autorotate: bool = ...,
        index_cache: Optional[str] = ...,
    ) -> None: ...
    def __len__(self) -> int: ...
    def source_bytes(self) -> Optional[bytes]: ...
    def interrupt(self) -> None:
        """Stops the call in progress on another thread (or the next call)."""
        ...
    def frame_times(self) -> Tuple[List[float], List[float]]:
        """Every frame's pts and duration in seconds, in presentation order."""
        ...
    def frame_ticks(self) -> Tuple[List[int], Tuple[int, int]]:
        """Every frame's pts in the track's time base, in presentation order, and the time
        base as (num, den)."""
        ...
    @property
    def metadata(self) -> Dict[str, Any]: ...
    @property
    def backend(self) -> Optional[str]: ...
    @property
    def fallback(self) -> Optional[str]: ...
    @property
    def decode_threads(self) -> Optional[int]: ...
    @property
    def max_sessions(self) -> int: ...
    @property
    def stats(self) -> Dict[str, Any]: ...
    def get_frame_at(self, index: int) -> Frame: ...
    def get_frames_at(self, indices: List[int]) -> FrameBatch: ...
    def get_frames_at_admitted(self, indices: List[int], reserve: int, budget: Optional[int] = None) -> FrameBatch: ...
    @property
    def last_job_peak(self) -> int: ...
    def get_frame_played_at(self, seconds: float) -> Frame: ...
    def get_frames_played_at(self, seconds: List[float]) -> FrameBatch: ...
    def get_frames_in_range(self, start: int, stop: int, step: int = 1) -> FrameBatch: ...
    def seek(self, index: int) -> None: ...
    def next_frame(self) -> Optional[Frame]: ...

class Packet:
    """One encoded access unit (Annex-B)."""

    data: bytes
    pts_seconds: Optional[float]
    dts_seconds: Optional[float]
    key_frame: bool
    def __bytes__(self) -> bytes: ...
    def __len__(self) -> int: ...

class NativeEncoder:
    def __init__(
        self,
        path: Optional[str],
        *,
        codec: str,
        width: int,
        height: int,
        fps: Tuple[int, int],
        pixel_format: str,
        rate_control: str,
        bitrate: Optional[int],
        max_bitrate: Optional[int],
        qp: Optional[int],
        gop: Optional[int],
        b_frames: Optional[int],
        preset: str,
        tuning: str,
        engine: str,
        device: int,
        ffmpeg_encoder: Optional[str] = None,
    ) -> None: ...
    @property
    def backend(self) -> str: ...
    @property
    def stats(self) -> Dict[str, int]: ...
    def encode(self, frame: Any, frame_number: Optional[int] = None, key_frame: bool = False) -> List[Packet]: ...
    def close(self) -> List[Packet]: ...

def gpu_memory(device: int = 0) -> Dict[str, Any]:
    """GPU ``device``'s memory as this process's sessions hold it: ``in_use`` and ``peak``
    (bytes counted against the budget), ``delivered`` and ``peak_with_delivered`` (batches
    handed out), ``by_use``, ``limit``, ``waits`` and ``waited_seconds``."""

def reset_gpu_memory_peak(device: int = 0) -> None:
    """Starts GPU ``device``'s peaks again from what is held now."""

def _gpu_memory_would_admit(reserve: int, budget: Optional[int] = None, device: int = 0) -> bool:
    """Whether a job reserving ``reserve`` bytes would start at once under ``budget``."""

def set_max_gpu_memory(limit: Union[None, int, str]) -> None:
    """The GPU memory budget of this process's sessions, every GPU: bytes or a size
    (``"8G"``); 0 for none; None: ``VIDEO_HW_MAX_GPU_MEMORY``'s, or none."""

def parse_gpu_budget(value: Union[None, int, str]) -> Optional[int]:
    """A size as ``max_gpu_memory=`` takes it, in bytes."""

def release_cached_decoders() -> int:
    """Destroys the NVDEC decoders kept for reuse after their sessions closed (GPU memory
    freed now instead of after 5 s unused); how many there were."""

def ffmpeg_info() -> Dict[str, Any]:
    """The FFmpeg the FFmpeg engines run with: ``{"loaded", "summary", "tried"}``."""
    ...

def add_ffmpeg_search_dir(path: str) -> None:
    """Adds a folder to search for FFmpeg's libraries before FFmpeg is first used; ``import
    video_hw`` loads FFmpeg, so a folder added after the import is not searched (set
    ``VIDEO_HW_FFMPEG_DIR`` before the import instead)."""
    ...

def engines() -> List[Dict[str, Any]]:
    """Every engine x codec x direction: whether it works here, and why not."""
