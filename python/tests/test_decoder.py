"""The video_hw package on the engines of the build (CI: the embedded OpenH264 engine,
H.264 only): metadata against ffprobe, exact random access, shapes and DLPack, sources,
errors, threads, fork, and memory over many opens of a damaged file."""

import gc
import hashlib
import io
import json
import multiprocessing
import os
import pathlib
import threading

import numpy as np
import pytest

import video_hw

ROOT = pathlib.Path(__file__).resolve().parents[2]
MEDIA = ROOT / "testdata" / "media"
H264 = ["h264-aac.mp4", "h264-aac-frag.mp4", "h264-aac.ts", "h264-opengop.mkv", "h264-vfr.mkv", "h264-editlist.mp4", "h264-aac.avi"]


def facts(name):
    return json.loads((MEDIA / f"{name}.json").read_text())


def md5(a):
    return hashlib.md5(np.ascontiguousarray(a).tobytes()).hexdigest()


def decoder(name, **kw):
    kw.setdefault("pixel_format", "yuv420p")
    return video_hw.VideoDecoder(MEDIA / name, **kw)


@pytest.mark.parametrize("name", H264)
def test_metadata_matches_ffprobe(name):
    f = facts(name)
    video = f["streams"][f["video"]["stream_index"]]
    m = decoder(name).metadata
    assert m.num_frames == video["nb_read_frames"]
    assert (m.width, m.height) == (video["width"], video["height"])
    assert m.codec == "h264"
    assert m.damage is None
    assert m.duration_seconds > 0 and m.average_fps > 0


