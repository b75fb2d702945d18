"""``device="auto"`` where there is no GPU (this machine, CI): the CPU decodes, the frames are
device="cpu"'s bit for bit, and the stats say why. The GPU half is test_auto_gpu.py."""

import hashlib
import os
import pathlib

import numpy as np
import pytest

import video_hw
from video_hw._video_hw import device_choice, device_engine, software_engine

ROOT = pathlib.Path(__file__).resolve().parents[2]
MEDIA = ROOT / "testdata" / "media"
NAMES = ["h264-aac.mp4", "h264-opengop.mkv", "hevc-aac.mkv", "av1-opus.webm"]

no_gpu = pytest.mark.skipif(
    os.environ.get("VIDEO_HW_TEST_GPU") == "1" or device_engine() is not None,
    reason="a GPU engine is here: test_auto_gpu.py covers it",
)


def md5(a):
    return hashlib.md5(np.ascontiguousarray(a).tobytes()).hexdigest()


def usable(name):
    codec = {"h264": "h264", "hevc": "hevc", "av1-": "av1"}[name[:4]]
    return software_engine(codec) is not None


@no_gpu
@pytest.mark.parametrize("name", NAMES)
def test_auto_without_a_gpu_is_the_cpu_frame_for_frame(name):
    if not usable(name):
        pytest.skip(f"no CPU engine for {name} in this build")
    auto = video_hw.VideoDecoder(MEDIA / name, device="auto", pixel_format="rgb24")
    cpu = video_hw.VideoDecoder(MEDIA / name, device="cpu", pixel_format="rgb24")
    assert len(auto) == len(cpu) and auto.metadata == cpu.metadata
    assert auto.backend.startswith("auto (nothing decoded yet")
    n = len(cpu)
    wanted = [n - 1, 0, n // 2, n // 2]
    got = auto.get_frames_at(wanted)
    want = cpu.get_frames_at(wanted)
    assert [md5(np.from_dlpack(f)) for f in np.from_dlpack(got.data)] == [
        md5(np.from_dlpack(f)) for f in np.from_dlpack(want.data)
    ]
    assert list(got.pts_seconds) == list(want.pts_seconds)
    assert auto.fallback is None
    stats = auto.stats
    choice = stats["device_choice"]
    assert choice["device"] == "cpu", choice
    assert choice["why"].startswith("no GPU here"), choice["why"]
    assert choice["estimate_s"]["cpu"] > 0 and choice["estimate_s"]["cuda"] is None
    assert choice["gpu"]["present"] is False and choice["gpu"]["decodes"] is None
    assert stats["device_choices"] == {"cpu": 1, "cuda": 0}
    assert auto.backend.startswith("auto -> cpu: "), auto.backend
    # Every way in: single frames, ranges, seconds, iteration, slices.
    assert md5(np.from_dlpack(auto[3])) == md5(np.from_dlpack(cpu[3]))
    assert md5(np.from_dlpack(auto.get_frame_played_at(1.0).data)) == md5(
        np.from_dlpack(cpu.get_frame_played_at(1.0).data)
    )
    assert [md5(np.from_dlpack(f.data)) for f in auto] == [md5(np.from_dlpack(f.data)) for f in cpu]
    assert auto.stats["device_choices"]["cpu"] == 4


@no_gpu
def test_decode_many_auto_is_the_cpu_per_file():
    names = [n for n in NAMES if usable(n)]
    picks = [[0, 5, 9] for _ in names]
    auto = video_hw.decode_many([MEDIA / n for n in names], picks, device="auto", pixel_format="nv12")
    cpu = video_hw.decode_many([MEDIA / n for n in names], picks, device="cpu", pixel_format="nv12")
    for a, c in zip(auto, cpu):
        assert md5(np.from_dlpack(a.data)) == md5(np.from_dlpack(c.data))
        assert a.fallback is None


@no_gpu
def test_the_model_says_why_without_a_gpu():
    # 1 frame of a short 720p clip and a whole 10-minute 1080p file: the CPU, since there is
    # no GPU; the CUDA driver is not started to find that out.
    for job in [
        ("hevc", 1280, 720, 31, 1, 1, "cpu", 3.0, True),
        ("hevc", 1920, 1080, 18000, 300, 18000, "cpu", 3.0, True),
    ]:
        c = device_choice(job, device=0, session_open=False, cpu_decodes=True, threads=2)
        assert c["device"] == "cpu" and c["why"].startswith("no GPU here"), c
        assert c["gpu"]["cuda_started"] is False


def test_auto_refuses_a_named_engine_and_a_bad_device():
    with pytest.raises(ValueError, match="picks the engine"):
        video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", device="auto", engine="ffmpeg")
    with pytest.raises(ValueError, match="auto, auto:cuda or auto:cuda:N"):
        video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", device="auto:gpu")


def test_software_engine_opens_a_cpu_engine():
    dec = video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", engine="software", pixel_format="yuv420p")
    assert "nvdec" not in (dec.backend or "").lower()
    assert len(dec.get_frames_at([0, 1])) == 2


@no_gpu
def test_samplers_take_an_auto_decoder():
    from video_hw import samplers

    def clips(device):
        dec = video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", device=device, pixel_format="rgb24")
        got = samplers.clips_at_regular_indices(dec, num_clips=4, num_frames_per_clip=3, num_indices_between_frames=2)
        return dec, got

    auto, a = clips("auto")
    _, c = clips("cpu")
    assert md5(np.from_dlpack(a.data)) == md5(np.from_dlpack(c.data))
    assert list(a.pts_seconds) == list(c.pts_seconds)
    assert auto.stats["device_choice"]["device"] == "cpu"


def test_a_gpu_file_without_room_in_the_budget_spills_to_the_cpu_only_when_that_is_close():
    from video_hw._auto import spill_when_full

    gpu = {"device": "cuda", "why": "estimated faster", "estimate_s": {"cpu": 0.5, "cuda": 0.3}}
    # Room, or no CPU engine, or a CPU choice already: the choice stands.
    assert spill_when_full(gpu, room=True, cpu_decodes=True) is gpu
    assert spill_when_full(gpu, room=False, cpu_decodes=False) is gpu
    cpu = dict(gpu, device="cpu")
    assert spill_when_full(cpu, room=False, cpu_decodes=True) is cpu
    # No room: the CPU within twice the GPU takes the file, and says why.
    spilled = spill_when_full(gpu, room=False, cpu_decodes=True)
    assert spilled["device"] == "cpu" and "no room" in spilled["why"], spilled
    assert spilled["estimate_s"] == gpu["estimate_s"]
    # A CPU more than twice slower: the file waits for the GPU.
    slow = dict(gpu, estimate_s={"cpu": 0.61, "cuda": 0.3})
    assert spill_when_full(slow, room=False, cpu_decodes=True) is slow
    # Without both estimates nothing is compared.
    unknown = dict(gpu, estimate_s={"cpu": None, "cuda": 0.3})
    assert spill_when_full(unknown, room=False, cpu_decodes=True) is unknown


def test_the_budget_room_check_admits_when_nothing_is_in_flight():
    from video_hw._video_hw import _gpu_memory_would_admit

    assert _gpu_memory_would_admit(10 << 30, 1 << 20) is True
    assert _gpu_memory_would_admit(1, None, 3) is True
