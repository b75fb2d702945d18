"""The GPU memory budget on an NVIDIA GPU: what the sessions hold is counted by use and given
back, ``decode_many`` under ``max_gpu_memory`` waits rather than fails, stays within the
budget, and gives the same frames; the process-wide budget holds across 8 threads; under
``device="auto:cuda"`` the files sent to the GPU are jobs of the budget, and one that would
wait goes to the CPU where the model's estimates are close.

These run when ``VIDEO_HW_TEST_GPU=1`` and then fail, not skip, without a usable GPU:

    VIDEO_HW_TEST_GPU=1 python -m pytest python/tests/test_gpu_budget.py
"""

import os
import threading

import pytest

import video_hw
from test_gpu import MEDIA, Cuda, md5

pytestmark = pytest.mark.skipif(os.environ.get("VIDEO_HW_TEST_GPU") != "1", reason="VIDEO_HW_TEST_GPU=1 runs these")

FILES = ["h264-aac.mp4", "hevc-aac.mkv", "h264-aac.ts", "h264-opengop.mkv"]
# 16 jobs over the 4 files, 12 frames each from different places.
JOBS = [(MEDIA / FILES[k % 4], [(7 * k + 3 * j) % 95 for j in range(12)]) for k in range(16)]


def digests(batches):
    """MD5 of each frame of each batch, copied to the host by the CUDA driver through ctypes
    (not the package's own copy)."""
    cuda = Cuda()
    return [[md5(f) for f in cuda.to_host(b.data)] for b in batches]


def decode(**kw):
    return video_hw.decode_many(
        [p for p, _ in JOBS], [i for _, i in JOBS], device="cuda", pixel_format="rgb24", dimension_order="NHWC", **kw
    )


def test_a_gpu_is_there():
    usable = [e for e in video_hw.engines() if e["engine"] == "nvdec" and e["direction"] == "decode" and e["available"]]
    assert usable, f"VIDEO_HW_TEST_GPU=1 but NVDEC cannot decode here: {video_hw.engines()}"


def test_memory_is_counted_by_use_and_given_back():
    video_hw.release_cached_decoders()
    rest = video_hw.gpu_memory()["in_use"]
    video_hw.reset_gpu_memory_peak()
    with video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", device="cuda", pixel_format="rgb24") as dec:
        batch = dec.get_frames_at(list(range(0, 100, 5)))
        during = video_hw.gpu_memory()
    by_use = during["by_use"]
    assert by_use["decoders"] > 0, during
    assert by_use["delivered"] >= 20 * 320 * 240 * 3, during
    assert during["peak"] >= by_use["decoders"], during
    del batch
    assert video_hw.gpu_memory()["delivered"] == 0
    video_hw.release_cached_decoders()
    # Pools of the closed sessions are gone with them; the transformers' kept buffers and
    # tables stay (bounded, per context), so allow a few frames' worth.
    after = video_hw.gpu_memory()
    assert after["by_use"]["decoders"] == 0, after
    assert after["in_use"] <= rest + 64 * 2**20, (rest, after)


def test_decode_many_under_a_budget_waits_stays_within_it_and_is_exact():
    free = decode(max_gpu_memory=0)  # no budget
    want = digests(free)
    # What one file takes at most, measured: the budget lets about three run at once.
    with video_hw.VideoDecoder(JOBS[0][0], device="cuda", pixel_format="rgb24", sessions=1) as dec:
        dec._native.get_frames_at_admitted(JOBS[0][1], 1 << 20, 0)
        one = dec._native.last_job_peak
    assert one > 0
    video_hw.release_cached_decoders()
    budget = 3 * one + 64 * 2**20
    video_hw.reset_gpu_memory_peak()
    waits = video_hw.gpu_memory()["waits"]
    got = decode(max_gpu_memory=budget, workers=8)
    figures = video_hw.gpu_memory()
    assert digests(got) == want
    assert figures["waits"] > waits, figures  # 8 workers, room for about 3: they waited
    # Parked decoders and pools count too, and are let go past the budget.
    assert figures["peak"] <= budget + one, (budget, one, figures)


