"""``decode_many``: frames of many files at once, one batch per file, and the ramp of files
decoded at once on NVDEC. Imported by the package's ``__init__`` once the decoder is defined."""

import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from typing import Any, List, Optional, Sequence, Tuple, Union

from . import (
    _audio,
    FrameBatch,
    Source,
    VideoDecoder,
    VideoHwError,
    _Closed,
    _parse_gpu_budget,
    _QUIET_FALLBACK,
    gpu_memory,
)
from ._auto import _AutoNative
from ._video_hw import device_engine


class _Ramp:
    """How many files a ``decode_many`` call decodes at once on NVDEC: one per engine until
    this process has decoded ``RAMP_FILES`` files there through ``decode_many``'s default,
    then two per engine (calls running side by side each have their own limit).

    A second file per engine keeps the engine busy while the other's session opens and
    drains: on an H200, a batch of 32 1080p clips took 0.38-0.42 s with 14 files at a time
    against 0.44-0.48 s with 7, ~1.6 ms less per file. But each of those 7 more decoders costs
    the driver ~40 ms to create and ~23 ms to destroy, one at a time whoever asks: ~0.45 s
    in all, which ~280 files earn back (bench/results/python-clips-timeline-20261123-ad4a874.md).
    Adding them in a process's first call or its second cost the same. So a short job keeps
    to one decoder per engine and a long one (a training run's loader) moves to two, in the
    middle of a call if need be. ``VIDEO_HW_DECODE_MANY_RAMP=0`` starts at two (measuring).
    """

    RAMP_FILES = 256

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.files = 0
        # The gates of calls running below the threshold, and the permits each lacks.
        self.narrow: List[Tuple[threading.Semaphore, int]] = []

    def open(self, first: int, full: int) -> threading.Semaphore:
        """A gate for one call: ``first`` files at once, ``full`` once ramped."""
        with self.lock:
            off = os.environ.get("VIDEO_HW_DECODE_MANY_RAMP", "").strip() == "0"
            if off or self.files >= self.RAMP_FILES or full <= first:
                return threading.Semaphore(full)
            entry = (threading.Semaphore(first), full - first)
            self.narrow.append(entry)
            return entry[0]

    def close(self, gate: threading.Semaphore) -> None:
        """The call that had ``gate`` has ended."""
        with self.lock:
            self.narrow = [e for e in self.narrow if e[0] is not gate]

    def after_fork(self) -> None:
        """In a forked child: a lock another thread of the parent held stays held there."""
        self.lock = threading.Lock()
        self.narrow = []

    def file_done(self) -> None:
        """Counts a file decoded; at the threshold, widens the gates of the calls running."""
        with self.lock:
            self.files += 1
            if self.files < self.RAMP_FILES:
                return
            widen, self.narrow = self.narrow, []
        for gate, more in widen:
            for _ in range(more):
                gate.release()


_NVDEC_RAMP = _Ramp()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_NVDEC_RAMP.after_fork)


