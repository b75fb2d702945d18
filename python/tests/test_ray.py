"""Decoding a dataset of files with Ray Data (``video_hw.ray_data``) on a local Ray cluster
with the embedded engine: one row per file, the same frames as ``VideoDecoder`` gives in
one process, and a row with the error for each file that cannot be decoded, never a failed
job. Needs ``ray[data]``; CI installs it and sets ``VIDEO_HW_TEST_RAY=1``, which turns a
missing Ray into a failure instead of a skip.
"""

import os
import pathlib

import numpy as np
import pytest

import video_hw
from video_hw.ray_data import DecodeVideos, sample_indices

if os.environ.get("VIDEO_HW_TEST_RAY") == "1":
    import ray  # noqa: F401 - must be there
else:
    ray = pytest.importorskip("ray")

MEDIA = pathlib.Path(__file__).resolve().parents[2] / "testdata" / "media"
GOOD = ["h264-aac.mp4", "h264-opengop.mkv", "h264-aac.ts", "h264-editlist.mp4"]
ARGS = dict(engine="openh264", pixel_format="rgb24", resize=(64, 48), dimension_order="NHWC")


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


def test_sample_indices_spread_evenly_and_never_past_the_end():
    assert sample_indices(10, None) == list(range(10))
    assert sample_indices(100, 4) == [12, 37, 62, 87]
    assert sample_indices(3, 8) == [0, 1, 2]
    with pytest.raises(ValueError):
        sample_indices(10, 0)


def test_decode_videos_is_a_plain_callable_with_a_row_per_file():
    f = DecodeVideos(num_frames=3, **ARGS)
    out = f({"path": np.array([str(MEDIA / GOOD[0]), str(MEDIA / "missing.mp4")])})
    assert out["path"] == [str(MEDIA / GOOD[0]), str(MEDIA / "missing.mp4")]
    assert out["frames"][0].shape == (3, 48, 64, 3) and out["error"][0] is None
    assert out["frames"][1].size == 0 and "missing.mp4" in out["error"][1]
    assert (f.files, f.failures) == (2, 1)


def test_a_dataset_decodes_like_one_process_and_reports_bad_files(cluster):
    from video_hw.ray_data import read_videos

    bad = {
        str(MEDIA / "missing.mp4"): "missing.mp4",
        str(MEDIA / "bad" / "absurd-stsz.mp4"): "InvalidBitstreamError",
        str(MEDIA / "av1-opus.webm"): "Unsupported",
    }
    paths = [str(MEDIA / g) for g in GOOD] + list(bad)
    rows = {r["path"]: r for r in read_videos(paths, num_frames=5, workers=2, **ARGS).iter_rows()}
    assert sorted(rows) == sorted(paths), "one row per file"
    for g in GOOD:
        r = rows[str(MEDIA / g)]
        assert r["error"] is None, f"{g}: {r['error']}"
        dec = video_hw.VideoDecoder(MEDIA / g, **ARGS)
        want = sample_indices(len(dec), 5)
        batch = dec.get_frames_at(want)
        assert list(r["indices"]) == want, g
        assert np.array_equal(r["frames"], np.from_dlpack(batch.data)), f"{g}: frames as in one process"
        assert np.allclose(r["pts_seconds"], batch.pts_seconds), g
    for path, said in bad.items():
        r = rows[path]
        assert r["error"], f"{path}: an error row"
        assert said in r["error"], f"{path}: {r['error']}"
        assert r["frames"].size == 0


def _decodes_like_one_process(row, name):
    assert row["error"] is None, f"{name}: {row['error']}"
    dec = video_hw.VideoDecoder(MEDIA / name, **ARGS)
    batch = dec.get_frames_at(sample_indices(len(dec), 5))
    assert np.array_equal(row["frames"], np.from_dlpack(batch.data)), f"{name}: frames as in one process"


def _run(cls, paths, **kwargs):
    ds = ray.data.from_items([{"path": p} for p in paths], override_num_blocks=len(paths))
    out = ds.map_batches(
        cls,
        fn_constructor_kwargs=dict(num_frames=5, **ARGS, **kwargs),
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=2),
        batch_format="numpy",
    )
    return {r["path"]: r for r in out.iter_rows()}


def test_a_worker_that_loses_its_gpu_is_replaced_and_the_file_decoded_again(cluster, tmp_path):
    # The first worker to open the victim "loses its GPU" there (once: a marker file says so).
    marker, victim = str(tmp_path / "lost"), str(MEDIA / GOOD[1])

    class LosesItsGpuOnce(DecodeVideos):
        def _open(self, path):
            if path == victim:
                try:
                    fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                except FileExistsError:
                    pass
                else:
                    os.write(fd, str(os.getpid()).encode())
                    os.close(fd)
                    raise video_hw.DeviceLostError("simulated: the worker's GPU fell off the bus")
            return super()._open(path)

    paths = [str(MEDIA / g) for g in GOOD]
    rows = _run(LosesItsGpuOnce, paths)
    assert os.path.exists(marker), "the GPU was lost once"
    assert sorted(rows) == sorted(paths), "one row per file"
    for g in GOOD:
        _decodes_like_one_process(rows[str(MEDIA / g)], g)


def test_a_file_whose_gpu_is_lost_every_time_is_reported_after_its_retries(cluster, tmp_path):
    victim = str(MEDIA / GOOD[2])
    opens = str(tmp_path / "opens")

    class AlwaysLosesItsGpu(DecodeVideos):
        def _open(self, path):
            if path == victim:
                with open(opens, "a") as f:
                    f.write(f"{os.getpid()}\n")
                raise video_hw.DeviceLostError("simulated: this GPU is gone for good")
            return super()._open(path)

    paths = [str(MEDIA / g) for g in GOOD]
    rows = _run(AlwaysLosesItsGpu, paths, device_retries=1)
    assert sorted(rows) == sorted(paths), "one row per file"
    assert "DeviceLostError" in rows[victim]["error"] and rows[victim]["frames"].size == 0
    pids = open(opens).read().split()
    assert len(pids) == 2 and len(set(pids)) == 2, f"tried once and retried once, by two processes: {pids}"
    for g in GOOD:
        if str(MEDIA / g) != victim:
            _decodes_like_one_process(rows[str(MEDIA / g)], g)


def test_outside_ray_a_lost_gpu_is_the_files_error_row():
    class LosesItsGpu(DecodeVideos):
        def _open(self, path):
            raise video_hw.DeviceLostError("simulated")

    f = LosesItsGpu(num_frames=3, **ARGS)
    out = f({"path": np.array([str(MEDIA / GOOD[0])])})
    assert "DeviceLostError" in out["error"][0] and (f.files, f.failures) == (1, 1)
