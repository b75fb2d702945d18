"""``device="auto"``: each call decoded where the library's cost model (``video_hw::device_choice``,
docs/python.md) estimates it faster, the CPU or the GPU.

``_AutoNative`` stands in for the native decoder inside ``VideoDecoder``: it opens the file on
a CPU engine at once (the metadata, the frame index and the GOP layout come from it), and a
GPU decoder of the same file only when a call is first estimated faster there. Every call
asks the model with the work the frames asked for take (``decode_work``: runs and packets
from the index), routes the call, and tells the model what it took.

Where the frames land does not depend on the choice: ``"auto"`` gives host frames (the GPU's
are converted there and copied to the host, as ``device="cpu"`` with the GPU's engine gives
them), ``"auto:cuda"``/``"auto:cuda:N"`` GPU frames (the CPU's are uploaded).
"""

import bisect
import os
import threading
import time
from typing import Any, List, Optional, Sequence, Tuple

from ._video_hw import (
    NativeDecoder,
    UnsupportedError,
    _gpu_memory_would_admit,
    device_choice,
    device_engine,
    gpu_memory,
    observe_decode,
)

#: Calls decided for each side in this process, by every ``device="auto"`` decoder (what
#: ``decode_many`` chose over its files; scripts/bench_auto.py reports it).
CHOICES = {"cpu": 0, "cuda": 0}
_CHOICES_LOCK = threading.Lock()

_RGB = {"rgb24": 3, "rgb": 3, "bgr24": 3, "bgr": 3, "gbrp": 3, "rgba": 4, "bgra": 4}
_DTYPE_BYTES = {"uint8": 1, "float16": 2, "float32": 4}


def spill_when_full(choice: dict, room: bool, cpu_decodes: bool) -> dict:
    """The choice for one of ``decode_many``'s files under a GPU memory budget: where the model
    picked the GPU but the budget has no ``room`` for the file now, the file would wait for
    the files ahead of it to finish; the CPU takes it instead where its estimate is within
    twice the GPU's (the GPU's time plus about one file's wait). Otherwise the choice stands
    (and the GPU file waits its turn)."""
    if choice.get("device") != "cuda" or room or not cpu_decodes:
        return choice
    est = choice.get("estimate_s") or {}
    cpu, cuda = est.get("cpu"), est.get("cuda")
    if cpu is None or cuda is None or cpu > 2 * cuda:
        return choice
    return dict(
        choice,
        device="cpu",
        why=f"the GPU memory budget has no room for the file now; the CPU's {cpu:.3f} s is within twice the GPU's {cuda:.3f} s",
    )


def parse_auto(device: str) -> Optional[Tuple[str, int]]:
    """``"auto"`` -> ("cpu", 0); ``"auto:cuda"`` -> ("cuda", 0); ``"auto:cuda:N"`` -> ("cuda", N);
    None for a device that is not auto."""
    if device == "auto":
        return "cpu", 0
    if not device.startswith("auto:"):
        return None
    rest = device[len("auto:") :]
    if rest == "cuda":
        return "cuda", 0
    if rest.startswith("cuda:") and rest[5:].isdigit():
        return "cuda", int(rest[5:])
    raise ValueError(f"device '{device}': auto, auto:cuda or auto:cuda:N")


