#!/usr/bin/env python3
"""What the NVIDIA driver alone costs a cold process before any decoding: dlopen libcuda,
cuInit, retain the primary context, dlopen libnvcuvid, one cuvidGetDecoderCaps. No CUDA
toolkit or Python package needed (ctypes over the driver libraries). Prints one JSON line of
milliseconds; run it a few times in fresh processes next to `nvdec_bench --max-frames 1` to
see how much of a cold time-to-first-frame is the driver's floor.

usage: python3 scripts/peers/cuda_startup_floor.py [--gpu N]
"""
import ctypes
import json
import sys
import time


class DecodeCaps(ctypes.Structure):
    # CUVIDDECODECAPS (nvcuvid.h): codec, chroma, bit depth in; the rest out.
    _fields_ = [("eCodecType", ctypes.c_int), ("eChromaFormat", ctypes.c_int), ("nBitDepthMinus8", ctypes.c_uint),
                ("reserved1", ctypes.c_uint * 3), ("bIsSupported", ctypes.c_ubyte), ("nNumNVDECs", ctypes.c_ubyte),
                ("nOutputFormatMask", ctypes.c_ushort), ("nMaxWidth", ctypes.c_uint), ("nMaxHeight", ctypes.c_uint),
                ("nMaxMBCount", ctypes.c_uint), ("nMinWidth", ctypes.c_ushort), ("nMinHeight", ctypes.c_ushort),
                ("bIsHistogramSupported", ctypes.c_ubyte), ("nCounterBitDepth", ctypes.c_ubyte),
                ("nMaxHistogramBins", ctypes.c_ushort), ("reserved3", ctypes.c_uint * 10)]


def main():
    gpu = int(sys.argv[sys.argv.index("--gpu") + 1]) if "--gpu" in sys.argv else 0
    out, t = {}, time.perf_counter()

    def step(name):
        nonlocal t
        now = time.perf_counter()
        out[name] = round((now - t) * 1e3, 3)
        t = now

    cu = ctypes.CDLL("libcuda.so.1")
    step("load_libcuda_ms")
    r = cu.cuInit(0)
    step("cuInit_ms")
    dev = ctypes.c_int()
    cu.cuDeviceGet(ctypes.byref(dev), gpu)
    ctx = ctypes.c_void_p()
    r2 = cu.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev)
    step("primary_context_ms")
    cu.cuCtxPushCurrent_v2(ctx)
    nv = ctypes.CDLL("libnvcuvid.so.1")
    step("load_libnvcuvid_ms")
    caps = DecodeCaps(eCodecType=8, eChromaFormat=1, nBitDepthMinus8=0)  # HEVC 4:2:0 8-bit
    r3 = nv.cuvidGetDecoderCaps(ctypes.byref(caps))
    step("first_decoder_caps_ms")
    caps2 = DecodeCaps(eCodecType=4, eChromaFormat=1, nBitDepthMinus8=0)  # H.264
    nv.cuvidGetDecoderCaps(ctypes.byref(caps2))
    step("second_decoder_caps_ms")
    out.update(results=[r, r2, r3], hevc_supported=caps.bIsSupported, engines=caps.nNumNVDECs)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
