"""video_hw.torchcodec's ``custom_frame_mappings``: read as torchcodec reads them (ffprobe's
JSON), checked against the file's own index; the frames are the file's either way, and a
mapping that disagrees raises (skipped without torch unless VIDEO_HW_TEST_TORCH=1; the
ffprobe cases need ffprobe, which CI installs)."""

import importlib
import io
import json
import os
import pathlib
import shutil
import subprocess

import pytest

STRICT = os.environ.get("VIDEO_HW_TEST_TORCH") == "1"
torch = importlib.import_module("torch") if STRICT else pytest.importorskip("torch")

import video_hw  # noqa: E402
from video_hw.torchcodec.decoders import VideoDecoder  # noqa: E402

MEDIA = pathlib.Path(__file__).resolve().parents[2] / "testdata" / "media"


def ffprobe_mappings(path):
    """What torchcodec's docs have users run: every frame's pts, duration and key flag."""
    if shutil.which("ffprobe") is None:
        if os.environ.get("VIDEO_HW_REQUIRE_FFMPEG") == "1":
            pytest.fail("ffprobe is not installed")
        pytest.skip("ffprobe is not installed")
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_frames", "-show_entries",
         "frame=pts,duration,pkt_duration,key_frame", "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout
    return out


@pytest.mark.parametrize("name", ["h264-vfr.mkv", "h264-aac.ts", "h264-editlist.mp4", "hevc-aac.m2ts",
                                  "vp9-opus.webm", "h264-wrap.ts"])
def test_ffprobes_mappings_are_taken_and_change_no_frame(name):
    path = str(MEDIA / name)
    mappings = ffprobe_mappings(path)
    plain = VideoDecoder(path, dimension_order="NHWC")
    mapped = VideoDecoder(path, dimension_order="NHWC", custom_frame_mappings=mappings)
    assert len(mapped) == len(plain) == len(json.loads(mappings)["frames"])
    wanted = [0, len(plain) // 2, len(plain) - 1]
    assert torch.equal(mapped.get_frames_at(wanted).data, plain.get_frames_at(wanted).data)
    # Bytes and a file object too.
    VideoDecoder(path, custom_frame_mappings=mappings.encode())
    VideoDecoder(path, custom_frame_mappings=io.StringIO(mappings))


def own_mappings(path, edit=None):
    """Mappings made from the file's own index (any order: torchcodec sorts them), with
    ``edit`` applied to the list of frames."""
    pts, _ = video_hw.VideoDecoder(path)._native.frame_ticks()
    frames = [{"pkt_pts": p, "pkt_duration": 1, "key_frame": int(i == 0)} for i, p in enumerate(pts)]
    frames.reverse()
    if edit:
        edit(frames)
    return json.dumps({"frames": frames})


def test_mappings_that_disagree_with_the_file_raise():
    path = str(MEDIA / "h264-vfr.mp4")
    assert len(VideoDecoder(path, custom_frame_mappings=own_mappings(path))) == 100
    with pytest.raises(ValueError, match="list 99 frames; the stream has 100"):
        VideoDecoder(path, custom_frame_mappings=own_mappings(path, lambda f: f.pop(3)))

    def shift(frames):
        frames[-1]["pkt_pts"] += 1

    with pytest.raises(ValueError, match="differ from the stream at frame 0"):
        VideoDecoder(path, custom_frame_mappings=own_mappings(path, shift))


def test_malformed_mappings_raise_torchcodecs_errors():
    path = str(MEDIA / "h264-vfr.mp4")
    for bad, why in [
        ("{not json", "valid JSON"),
        ("{}", "missing the required 'frames' key"),
        ('{"frames": []}', "missing the required 'frames' key"),
        ('{"frames": [{"pts": 0, "key_frame": 1}]}', "keys are required"),
        ('{"frames": [{"pts": 0, "duration": 1, "key_frame": 1}, {"duration": 1, "key_frame": 0}]}',
         "without an integer 'pts'"),
    ]:
        with pytest.raises(ValueError, match=why):
            VideoDecoder(path, custom_frame_mappings=bad)
    with pytest.raises(ValueError, match="incompatible with seek_mode='approximate'"):
        VideoDecoder(path, seek_mode="approximate", custom_frame_mappings=own_mappings(path))
