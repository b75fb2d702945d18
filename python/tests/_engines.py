"""Which engine the CPU-only tests decode H.264 with."""

import video_hw


def cpu_engine():
    """The CPU engine these CPU tests decode with: on a machine with a GPU, "auto" picks NVDEC,
    whose same-size transforms interpolate chroma where the CPU's take the nearest sample
    (issue #56's GPU port), so colours there are compared in test_gpu.py instead."""
    names = {
        e["engine"]
        for e in video_hw.engines()
        if e["codec"] == "h264" and e["direction"] == "decode" and e["available"]
    }
    return "ffmpeg" if "ffmpeg" in names else "openh264"
