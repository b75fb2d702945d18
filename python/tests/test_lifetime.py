"""A decoder in a real loader's hands: shared by 8 threads (calls serialised, every frame
right, no deadlock), frames lent out without a copy that outlive their decoder, a decoder
closed with frames in flight or mid-iteration, and a decoder after ``fork`` on the CPU.
Frames are checked against a decoder used by one thread only (itself checked against
ffmpeg's references in test_decoder.py)."""

import gc
import hashlib
import multiprocessing
import pathlib
import random
import threading
import time
import weakref

import numpy as np
import pytest

import video_hw
from _engines import cpu_engine

ROOT = pathlib.Path(__file__).resolve().parents[2]
MEDIA = ROOT / "testdata" / "media"
CLIP = MEDIA / "h264-aac.mp4"
# A hang fails the test within this, instead of holding CI.
TIMEOUT = 120
# These are the CPU path's tests (on a machine with a GPU, "auto" would pick NVDEC, whose RGB
# is made on the GPU with other rounding; after a fork, a child may not use the parent's CUDA).
ENGINE = cpu_engine()


def md5(a):
    return hashlib.md5(np.ascontiguousarray(a).tobytes()).hexdigest()


@pytest.fixture(scope="module")
def reference():
    dec = video_hw.VideoDecoder(CLIP, pixel_format="rgb24", engine=ENGINE, sessions=1)
    return [md5(np.asarray(dec[i])) for i in range(len(dec))]


@pytest.mark.parametrize("sessions", [1, 3])
def test_one_decoder_from_8_threads(reference, sessions):
    """``dec[i]`` and ``get_frames_at`` from 8 threads at once on one decoder: its calls
    are serialised (one at a time, in some order), so every frame is right, and all end."""
    dec = video_hw.VideoDecoder(CLIP, pixel_format="rgb24", engine=ENGINE, sessions=sessions)
    n = len(dec)
    wrong, errors = [], []

    def work(seed):
        rng = random.Random(seed)
        try:
            for _ in range(12):
                if rng.random() < 0.5:
                    i = rng.randrange(-n, n)
                    if md5(np.asarray(dec[i])) != reference[i % n]:
                        wrong.append(("dec[i]", i))
                else:
                    picks = [rng.randrange(n) for _ in range(rng.randrange(1, 9))]
                    batch = np.from_dlpack(dec.get_frames_at(picks).data)
                    for j, k in enumerate(picks):
                        if md5(batch[j]) != reference[k]:
                            wrong.append(("get_frames_at", k))
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(s,)) for s in range(8)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT - (time.monotonic() - start))
    assert not [t for t in threads if t.is_alive()], "a thread is still decoding: deadlock"
    assert not errors, errors
    assert not wrong, wrong[:10]


def test_frames_outlive_their_decoder(reference):
    """Frames and batches lend the decoder's pixels (DLPack, the array interface): after the
    decoder is dropped and collected, they still hold the right pixels."""
    dec = video_hw.VideoDecoder(CLIP, pixel_format="rgb24", engine=ENGINE)
    single = dec[10]
    frame = dec.get_frame_at(20)
    batch = dec.get_frames_at([30, 31, 99])
    view = np.from_dlpack(batch.data)  # a view, no copy
    native = weakref.ref(dec._native)
    del dec
    gc.collect()
    assert native() is None, "the native decoder is still alive"
    assert md5(np.asarray(single)) == reference[10]
    assert md5(np.from_dlpack(frame.data)) == reference[20]
    assert [md5(view[i]) for i in range(3)] == [reference[k] for k in (30, 31, 99)]
    # The view alone keeps the pixels: the batch object can go too.
    del batch
    gc.collect()
    assert [md5(view[i]) for i in range(3)] == [reference[k] for k in (30, 31, 99)]


def test_close_with_frames_in_flight(reference):
    """``close()`` mid-iteration and with frames held: the frames stay right, the native
    decoder (its sessions, the frames kept for later calls) is freed, and any later use
    says the decoder is closed."""
    dec = video_hw.VideoDecoder(CLIP, pixel_format="rgb24", engine=ENGINE, sessions=3)
    held = []
    for k, frame in enumerate(dec):
        held.append(frame)
        if k == 40:
            native = weakref.ref(dec._native)
            dec.close()
            break
    batch = None
    with pytest.raises(ValueError, match="closed"):
        batch = dec.get_frames_at([1])
    with pytest.raises(ValueError, match="closed"):
        next(iter(dec))
    with pytest.raises(ValueError, match="closed"):
        len(dec)
    dec.close()  # again: nothing
    assert batch is None
    gc.collect()
    assert native() is None, "closing left the native decoder alive"
    assert [md5(np.from_dlpack(f.data)) for f in held] == reference[:41]
    # As a context manager.
    with video_hw.VideoDecoder(CLIP, pixel_format="rgb24", engine=ENGINE) as d:
        kept = d.get_frames_at([5, 6])
    with pytest.raises(ValueError):
        d[0]
    assert [md5(a) for a in np.from_dlpack(kept.data)] == reference[5:7]


def test_close_while_another_thread_decodes(reference):
    """Closed while a call runs on another thread: that call finishes with the right
    frames (the native decoder lives until it returns), then the decoder is closed."""
    dec = video_hw.VideoDecoder(CLIP, pixel_format="rgb24", engine=ENGINE, sessions=1)
    out = {}
    call = dec._native.get_frames_at  # the call in progress holds its decoder, as Python does

    def work():
        out["batch"] = call(list(range(100)))

    t = threading.Thread(target=work)
    t.start()
    time.sleep(0.01)
    dec.close()
    t.join(TIMEOUT)
    assert not t.is_alive()
    data = np.from_dlpack(out["batch"].data)
    assert [md5(data[i]) for i in range(100)] == reference


def _child_after_fork(q, dec):
    out = {}
    try:
        out["inherited"] = md5(np.asarray(dec[60]))
        fresh = video_hw.VideoDecoder(CLIP, pixel_format="rgb24", engine=ENGINE)
        out["fresh"] = md5(np.asarray(fresh[61]))
        out["many"] = md5(np.from_dlpack(video_hw.decode_many([CLIP], [[62]], pixel_format="rgb24", engine=ENGINE)[0].data)[0])
    except Exception as e:  # noqa: BLE001 (sent to the parent)
        out["error"] = repr(e)
    q.put(out)


def test_cpu_decoding_after_fork(reference):
    """The CPU path in a child made by fork after the parent decoded (its sessions and
    FFmpeg's threads exist): the inherited decoder, a new one, and decode_many all work."""
    dec = video_hw.VideoDecoder(CLIP, pixel_format="rgb24", engine=ENGINE, sessions=2)
    dec.get_frames_at([0, 50, 99])
    fork = multiprocessing.get_context("fork")
    q = fork.Queue()
    p = fork.Process(target=_child_after_fork, args=(q, dec))
    p.start()
    out = q.get(timeout=TIMEOUT)
    p.join(TIMEOUT)
    assert p.exitcode == 0
    assert out == {"inherited": reference[60], "fresh": reference[61], "many": reference[62]}, out
    assert md5(np.asarray(dec[63])) == reference[63]
