"""The frame index saved once and read back (`VideoDecoder(index_cache=...)`): frames equal
with no cache, a cold one and a warm one, in this process and in `spawn` workers; a file
rewritten with other content is re-indexed, never served from the stale index; a damaged
saved index is rebuilt; bytes are never cached; `decode_many` passes the setting on."""

import hashlib
import multiprocessing
import os
import subprocess
import sys
import pathlib
import shutil
import time

import numpy as np
import pytest

import video_hw

ROOT = pathlib.Path(__file__).resolve().parents[2]
TS = ROOT / "testdata" / "media" / "h264-aac.ts"
OTHER_TS = ROOT / "testdata" / "media" / "h264-noidr.ts"
RAW = ROOT / "testdata" / "h264" / "open-gop-cars-320x240.h264"
PICKS = [90, 0, 45, 13, 60, 1]
TIMEOUT = 120


def md5s(dec, picks=PICKS):
    batch = dec.get_frames_at([p for p in picks if p < len(dec)])
    data = np.from_dlpack(batch.data)
    return [hashlib.md5(np.ascontiguousarray(f).tobytes()).hexdigest() for f in data]


def aged_copy(src, tmp_path):
    """`src` copied into `tmp_path`, an hour old (a file modified in the last 2 s is not saved)."""
    dst = tmp_path / src.name
    shutil.copy(src, dst)
    old = time.time() - 3600
    os.utime(dst, (old, old))
    return dst


@pytest.mark.parametrize("src", [TS, RAW], ids=["ts", "h264"])
def test_cold_warm_and_off_give_the_same_frames(src, tmp_path):
    path = aged_copy(src, tmp_path)
    cache = tmp_path / "cache"
    want = md5s(video_hw.VideoDecoder(path, index_cache=False))
    cold = video_hw.VideoDecoder(path, index_cache=str(cache))
    assert cold.stats["index_cache"] == "built"
    assert md5s(cold) == want
    assert len(list(cache.iterdir())) == 1
    warm = video_hw.VideoDecoder(path, index_cache=cache)  # a path object: a directory
    assert warm.stats["index_cache"] == "hit"
    assert len(warm) == len(cold)
    assert md5s(warm) == want
    assert video_hw.VideoDecoder(path, index_cache=False).stats["index_cache"] == "off"


def test_beside_the_file(tmp_path):
    path = aged_copy(TS, tmp_path)
    assert video_hw.VideoDecoder(path, index_cache="beside").stats["index_cache"] == "built"
    assert (tmp_path / (TS.name + ".vhidx")).is_file()
    assert video_hw.VideoDecoder(path, index_cache="beside").stats["index_cache"] == "hit"


def test_a_rewritten_file_is_indexed_again(tmp_path):
    path = aged_copy(TS, tmp_path)
    cache = str(tmp_path / "cache")
    video_hw.VideoDecoder(path, index_cache=cache)
    # Other content of the same size (null packets pad it), the old modification time kept.
    other = OTHER_TS.read_bytes()
    size = path.stat().st_size
    pad = b"".join(b"\x47\x1f\xff\x10" + b"\xff" * 184 for _ in range((size - len(other)) // 188))
    assert len(other) + len(pad) == size
    before = path.stat().st_mtime_ns
    path.write_bytes(other + pad)
    os.utime(path, ns=(before, before))
    fresh = video_hw.VideoDecoder(path, index_cache=False)
    dec = video_hw.VideoDecoder(path, index_cache=cache)
    assert dec.stats["index_cache"] == "remade"
    assert len(dec) == len(fresh)
    assert md5s(dec) == md5s(fresh)
    assert video_hw.VideoDecoder(path, index_cache=cache).stats["index_cache"] == "hit"


def test_a_damaged_saved_index_is_rebuilt(tmp_path):
    path = aged_copy(TS, tmp_path)
    cache = tmp_path / "cache"
    want = md5s(video_hw.VideoDecoder(path, index_cache=str(cache)))
    (saved,) = cache.iterdir()
    good = saved.read_bytes()
    for bad in [b"", good[: len(good) // 2], good[:100] + bytes([good[100] ^ 4]) + good[101:]]:
        saved.write_bytes(bad)
        dec = video_hw.VideoDecoder(path, index_cache=str(cache))
        assert dec.stats["index_cache"] == "remade"
        assert md5s(dec) == want
        assert saved.read_bytes() == good


def test_bytes_and_the_environment(tmp_path):
    path = aged_copy(TS, tmp_path)
    assert video_hw.VideoDecoder(path.read_bytes(), index_cache=str(tmp_path)).stats["index_cache"] == "off"
    with pytest.raises(TypeError):
        video_hw.VideoDecoder(path, index_cache=3)
    # The variable is read once per process (docs/environment.md): each setting in a
    # process of its own.
    child = "import sys, video_hw; print(' '.join(video_hw.VideoDecoder(sys.argv[1]).stats['index_cache'] for _ in range(2)))"

    def run(value):
        env = dict(os.environ, VIDEO_HW_INDEX_CACHE=value)
        p = subprocess.run([sys.executable, "-c", child, str(path)], env=env, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr[-2000:]
        return p.stdout.split()

    assert run(str(tmp_path / "env-cache")) == ["built", "hit"]
    assert run("off") == ["off", "off"]


def test_decode_many_passes_it_on(tmp_path):
    paths = [aged_copy(TS, tmp_path), aged_copy(RAW, tmp_path)]
    cache = str(tmp_path / "cache")
    want = [md5s(video_hw.VideoDecoder(p, index_cache=False), [0, 5]) for p in paths]
    for _ in range(2):
        batches = video_hw.decode_many(paths, [[0, 5]] * 2, index_cache=cache)
        got = [[hashlib.md5(np.ascontiguousarray(f).tobytes()).hexdigest() for f in np.from_dlpack(b.data)]
               for b in batches]
        assert got == want
    assert len(os.listdir(cache)) == 2


def _open_in_worker(args):
    path, cache = args
    dec = video_hw.VideoDecoder(path, index_cache=cache)
    return dec.stats["index_cache"], md5s(dec)


def test_spawn_workers_read_the_saved_index(tmp_path):
    path = str(aged_copy(TS, tmp_path))
    cache = str(tmp_path / "cache")
    want = md5s(video_hw.VideoDecoder(path, index_cache=cache))
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        results = pool.map_async(_open_in_worker, [(path, cache)] * 4).get(TIMEOUT)
    assert all(use == "hit" and frames == want for use, frames in results), results
