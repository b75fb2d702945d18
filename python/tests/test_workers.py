"""Decoders in worker processes, as data loaders use them: opened in the parent before a
fork, pickled to `spawn` and `forkserver` workers, opened per item; frames equal to the
single-process decode, and every wait bounded (a hang fails the test, it never blocks CI).

The tests run on the engines of the build (CI: FFmpeg, or the embedded OpenH264 with
VIDEO_HW_FFMPEG_DIR=none). With torch installed, the same patterns also run through
`torch.utils.data.DataLoader` with two workers."""

import hashlib
import io
import multiprocessing
import os
import pathlib
import pickle
import threading

import numpy as np
import pytest

import video_hw

ROOT = pathlib.Path(__file__).resolve().parents[2]
MEDIA = ROOT / "testdata" / "media"
FILES = ["h264-aac.mp4", "h264-aac.ts", "h264-opengop.mkv", "h264-vfr.mkv"]
# Each item: 4 frames spread over one file (the files have 100 frames or more).
PICKS = [3, 30, 61, 95]
METHODS = ["fork", "spawn", "forkserver"]
# Long enough for a loaded 2-core CI machine to start workers and decode; short enough
# that a hang fails the run in minutes.
TIMEOUT = 120


def md5(a):
    return hashlib.md5(np.ascontiguousarray(a).tobytes()).hexdigest()


# Options beyond the defaults, as a data loader asks: resized RGB, normalised floats.
OPTIONS = dict(pixel_format="rgb24", resize=(64, 48))


class OpenedInInit:
    """The common Dataset: every decoder opened in ``__init__`` (in the parent)."""

    def __init__(self, paths, **options):
        self.decoders = [video_hw.VideoDecoder(p, **options) for p in paths]
        # The parent has decoded before forking: its sessions (and FFmpeg's frame threads)
        # exist, and must not be what the child waits on.
        for d in self.decoders:
            d.get_frames_at([0, 50])

    def __len__(self):
        return len(self.decoders)

    def __getitem__(self, i):
        return np.ascontiguousarray(np.from_dlpack(self.decoders[i].get_frames_at(PICKS).data))


class OpenedPerItem:
    """The other pattern: a decoder opened for each item, in the worker."""

    def __init__(self, paths, **options):
        self.paths, self.options = list(paths), options

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        d = video_hw.VideoDecoder(self.paths[i], **self.options)
        return np.ascontiguousarray(np.from_dlpack(d.get_frames_at(PICKS).data))


_DATASET = None


def _set_dataset(ds):
    global _DATASET
    _DATASET = ds


def _item(i):
    return i, os.getpid(), md5(_DATASET[i])


def expected(paths, **options):
    return [md5(OpenedPerItem(paths, **options)[i]) for i in range(len(paths))]


def run_pool(method, dataset):
    """Every item of `dataset` on two workers started by `method`: through a fork the
    workers inherit it (as DataLoader's fork workers do); otherwise it is pickled to them."""
    ctx = multiprocessing.get_context(method)
    if method == "fork":
        _set_dataset(dataset)
        pool = ctx.Pool(2)
    else:
        pool = ctx.Pool(2, initializer=_set_dataset, initargs=(dataset,))
    try:
        got = pool.map_async(_item, range(len(dataset)), chunksize=1).get(timeout=TIMEOUT)
    finally:
        pool.terminate()
        pool.join()
    assert all(pid != os.getpid() for _, pid, _ in got)
    return [h for _, _, h in sorted(got)]


@pytest.mark.parametrize("method", METHODS)
def test_decoders_opened_in_the_parent_work_in_workers(method):
    paths = [MEDIA / f for f in FILES]
    ds = OpenedInInit(paths, **OPTIONS)
    assert run_pool(method, ds) == expected(paths, **OPTIONS)
    # The parent's decoders still work, and give the same frames, after the workers ran.
    assert [md5(ds[i]) for i in range(len(ds))] == expected(paths, **OPTIONS)


@pytest.mark.parametrize("method", METHODS)
def test_decoders_opened_per_item_work_in_workers(method):
    paths = [MEDIA / f for f in FILES]
    assert run_pool(method, OpenedPerItem(paths, **OPTIONS)) == expected(paths, **OPTIONS)


def _iterate_in_child(q, dec):
    try:
        q.put([md5(np.from_dlpack(f.data)) for f in dec])
    except Exception as e:  # the parent reports it
        q.put(repr(e))


def test_iteration_on_several_sessions_in_a_forked_child():
    # Sequential reading on two sessions decodes ahead on threads: the child's iteration
    # must neither wait on the parent's (started before the fork) nor join them.
    dec = video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", pixel_format="yuv420p", sessions=2)
    it = iter(dec)
    head = [md5(np.from_dlpack(next(it).data)) for _ in range(10)]
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_iterate_in_child, args=(q, dec))
    p.start()
    got = q.get(timeout=TIMEOUT)
    p.join(TIMEOUT)
    assert p.exitcode == 0
    assert isinstance(got, list), got
    assert len(got) == len(dec) == 100
    assert got[:10] == head
    # The parent goes on where it was.
    assert [md5(np.from_dlpack(f.data)) for f in it] == got[10:]


def _decode_in_child(q, dec):
    try:
        q.put(("frame", md5(np.asarray(dec[7]))))
    except video_hw.VideoHwError as e:
        q.put(("error", str(e)))