class _AutoNative:
    """The native decoder's interface over a CPU decoder and a GPU decoder of one source,
    each call on the one the cost model picks (see the module's documentation)."""

    def __init__(self, source: Any, options: dict) -> None:
        device = str(options.get("device"))
        output, gpu = parse_auto(device)  # type: ignore[misc]
        if options.get("engine", "auto") != "auto":
            raise ValueError(f"device='{device}' picks the engine: leave engine='auto'")
        self._source = source
        self._output, self._gpu_index = output, gpu
        self._options = {k: v for k, v in options.items() if k not in ("device", "engine")}
        self._lock = threading.Lock()
        self._gpu: Optional[NativeDecoder] = None
        self._gpu_engine = device_engine()
        self._cpu: Optional[NativeDecoder] = None
        self._cpu_error: Optional[str] = None
        try:
            self._cpu = NativeDecoder(source, device=self._cpu_device(), engine="software", **self._options)
        except UnsupportedError as e:
            # No software engine decodes the stream here: the GPU decodes everything.
            if self._gpu_engine is None:
                raise
            self._cpu_error = str(e)
            self._gpu = self._open_gpu()
        self._primary: NativeDecoder = self._cpu if self._cpu is not None else self._gpu  # type: ignore[assignment]
        self._gpu_used = False
        self._last: Optional[NativeDecoder] = None
        self._iterating: Optional[NativeDecoder] = None
        self._choice: Optional[dict] = None
        self._choices = {"cpu": 0, "cuda": 0}
        self._last_job_peak = 0
        self._times: Optional[List[float]] = None
        m = self._primary.metadata
        self._codec = m["codec"]
        self._size = (m.get("width") or 1920, m.get("height") or 1080)
        fmt = self._options.get("pixel_format", "rgb24")
        depth = 2 if ("10" in fmt or fmt == "p010le") else 1
        per_pixel = _RGB.get(fmt, 1.5 * depth if fmt not in ("gray", "gray10le") else depth)
        out = self._options.get("resize") or (self._options.get("crop") or (0, 0, *self._size))[2:]
        scale = (out[0] * out[1]) / float(self._size[0] * self._size[1])
        self._bytes_per_pixel = per_pixel * _DTYPE_BYTES.get(self._options.get("dtype", "uint8"), 1) * scale
        self._rgb = fmt in _RGB
        self._threads = self._cpu_parallelism()
        self._cpu_sessions = self._sessions_among(self._threads)

    def _cpu_parallelism(self) -> int:
        """Threads the CPU side really keeps busy: its sessions times each one's threads
        (the engine's own figure: FFmpeg's frame or slice threads; one for engines that
        decode a session on one thread, as OpenH264), at most the machine's cores. The machine's core
        count alone was the first guess, and on a 16-core GPU machine whose CPU engine was
        OpenH264 (2 sessions) it put the CPU 4.5x faster than it ran, so auto kept the
        CPU for a whole file the GPU decoded 3x faster (bench/results/auto-grid-h100-*)."""
        threads = self._options.get("threads")
        cores = os.cpu_count() or 1
        if self._cpu is None:
            return cores
        sessions = max(1, self._cpu.max_sessions)
        if threads:
            return max(1, min(cores, int(threads) * sessions))
        per_session = self._cpu.decode_threads or 1
        return max(1, min(cores, per_session * sessions))

    def _sessions_among(self, threads: int) -> int:
        """The CPU side's sessions (independent runs decoding at once), at most its threads."""
        if self._cpu is None:
            return 1
        return max(1, min(threads, self._cpu.max_sessions))

    def share(self, files_at_once: int) -> None:
        """This decoder is one of ``files_at_once`` decoding at once (``decode_many``): the CPU
        side's threads are that share of the machine's (at most what its engine keeps busy)."""
        if not self._options.get("threads"):
            cores = os.cpu_count() or 1
            self._threads = max(1, min(self._cpu_parallelism(), cores // max(1, files_at_once)))
            self._cpu_sessions = self._sessions_among(self._threads)

    def _cpu_device(self) -> str:
        return "cpu" if self._output == "cpu" else f"cuda:{self._gpu_index}"

    def _open_gpu(self) -> NativeDecoder:
        # Host frames from the GPU's engine: device="cpu" with that engine (converted on the
        # GPU, copied to the host); GPU frames: device="cuda:N".
        if self._output == "cpu":
            return NativeDecoder(self._source, device="cpu", engine=self._gpu_engine, **self._options)
        return NativeDecoder(self._source, device=f"cuda:{self._gpu_index}", **self._options)

    # -- the choice ------------------------------------------------------------------------

    def _job(self, frames: Sequence[int], work: Optional[Tuple[int, int]] = None) -> Tuple[tuple, int, int]:
        runs, packets = work if work is not None else self._primary.decode_work(list(frames))
        w, h = self._size
        job = (self._codec, w, h, packets, runs, len(frames), self._output, self._bytes_per_pixel, self._rgb)
        return job, runs, packets

    def _pick(
        self,
        frames: Sequence[int],
        admission: Optional[Tuple[int, Optional[int]]] = None,
        work: Optional[Tuple[int, int]] = None,
    ) -> Tuple[NativeDecoder, Optional[tuple], dict]:
        """The decoder for a call asking ``frames``, the job as the model saw it and the choice.
        With ``admission`` (``(reserve, budget)``: a file of ``decode_many`` under the GPU
        memory budget), a GPU choice whose file would wait for room may go to the CPU
        (:func:`spill_when_full`). ``work``: the job's ``(runs, packets)`` where they are not
        ``decode_work``'s (an iteration's)."""
        job, runs, packets = self._job(frames, work)
        forced = os.environ.get("VIDEO_HW_AUTO", "").strip()
        if forced == "cuda" and self._gpu_engine is not None or forced == "cpu" and self._cpu is not None:
            # Measuring or testing one side: the model is not asked.
            choice = {"device": forced, "why": f"VIDEO_HW_AUTO={forced}", "estimate_s": {"cpu": None, "cuda": None}}
        else:
            # Without a CPU engine the model still runs (it then picks the GPU), so that the
            # GPU's facts and estimate are in stats as for every other choice.
            choice = device_choice(
                job,
                device=self._gpu_index,
                session_open=self._gpu_used,
                cpu_decodes=self._cpu is not None,
                threads=self._threads,
                sessions=self._options.get("sessions"),
                cpu_sessions=self._cpu_sessions,
            )
            if self._cpu is None:
                choice = dict(choice, device="cuda", why=f"no CPU engine decodes the stream: {self._cpu_error}")
            elif admission is not None and self._output == "cuda":
                reserve, budget = admission
                room = _gpu_memory_would_admit(reserve, budget, self._gpu_index)
                choice = spill_when_full(choice, room, cpu_decodes=True)
        if choice["device"] == "cuda" and self._gpu is None:
            try:
                self._gpu = self._open_gpu()
            except UnsupportedError as e:
                # The engine refused the stream when it opened (a profile or size its
                # hardware lacks): the CPU, and the reason.
                choice = dict(choice, device="cpu", why=f"the GPU's engine refused the stream: {e}")
        dec = self._gpu if choice["device"] == "cuda" else self._cpu
        with self._lock:
            self._choice = choice
            self._choices[choice["device"]] += 1
        with _CHOICES_LOCK:
            CHOICES[choice["device"]] += 1
        return dec, job, choice  # type: ignore[return-value]

    def _observe(self, dec: NativeDecoder, job: tuple, choice: dict, seconds: float) -> None:
        """Tells the model what the call took. A GPU call that paid the GPU's start (its
        first) says more about fixed costs than rates and is not counted."""
        warm = dec is not self._gpu or self._gpu_used
        if dec is self._gpu:
            self._gpu_used = True
        if job is None:
            return
        if not warm:
            # Only that the process's GPU side now runs (its context made, decoders parked for
            # the next files): a job of no packets moves no rate.
            observe_decode("cuda", job[:3] + (0,) + job[4:], 1, seconds)
            return
        runs, packets = job[4], job[3]
        if dec is self._gpu:
            parallel = min(int((choice.get("gpu") or {}).get("engines") or 1), max(1, runs))
        else:
            # The threads the model counted for the job (its runs on the sessions).
            parallel = int(choice.get("cpu_parallel") or min(self._threads, max(1, packets)))
        observe_decode(choice["device"], job, max(1, parallel), seconds)

    def _run(self, frames: Sequence[int], call: str, *args: Any) -> Any:
        dec, job, choice = self._pick(frames)
        started = time.perf_counter()
        out = getattr(dec, call)(*args)
        self._observe(dec, job, choice, time.perf_counter() - started)
        self._last = dec
        return out

    def get_frames_at_admitted(self, indices: List[int], reserve: int, budget: Optional[int]) -> Any:
        """``get_frames_at`` as one of ``decode_many``'s files under the GPU memory budget: a
        GPU call whose frames land in GPU memory is a job of the budget (it waits for room, as
        ``device="cuda"`` files do, unless :func:`spill_when_full` sends it to the CPU); a CPU
        call is not. A call that waited for room does not teach the model (its time is not the
        decode's)."""
        dec, job, choice = self._pick(indices, (reserve, budget))
        admitted = dec is self._gpu and self._output == "cuda"
        waits = gpu_memory(self._gpu_index)["waits"] if admitted else 0
        started = time.perf_counter()
        if admitted:
            out = dec.get_frames_at_admitted(indices, reserve, budget)
            self._last_job_peak = dec.last_job_peak
        else:
            out = dec.get_frames_at(indices)
            self._last_job_peak = 0
        seconds = time.perf_counter() - started
        if admitted and gpu_memory(self._gpu_index)["waits"] != waits:
            # Some job waited meanwhile (perhaps this one): not a decode's time.
            job = None
        self._observe(dec, job, choice, seconds)
        self._last = dec
        return out

    @property
    def last_job_peak(self) -> int:
        """The most GPU memory the last admitted call held at once (0 for a CPU call)."""
        return self._last_job_peak

    def _frames_at_seconds(self, seconds: Sequence[float]) -> List[int]:
        if self._times is None:
            self._times = list(self._primary.frame_times()[0])
        n = len(self._times)
        return [min(n - 1, max(0, bisect.bisect_right(self._times, float(s)) - 1)) for s in seconds] if n else []

    # -- the native decoder's interface -----------------------------------------------------

    def get_frame_at(self, index: int) -> Any:
        return self._run([index], "get_frame_at", index)

    def get_frames_at(self, indices: List[int]) -> Any:
        return self._run(indices, "get_frames_at", indices)

    def get_frames_in_range(self, start: int, stop: int, step: int) -> Any:
        n = len(self._primary)
        s, e = max(0, start if start >= 0 else start + n), min(n, stop if stop >= 0 else stop + n)
        return self._run(list(range(s, e, max(1, step))), "get_frames_in_range", start, stop, step)

    def get_frame_played_at(self, seconds: float) -> Any:
        return self._run(self._frames_at_seconds([seconds]), "get_frame_played_at", seconds)

    def get_frames_played_at(self, seconds: List[float]) -> Any:
        return self._run(self._frames_at_seconds(seconds), "get_frames_played_at", seconds)

    def seek(self, index: int) -> None:
        # An iteration: every frame from `index` on is the job.
        n = len(self._primary)
        first = max(0, index if index >= 0 else index + n)
        # An iteration reads the GOPs ahead on several sessions at once: its runs are those
        # pieces, not decode_work's one run of the whole stretch.
        work = self._primary.sequential_work(first) if first < n else (0, 0)
        dec, _job, _choice = self._pick(list(range(first, n)), work=work)
        if dec is self._gpu:
            self._gpu_used = True
        self._iterating = self._last = dec
        dec.seek(index)

    def next_frame(self) -> Any:
        dec = self._iterating or self._primary
        return dec.next_frame()

    def interrupt(self) -> None:
        for dec in (self._cpu, self._gpu):
            if dec is not None:
                dec.interrupt()

    def decode_work(self, frames: List[int]) -> Tuple[int, int]:
        return self._primary.decode_work(frames)

    def __len__(self) -> int:
        return len(self._primary)

    def source_bytes(self) -> Any:
        return self._primary.source_bytes()

    def frame_times(self) -> Any:
        return self._primary.frame_times()

    def frame_ticks(self) -> Any:
        return self._primary.frame_ticks()

    @property
    def metadata(self) -> dict:
        return self._primary.metadata

    @property
    def max_sessions(self) -> int:
        return self._primary.max_sessions

    @property
    def fallback(self) -> Optional[str]:
        # A choice, not a fallback: the reason is in stats["device_choice"].
        return None

    @property
    def backend(self) -> str:
        dec = self._last
        if dec is None:
            return f"auto (nothing decoded yet; CPU side: {self._primary.backend})"
        device = "cuda" if dec is self._gpu else "cpu"
        return f"auto -> {device}: {dec.backend}"

    @property
    def stats(self) -> dict:
        """The stats of the decoder that ran the last call, and ``device_choice``: the last
        call's choice (``device``, ``why``, ``estimate_s``, the GPU's facts), and
        ``device_choices``: calls decided for each side."""
        dec = self._last or self._primary
        stats = dict(dec.stats)
        with self._lock:
            stats["device_choice"] = self._choice
            stats["device_choices"] = dict(self._choices)
        return stats
