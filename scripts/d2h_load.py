#!/usr/bin/env python3
"""Background copy traffic on GPU 0 at a set rate, through the CUDA driver (ctypes, no toolkit):
to measure what the traffic of host frames costs NVDEC when the frames themselves stay on the
GPU. Copies 1080p NV12-sized blocks (3,110,400 bytes) device-to-host into page-locked memory
(`--kind d2h`) or device-to-device (`--kind d2d`), paced to `--gbps` (0: as fast as it goes),
for `--seconds` or until SIGTERM, then prints the rate reached. Run it beside a decode, e.g.

    python3 scripts/d2h_load.py --gbps 25 --seconds 8 & .gpu/bin/nvdec_bench run ... ; wait

Clock: time.perf_counter.
"""

import argparse
import ctypes
import signal
import time

from d2h_bandwidth import FRAME, check, open_gpu0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gbps", type=float, default=25.0)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--kind", choices=["d2h", "d2d"], default="d2h")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds to wait before starting")
    a = ap.parse_args()
    cu = open_gpu0()
    slots = 8
    src, dst_dev = ctypes.c_uint64(), ctypes.c_uint64()
    check(cu.cuMemAlloc_v2(ctypes.byref(src), ctypes.c_size_t(FRAME * slots)), "cuMemAlloc")
    check(cu.cuMemAlloc_v2(ctypes.byref(dst_dev), ctypes.c_size_t(FRAME * slots)), "cuMemAlloc")
    pinned = ctypes.c_void_p()
    check(cu.cuMemHostAlloc(ctypes.byref(pinned), ctypes.c_size_t(FRAME * slots), 0), "cuMemHostAlloc")
    streams = []
    for _ in range(slots):
        s = ctypes.c_void_p()
        check(cu.cuStreamCreate(ctypes.byref(s), 1), "cuStreamCreate")
        streams.append(s)
    cu.cuMemcpyDtoHAsync_v2.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_size_t, ctypes.c_void_p]
    cu.cuMemcpyDtoDAsync_v2.argtypes = [ctypes.c_uint64, ctypes.c_uint64, ctypes.c_size_t, ctypes.c_void_p]
    # SIGTERM ends the traffic early (a caller that stops it when its own run ends).
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    time.sleep(a.delay)
    t0 = time.perf_counter()
    i = 0
    while not stop:
        now = time.perf_counter() - t0
        if now >= a.seconds:
            break
        if a.gbps > 0:
            due = i * FRAME / (a.gbps * 1e9)
            if due > now:
                time.sleep(min(due - now, 0.001))
                continue
        k = i % slots
        check(cu.cuStreamSynchronize(streams[k]), "cuStreamSynchronize")
        if a.kind == "d2h":
            rc = cu.cuMemcpyDtoHAsync_v2(pinned.value + k * FRAME, src.value + k * FRAME, FRAME, streams[k])
        else:
            rc = cu.cuMemcpyDtoDAsync_v2(dst_dev.value + k * FRAME, src.value + k * FRAME, FRAME, streams[k])
        check(rc, "copy")
        i += 1
    for s in streams:
        check(cu.cuStreamSynchronize(s), "cuStreamSynchronize")
    took = time.perf_counter() - t0
    print(f"d2h_load: {a.kind} {i} blocks in {took:.2f} s = {i * FRAME / took / 1e9:.1f} GB/s", flush=True)


if __name__ == "__main__":
    main()
