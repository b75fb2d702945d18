"""``device="auto"`` on an NVIDIA GPU: the frames are those of the side it chose, bit for bit (and
ffmpeg's), the choice and its reason are reported, AV1 on a GPU without AV1 goes to the CPU
silently, and a cold process asking one frame does not start CUDA.

These run when ``VIDEO_HW_TEST_GPU=1`` and then fail, not skip, without a usable GPU:

    VIDEO_HW_TEST_GPU=1 python -m pytest python/tests/test_auto_gpu.py
"""

import hashlib
import json
import os
import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest

import video_hw
from video_hw._video_hw import device_engine, software_engine

pytestmark = pytest.mark.skipif(os.environ.get("VIDEO_HW_TEST_GPU") != "1", reason="VIDEO_HW_TEST_GPU=1 runs these")

ROOT = pathlib.Path(__file__).resolve().parents[2]
MEDIA = ROOT / "testdata" / "media"
NAMES = ["h264-aac.mp4", "h264-opengop.mkv", "hevc-aac.mkv", "hevc-opengop.mp4", "av1-opus.webm"]


def md5(a):
    return hashlib.md5(np.ascontiguousarray(a).tobytes()).hexdigest()


def references(name):
    lines = (MEDIA / f"{name}.framemd5").read_text().splitlines()
    return [line.split(",")[5].strip() for line in lines if line and not line.startswith("#")]


def host(array):
    """A frame or batch array as numpy, copied from the GPU where it is there (torch)."""
    if str(array.device).startswith("cuda"):
        import torch

        return torch.from_dlpack(array).cpu().numpy()
    return np.from_dlpack(array)


def nvdec_decodes(codec):
    return any(
        e["engine"] == "nvdec" and e["codec"] == codec and e["direction"] == "decode" and e["available"]
        for e in video_hw.engines()
    )


def fixed(name, side, **kw):
    """The fixed choice auto's frames are compared with: the CPU's engine, or the GPU's with
    the frames where auto's are."""
    if side == "cpu":
        return video_hw.VideoDecoder(MEDIA / name, engine="software", **kw)
    return video_hw.VideoDecoder(MEDIA / name, engine="nvdec", **kw)


def test_a_gpu_engine_is_there():
    assert device_engine() == "nvdec", f"VIDEO_HW_TEST_GPU=1 but no GPU decode engine: {video_hw.engines()}"


@pytest.mark.parametrize("forced", ["", "cpu", "cuda"], ids=["model", "forced-cpu", "forced-cuda"])
@pytest.mark.parametrize("name", NAMES)
def test_auto_frames_are_the_chosen_sides(monkeypatch, name, forced):
    codec = {"h264": "h264", "hevc": "hevc", "av1-": "av1"}[name[:4]]
    if forced == "cuda" and not nvdec_decodes(codec):
        pytest.skip(f"NVDEC here has no {codec}")
    if forced == "cpu" and software_engine(codec) is None:
        pytest.skip(f"no CPU engine for {codec} here")
    monkeypatch.setenv("VIDEO_HW_AUTO", forced)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a choice is never a fallback warning
        auto = video_hw.VideoDecoder(MEDIA / name, device="auto", pixel_format="yuv420p", autorotate=False)
        n = len(auto)
        idx = list(range(n))
        got = host(auto.get_frames_at(idx).data)
    choice = auto.stats["device_choice"]
    assert choice["device"] in ("cpu", "cuda") and choice["why"], choice
    if forced:
        assert choice["device"] == forced and choice["why"] == f"VIDEO_HW_AUTO={forced}"
    assert auto.backend.startswith(f"auto -> {choice['device']}: "), auto.backend
    if choice["device"] == "cuda":
        assert "nvdec" in auto.backend.lower()
    assert auto.fallback is None
    want = host(fixed(name, choice["device"], pixel_format="yuv420p", autorotate=False).get_frames_at(idx).data)
    assert [md5(f) for f in got] == [md5(f) for f in want]
    assert [md5(f) for f in got] == references(name)


@pytest.mark.parametrize("name", ["h264-aac.mp4", "hevc-aac.mkv"])
def test_auto_cuda_lands_in_gpu_memory_either_way(monkeypatch, name):
    for forced in ("cpu", "cuda"):
        codec = "h264" if name.startswith("h264") else "hevc"
        if (forced == "cpu" and software_engine(codec) is None) or (forced == "cuda" and not nvdec_decodes(codec)):
            continue
        monkeypatch.setenv("VIDEO_HW_AUTO", forced)
        auto = video_hw.VideoDecoder(MEDIA / name, device="auto:cuda", pixel_format="rgb24")
        batch = auto.get_frames_at([0, 7, 3])
        assert batch.data.device == "cuda:0", (forced, batch.data.device)
        assert auto.stats["device_choice"]["device"] == forced
        engine = "software" if forced == "cpu" else "nvdec"
        same = video_hw.VideoDecoder(MEDIA / name, engine=engine, pixel_format="rgb24")
        want = np.from_dlpack(same.get_frames_at([0, 7, 3]).data)
        assert np.abs(host(batch.data).astype(np.int16) - want).max() <= 1