def test_a_decoder_busy_in_another_thread_at_the_fork_never_hangs_the_child():
    dec = video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", pixel_format="yuv420p", sessions=1)
    want = md5(np.asarray(dec[7]))
    stop = threading.Event()

    def busy():
        while not stop.is_set():
            dec.get_frames_at([99, 0, 50])

    t = threading.Thread(target=busy)
    t.start()
    try:
        for _ in range(5):
            ctx = multiprocessing.get_context("fork")
            q = ctx.Queue()
            p = ctx.Process(target=_decode_in_child, args=(q, dec))
            p.start()
            kind, what = q.get(timeout=TIMEOUT)
            p.join(TIMEOUT)
            assert p.exitcode == 0
            # Either the lock was free at the fork (the child decodes the right frame), or
            # the parent's thread held it: an error that says what to do, at once.
            if kind == "frame":
                assert what == want
            else:
                assert "fork" in what and "worker" in what, what
    finally:
        stop.set()
        t.join()


def _many_in_child(q):
    try:
        names = ["h264-aac.mp4", "h264-aac.ts", "h264-opengop.mkv"]
        batches = video_hw.decode_many([MEDIA / n for n in names], [[3, 60], [0, 99], [50]], pixel_format="yuv420p")
        q.put([[md5(x) for x in np.from_dlpack(b.data)] for b in batches])
    except Exception as e:  # the parent reports it
        q.put(repr(e))


def test_decode_many_in_a_forked_child_after_the_parent_used_it():
    names = ["h264-aac.mp4", "h264-aac.ts", "h264-opengop.mkv"]
    want = [[3, 60], [0, 99], [50]]
    # The parent ran decode_many (its threads, its decoders kept for reuse) before forking.
    parent = video_hw.decode_many([MEDIA / n for n in names], want, pixel_format="yuv420p")
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_many_in_child, args=(q,))
    p.start()
    got = q.get(timeout=TIMEOUT)
    p.join(TIMEOUT)
    assert p.exitcode == 0
    assert got == [[md5(x) for x in np.from_dlpack(b.data)] for b in parent]


def _encode_in_child(q, enc, picture):
    try:
        enc.encode(picture)
        q.put("encoded")
    except video_hw.VideoHwError as e:
        q.put(f"{type(e).__name__}: {e}")


def test_an_encoder_used_in_a_forked_child_is_a_clear_error():
    enc = video_hw.Encoder(width=64, height=48, fps=25)
    picture = np.full((72, 64), 128, np.uint8)
    enc.encode(picture)
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_encode_in_child, args=(q, enc, picture))
    p.start()
    got = q.get(timeout=TIMEOUT)
    p.join(TIMEOUT)
    assert p.exitcode == 0
    assert got.startswith("UnsupportedError") and "fork" in got and "spawn" in got, got
    # The parent's encoder goes on.
    enc.encode(picture)
    enc.close()
    assert enc.stats["frames_in"] == 2


@pytest.mark.parametrize(
    "options",
    [
        {},
        dict(pixel_format="yuv420p", sessions=2, threads=1),
        dict(pixel_format="rgb24", dimension_order="NHWC", resize=(32, 24), crop=(8, 8, 300, 200)),
        dict(dtype="float32", mean=[0.5, 0.5, 0.5], std=[0.25, 0.25, 0.25], interpolation="area", resize=(40, 30)),
        dict(pixel_format="gray", on_error="skip", seek_mode="approximate", read_ahead_bytes=1 << 20),
    ],
)
@pytest.mark.parametrize("kind", ["str", "path", "bytes", "bytearray", "file"])
def test_pickle_round_trip(kind, options):
    path = MEDIA / "h264-opengop.mkv"
    source = {
        "str": lambda: str(path),
        "path": lambda: path,
        "bytes": lambda: path.read_bytes(),
        "bytearray": lambda: bytearray(path.read_bytes()),
        "file": lambda: io.BytesIO(path.read_bytes()),
    }[kind]()
    dec = video_hw.VideoDecoder(source, **options)
    dec.get_frames_at([5])  # used before pickling: the copy opens its own sessions
    copy = pickle.loads(pickle.dumps(dec))
    assert copy is not dec and copy.metadata == dec.metadata
    assert copy.max_sessions == dec.max_sessions
    picks = [0, 42, 17, len(dec) - 1]
    a, b = dec.get_frames_at(picks), copy.get_frames_at(picks)
    assert np.array_equal(np.from_dlpack(a.data), np.from_dlpack(b.data))
    assert list(a.pts_seconds) == list(b.pts_seconds)


def test_pickle_keeps_the_stream_asked_for():
    path = MEDIA / "h264-aac.mp4"
    dec = video_hw.VideoDecoder(path, stream_index=video_hw.VideoDecoder(path).metadata.stream_index)
    assert pickle.loads(pickle.dumps(dec)).metadata.stream_index == dec.metadata.stream_index


def test_a_pickled_path_that_is_gone_is_a_clear_error(tmp_path):
    moved = tmp_path / "clip.mp4"
    moved.write_bytes((MEDIA / "h264-aac.mp4").read_bytes())
    data = pickle.dumps(video_hw.VideoDecoder(moved))
    moved.unlink()
    with pytest.raises(OSError, match="clip.mp4"):
        pickle.loads(data)


def _stack(items):
    return items


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("pattern", [OpenedInInit, OpenedPerItem])
def test_torch_dataloader(method, pattern):
    # CI installs torch and sets VIDEO_HW_TEST_TORCH=1, which makes a missing torch a failure.
    if os.environ.get("VIDEO_HW_TEST_TORCH") == "1":
        import torch
    else:
        torch = pytest.importorskip("torch", reason="torch is not installed: the DataLoader runs need it")
    paths = [MEDIA / f for f in FILES]
    ds = pattern(paths, **OPTIONS)
    loader = torch.utils.data.DataLoader(
        ds, batch_size=1, num_workers=2, multiprocessing_context=method, timeout=TIMEOUT, collate_fn=_stack
    )
    got = [md5(batch[0]) for batch in loader]
    assert got == expected(paths, **OPTIONS)
