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