def test_av1_where_nvdec_has_none_is_the_cpu_silently():
    if nvdec_decodes("av1"):
        pytest.skip("this GPU's NVDEC decodes AV1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        auto = video_hw.VideoDecoder(MEDIA / "av1-opus.webm", device="auto:cuda", pixel_format="nv12")
        auto.get_frames_at(list(range(len(auto))))
    choice = auto.stats["device_choice"]
    assert choice["device"] == "cpu", choice
    if choice["gpu"]["decodes"] is None:
        # The CPU was estimated faster before the GPU's engine was asked (asking starts
        # CUDA, which this process had not): the GPU's lack of AV1 never came into it.
        assert "not asked" in choice["why"], choice["why"]
    else:
        assert "cannot decode av1" in choice["why"], choice["why"]
        assert choice["gpu"]["decodes"] is False and choice["estimate_s"]["cuda"] is None


def test_a_refusal_of_nvdec_is_known_to_the_next_process_without_starting_cuda(tmp_path):
    if nvdec_decodes("av1"):
        pytest.skip("this GPU's NVDEC decodes AV1")
    # A cache folder of its own. A fresh process weighing a whole 1080p AV1 file (where the
    # GPU would win) asks NVDEC, which starts CUDA, and NVDEC refuses: remembered. The next
    # fresh process knows it and starts nothing.
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    code = (
        "import json\n"
        "from video_hw._video_hw import device_choice\n"
        "job = ('av1', 1920, 1080, 18000, 300, 18000, 'cpu', 3.0, True)\n"
        "c = device_choice(job, device=0, session_open=False, cpu_decodes=True, threads=16)\n"
        "late = device_choice(job, device=0, session_open=False, cpu_decodes=True, threads=16)\n"
        "print(json.dumps([c, late['gpu']['cuda_started']]))\n"
    )

    def fresh():
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        return json.loads(p.stdout.strip().splitlines()[-1])

    choice, started = fresh()
    assert choice["device"] == "cpu" and choice["gpu"]["decodes"] is False, choice
    assert "cannot decode av1" in choice["why"] and "earlier process" not in choice["why"], choice["why"]
    assert started is True, "asking NVDEC starts CUDA"
    assert any((tmp_path / "video-hw" / "nvdec-refusals").iterdir()), "the refusal was not written"
    choice, started = fresh()
    assert choice["device"] == "cpu" and choice["gpu"]["decodes"] is False, choice
    assert "cannot decode av1" in choice["why"] and "earlier process" in choice["why"], choice["why"]
    assert started is False, "knowing the refusal started CUDA"


def test_one_frame_in_a_cold_process_is_the_cpu_and_starts_no_cuda():
    code = (
        "import json, video_hw\n"
        f"d = video_hw.VideoDecoder({str(MEDIA / 'h264-aac.mp4')!r}, device='auto')\n"
        "d.get_frames_at([50])\n"
        "from video_hw._video_hw import device_choice\n"
        "late = device_choice(('h264', 64, 64, 1, 1, 1, 'cpu', 3.0, True), device=0, session_open=False,"
        " cpu_decodes=True, threads=1)\n"
        "print(json.dumps([d.stats['device_choice'], late['gpu']['cuda_started']]))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    choice, started = json.loads(p.stdout.strip().splitlines()[-1])
    assert choice["device"] == "cpu", choice
    assert choice["gpu"]["present"] is True and choice["gpu"]["decodes"] is None, choice
    assert "not asked" in choice["why"], choice["why"]
    assert started is False, "deciding one frame started CUDA"


def test_a_whole_file_with_cuda_started_asks_the_gpu_and_reports_both_estimates():
    import torch

    torch.cuda.init()
    torch.zeros(1, device="cuda")
    auto = video_hw.VideoDecoder(MEDIA / "hevc-aac.mkv", device="auto", pixel_format="rgb24")
    auto.get_frames_at(list(range(len(auto))))
    choice = auto.stats["device_choice"]
    assert choice["gpu"]["cuda_started"] is True
    assert choice["estimate_s"]["cuda"] is not None
    if software_engine("hevc") is not None:
        assert choice["estimate_s"]["cpu"] is not None
        assert choice["gpu"]["decodes"] is True or choice["device"] == "cpu"
    else:
        assert choice["device"] == "cuda" and "no CPU engine" in choice["why"]


def test_decode_many_auto_decides_per_file_and_gives_the_same_frames():
    from video_hw import _auto

    names = ["h264-aac.mp4", "hevc-aac.mkv", "av1-opus.webm", "h264-opengop.mkv"]
    picks = [[0, 5, 9], [1, 2], [0, 30, 60], [12]]
    before = dict(_auto.CHOICES)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        paths = [MEDIA / n for n in names]
        batches = video_hw.decode_many(paths, picks, device="auto", pixel_format="yuv420p", autorotate=False)
    decided = sum(_auto.CHOICES.values()) - sum(before.values())
    assert decided >= len(names)
    for name, want, b in zip(names, picks, batches):
        assert b.fallback is None
        refs = references(name)
        assert [md5(f) for f in host(b.data)] == [refs[i] for i in want]