@pytest.mark.parametrize("name", H264)
def test_random_access_is_exact(name):
    dec = decoder(name)
    straight = [md5(np.from_dlpack(f.data)) for f in dec]
    n = len(dec)
    assert len(straight) == n
    asked = [n - 1, 0, n // 2, n // 2, 1, n - 2, 27]
    batch = dec.get_frames_at(asked)
    data = np.from_dlpack(batch.data)
    assert data.shape[0] == len(asked)
    assert [md5(data[i]) for i in range(len(asked))] == [straight[k] for k in asked]
    assert list(batch.indices) == asked
    # Single frames and times.
    for k in (0, n // 3, n - 1):
        frame = dec.get_frame_at(k)
        assert md5(np.from_dlpack(frame.data)) == straight[k]
        again = dec.get_frame_played_at(frame.pts_seconds + frame.duration_seconds / 2)
        assert again.index == k
    # Negative indices count from the end.
    assert md5(np.asarray(dec[-1])) == straight[-1]


def test_reference_frames_where_openh264_is_exact():
    # I and P pictures of x264 streams decode exactly on OpenH264 (its B-pictures differ
    # from ffmpeg's; the project's open OpenH264 issue): frame 0 is the IDR.
    ref = [l.split(",")[5].strip() for l in (MEDIA / "h264-aac.mp4.framemd5").read_text().splitlines() if not l.startswith("#")]
    dec = decoder("h264-aac.mp4")
    assert md5(np.asarray(dec[0])) == ref[0]


def test_shapes_and_dimension_orders():
    name = "h264-aac.mp4"
    h, w = 240, 320
    assert np.asarray(decoder(name, pixel_format="nv12")[0]).shape == (h * 3 // 2, w)
    assert np.asarray(decoder(name, pixel_format="yuv420p")[0]).shape == (h * 3 // 2, w)
    nchw = decoder(name, pixel_format="rgb24", dimension_order="NCHW")
    nhwc = decoder(name, pixel_format="rgb24", dimension_order="NHWC")
    a, b = np.asarray(nchw[3]), np.asarray(nhwc[3])
    assert a.shape == (3, h, w) and b.shape == (h, w, 3) and a.dtype == np.uint8
    assert np.array_equal(a, np.transpose(b, (2, 0, 1)))
    batch = nchw.get_frames_in_range(0, 10, 3)
    assert np.from_dlpack(batch.data).shape == (4, 3, h, w)
    assert np.asarray(nhwc[2:10:4]).shape == (2, h, w, 3)
    assert batch.data.device == "cpu" and batch.__dlpack_device__() == (1, 0)


def test_batches_reuse_their_memory_and_stay_exact():
    # A batch's buffer goes back to the library's pool when its last user lets go, and
    # the next batch of the same size takes it (pages already mapped); what an earlier
    # batch holds is never written while it is alive.
    dec = decoder("h264-aac.mp4", pixel_format="rgb24")
    want = [md5(np.asarray(dec[i])) for i in range(8)]
    first = np.asarray(dec.get_frames_in_range(0, 4).data)
    addr = first.__array_interface__["data"][0]
    held = np.asarray(dec.get_frames_in_range(4, 8).data)
    assert held.__array_interface__["data"][0] != addr, "a live batch's memory is not reused"
    assert [md5(f) for f in first] == want[:4] and [md5(f) for f in held] == want[4:]
    del first
    gc.collect()
    again = np.asarray(dec.get_frames_in_range(0, 4).data)
    if os.environ.get("VIDEO_HW_HOST_RECYCLE", "1") != "0":
        assert again.__array_interface__["data"][0] == addr, "the freed batch's memory was not reused"
    assert [md5(f) for f in again] == want[:4] and [md5(f) for f in held] == want[4:]


def test_sources_path_bytes_file_object():
    path = MEDIA / "h264-aac.mkv" if (MEDIA / "h264-aac.mkv").exists() else MEDIA / "h264-opengop.mkv"
    by_path = decoder(path.name)
    data = path.read_bytes()
    by_bytes = video_hw.VideoDecoder(data, pixel_format="yuv420p")
    by_file = video_hw.VideoDecoder(io.BytesIO(data), pixel_format="yuv420p")
    by_str = video_hw.VideoDecoder(str(path), pixel_format="yuv420p")
    k = len(by_path) // 2
    want = md5(np.asarray(by_path[k]))
    for d in (by_bytes, by_file, by_str):
        assert len(d) == len(by_path)
        assert md5(np.asarray(d[k])) == want


def test_errors_are_typed():
    with pytest.raises(video_hw.InvalidBitstreamError) as e:
        video_hw.VideoDecoder(b"\x00\x01garbage" * 100)
    assert e.value.kind == "invalid_bitstream" and isinstance(e.value.offset, int)
    assert isinstance(e.value, video_hw.VideoHwError)
    with pytest.raises(FileNotFoundError):
        video_hw.VideoDecoder(MEDIA / "no-such-file.mp4")
    with pytest.raises(ValueError):
        decoder("h264-aac.mp4", pixel_format="rgb48")
    with pytest.raises(ValueError):
        decoder("h264-aac.mp4", device="tpu")
    dec = decoder("h264-aac.mp4")
    with pytest.raises(IndexError):
        dec.get_frame_at(len(dec))
    with pytest.raises(IndexError):
        dec.get_frame_played_at(1e6)


def test_damaged_file_raise_and_skip():
    bad = MEDIA / "bad" / "truncated.mp4"
    dec = video_hw.VideoDecoder(bad, pixel_format="yuv420p")
    assert dec.metadata.damage and len(dec) > 10
    # Every frame before the damage decodes; past it, the damage is the error.
    assert np.asarray(dec[len(dec) - 1]).shape == (360, 320)
    with pytest.raises(video_hw.InvalidBitstreamError) as e:
        dec.get_frame_at(90)
    assert e.value.offset and e.value.offset > 0
    skip = video_hw.VideoDecoder(bad, pixel_format="yuv420p", on_error="skip")
    assert len(skip.get_frames_at(list(range(len(skip))))) == len(skip)


def test_hevc_without_an_engine_is_unsupported_or_decodes():
    names = {e["engine"] for e in video_hw.engines() if e["codec"] == "hevc" and e["direction"] == "decode" and e["available"]}
    if names:
        assert len(decoder("hevc-aac.mkv")) == 100
    else:
        with pytest.raises(video_hw.UnsupportedError):
            decoder("hevc-aac.mkv")


def test_threads_decode_at_once():
    ref = md5(np.asarray(decoder("h264-aac.mp4")[77]))
    results = []

    def work():
        d = decoder("h264-aac.mp4")
        results.append(md5(np.asarray(d[77])))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [ref] * 4
    # One decoder shared by threads: calls are serialised, results stay right.
    shared = decoder("h264-aac.mp4")
    out = {}

    def ask(k):
        out[k] = md5(np.asarray(shared[k]))

    ts = [threading.Thread(target=ask, args=(k,)) for k in (5, 50, 95)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    single = decoder("h264-aac.mp4")
    assert out == {k: md5(np.asarray(single[k])) for k in (5, 50, 95)}


def _child(q):
    d = video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", pixel_format="yuv420p")
    # Reading on two sessions starts worker threads: the parent's kept ones do not exist here.
    frames = sum(1 for _ in video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", pixel_format="yuv420p", sessions=2))
    q.put((md5(np.asarray(d[42])), frames))


def test_fork_like_a_dataloader_worker():
    # The parent has used the package (engines probed, a decoder opened, read-ahead threads
    # ended and kept for the next session) before forking.
    parent = md5(np.asarray(decoder("h264-aac.mp4")[42]))
    assert len(list(video_hw.VideoDecoder(MEDIA / "h264-aac.mp4", pixel_format="yuv420p", sessions=2))) == 100
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(q,))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    assert q.get(timeout=5) == (parent, 100)


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def test_memory_is_flat_over_many_opens_of_a_damaged_file():
    bad = MEDIA / "bad" / "truncated.mp4"
    for _ in range(50):
        video_hw.VideoDecoder(bad, pixel_format="yuv420p").get_frames_at([0, 30])
    gc.collect()
    before = rss_kib()
    for _ in range(1000):
        d = video_hw.VideoDecoder(bad, pixel_format="yuv420p")
        d.get_frames_at([0, 30])
        try:
            d.get_frame_at(90)
        except video_hw.InvalidBitstreamError:
            pass
    gc.collect()
    grown = rss_kib() - before
    assert grown < 16 * 1024, f"resident memory grew by {grown} KiB over 1000 opens"


def test_decode_many_in_order():
    names = ["h264-aac.mp4", "h264-aac.ts", "h264-opengop.mkv"]
    want = [[3, 60], [0, 99], [50]]
    batches = video_hw.decode_many([MEDIA / n for n in names], want, pixel_format="yuv420p")
    for name, idx, b in zip(names, want, batches):
        d = decoder(name)
        assert list(b.indices) == idx
        got = np.from_dlpack(b.data)
        assert [md5(got[i]) for i in range(len(idx))] == [md5(np.asarray(d[k])) for k in idx]
    # A list of devices: the files go to them in turn.
    spread = video_hw.decode_many([MEDIA / n for n in names], want, device=["cpu", "cpu"], pixel_format="yuv420p")
    assert [list(b.indices) for b in spread] == want
    skipped = video_hw.decode_many([MEDIA / "no-such.mp4", MEDIA / names[0]], [[0], [0]], on_error="skip", pixel_format="yuv420p")
    assert skipped[0] is None and len(skipped[1]) == 1
    # Decoders kept for reuse (NVDEC's, where there is a GPU) are released; then none are left.
    assert video_hw.release_cached_decoders() >= 0
    assert video_hw.release_cached_decoders() == 0


def test_decode_many_says_which_files_fell_back(monkeypatch):
    import warnings

    names = ["h264-aac.mp4", "h264-aac.ts", "h264-opengop.mkv"]
    want = [[3, 60], [0, 99], [50]]
    # On the CPU nothing falls back: every batch (and a sampler's, and a time range's) says
    # None, and no warning is given.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batches = video_hw.decode_many([MEDIA / n for n in names], want, pixel_format="yuv420p")
        clips = video_hw.samplers.clips_at_regular_indices(decoder(names[0]), num_clips=2, num_frames_per_clip=3)
        ranged = decoder(names[0]).get_frames_played_in_range(0.0, 1.0, fps=5)
    assert [b.fallback for b in batches] == [None] * 3
    assert clips.fallback is None and ranged.fallback is None
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]

    # A decoder that fell back (simulated: only a GPU machine has one; test_gpu.py runs the
    # real AV1 case): its batch carries the reason, the others None, with one warning for
    # the call however many decoders were opened for that file.
    reason = "nvdec cannot decode av1 on this GPU (simulated)"
    real = video_hw.NativeDecoder

    class FellBack:
        def __init__(self, source, **kw):
            self._inner = real(source, **kw)
            self.fallback = reason if str(source).endswith(".ts") else None

        def __getattr__(self, name):
            return getattr(self._inner, name)

        def __len__(self):
            return len(self._inner)

        def get_frames_at(self, indices):
            b = self._inner.get_frames_at(indices)
            return video_hw.FrameBatch(b.data, b.pts_seconds, b.duration_seconds, b.indices, self.fallback)

    expected = {n: [md5(np.asarray(decoder(n)[k])) for k in idx] for n, idx in zip(names, want)}
    monkeypatch.setattr(video_hw, "NativeDecoder", FellBack)
    for order in (names, names[1:] + names[:1]):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = video_hw.decode_many([MEDIA / n for n in order], [want[names.index(n)] for n in order], pixel_format="yuv420p")
        assert [b.fallback for b in got] == [reason if n.endswith(".ts") else None for n in order]
        warned = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
        assert len(warned) == 1 and "1 of 3 files" in warned[0] and reason in warned[0], warned
        assert [w.filename for w in caught] == [__file__]
        for n, b in zip(order, got):
            assert [md5(f) for f in np.from_dlpack(b.data)] == expected[n]
    # A decoder opened alone still warns for itself.
    with pytest.warns(RuntimeWarning, match="simulated"):
        alone = video_hw.VideoDecoder(MEDIA / names[1], pixel_format="yuv420p")
    assert alone.fallback == reason and alone.get_frames_at([0]).fallback == reason


def test_decode_many_ramp_widens_running_calls_at_the_threshold(monkeypatch):
    monkeypatch.delenv("VIDEO_HW_DECODE_MANY_RAMP", raising=False)
    ramp = video_hw._Ramp()
    ramp.RAMP_FILES = 3
    gate = ramp.open(2, 4)
    held = [gate.acquire(blocking=False) for _ in range(3)]
    assert held == [True, True, False], "one file per engine before the threshold"
    for _ in range(3):
        ramp.file_done()
    assert [gate.acquire(blocking=False) for _ in range(3)] == [True, True, False], "two more once widened"
    ramp.close(gate)
    wide = ramp.open(2, 4)
    assert [wide.acquire(blocking=False) for _ in range(5)] == [True] * 4 + [False], "later calls start wide"
    # Calls that ended are not widened later; the switch turns the ramp off.
    ramp2 = video_hw._Ramp()
    ended = ramp2.open(1, 2)
    ramp2.close(ended)
    assert ramp2.narrow == []
    monkeypatch.setenv("VIDEO_HW_DECODE_MANY_RAMP", "0")
    off = ramp2.open(1, 2)
    assert [off.acquire(blocking=False) for _ in range(3)] == [True, True, False]


def test_torch_takes_the_frames_if_installed():
    torch = pytest.importorskip("torch")
    dec = decoder("h264-aac.mp4", pixel_format="rgb24")
    batch = dec.get_frames_at([1, 2])
    t = torch.from_dlpack(batch.data)
    assert tuple(t.shape) == (2, 3, 240, 320) and t.dtype == torch.uint8
    assert md5(t[1].numpy()) == md5(np.asarray(dec[2]))


def test_iteration_on_several_sessions_and_damage():
    # Several sessions decode the GOPs ahead while iterating: the same frames as one.
    for name in ("h264-opengop.mkv", "h264-aac.ts"):
        one = [md5(np.from_dlpack(f.data)) for f in decoder(name, sessions=1)]
        many = [md5(np.from_dlpack(f.data)) for f in decoder(name, sessions=3, read_ahead_bytes=1 << 20)]
        assert len(one) == len(decoder(name)) and many == one
    # A file with damage inside: the lost frames raise (with on_error="raise"), or are
    # passed over (on_error="skip"); the frames that decode are the same either way.
    # (OpenH264, which drops the damaged pictures of this file; NVDEC conceals them.)
    bad = MEDIA / "bad" / "badsync.ts"
    dec = video_hw.VideoDecoder(bad, pixel_format="yuv420p", sessions=2, engine="openh264")
    with pytest.raises(video_hw.InvalidBitstreamError) as e:
        list(dec)
    assert e.value.offset
    skip = video_hw.VideoDecoder(bad, pixel_format="yuv420p", sessions=2, on_error="skip", engine="openh264")
    got = sum(1 for _ in skip)
    assert 0 < got < len(skip)


def test_transforms_resize_crop_dtype_and_normalisation():
    name = "h264-aac.mp4"
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    u8 = np.asarray(decoder(name, pixel_format="rgb24", resize=(224, 224))[5])
    assert u8.shape == (3, 224, 224) and u8.dtype == np.uint8
    f32 = decoder(name, pixel_format="rgb24", resize=(224, 224), dtype="float32", mean=mean, std=std)[5]
    f32 = np.from_dlpack(f32)
    assert f32.shape == (3, 224, 224) and f32.dtype == np.float32
    # The same pixels: float output undone is the uint8 output before rounding.
    undone = f32 * np.array(std, np.float32)[:, None, None] + np.array(mean, np.float32)[:, None, None]
    assert np.abs(undone * 255 - u8).max() <= 0.5 + 1e-3
    f16 = np.asarray(decoder(name, pixel_format="rgb24", resize=(224, 224), dtype="float16")[5])
    assert f16.dtype == np.float16 and np.abs(f16.astype(np.float32) * 255 - u8).max() <= 0.5 + 0.2
    # Crop, area filter, NHWC; BGR is RGB reversed.
    kw = dict(crop=(10, 20, 200, 150), resize=(64, 48), interpolation="area", dimension_order="NHWC")
    rgb = np.asarray(decoder(name, pixel_format="rgb24", **kw)[7])
    bgr = np.asarray(decoder(name, pixel_format="bgr24", **kw)[7])
    assert rgb.shape == (48, 64, 3) and np.array_equal(rgb[..., ::-1], bgr)
    # A YUV rendition, batches and every frame.
    small = decoder(name, pixel_format="yuv420p", resize=(160, 120))
    assert np.asarray(small[0:100]).shape == (100, 180, 160)


def test_bad_transform_options_name_the_option():
    name = "h264-aac.mp4"
    cases = [
        (dict(crop=(300, 0, 100, 10)), "transform.crop"),
        (dict(pixel_format="rgb24", mean=[0.5] * 3), "transform.normalize"),
        (dict(pixel_format="rgba", dtype="float32"), "transform.format"),
        (dict(pixel_format="rgb24", resize=(0, 10)), "transform.size"),
    ]
    for kw, option in cases:
        with pytest.raises(video_hw.InvalidInputError) as e:
            decoder(name, **kw)
        assert e.value.option == option, (kw, str(e.value))
    with pytest.raises(ValueError):
        decoder(name, interpolation="lanczos")


def test_the_default_stream_is_the_largest_as_ffmpeg_picks_it():
    # Two video streams, the smaller first (testdata/streams/, scripts/make-stream-fixtures.sh).
    import pickle

    for name in ["two-video.mp4", "two-video.mkv"]:
        path = ROOT / "testdata" / "streams" / name
        dec = video_hw.VideoDecoder(path, pixel_format="yuv420p")
        assert (dec.metadata.width, dec.metadata.height, len(dec)) == (96, 64, 5)
        assert np.asarray(dec[4]).shape == (96, 96)  # (H*3/2, W)
        small = 1 - dec.metadata.stream_index
        other = video_hw.VideoDecoder(path, pixel_format="yuv420p", stream_index=small)
        assert (other.metadata.width, np.asarray(other[0]).shape) == (64, (72, 64))
        assert pickle.loads(pickle.dumps(other)).metadata.stream_index == small