def test_a_budget_far_below_one_file_still_decodes_one_at_a_time():
    got = decode(max_gpu_memory="1M", workers=4)
    assert [len(b) for b in got] == [12] * len(JOBS)


def test_the_process_budget_holds_across_eight_threads():
    with video_hw.VideoDecoder(JOBS[1][0], device="cuda", pixel_format="rgb24", sessions=1) as dec:
        dec._native.get_frames_at_admitted(JOBS[1][1], 1 << 20, 0)
        one = dec._native.last_job_peak
    video_hw.release_cached_decoders()
    budget = 4 * one + 64 * 2**20
    video_hw.set_max_gpu_memory(budget)
    try:
        assert video_hw.gpu_memory()["limit"] == budget
        video_hw.reset_gpu_memory_peak()
        errors = []

        def work():
            try:
                for _ in range(2):
                    batches = decode(workers=2)
                    assert [len(b) for b in batches] == [12] * len(JOBS)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert not any(t.is_alive() for t in threads), "a thread hung under the budget"
        assert not errors, errors
        assert video_hw.gpu_memory()["peak"] <= budget + one
    finally:
        video_hw.set_max_gpu_memory(None)
    assert video_hw.gpu_memory()["limit"] is None


def test_a_budget_is_read_as_people_write_it():
    with pytest.raises(ValueError):
        video_hw.set_max_gpu_memory("lots")
    video_hw.set_max_gpu_memory("2G")
    try:
        assert video_hw.gpu_memory()["limit"] == 2 << 30
    finally:
        video_hw.set_max_gpu_memory(None)


def one_file_peak():
    """What one of JOBS' files takes at most on the GPU, measured."""
    with video_hw.VideoDecoder(JOBS[0][0], device="cuda", pixel_format="rgb24", sessions=1) as dec:
        dec._native.get_frames_at_admitted(JOBS[0][1], 1 << 20, 0)
        one = dec._native.last_job_peak
    video_hw.release_cached_decoders()
    assert one > 0
    return one


def decode_auto(**kw):
    return video_hw.decode_many(
        [p for p, _ in JOBS], [i for _, i in JOBS], device="auto:cuda", pixel_format="rgb24", dimension_order="NHWC", **kw
    )


def test_auto_cuda_files_on_the_gpu_are_jobs_of_the_budget(monkeypatch):
    want = digests(decode(max_gpu_memory=0))
    one = one_file_peak()
    budget = 3 * one + 64 * 2**20
    # Every file to the GPU (the model not asked), so that they must share the budget.
    monkeypatch.setenv("VIDEO_HW_AUTO", "cuda")
    video_hw.reset_gpu_memory_peak()
    waits = video_hw.gpu_memory()["waits"]
    got = decode_auto(max_gpu_memory=budget, workers=8)
    figures = video_hw.gpu_memory()
    assert digests(got) == want
    assert figures["waits"] > waits, figures
    assert figures["peak"] <= budget + one, (budget, one, figures)


def test_auto_cuda_sends_a_file_to_the_cpu_when_the_budget_has_no_room_and_the_cpu_is_close(monkeypatch):
    from video_hw import _auto

    paths, picks = [p for p, _ in JOBS], [i for _, i in JOBS]
    want = digests(video_hw.decode_many(paths, picks, device="cuda", pixel_format="yuv420p", max_gpu_memory=0))

    def gpu_but_close(*args, **kwargs):
        return {"device": "cuda", "why": "test", "estimate_s": {"cpu": 0.2, "cuda": 0.15}, "gpu": {"engines": 7}}

    monkeypatch.setattr(_auto, "device_choice", gpu_but_close)
    monkeypatch.setattr(_auto, "_gpu_memory_would_admit", lambda *a: False)
    before = dict(_auto.CHOICES)
    got = video_hw.decode_many(paths, picks, device="auto:cuda", pixel_format="yuv420p", max_gpu_memory="1M", workers=4)
    # H.264 goes to the CPU; HEVC too where a CPU engine decodes it (else the GPU, waiting).
    assert _auto.CHOICES["cpu"] > before["cpu"], (before, _auto.CHOICES)
    # YUV is the same bytes from either side.
    assert digests(got) == want
