"""GPU faults (issue #61, item 5): out of GPU memory while decoding, more decoders than the
engines at once, and `CUDA_VISIBLE_DEVICES` changing between processes. Each must give
backpressure or a typed error (a `video_hw.VideoHwError`), never a crash or a hang, and the
process must go on decoding exactly afterwards.

These run when ``VIDEO_HW_TEST_GPU=1`` and then fail, not skip, without a usable GPU:

    VIDEO_HW_TEST_GPU=1 python -m pytest python/tests/test_gpu_faults.py
"""

import ctypes
import json
import os
import subprocess
import sys

import pytest

import video_hw
from test_gpu import MEDIA, Cuda, md5, nv12_to_yuv420p, references

pytestmark = pytest.mark.skipif(os.environ.get("VIDEO_HW_TEST_GPU") != "1", reason="VIDEO_HW_TEST_GPU=1 runs these")

NAME = "h264-aac.mp4"  # 320x240, ffmpeg's framemd5 beside it
W, H = 320, 240


@pytest.fixture(scope="module")
def cuda():
    return Cuda()


def frames_are_exact(cuda, frames, indices, name=NAME):
    want = references(name)
    # `dec[i]` gives the pixels, `get_frame_at` a frame with them in `.data`.
    got = [md5(nv12_to_yuv420p(cuda.to_host(getattr(f, "data", f)), W, H)) for f in frames]
    assert got == [want[k] for k in indices]


class Hog:
    """GPU memory taken from the decoder: every byte but `leave` of GPU 0's free memory,
    allocated through the driver in the primary context (the one the package uses)."""

    def __init__(self, cuda, leave):
        self.cuda, self.blocks = cuda, []
        lib = cuda.lib
        cuda.check(lib.cuCtxPushCurrent_v2(cuda.ctx), "cuCtxPushCurrent")
        try:
            free, total = ctypes.c_size_t(), ctypes.c_size_t()
            cuda.check(lib.cuMemGetInfo_v2(ctypes.byref(free), ctypes.byref(total)), "cuMemGetInfo")
            want = max(0, free.value - leave)
            # In 1 GiB blocks, then smaller ones, until the rest is `leave`.
            block = 1 << 30
            while want > 0 and block >= (16 << 20):
                ptr = ctypes.c_uint64()
                if lib.cuMemAlloc_v2(ctypes.byref(ptr), ctypes.c_size_t(min(block, want))) == 0:
                    self.blocks.append(ptr.value)
                    want -= min(block, want)
                else:
                    block //= 2
            cuda.check(lib.cuMemGetInfo_v2(ctypes.byref(free), ctypes.byref(total)), "cuMemGetInfo")
            self.left = free.value
        finally:
            cuda.check(lib.cuCtxPopCurrent_v2(ctypes.byref(ctypes.c_void_p())), "cuCtxPopCurrent")

    def release(self):
        lib = self.cuda.lib
        self.cuda.check(lib.cuCtxPushCurrent_v2(self.cuda.ctx), "cuCtxPushCurrent")
        try:
            for ptr in self.blocks:
                lib.cuMemFree_v2(ctypes.c_uint64(ptr))
            self.blocks = []
        finally:
            self.cuda.check(lib.cuCtxPopCurrent_v2(ctypes.byref(ctypes.c_void_p())), "cuCtxPopCurrent")


@pytest.mark.parametrize("leave_mib", [0, 8, 64])
def test_out_of_gpu_memory_is_a_typed_error_and_decoding_goes_on_after(cuda, leave_mib):
    video_hw.release_cached_decoders()
    hog = Hog(cuda, leave_mib << 20)
    outcomes = []
    try:
        # A decoder, a batch, iteration and decode_many with (almost) no GPU memory left:
        # each either works or raises the package's typed error.
        for attempt in (
            lambda: video_hw.VideoDecoder(MEDIA / NAME, device="cuda", pixel_format="nv12").get_frames_at([0, 5, 9]),
            lambda: list(video_hw.VideoDecoder(MEDIA / NAME, device="cuda", pixel_format="rgb24", sessions=4)),
            lambda: video_hw.decode_many([MEDIA / NAME] * 4, [[1, 2]] * 4, device="cuda", pixel_format="nv12"),
        ):
            try:
                attempt()
                outcomes.append("worked")
            except video_hw.VideoHwError as e:
                outcomes.append(f"{type(e).__name__}: {str(e)[:160]}")
                assert str(e), "the error says what failed"
    finally:
        hog.release()
    print(f"left {hog.left >> 20} MiB: {outcomes}")
    # The memory back, the same process decodes exactly.
    dec = video_hw.VideoDecoder(MEDIA / NAME, device="cuda", pixel_format="nv12", autorotate=False)
    frames_are_exact(cuda, [dec[k] for k in (0, 5, 9, 40)], [0, 5, 9, 40])
    batches = video_hw.decode_many([MEDIA / NAME] * 3, [[1, 2]] * 3, device="cuda", pixel_format="nv12")
    want = references(NAME)
    for b in batches:
        data = cuda.to_host(b.data)
        assert [md5(nv12_to_yuv420p(data[i], W, H)) for i in range(2)] == [want[1], want[2]]


def test_more_decoders_than_engines_at_once_all_decode_exactly(cuda):
    # 7 NVDEC engines on an H100/H200; 40 sessions open at once share them (the driver
    # time-slices), or a session past what the GPU allows is a typed error.
    decoders, refused = [], []
    for _ in range(40):
        try:
            decoders.append(video_hw.VideoDecoder(MEDIA / NAME, device="cuda", pixel_format="nv12", autorotate=False))
        except video_hw.VideoHwError as e:
            refused.append(str(e))
    got = []
    for k, dec in enumerate(decoders):
        try:
            got.append((k % 50, dec[k % 50]))
        except video_hw.VideoHwError as e:
            refused.append(str(e))
    print(f"{len(decoders)} opened, {len(got)} decoded, refused: {refused[:2]}")
    assert len(got) >= 7, "at least one session per engine decodes"
    frames_are_exact(cuda, [f for _, f in got], [k for k, _ in got])
    del decoders, got
    video_hw.release_cached_decoders()


CHILD = r"""
import json, sys, video_hw
out = {}
for device in ("cuda", "cpu"):
    try:
        d = video_hw.VideoDecoder(sys.argv[1], device=device, pixel_format="nv12")
        f = d[3]
        out[device] = {"ok": True, "backend": d.backend}
    except video_hw.VideoHwError as e:
        out[device] = {"ok": False, "error": type(e).__name__, "message": str(e)[:300]}
print(json.dumps(out))
"""


@pytest.mark.parametrize("visible", ["0", "", "7", "GPU-not-a-uuid"])
def test_cuda_visible_devices_changing_between_processes(visible):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES=visible)
    p = subprocess.run([sys.executable, "-c", CHILD, str(MEDIA / NAME)], env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, f"CUDA_VISIBLE_DEVICES={visible!r}: exit {p.returncode}\n{p.stderr[-2000:]}"
    out = json.loads(p.stdout.strip().splitlines()[-1])
    print(visible, out)
    # The CPU always decodes; the GPU where one is visible, else a typed error saying so
    # (or a visible fallback to a CPU engine whose frames are uploaded: there is no GPU to
    # upload to, so that too is an error).
    assert out["cpu"]["ok"], out
    if visible == "0":
        assert out["cuda"]["ok"] and "nvdec" in out["cuda"]["backend"], out
    else:
        assert not out["cuda"]["ok"] and out["cuda"]["error"] in ("UnsupportedError", "DeviceLostError",
                                                                   "VideoHwError", "EngineError"), out
