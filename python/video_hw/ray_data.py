"""Decoding a dataset of video files with Ray Data: the same decoders as one process, on
every worker of a cluster.

    >>> import ray, video_hw.ray_data as vr
    >>> ds = vr.read_videos(paths, num_frames=8, resize=(224, 224), pixel_format="rgb24",
    ...                     workers=4, gpus_per_worker=1)
    >>> for row in ds.iter_rows():
    ...     row["path"], row["frames"].shape, row["error"]   # (8, 3, 224, 224) uint8, None

Each row of the result is one file: ``path``, ``frames`` (an array ``(N, …)`` of the frames
asked for, in the layout ``VideoDecoder`` gives), ``indices`` (their frame numbers),
``pts_seconds`` and ``error``. A file that cannot be decoded (missing, truncated,
unsupported, damaged where the frames were asked for) gives a row with its ``error`` (the
exception's type and message) and no frames: one file never fails the job.

A worker whose GPU is lost (``DeviceLostError``: a reset, an Xid, the driver gone) cannot
decode again in that process, since a CUDA context that saw such an error stays broken. It
ends its process instead, so that Ray starts a new worker (Ray Data restarts map actors and
retries their tasks by default) and the file is decoded again there, on the GPU Ray gives
the new worker. Each file gets ``device_retries`` such retries (default 2, counted on each
node); after them, or outside a Ray actor, the loss is that file's error row like any other.
The rows already made are kept: a batch is one file.

Workers are Ray actors (``DecodeVideos``, usable with ``Dataset.map_batches`` directly).
Each opens a ``VideoDecoder`` per file; its sessions come from the library's caches (on
NVDEC a decoder of the same codec and size is reused from file to file), so a worker pays
for its GPU context once. With ``gpus_per_worker=1`` each worker asks Ray for a GPU and
the automatic engine decodes on it with NVDEC (Ray sets ``CUDA_VISIBLE_DEVICES``); the
frames (resized and converted on the GPU when asked) come to host memory for the dataset.
Without a GPU the embedded engine (OpenH264, H.264) or the engine ``engine=`` names
decodes on the worker's CPUs.

Needs ``ray[data]`` (not a dependency of the package: ``pip install "ray[data]"``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from . import DeviceLostError, VideoDecoder

#: Exit status of a worker process that ends because its GPU was lost.
DEVICE_LOST_EXIT = 75

__all__ = ["DEVICE_LOST_EXIT", "DecodeVideos", "read_videos", "sample_indices"]


def sample_indices(num_frames_in_file: int, num_frames: Optional[int]) -> List[int]:
    """The frames taken from a file of ``num_frames_in_file`` frames: every frame when
    ``num_frames`` is None, else ``num_frames`` spread evenly from the first frame (the
    centre of each of ``num_frames`` equal parts; fewer when the file is shorter)."""
    if num_frames is None:
        return list(range(num_frames_in_file))
    if num_frames <= 0:
        raise ValueError("num_frames must be at least 1")
    n = min(num_frames, num_frames_in_file)
    return [int((2 * k + 1) * num_frames_in_file // (2 * n)) for k in range(n)]


class DecodeVideos:
    """A ``map_batches`` callable: decodes the files named in a batch's ``path`` column.

    ``num_frames`` (or ``indices``, a function of the file's frame count giving the frame
    numbers) chooses the frames; every other keyword goes to ``VideoDecoder`` (``engine``,
    ``pixel_format``, ``resize``, ``dtype``, ``mean``/``std``, …). The rows hold host
    arrays, so ``device`` stays ``"cpu"``: on a worker with a GPU, NVDEC still decodes.
    """

    def __init__(
        self,
        *,
        num_frames: Optional[int] = None,
        indices: Optional[Callable[[int], Sequence[int]]] = None,
        device_retries: int = 2,
        **decoder_args: Any,
    ) -> None:
        if num_frames is not None and indices is not None:
            raise ValueError("give num_frames or indices, not both")
        if num_frames is not None and num_frames <= 0:
            raise ValueError("num_frames must be at least 1")
        if device_retries < 0:
            raise ValueError("device_retries must be 0 or more")
        self._num_frames = num_frames
        self._indices = indices
        self._device_retries = device_retries
        self._args = dict(decoder_args)
        self.files = 0
        self.failures = 0

    def _open(self, path: str) -> VideoDecoder:
        """The decoder for one file (a subclass may wrap it, e.g. to inject failures)."""
        return VideoDecoder(path, **self._args)

    def _one(self, path: str) -> Dict[str, Any]:
        dec = self._open(path)
        n = len(dec)
        wanted = list(self._indices(n)) if self._indices is not None else sample_indices(n, self._num_frames)
        batch = dec.get_frames_at(wanted)
        frames = np.from_dlpack(batch.data)
        return {
            "path": path,
            "frames": np.ascontiguousarray(frames),
            "indices": np.asarray(wanted, dtype=np.int64),
            "pts_seconds": np.asarray(batch.pts_seconds, dtype=np.float64),
            "error": None,
        }

    def __call__(self, batch: Dict[str, Any]) -> Dict[str, List[Any]]:
        out: Dict[str, List[Any]] = {k: [] for k in ("path", "frames", "indices", "pts_seconds", "error")}
        for path in batch["path"]:
            path = str(path)
            self.files += 1
            try:
                row = self._one(path)
            except DeviceLostError as e:
                if self._retry_elsewhere(path):
                    # This process's CUDA context is beyond repair: end it, and Ray retries
                    # the batch on a new worker. Nothing of this batch was handed out yet.
                    os._exit(DEVICE_LOST_EXIT)
                self.failures += 1
                row = _error_row(path, e)
            except Exception as e:  # noqa: BLE001 - one file's failure is that file's row
                self.failures += 1
                row = _error_row(path, e)
            for k, v in row.items():
                out[k].append(v)
        return out

    def _retry_elsewhere(self, path: str) -> bool:
        """Whether a file that met a lost GPU should be retried by a new worker: only in a
        Ray actor (which Ray restarts), and at most ``device_retries`` times per file,
        counted in a file per path in this node's temporary directory (the count must
        outlive the process), under the job and the node's id (a node's id is new each
        time Ray starts there, where job ids start again from 1)."""
        try:
            import ray

            context = ray.get_runtime_context()
            if context.get_actor_id() is None:
                return False
            run = f"{context.get_job_id()}-{context.get_node_id()}"
        except Exception:  # noqa: BLE001 - not in Ray: no one to retry
            return False
        tries = os.path.join(tempfile.gettempdir(), "video_hw_ray_device_retries", run)
        os.makedirs(tries, exist_ok=True)
        ledger = os.path.join(tries, hashlib.sha256(path.encode()).hexdigest())
        with open(ledger, "a+") as f:
            f.write("x")
            f.flush()
            f.seek(0)
            done = len(f.read())
        return done <= self._device_retries


def _error_row(path: str, e: BaseException) -> Dict[str, Any]:
    """The row of a file that could not be decoded."""
    return {
        "path": path,
        "frames": np.zeros((0,), dtype=np.uint8),
        "indices": np.zeros((0,), dtype=np.int64),
        "pts_seconds": np.zeros((0,), dtype=np.float64),
        "error": f"{type(e).__name__}: {e}",
    }


def read_videos(
    paths: Sequence[str],
    *,
    num_frames: Optional[int] = None,
    indices: Optional[Callable[[int], Sequence[int]]] = None,
    workers: int = 2,
    gpus_per_worker: float = 0,
    cpus_per_worker: float = 1.0,
    device_retries: int = 2,
    **decoder_args: Any,
):
    """A Ray ``Dataset`` of one row per file of ``paths`` (see the module's help), decoded
    by ``workers`` actors, each asking Ray for ``gpus_per_worker`` GPUs and
    ``cpus_per_worker`` CPUs; a file whose worker loses its GPU is retried by a new worker
    up to ``device_retries`` times. Frames come in host memory (``device`` is not taken: a GPU
    worker decodes on its GPU and hands the frames over). Needs a running Ray
    (``ray.init()``) or starts a local one."""
    import ray.data

    if "device" in decoder_args:
        raise ValueError("read_videos gives host frames: ask for GPUs with gpus_per_worker instead of device")
    blocks = max(1, min(len(paths), 4 * workers))
    ds = ray.data.from_items([{"path": str(p)} for p in paths], override_num_blocks=blocks)
    return ds.map_batches(
        DecodeVideos,
        fn_constructor_kwargs=dict(
            num_frames=num_frames, indices=indices, device_retries=device_retries, **decoder_args
        ),
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_gpus=gpus_per_worker,
        num_cpus=cpus_per_worker,
        batch_format="numpy",
    )
