#!/usr/bin/env python3
"""Device-to-host copy bandwidth of GPU 0, through the CUDA driver (ctypes, no toolkit):
what bounds decoded frames copied to host memory. Copies 1080p NV12-sized blocks
(3,110,400 bytes) from device memory to page-locked memory on 1 and on 7 streams at once,
and to pageable memory; prints GB/s and the frames per second that is. Clock:
time.perf_counter around the copies of each run (after a warm-up run); median of --runs.

    python3 scripts/d2h_bandwidth.py [--frames 2000] [--runs 3]
"""

import argparse
import ctypes
import statistics
import time

FRAME = 1920 * 1080 * 3 // 2


def check(rc, what):
    if rc != 0:
        raise RuntimeError(f"{what}: CUDA error {rc}")


def open_gpu0():
    """The CUDA driver (ctypes) with GPU 0's primary context current on this thread."""
    cu = ctypes.CDLL("libcuda.so.1")
    check(cu.cuInit(0), "cuInit")
    dev, ctx = ctypes.c_int(), ctypes.c_void_p()
    check(cu.cuDeviceGet(ctypes.byref(dev), 0), "cuDeviceGet")
    check(cu.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev), "cuDevicePrimaryCtxRetain")
    check(cu.cuCtxSetCurrent(ctx), "cuCtxSetCurrent")
    return cu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    cu = open_gpu0()
    slots = 16  # distinct source and destination blocks, reused in turn
    d = ctypes.c_uint64()
    check(cu.cuMemAlloc_v2(ctypes.byref(d), ctypes.c_size_t(FRAME * slots)), "cuMemAlloc")
    pinned = ctypes.c_void_p()
    check(cu.cuMemHostAlloc(ctypes.byref(pinned), ctypes.c_size_t(FRAME * slots), 0), "cuMemHostAlloc")
    pageable = (ctypes.c_char * (FRAME * slots))()
    streams = []
    for _ in range(7):
        s = ctypes.c_void_p()
        check(cu.cuStreamCreate(ctypes.byref(s), 1), "cuStreamCreate")  # non-blocking
        streams.append(s)
    cu.cuMemcpyDtoHAsync_v2.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_size_t, ctypes.c_void_p]
    cu.cuMemcpyDtoH_v2.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_size_t]

    def pinned_run(n_streams):
        t = time.perf_counter()
        for i in range(a.frames):
            k = i % slots
            check(
                cu.cuMemcpyDtoHAsync_v2(pinned.value + k * FRAME, d.value + k * FRAME, FRAME, streams[i % n_streams]),
                "cuMemcpyDtoHAsync",
            )
        for s in streams[:n_streams]:
            check(cu.cuStreamSynchronize(s), "cuStreamSynchronize")
        return time.perf_counter() - t

    def pageable_run(_):
        t = time.perf_counter()
        base = ctypes.addressof(pageable)
        for i in range(a.frames):
            k = i % slots
            check(cu.cuMemcpyDtoH_v2(base + k * FRAME, d.value + k * FRAME, FRAME), "cuMemcpyDtoH")
        return time.perf_counter() - t

    for name, run, arg in (
        ("pinned, 1 stream", pinned_run, 1),
        ("pinned, 7 streams", pinned_run, 7),
        ("pageable, synchronous", pageable_run, None),
    ):
        run(arg)
        times = [run(arg) for _ in range(a.runs)]
        t = statistics.median(times)
        gbs = a.frames * FRAME / t / 1e9
        print(f"{name}: {gbs:.1f} GB/s = {a.frames / t:,.0f} frames/s of 1080p NV12 "
              f"({a.frames} copies of {FRAME} bytes, median of {a.runs})", flush=True)


if __name__ == "__main__":
    main()
