"""The package on an NVIDIA GPU: frames decoded by NVDEC into GPU memory, checked bit for
bit against ffmpeg's references after an independent copy to the host (the CUDA driver
called through ctypes, not the package's own copy).

These run when ``VIDEO_HW_TEST_GPU=1`` and then fail, not skip, without a usable GPU:

    VIDEO_HW_TEST_GPU=1 python -m pytest python/tests/test_gpu.py
"""

import ctypes
import math
import hashlib
import os
import pathlib
import threading
import time

import numpy as np
import pytest

import video_hw

pytestmark = pytest.mark.skipif(os.environ.get("VIDEO_HW_TEST_GPU") != "1", reason="VIDEO_HW_TEST_GPU=1 runs these")

ROOT = pathlib.Path(__file__).resolve().parents[2]
MEDIA = ROOT / "testdata" / "media"
# Every H.264/HEVC fixture with ffmpeg's per-frame MD5s (yuv420p, of the coded pictures: the
# decoders that are checked against them keep the coded orientation, autorotate=False).
FIXTURES = sorted(
    p.name[: -len(".framemd5")]
    for p in MEDIA.glob("*.framemd5")
    if p.name.startswith(("h264-", "hevc-"))
)


class Cuda:
    """Just enough of the CUDA driver API to copy device memory to the host, in the
    primary context of GPU 0 (where the package's frames are)."""

    def __init__(self, device=0):
        self.lib = ctypes.CDLL("libcuda.so.1")
        self.check(self.lib.cuInit(0), "cuInit")
        dev = ctypes.c_int()
        self.check(self.lib.cuDeviceGet(ctypes.byref(dev), device), "cuDeviceGet")
        self.ctx = ctypes.c_void_p()
        self.check(self.lib.cuDevicePrimaryCtxRetain(ctypes.byref(self.ctx), dev), "cuDevicePrimaryCtxRetain")

    @staticmethod
    def check(rc, what):
        if rc != 0:
            raise RuntimeError(f"{what} failed: CUDA error {rc}")

    def to_host(self, obj):
        """The array behind ``obj.__cuda_array_interface__``, copied to a numpy array."""
        cai = obj.__cuda_array_interface__
        shape, typestr = tuple(cai["shape"]), cai["typestr"]
        ptr, _read_only = cai["data"]
        dtype = np.dtype(typestr)
        strides = cai.get("strides") or tuple(np.empty(shape, dtype).strides)
        span = sum((n - 1) * s for n, s in zip(shape, strides)) + dtype.itemsize if all(shape) else 0
        raw = np.empty(span, np.uint8)
        self.check(self.lib.cuCtxPushCurrent_v2(self.ctx), "cuCtxPushCurrent")
        try:
            if span:
                rc = self.lib.cuMemcpyDtoH_v2(
                    raw.ctypes.data_as(ctypes.c_void_p), ctypes.c_uint64(ptr), ctypes.c_size_t(span)
                )
                self.check(rc, "cuMemcpyDtoH")
        finally:
            self.check(self.lib.cuCtxPopCurrent_v2(ctypes.byref(ctypes.c_void_p())), "cuCtxPopCurrent")
        return np.lib.stride_tricks.as_strided(raw.view(dtype), shape, strides).copy()


@pytest.fixture(scope="module")
def cuda():
    return Cuda()


def references(name):
    lines = (MEDIA / f"{name}.framemd5").read_text().splitlines()
    return [line.split(",")[5].strip() for line in lines if line and not line.startswith("#")]


def md5(a):
    return hashlib.md5(np.ascontiguousarray(a).tobytes()).hexdigest()