def decode_many(
    sources: Sequence[Source],
    indices: Optional[Sequence[Sequence[int]]] = None,
    *,
    workers: Optional[int] = None,
    max_gpu_memory: Union[None, int, str] = None,
    audio: Any = None,
    **decoder_args: Any,
) -> List[Optional[FrameBatch]]:
    """Decodes frames of many files at once and returns one batch per source, in order.

    ``indices[i]`` are the frames of ``sources[i]`` (every frame when ``indices`` is None).
    The files are decoded on ``workers`` threads at once; decoding releases the GIL. The
    default is what the engine is measured to do best: on NVDEC one file per engine at a
    time (7 on an H200), two once the process has decoded 256 files there (each second
    decoder costs ~65 ms of the driver's time to make and destroy, which a short job does
    not earn back), each on one session; on software engines one per CPU core. Decoders are
    reused from file to file (no new decoder per file of the same codec and size).
    ``device`` may be a list (``["cuda:0", "cuda:1"]``): the files go to the devices in turn,
    with as many threads more. ``decoder_args`` go to each ``VideoDecoder``; with
    ``on_error="skip"`` a file that cannot
    be opened (missing, damaged beyond reading, unsupported) gives ``None`` in its place
    instead of an error.

    With ``device="cuda"``, a file the GPU's decoder cannot take (AV1 on an H100 or H200) is
    decoded on the CPU and its frames copied to the GPU, as ``VideoDecoder`` does: that
    file's batch says why in ``fallback`` (None for the others), and the call gives one
    ``RuntimeWarning`` however many files fell back.

    With ``device="auto"`` (or ``"auto:cuda"``) each file is decided on its own, from the
    frames asked of it: its batch's decoder was routed by the cost model as
    ``VideoDecoder(device="auto")`` routes a call (the files' batches are where the device
    says, whichever side decoded them).

    GPU memory: with ``device="cuda"`` each file is a job of the GPU memory budget, and
    with ``device="auto:cuda"`` each file the model sends to the GPU
    (``max_gpu_memory``: bytes or a size such as ``"2G"``, 0 for none; None: the process's,
    from ``set_max_gpu_memory`` or ``VIDEO_HW_MAX_GPU_MEMORY``, else
    :data:`DECODE_MANY_GPU_MEMORY`, none by default).
    A file starts only while the memory the library holds (decoders, frames, pools; not
    the batches already returned) and what the files in flight may still take leave room
    for it, so past the budget files wait rather than fail; one file alone always runs.
    Under ``"auto:cuda"`` a file the model sent to the GPU that would wait for room goes to
    the CPU instead where the CPU's estimate is within twice the GPU's
    (``stats["device_choice"]["why"]`` says so).
    ``gpu_memory()`` gives the figures.

    Sound: with ``audio=True`` (or a dict of ``AudioDecoder``'s options: ``stream_index``,
    ``sample_rate``, ``num_channels``, ``engine``) each batch's ``audio`` is an
    ``AudioSamples``: the samples played from the earliest frame asked for to the end of
    the latest (sample-accurate, as ``AudioDecoder.get_samples_played_in_range`` gives
    them), cut to the track; None for a file with no audio track. The sound is decoded
    on the same threads, after the file's frames.
    """
    if indices is not None and len(indices) != len(sources):
        raise ValueError("indices needs one list of frames per source")
    if not sources:
        return []
    skip = decoder_args.get("on_error") == "skip"
    sound = _audio.audio_options(audio)
    # Several devices: the files go to them in turn.
    devices = decoder_args.pop("device", "cpu")
    devices = [devices] if isinstance(devices, str) else list(devices)
    if not devices:
        raise ValueError("device: a device name or a list of them")
    cuda = all(str(d).startswith("cuda") for d in devices)
    # Files that device="auto:cuda" sends to the GPU are jobs of the budget too.
    auto_gpu = any(str(d).startswith("auto:cuda") for d in devices) and device_engine() is not None

    def open_one(i: int, sessions: Optional[int]) -> Optional[VideoDecoder]:
        try:
            args = dict(decoder_args, device=devices[i % len(devices)])
            if sessions is not None:
                args.setdefault("sessions", sessions)
            _QUIET_FALLBACK.on = True
            try:
                dec = VideoDecoder(sources[i], **args)
            finally:
                _QUIET_FALLBACK.on = False
            if dec.fallback is not None:
                with busy_lock:
                    fell_back.append((i, dec.fallback, dec.backend))
            return dec
        except (VideoHwError, OSError):
            if skip:
                return None
            raise

    # Ctrl-C (or any exception) in the calling thread stops the decoders at work on the
    # pool's threads part-way (their `interrupt`) and the files not started: without it,
    # leaving the pool would wait for every file to be decoded. A decoder is noted before
    # `stopping` is read, so that one opened as the pool stops is stopped too.
    busy: set = set()
    busy_lock = threading.Lock()
    stopping = threading.Event()
    # (file, reason, backend) of each decoder that fell back, for the call's one warning.
    fell_back: List[Tuple[int, str, Optional[str]]] = []

    # The GPU memory budget of the files (None: the process's, else the default) and what
    # each file reserves: the most one file of this call held so far, or an estimate
    # before one finished.
    budgeted = cuda or auto_gpu
    budget = _parse_gpu_budget(max_gpu_memory) if budgeted else None
    if budgeted and budget is None and gpu_memory(0)["limit"] is None:
        from . import DECODE_MANY_GPU_MEMORY  # read at each call: settable on the package

        budget = DECODE_MANY_GPU_MEMORY  # (0 is no budget, as None)
    learned = [0]

    def reserve_for(dec: VideoDecoder, count: int) -> int:
        if learned[0]:
            return learned[0]
        return _file_estimate(dec, count)

    def frames(i: int, dec: Optional[VideoDecoder]) -> Optional[FrameBatch]:
        if dec is None:
            return None
        with busy_lock:
            busy.add(dec)
        try:
            if stopping.is_set():
                return None
            wanted = list(range(len(dec)) if indices is None else indices[i])
            if isinstance(dec._native, _AutoNative):
                # The CPU's threads are shared by the files decoding at once.
                dec._native.share(n)
            admitted = cuda or budgeted and isinstance(dec._native, _AutoNative)
            if not admitted or isinstance(dec._native, _Closed):
                batch = dec.get_frames_at(wanted)
            else:
                # An auto file the model sends to the CPU is not a job of the budget (its
                # peak is 0 and teaches the reservation nothing).
                batch = dec._native.get_frames_at_admitted(wanted, reserve_for(dec, len(wanted)), budget)
                peak = dec._native.last_job_peak
                with busy_lock:
                    learned[0] = max(learned[0], peak)
            return batch if sound is None else _with_sound(dec, batch, sound, skip)
        finally:
            with busy_lock:
                busy.discard(dec)

    def stop_all() -> None:
        stopping.set()
        with busy_lock:
            for dec in busy:
                if not isinstance(dec._native, _Closed):
                    dec._native.interrupt()

    # The first file tells the engine's measured best session count (opening reads its
    # index; no decoder is made before it decodes).
    probe = open_one(0, None)
    engine_sessions = probe.max_sessions if probe is not None else 1
    # Many files: the parallelism is across files, one session each, the first file's too
    # (opened again: on its own it may take a session per engine).
    per_file = 1 if len(sources) > 1 else None
    first = [probe if per_file is None or probe is None else open_one(0, per_file)]
    del probe
    if workers:
        n, gate = workers, None
    elif any(str(d).startswith("auto") for d in devices) and device_engine() is not None:
        # Files may go to either side: as many at once as the GPU has engines (7 on an
        # H100 or H200), or the CPU side's own count where that is more.
        n = max(engine_sessions, 7) * len(devices)
        gate = None
    elif cuda:
        n = 2 * engine_sessions * len(devices)
        gate = _NVDEC_RAMP.open(engine_sessions * len(devices), n)
    else:
        n, gate = engine_sessions * len(devices), None
    try:
        n = max(1, min(n, len(sources)))

        def one(i: int) -> Optional[FrameBatch]:
            # The first file's decoder goes with its frames, so its sessions' decoders are
            # kept for the files after it rather than held until every file is done.
            dec = first.pop() if i == 0 else open_one(i, per_file)
            if gate is None:
                return frames(i, dec)
            with gate:
                batch = frames(i, dec)
                del dec
            _NVDEC_RAMP.file_done()
            return batch

        pool = ThreadPoolExecutor(max_workers=n)
        try:
            futures = [pool.submit(one, i) for i in range(len(sources))]
            # Waited on in steps: a signal the kernel hands to one of the pool's threads
            # (it may pick any thread of the process) does not wake a lock wait of the main
            # thread, so Ctrl-C would wait for a file to finish; between the steps Python
            # runs its handlers.
            pending = set(futures)
            while pending:
                _, pending = futures_wait(pending, timeout=0.05)
            results = [f.result() for f in futures]
            _warn_fallbacks(fell_back, len(sources))
            return results
        except BaseException:
            stop_all()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=True)
    finally:
        if gate is not None:
            _NVDEC_RAMP.close(gate)


