#!/usr/bin/env python3
"""What opening a GPU decoder costs, in a process whose CUDA torch started first (as a
training process has it). One JSON line a run.

    python3 scripts/gpu_open_costs.py constructor FILE   # the first, second and third
        # NativeDecoder(device="cuda") of the process and their frame 0, sessions=1, the
        # Python VideoDecoder, and PyNvVideoCodec's SimpleDecoder where it is installed (ms)
    python3 scripts/gpu_open_costs.py auto CLIPS_DIR     # what device="auto" adds per file
        # where no CPU engine decodes the stream (HEVC without FFmpeg): the refused CPU
        # open, auto's open against the GPU decoder's, the model's call, an 8-frame call (ms)

The library side of the first (where a first open's time goes among the driver's setup calls)
is `examples/reader_loops FILE --passes 3` (its `prepare=` lines).
"""
import glob
import json
import statistics
import sys
import time

import torch


def ms(f) -> float:
    start = time.perf_counter()
    f()
    return round((time.perf_counter() - start) * 1e3, 3)


def constructor(path: str) -> dict:
    import video_hw
    from video_hw._video_hw import NativeDecoder

    out = {}
    for label, kw in [("first", {}), ("second", {}), ("sessions1", {"sessions": 1}), ("third", {})]:
        box = []
        opened = ms(lambda: box.append(NativeDecoder(path, device="cuda", **kw)))
        out[label] = [opened, ms(lambda: box[0].get_frame_at(0))]
        box.clear()
    out["VideoDecoder"] = ms(lambda: video_hw.VideoDecoder(path, device="cuda"))
    try:
        import PyNvVideoCodec as nvc

        rgb = nvc.OutputColorType.RGB
        out["pynvc"] = ms(lambda: nvc.SimpleDecoder(path, gpu_id=0, use_device_memory=True, output_color_type=rgb))
    except ImportError as e:
        out["pynvc"] = repr(e)[:100]
    return out


def auto(clips: str) -> dict:
    from video_hw._auto import _AutoNative
    from video_hw._video_hw import NativeDecoder, UnsupportedError, device_choice

    files = sorted(glob.glob(clips + "/*.mp4")) * 3

    def refused(f: str) -> None:
        try:
            NativeDecoder(f, device="cpu", engine="software", sessions=1)
        except UnsupportedError:
            pass

    opts = dict(device="auto", sessions=1, pixel_format="rgb24")
    job = ("hevc", 3840, 2160, 60, 2, 8, "cpu", 3.0, True)
    out = {
        "native_gpu_open_ms": statistics.median(
            ms(lambda: NativeDecoder(f, device="cpu", engine="nvdec", sessions=1)) for f in files
        ),
        "refused_cpu_open_ms": statistics.median(ms(lambda: refused(f)) for f in files),
        "auto_open_ms": statistics.median(ms(lambda: _AutoNative(f, dict(opts))) for f in files),
        "device_choice_ms": statistics.median(
            ms(lambda: device_choice(job, device=0, session_open=True, cpu_decodes=False, threads=16))
            for _ in range(200)
        ),
    }
    a = _AutoNative(files[0], dict(opts))
    d = NativeDecoder(files[0], device="cpu", engine="nvdec", sessions=1)
    a.get_frames_at([0])
    d.get_frames_at([0])
    eight = list(range(20, 28))
    out["auto_call_ms"] = statistics.median(ms(lambda: a.get_frames_at(eight)) for _ in range(20))
    out["native_call_ms"] = statistics.median(ms(lambda: d.get_frames_at(eight)) for _ in range(20))
    return out


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("constructor", "auto"):
        sys.exit(__doc__)
    torch.cuda.init()
    torch.zeros(1, device="cuda")
    what = constructor if sys.argv[1] == "constructor" else auto
    print(json.dumps(what(sys.argv[2])))