def nv12_to_yuv420p(plane, width, height):
    """One NV12 frame (luma rows, then interleaved chroma rows) as I420 bytes."""
    luma = plane[:height]
    chroma = plane[height : height + (height + 1) // 2, : 2 * ((width + 1) // 2)]
    return np.concatenate([luma.ravel(), chroma[:, 0::2].ravel(), chroma[:, 1::2].ravel()])


def test_a_gpu_is_there():
    usable = [e for e in video_hw.engines() if e["engine"] == "nvdec" and e["direction"] == "decode" and e["available"]]
    assert usable, f"VIDEO_HW_TEST_GPU=1 but NVDEC cannot decode here: {video_hw.engines()}"


@pytest.mark.parametrize("sessions", [1, None], ids=["one-session", "read-ahead"])
@pytest.mark.parametrize("name", FIXTURES)
def test_every_frame_in_gpu_memory_matches_ffmpeg(cuda, name, sessions):
    # One session decodes as the frames are taken; the default (one per engine) decodes
    # the GOPs ahead at once.
    dec = video_hw.VideoDecoder(MEDIA / name, device="cuda", pixel_format="nv12", sessions=sessions, autorotate=False)
    assert "nvdec" in (dec.backend or "").lower(), dec.backend
    got = []
    for frame in dec:
        assert frame.data.device == "cuda:0" and frame.__dlpack_device__() == (2, 0)
        plane = cuda.to_host(frame.data)
        height = plane.shape[0] * 2 // 3
        got.append(md5(nv12_to_yuv420p(plane, plane.shape[1], height)))
    want = references(name)
    assert len(got) == len(want) == len(dec)
    assert got == want


@pytest.mark.parametrize("name", ["h264-aac.mp4", "hevc-aac.mkv", "h264-opengop.mkv"])
def test_index_loop_on_the_gpu_goes_on_and_is_exact(cuda, name):
    # dec[i] over the file, then dec[i-1] beside dec[i]: ffmpeg's frames, each packet
    # decoded about once, the frames asked again served from the kept ones.
    want = references(name)
    dec = video_hw.VideoDecoder(MEDIA / name, device="cuda", pixel_format="nv12", autorotate=False)

    def hashed(arr):
        plane = cuda.to_host(arr)
        return md5(nv12_to_yuv420p(plane, plane.shape[1], plane.shape[0] * 2 // 3))

    assert [hashed(dec[i]) for i in range(len(dec))] == want
    s = dec.stats
    assert s["runs"] <= 3 and s["packets_decoded"] <= 2 * len(dec) + 16, s
    back = video_hw.VideoDecoder(MEDIA / name, device="cuda", pixel_format="nv12", sessions=1, autorotate=False)
    for i in range(1, len(back)):
        assert (hashed(back[i - 1]), hashed(back[i])) == (want[i - 1], want[i]), i
    assert back.stats["frames_kept"] >= len(back) - 2, back.stats


@pytest.mark.parametrize("name", ["h264-opengop.mkv", "hevc-opengop.mp4", "h264-editlist.mp4", "h264-vfr.mkv"])
def test_random_access_batches_on_the_gpu(cuda, name):
    dec = video_hw.VideoDecoder(MEDIA / name, device="cuda", pixel_format="nv12", sessions=3, autorotate=False)
    want = references(name)
    n = len(dec)
    asked = [n - 1, 0, n // 2, 7, n // 2, n - 2, 1]
    batch = dec.get_frames_at(asked)
    assert batch.data.device == "cuda:0" and list(batch.indices) == asked
    data = cuda.to_host(batch.data)
    assert data.shape[0] == len(asked)
    h, w = data.shape[1] * 2 // 3, data.shape[2]
    assert [md5(nv12_to_yuv420p(data[i], w, h)) for i in range(len(asked))] == [want[k] for k in asked]


def test_rgb_on_the_gpu_equals_rgb_copied_to_the_host(cuda):
    name = "h264-opengop.mkv"
    idx = [0, 5, 40, 99]
    host = video_hw.VideoDecoder(MEDIA / name, engine="nvdec", pixel_format="rgb24", dimension_order="NHWC")
    expect = np.from_dlpack(host.get_frames_at(idx).data)
    for order, perm in (("NHWC", None), ("NCHW", (0, 3, 1, 2))):
        dev = video_hw.VideoDecoder(MEDIA / name, device="cuda", pixel_format="rgb24", dimension_order=order)
        batch = cuda.to_host(dev.get_frames_at(idx).data)
        assert np.array_equal(batch, expect if perm is None else np.transpose(expect, perm))
        one = cuda.to_host(dev.get_frame_at(40).data)
        assert np.array_equal(one, batch[2])


def test_transforms_on_the_gpu_equal_the_cpu_path(cuda):
    # NVDEC runs a transform that makes RGB on the GPU (device="cuda" keeps the result
    # there, "cpu" downloads it); OpenH264's frames take the CPU path. Within 1e-3 / 1 LSB.
    name = "h264-opengop.mkv"
    idx = [0, 5, 40, 99]
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    for opts, tolerance in (
        (dict(pixel_format="rgb24", resize=(224, 224), interpolation="area", dtype="float32", mean=mean, std=std), 1e-3),
        (dict(pixel_format="bgr24", crop=(3, 5, 101, 77), resize=(57, 33), dimension_order="NHWC"), 1),
        (dict(pixel_format="rgb24", crop=(10, 0, 300, 240), resize=(64, 48), interpolation="triangle"), 1),
    ):
        cpu = video_hw.VideoDecoder(MEDIA / name, engine="openh264", **opts)
        expect = np.from_dlpack(cpu.get_frames_at(idx).data).astype(np.float64)
        host = video_hw.VideoDecoder(MEDIA / name, engine="nvdec", **opts)
        dev = video_hw.VideoDecoder(MEDIA / name, engine="nvdec", device="cuda", **opts)
        got_host = np.from_dlpack(host.get_frames_at(idx).data)
        got_dev = cuda.to_host(dev.get_frames_at(idx).data)
        assert got_dev.shape == expect.shape and got_host.shape == expect.shape
        assert np.array_equal(got_dev, got_host), "device and host output are the same kernel's"
        assert np.abs(got_dev.astype(np.float64) - expect).max() <= tolerance


def test_frames_outlive_their_decoder_and_many_can_be_held(cuda):
    name = "h264-aac.mp4"
    want = references(name)
    dec = video_hw.VideoDecoder(MEDIA / name, device="cuda", pixel_format="nv12", autorotate=False)
    # More frames held than the decoder has output surfaces: the rest are copies, and the
    # decoder goes on instead of stalling.
    held = [dec.get_frame_at(k) for k in range(0, 60, 2)]
    del dec
    for k, frame in zip(range(0, 60, 2), held):
        plane = cuda.to_host(frame.data)
        assert md5(nv12_to_yuv420p(plane, 320, 240)) == want[k]


def test_damaged_file_on_the_gpu():
    bad = MEDIA / "bad" / "truncated.mp4"
    dec = video_hw.VideoDecoder(bad, device="cuda", pixel_format="nv12")
    assert dec.metadata.damage
    dec.get_frame_at(len(dec) - 1)
    with pytest.raises(video_hw.InvalidBitstreamError) as e:
        dec.get_frame_at(90)
    assert e.value.offset and e.value.offset > 0
    skip = video_hw.VideoDecoder(bad, device="cuda", pixel_format="nv12", on_error="skip")
    assert len(skip.get_frames_at(list(range(len(skip))))) == len(skip)


def test_threads_share_the_engines(cuda):
    names = [n for n in FIXTURES if n.endswith((".mp4", ".mkv"))] * 2
    out = {}

    def work(i, name):
        dec = video_hw.VideoDecoder(MEDIA / name, device="cuda", pixel_format="nv12", autorotate=False)
        batch = dec.get_frames_at([0, len(dec) - 1])
        out[i] = (name, cuda.to_host(batch.data))

    threads = [threading.Thread(target=work, args=(i, n)) for i, n in enumerate(names)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == len(names)
    for name, data in out.values():
        want = references(name)
        h, w = data.shape[1] * 2 // 3, data.shape[2]
        assert [md5(nv12_to_yuv420p(data[i], w, h)) for i in range(2)] == [want[0], want[-1]]


def test_decode_many_on_the_gpu(cuda):
    names = ["h264-aac.mp4", "hevc-aac.mkv", "h264-aac.ts"]
    batches = video_hw.decode_many([MEDIA / n for n in names], [[1, 2], [50], [99]], device="cuda", pixel_format="nv12")
    for name, idx, b in zip(names, [[1, 2], [50], [99]], batches):
        data = cuda.to_host(b.data)
        want = references(name)
        assert [md5(nv12_to_yuv420p(data[i], 320, 240)) for i in range(len(idx))] == [want[k] for k in idx]
    # The sessions ended cleanly, so their decoders are kept for the next files; releasing
    # them frees that memory now, and decoding afterwards creates new ones.
    assert video_hw.release_cached_decoders() >= 1
    assert video_hw.release_cached_decoders() == 0
    again = video_hw.decode_many([MEDIA / names[0]], [[1]], device="cuda", pixel_format="nv12")
    assert md5(nv12_to_yuv420p(cuda.to_host(again[0].data)[0], 320, 240)) == references(names[0])[1]


def test_decode_many_and_samplers_on_the_gpu_with_sound(cuda):
    """``audio=`` beside frames in GPU memory: the frames the same as without it, the
    sound (host memory) exactly ``AudioDecoder``'s samples for each span."""
    from video_hw import samplers

    path = MEDIA / "h264-aac.mp4"
    track = video_hw.AudioDecoder(path)

    def same_sound(got, pts, durations):
        want = track.get_samples_played_in_range(min(pts), max(p + d for p, d in zip(pts, durations)))
        np.testing.assert_array_equal(np.from_dlpack(got.data), np.from_dlpack(want.data))

    (b,) = video_hw.decode_many([path], [[3, 40, 41]], device="cuda", pixel_format="nv12", audio=True)
    data = cuda.to_host(b.data)
    want = references("h264-aac.mp4")
    assert [md5(nv12_to_yuv420p(data[i], 320, 240)) for i in range(3)] == [want[k] for k in (3, 40, 41)]
    same_sound(b.audio, list(b.pts_seconds), list(b.duration_seconds))
    dec = video_hw.VideoDecoder(path, device="cuda", pixel_format="nv12")
    clips = samplers.clips_at_regular_indices(dec, num_clips=3, num_frames_per_clip=4, audio=True)
    for sound, pts, durations in zip(clips.audio, clips.pts_seconds, clips.duration_seconds):
        same_sound(sound, pts, durations)


def test_decode_many_over_two_gpus():
    """``device=["cuda:0", "cuda:1"]``: the files go to the GPUs in turn, each batch in its
    GPU's memory, with the reference frames. Needs two GPUs (skipped with one)."""
    lib = ctypes.CDLL("libcuda.so.1")
    Cuda.check(lib.cuInit(0), "cuInit")
    count = ctypes.c_int()
    Cuda.check(lib.cuDeviceGetCount(ctypes.byref(count)), "cuDeviceGetCount")
    if count.value < 2:
        pytest.skip(f"{count.value} GPU here: decode_many over several devices needs two")
    names = ["h264-aac.mp4", "hevc-aac.mkv", "h264-aac.ts", "h264-ref1.mp4"]
    idx = [[1, 2], [50], [99], [10, 60]]
    batches = video_hw.decode_many([MEDIA / n for n in names], idx, device=["cuda:0", "cuda:1"], pixel_format="nv12")
    gpus = [Cuda(0), Cuda(1)]
    for k, (name, i, b) in enumerate(zip(names, idx, batches)):
        assert b.data.__dlpack_device__() == (2, k % 2), f"{name}: on GPU {k % 2}"
        data = gpus[k % 2].to_host(b.data)
        want = references(name)
        assert [md5(nv12_to_yuv420p(data[j], 320, 240)) for j in range(len(i))] == [want[f] for f in i], name


def test_dlpack_capsule_is_a_cuda_tensor():
    dec = video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", device="cuda", pixel_format="rgb24")
    batch = dec.get_frames_at([3])
    capsule = batch.data.__dlpack__(stream=None)
    assert type(capsule).__name__ == "PyCapsule"
    assert batch.data.__dlpack_device__() == (2, 0)
    # numpy takes host memory only: a GPU array must say so, not crash.
    with pytest.raises((RuntimeError, BufferError, TypeError, ValueError)):
        np.from_dlpack(batch.data)


def _forked_child(q):
    out = {}
    try:
        video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", device="cuda", pixel_format="nv12")
        out["cuda"] = "opened"
    except video_hw.UnsupportedError as e:
        out["cuda"] = str(e)
    # Host frames still decode in the child (on an engine that needs no CUDA).
    dec = video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", pixel_format="yuv420p")
    out["cpu"] = md5(np.asarray(dec[0]))
    q.put(out)


def _spawned_child(q):
    dec = video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", device="cuda", pixel_format="nv12")
    q.put(md5(nv12_to_yuv420p(Cuda().to_host(dec[0]), 320, 240)))


def test_workers_after_the_parent_used_the_gpu():
    import multiprocessing

    # The parent has decoded on the GPU before its workers start, as a training script
    # that looks at a sample first does.
    video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", device="cuda", pixel_format="nv12").get_frame_at(0)
    want = references("h264-aac.mp4")[0]
    fork = multiprocessing.get_context("fork")
    q = fork.Queue()
    p = fork.Process(target=_forked_child, args=(q,))
    p.start()
    p.join(120)
    assert p.exitcode == 0
    out = q.get(timeout=5)
    # A forked child cannot use CUDA: a clear error that names the way out, not a hang.
    assert "spawn" in out["cuda"], out
    assert out["cpu"] == want
    spawn = multiprocessing.get_context("spawn")
    q = spawn.Queue()
    p = spawn.Process(target=_spawned_child, args=(q,))
    p.start()
    p.join(120)
    assert p.exitcode == 0
    assert q.get(timeout=5) == want


def _use_parent_decoders(q, on_gpu, on_host):
    out = {}
    try:
        on_gpu[5]
        out["cuda"] = "decoded"
    except video_hw.VideoHwError as e:
        out["cuda"] = f"{type(e).__name__}: {e}"
    # The parent decoded these host frames on NVDEC; the child's own sessions cannot use
    # CUDA, so they decode on an engine that needs none (visibly: a fallback warning).
    out["host"] = [md5(np.asarray(on_host[k])) for k in (5, 50, 6)]
    q.put(out)


def _spawned_pickled(q, dec):
    q.put(md5(nv12_to_yuv420p(Cuda().to_host(dec[5]), 320, 240)))


def test_decoders_opened_before_the_workers_start():
    import multiprocessing
    import pickle

    want = references("h264-aac.mp4")
    on_gpu = video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", device="cuda", pixel_format="nv12")
    on_host = video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", pixel_format="yuv420p")
    on_gpu[0], on_host[0]  # both decoded in the parent: its CUDA context and sessions exist
    fork = multiprocessing.get_context("fork")
    q = fork.Queue()
    p = fork.Process(target=_use_parent_decoders, args=(q, on_gpu, on_host))
    p.start()
    out = q.get(timeout=120)
    p.join(60)
    assert p.exitcode == 0
    # GPU frames cannot be had in a forked child: an error that names the way out, at once.
    assert out["cuda"].startswith("UnsupportedError") and "spawn" in out["cuda"], out
    assert out["host"] == [want[k] for k in (5, 50, 6)]
    # Pickled to a spawned worker, the GPU decoder opens again there, on its own context.
    spawn = multiprocessing.get_context("spawn")
    q = spawn.Queue()
    p = spawn.Process(target=_spawned_pickled, args=(q, on_gpu))
    p.start()
    assert q.get(timeout=120) == want[5]
    p.join(60)
    assert p.exitcode == 0
    copy = pickle.loads(pickle.dumps(on_gpu))
    assert md5(nv12_to_yuv420p(Cuda().to_host(copy[7]), 320, 240)) == want[7]
    # The parent's decoders go on.
    assert md5(nv12_to_yuv420p(Cuda().to_host(on_gpu[6]), 320, 240)) == want[6]
    assert md5(np.asarray(on_host[51])) == want[51]


def test_samplers_and_time_ranges_in_gpu_memory(cuda):
    from video_hw import samplers

    name = "h264-aac.mp4"
    want = references(name)
    dec = video_hw.VideoDecoder(MEDIA / name, device="cuda", pixel_format="nv12", autorotate=False)
    clips = samplers.clips_at_regular_indices(dec, num_clips=3, num_frames_per_clip=4, num_indices_between_frames=2)
    # (clips, frames, H*3/2, W): the batch's GPU memory seen as clips, no copy.
    assert tuple(clips.data.shape) == (3, 4, 360, 320)
    host = cuda.to_host(clips.data)
    got = [[md5(nv12_to_yuv420p(host[c][f], 320, 240)) for f in range(4)] for c in range(3)]
    assert got == [[want[i] for i in row] for row in clips.indices]
    timed = samplers.clips_at_random_timestamps(dec, num_clips=2, num_frames_per_clip=3, generator=7)
    assert tuple(timed.data.shape) == (2, 3, 360, 320)
    # Ten times a second from 1.01 s (between frame starts: 25 fps), frames repeated as needed.
    span = dec.get_frames_played_in_range(1.01, 2.01, fps=10)
    assert len(span) == 10
    frames = cuda.to_host(span.data)
    assert [md5(nv12_to_yuv420p(frames[k], 320, 240)) for k in range(10)] == [
        want[int((1.01 + k / 10) * 25)] for k in range(10)
    ]


def test_torch_takes_gpu_frames_without_a_copy_if_installed(cuda):
    torch = pytest.importorskip("torch")
    name = "hevc-opengop.mp4"
    dec = video_hw.VideoDecoder(MEDIA / name, device="cuda", pixel_format="rgb24")
    batch = dec.get_frames_at([0, 33])
    t = torch.from_dlpack(batch.data)
    assert t.is_cuda and tuple(t.shape) == (2, 3, 240, 320) and t.dtype == torch.uint8
    # The tensor is the batch's memory itself, not a copy.
    assert t.data_ptr() == batch.data.__cuda_array_interface__["data"][0]
    assert np.array_equal(t.cpu().numpy(), cuda.to_host(batch.data))
    nv12 = video_hw.VideoDecoder(MEDIA / name, device="cuda", pixel_format="nv12")
    frame = torch.from_dlpack(nv12.get_frame_at(33).data)
    want = references(name)[33]
    assert md5(nv12_to_yuv420p(frame.cpu().numpy(), 320, 240)) == want


def test_torchcodec_transforms_on_the_gpu(cuda):
    # torchcodec's decoder transforms with device="cuda": the chain runs in NVDEC's
    # transform kernel (the crop after the resize on the GPU tensor), frames in GPU memory,
    # within 1 LSB of the CPU path's.
    torch = pytest.importorskip("torch")
    from video_hw.torchcodec import transforms as T
    from video_hw.torchcodec.decoders import VideoDecoder

    name = "h264-opengop.mkv"
    idx = [0, 5, 40, 99]
    chain = [T.CenterCrop((200, 300)), T.Resize((120, 180)), T.CenterCrop((100, 150))]
    gpu = VideoDecoder(str(MEDIA / name), device="cuda", transforms=chain).get_frames_at(idx).data
    cpu = VideoDecoder(str(MEDIA / name), device="cpu", transforms=chain, engine="openh264").get_frames_at(idx).data
    assert gpu.is_cuda and tuple(gpu.shape) == (4, 3, 100, 150) == tuple(cpu.shape)
    assert (gpu.cpu().to(torch.int16) - cpu.to(torch.int16)).abs().max().item() <= 1


def test_encoder_takes_cuda_frames(tmp_path):
    # NV12 frames in GPU memory (the decoder's, through __cuda_array_interface__) into the
    # encoder of the machine (the H200 has no NVENC: the embedded engine, after a copy).
    src = video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", device="cuda", pixel_format="nv12")
    out = tmp_path / "from-gpu.mkv"
    with video_hw.Encoder(out, width=320, height=240, fps=25, pixel_format="nv12") as enc:
        for frame in src:
            enc.encode(frame.data)
    back = video_hw.VideoDecoder(out, pixel_format="nv12")
    assert len(back) == len(src)


def framemd5s(path):
    lines = pathlib.Path(path).read_text().splitlines()
    return [line.split(",")[5].strip() for line in lines if line and not line.startswith("#")]


@pytest.mark.parametrize("name", ["h264-opengop.mkv", "hevc-opengop.mp4"])
def test_yuv420p_in_gpu_memory_is_ffmpegs(cuda, name):
    # Planar 4:2:0 made on the GPU from NVDEC's surface: ffmpeg's `-pix_fmt yuv420p` bytes.
    dec = video_hw.VideoDecoder(MEDIA / name, device="cuda", pixel_format="yuv420p", autorotate=False)
    got = []
    for frame in dec:
        assert frame.data.device == "cuda:0"
        plane = cuda.to_host(frame.data)
        assert plane.dtype == np.uint8
        got.append(md5(plane))
    assert got == references(name)
    batch = dec.get_frames_at([3, 0])
    data = cuda.to_host(batch.data)
    assert [md5(data[i]) for i in range(2)] == [references(name)[3], references(name)[0]]


def test_a_10_bit_stream_on_the_gpu_by_name(cuda):
    # ffmpeg's names on a 10-bit stream: yuv420p10le and p010le are its own samples
    # (ffmpeg's bytes), yuv420p and nv12 are rounded to 8 bits (as on the CPU).
    path = ROOT / "testdata" / "hevc" / "main10-mandelbrot-320x240.h265"
    ten = [cuda.to_host(f.data) for f in video_hw.VideoDecoder(path, device="cuda", pixel_format="yuv420p10le")]
    assert ten[0].dtype == np.uint16 and ten[0].shape == (360, 320)
    assert [md5(p) for p in ten] == framemd5s(f"{path}.yuv.framemd5")
    p010 = [cuda.to_host(f.data) for f in video_hw.VideoDecoder(path, device="cuda", pixel_format="p010le")]
    assert [md5(p) for p in p010] == framemd5s(f"{path}.p010.framemd5")
    eight = [cuda.to_host(f.data) for f in video_hw.VideoDecoder(path, device="cuda", pixel_format="yuv420p")]
    host = [np.from_dlpack(f.data) for f in video_hw.VideoDecoder(path, device="cpu", pixel_format="yuv420p")]
    assert len(eight) == len(host) == len(ten)
    for g, h in zip(eight, host):
        assert g.dtype == np.uint8 and np.abs(g.astype(np.int16) - h.astype(np.int16)).max() <= 1
    nv12 = [cuda.to_host(f.data) for f in video_hw.VideoDecoder(path, device="cuda", pixel_format="nv12")]
    assert nv12[0].dtype == np.uint8 and nv12[0].shape == (360, 320)
    with pytest.raises(ValueError, match="host output"):
        video_hw.VideoDecoder(path, device="cuda", pixel_format="gray")


AV1 = ROOT / "testdata" / "media" / "av1-opus.webm"
AV1_10BIT = ROOT / "testdata" / "av1" / "svtav1-10bit-cars-320x240.ivf"
WIDE = ROOT / "testdata" / "fallback" / "h264-wide-4112x64.mp4"


def nvdec_decodes(codec):
    return any(
        e["engine"] == "nvdec" and e["codec"] == codec and e["direction"] == "decode" and e["available"]
        for e in video_hw.engines()
    )


@pytest.mark.parametrize(
    "path,opts",
    [
        (AV1, dict(pixel_format="rgb24")),
        (AV1, dict(pixel_format="nv12")),
        (AV1, dict(pixel_format="rgb24", resize=(160, 90), dtype="float32")),
        (AV1_10BIT, dict(pixel_format="rgb24", dimension_order="NHWC")),
        (WIDE, dict(pixel_format="rgb24")),
    ],
    ids=["av1-rgb", "av1-nv12", "av1-resized-float", "av1-10bit-rgb", "h264-wider-than-nvdec"],
)
def test_cuda_decodes_what_nvdec_cannot_on_the_cpu(cuda, path, opts):
    # device="cuda" on a stream NVDEC cannot take (AV1 on an H100/H200, H.264 past 4096
    # pixels): a CPU engine decodes, the frames land in GPU memory, equal to device="cpu"'s
    # (the GPU transform within 1 LSB / 1e-3), and the decoder says why, with one warning.
    if path == AV1 and nvdec_decodes("av1"):
        pytest.skip("this GPU's NVDEC decodes AV1: no fallback to check")
    with pytest.warns(RuntimeWarning, match="nvdec"):
        dev = video_hw.VideoDecoder(path, device="cuda", **opts)
    assert dev.fallback is not None and "nvdec" in dev.fallback
    assert "uploaded to GPU" in dev.backend
    cpu = video_hw.VideoDecoder(path, **opts)
    assert cpu.fallback is None
    n = len(cpu)
    assert len(dev) == n
    idx = [n - 1, 0, n // 2, 1]
    want = np.from_dlpack(cpu.get_frames_at(idx).data)
    got = cuda.to_host(dev.get_frames_at(idx).data)
    assert got.shape == want.shape
    if "resize" in opts:
        assert np.abs(got.astype(np.float64) - want).max() <= 1e-3
    elif opts["pixel_format"] == "nv12":
        assert np.array_equal(got, want)
    else:
        assert np.abs(got.astype(np.int16) - want).max() == 0
    # Straight through in order: every frame, same count.
    seen = sum(1 for _ in dev)
    assert seen == n
    from video_hw.torchcodec.decoders import VideoDecoder as TcDecoder

    with pytest.warns(RuntimeWarning):
        tc = TcDecoder(path, device="cuda")
    assert bool(tc.cpu_fallback) and "Falling back" in str(tc.cpu_fallback)


def test_decode_many_says_which_files_fell_back_on_the_gpu(cuda):
    # device="cuda" in decode_many over an AV1 file (NVDEC of an H100/H200 has no AV1) and
    # H.264 files: the AV1 file decodes on the CPU, its frames land in GPU memory equal to
    # device="cpu"'s, its batch says why (the others None), and the call warns once.
    import warnings

    if nvdec_decodes("av1"):
        pytest.skip("this GPU's NVDEC decodes AV1: no fallback to check")
    paths = [MEDIA / "h264-aac.mp4", AV1, MEDIA / "hevc-aac.mkv", AV1]
    idx = [[1, 2], [0, 5, 3], [50], [7]]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batches = video_hw.decode_many(paths, idx, device="cuda", pixel_format="rgb24")
    warned = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(warned) == 1 and "2 of 4 files" in warned[0] and "nvdec" in warned[0], warned
    assert [b.fallback is not None for b in batches] == [False, True, False, True]
    assert "nvdec" in batches[1].fallback
    for path, want, b in zip(paths, idx, batches):
        cpu = np.from_dlpack(video_hw.VideoDecoder(path, pixel_format="rgb24").get_frames_at(want).data)
        got = cuda.to_host(b.data)
        assert got.shape == cpu.shape, path.name
        # The CPU engine's RGB is uploaded as it is; NVDEC's RGB kernel is within 1 of it.
        worst = int(np.abs(got.astype(np.int16) - cpu).max())
        assert worst <= (0 if b.fallback else 1), (path.name, worst)
    # A sampler over a decoder that fell back says so too.
    with pytest.warns(RuntimeWarning):
        dec = video_hw.VideoDecoder(AV1, device="cuda")
    clips = video_hw.samplers.clips_at_regular_indices(dec, num_clips=2, num_frames_per_clip=3)
    assert clips.fallback == dec.fallback is not None


def test_cuda_with_nvdec_named_refuses_what_it_cannot_decode():
    with pytest.raises(video_hw.UnsupportedError):
        video_hw.VideoDecoder(WIDE, device="cuda", engine="nvdec")


def test_rotation_on_the_gpu_turns_the_frames(cuda):
    # h264-rotate90.mp4's display matrix turns it 90 degrees counter-clockwise: NVDEC's frames
    # are turned by the GPU transform, stored turned by the kernel. They are the GPU
    # transform's coded frames turned (a same-size resize makes the coded ones in the same
    # kernel), exactly, and the CPU path's turned frames in geometry: the GPU transform still
    # interpolates chroma where the CPU takes the nearest sample (issue #56), so against the
    # CPU this holds a PSNR floor, not bytes.
    name = "h264-rotate90.mp4"
    idx = [0, 5, 40, 99]
    for opts in (dict(pixel_format="rgb24", dimension_order="NHWC"), dict(pixel_format="rgb24", dtype="float32")):
        dev = video_hw.VideoDecoder(MEDIA / name, engine="nvdec", device="cuda", **opts)
        host = video_hw.VideoDecoder(MEDIA / name, engine="nvdec", **opts)
        coded = video_hw.VideoDecoder(
            MEDIA / name, engine="nvdec", device="cuda", autorotate=False, resize=(320, 240), **opts
        )
        assert (dev.metadata.width, dev.metadata.height) == (240, 320)
        got_dev = cuda.to_host(dev.get_frames_at(idx).data)
        got_host = np.from_dlpack(host.get_frames_at(idx).data)
        got_coded = cuda.to_host(coded.get_frames_at(idx).data)
        hw = (1, 2) if opts.get("dimension_order") == "NHWC" else (2, 3)
        assert np.array_equal(got_dev, np.rot90(got_coded, 1, axes=hw)), opts
        assert np.array_equal(got_dev, got_host), opts
        cpu = video_hw.VideoDecoder(MEDIA / name, engine="openh264", **opts)
        expect = np.from_dlpack(cpu.get_frames_at(idx).data).astype(np.float64)
        assert got_dev.shape == expect.shape, (opts, got_dev.shape)
        peak = 1.0 if opts.get("dtype") == "float32" else 255.0
        mse = float(np.mean((got_dev.astype(np.float64) - expect) ** 2))
        # 25 dB on this saturated pattern (the interpolated chroma at its edges); a picture
        # turned the wrong way is under 10 dB.
        assert 10 * math.log10(peak**2 / max(mse, 1e-12)) >= 20, opts


# Run in a fresh interpreter (this one has used CUDA through the tests above): the parent
# uses CUDA through torch only, never through video_hw, then forks.
_TORCH_THEN_FORK = r"""
import hashlib, multiprocessing, sys, time
import numpy as np
import torch
import video_hw

clip = sys.argv[1]
use_cuda = sys.argv[2] == "1"
if use_cuda:
    torch.zeros(1, device="cuda")  # the parent's CUDA context, made by torch

def child(q):
    out = {}
    start = time.monotonic()
    try:
        video_hw.VideoDecoder(clip, device="cuda", pixel_format="nv12")[0]
        out["cuda"] = "decoded"
    except video_hw.VideoHwError as e:
        out["cuda"] = f"{type(e).__name__}: {e}"
    out["cuda_seconds"] = time.monotonic() - start
    d = video_hw.VideoDecoder(clip, pixel_format="yuv420p")
    out["cpu"] = hashlib.md5(np.ascontiguousarray(np.asarray(d[0])).tobytes()).hexdigest()
    q.put(out)

if __name__ == "__main__":
    fork = multiprocessing.get_context("fork")
    q = fork.Queue()
    p = fork.Process(target=child, args=(q,))
    p.start()
    out = q.get(timeout=120)
    p.join(60)
    print(repr(out))
"""


def _torch_then_fork(use_cuda):
    import ast
    import subprocess
    import sys

    import importlib.util

    # These run with VIDEO_HW_TEST_GPU=1: a missing torch fails them, it does not skip.
    assert importlib.util.find_spec("torch") is not None, "torch is needed to make the parent's CUDA context"
    r = subprocess.run(
        [sys.executable, "-c", _TORCH_THEN_FORK, str(MEDIA / "h264-aac.mp4"), "1" if use_cuda else "0"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    return ast.literal_eval(r.stdout.strip().splitlines()[-1])


def test_torch_cuda_then_fork_is_a_clear_error_in_the_child():
    """The parent made a CUDA context with torch (not video_hw) before forking, as a
    training script does before its DataLoader's fork workers start: in the child, a GPU
    decoder is refused at once with an error that names spawn (the driver is not called),
    and CPU decoding works."""
    out = _torch_then_fork(use_cuda=True)
    want = references("h264-aac.mp4")[0]
    assert out["cuda"].startswith("UnsupportedError") and "spawn" in out["cuda"], out
    assert out["cuda_seconds"] < 5, out
    assert out["cpu"] == want


def test_torch_imported_without_cuda_then_fork_decodes_on_the_gpu():
    """No false alarm: a parent that imported torch but made no CUDA context leaves the
    child free to use the GPU."""
    out = _torch_then_fork(use_cuda=False)
    assert out["cuda"] == "decoded", out
    assert out["cpu"] == references("h264-aac.mp4")[0]


def test_ctrl_c_during_a_gpu_batch():
    """SIGINT during a long batch decoded by NVDEC: KeyboardInterrupt within a second, and
    the decoder gives the right frames afterwards."""
    import signal

    name = "h264-aac.mp4"
    want = references(name)
    dec = video_hw.VideoDecoder(MEDIA / name, device="cuda", pixel_format="nv12", sessions=1, autorotate=False)
    # Many requests of every frame (each a separate run from the key frame: repeats in one
    # call are decoded once, so the batch is a list of calls).
    sent = {}

    def fire():
        sent["t"] = time.monotonic()
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(0.2, fire)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            for _ in range(10000):
                dec.get_frames_at(list(range(0, 100)))
    finally:
        timer.cancel()
    assert time.monotonic() - sent["t"] < 1.0
    data = Cuda().to_host(dec.get_frames_at([7, 60]).data)
    assert [md5(nv12_to_yuv420p(data[i], 320, 240)) for i in range(2)] == [want[7], want[60]]