def _with_sound(dec: "VideoDecoder", batch: FrameBatch, options: dict, skip: bool) -> Optional[FrameBatch]:
    """``batch`` with the sound of its frames (``decode_many``'s ``audio=``). The audio track
    is opened from what the video decoder read (a file object given is read once). A
    track that fails gives None for the file under ``on_error="skip"``, as a file that
    fails to open does, and raises otherwise: never frames with their sound quietly gone."""
    if len(batch) == 0:
        return batch
    try:
        track = _audio.open_track(dec._source(), options)
        samples = None if track is None else _audio.samples_with(track, batch.pts_seconds, batch.duration_seconds)
    except (VideoHwError, OSError):
        if skip:
            return None
        raise
    return FrameBatch(batch.data, batch.pts_seconds, batch.duration_seconds, batch.indices, batch.fallback, samples)


def _file_estimate(dec: "VideoDecoder", frames: int) -> int:
    """What one file of ``decode_many`` may hold on the GPU before one was measured: its
    decoder's surfaces (~24 pictures of NV12) and its frames twice (decoded, then packed into
    the batch)."""
    m = dec.metadata
    w, h = m.width or 1920, m.height or 1080
    fmt = dec._options.get("pixel_format", "rgb24")
    per_frame = w * h * (4 if fmt in ("rgba", "bgra") else 3 if fmt not in ("nv12", "yuv420p") else 1.5)
    return int(24 * w * h * 1.5 + 2 * frames * per_frame)


def _warn_fallbacks(fell_back: List[Tuple[int, str, Optional[str]]], files: int) -> None:
    """``decode_many``'s one warning for the files decoded on the CPU for the GPU (the
    first file, opened twice when there are several, is counted once)."""
    if not fell_back:
        return
    first, reason, backend = min(fell_back)
    count = len({i for i, _, _ in fell_back})
    warnings.warn(
        f"video_hw: {count} of {files} files fell back, the first (file {first}): {reason}; "
        f"decoding with {backend}",
        RuntimeWarning,
        stacklevel=3,
    )
