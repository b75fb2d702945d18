"""The sound beside the frames: ``audio=`` of the samplers and of ``decode_many``. Each
clip's (or file's) samples must be exactly what ``AudioDecoder`` gives for the span its
frames are shown (the earliest frame's time to the end of the latest), on whatever engine
decodes the track here (FFmpeg, or the built-in decoders without it)."""

import io
import pathlib

import numpy as np
import pytest

import video_hw
from video_hw import samplers

ROOT = pathlib.Path(__file__).resolve().parents[2] / "testdata"
WITH_AAC = ROOT / "media" / "h264-aac.mp4"
SILENT = ROOT / "media" / "h264-ref1.mp4"
AUDIO_LATE = ROOT / "audio" / "av-audio-late.mp4"
AUDIO_EARLY = ROOT / "audio" / "av-audio-early.mkv"


def samples(a):
    return np.asarray(np.from_dlpack(a.data))


def span(pts, durations):
    return min(pts), max(p + d for p, d in zip(pts, durations))


def expect_equal(got, track, pts, durations):
    start, stop = span(pts, durations)
    want = track.get_samples_played_in_range(start, stop)
    assert got.sample_rate == want.sample_rate
    assert got.pts_seconds == pytest.approx(want.pts_seconds, abs=1e-9)
    np.testing.assert_array_equal(samples(got), samples(want))


@pytest.mark.parametrize("path", [WITH_AAC, AUDIO_LATE, AUDIO_EARLY], ids=lambda p: p.name)
def test_each_clip_gets_the_samples_of_its_span(path):
    dec = video_hw.VideoDecoder(path)
    clips = samplers.clips_at_regular_indices(dec, num_clips=4, num_frames_per_clip=5, audio=True)
    track = video_hw.AudioDecoder(path)
    assert isinstance(clips.audio, list) and len(clips.audio) == 4
    for sound, pts, durations in zip(clips.audio, clips.pts_seconds, clips.duration_seconds):
        expect_equal(sound, track, pts, durations)
    # Where the track covers the clip, the sound lasts as long as its frames are shown.
    sound, pts, durations = clips.audio[-1], clips.pts_seconds[-1], clips.duration_seconds[-1]
    if path == WITH_AAC:
        start, stop = span(pts, durations)
        assert samples(sound).shape[1] == round((stop - start) * sound.sample_rate)


def test_adjacent_clips_join_without_a_gap_or_an_overlap():
    # Clips of 4 frames back to back: their samples, joined, are the one range's.
    dec = video_hw.VideoDecoder(WITH_AAC)
    clips = samplers.clips_at_regular_indices(dec, num_clips=5, num_frames_per_clip=4, sampling_range_end=17, audio=True)
    assert [c[0] for c in clips.indices] == [0, 4, 8, 12, 16]
    joined = np.concatenate([samples(a) for a in clips.audio], axis=1)
    whole = video_hw.AudioDecoder(WITH_AAC).get_samples_played_in_range(
        clips.pts_seconds[0][0], clips.pts_seconds[-1][-1] + clips.duration_seconds[-1][-1]
    )
    np.testing.assert_array_equal(joined, samples(whole))


def test_time_samplers_and_options_resample_and_mix():
    dec = video_hw.VideoDecoder(WITH_AAC)
    opts = {"sample_rate": 16000, "num_channels": 1}
    clips = samplers.clips_at_random_timestamps(dec, num_clips=3, num_frames_per_clip=3, generator=7, audio=opts)
    track = video_hw.AudioDecoder(WITH_AAC, **opts)
    for sound, pts, durations in zip(clips.audio, clips.pts_seconds, clips.duration_seconds):
        assert samples(sound).shape[0] == 1 and sound.sample_rate == 16000
        expect_equal(sound, track, pts, durations)
    # The track is opened once per decoder and options, and let go with the decoder.
    samplers.clips_at_regular_timestamps(dec, seconds_between_clip_starts=1.0, audio=opts)
    assert len(dec._audio_tracks) == 1
    dec.close()
    assert not hasattr(dec, "_audio_tracks")


def test_no_audio_asked_or_none_in_the_file():
    dec = video_hw.VideoDecoder(WITH_AAC)
    assert samplers.clips_at_random_indices(dec, num_clips=2, generator=1).audio is None
    silent = video_hw.VideoDecoder(SILENT)
    assert samplers.clips_at_random_indices(silent, num_clips=2, generator=1, audio=True).audio is None


def test_decode_many_gives_each_file_its_sound():
    opts = {"sample_rate": 22050}
    with open(WITH_AAC, "rb") as f:
        buffered = io.BytesIO(f.read())
    sources = [WITH_AAC, SILENT, AUDIO_LATE, buffered]
    wanted = [[10, 11, 12, 30], [0, 1], [0, 5, 9], [50, 51]]
    batches = video_hw.decode_many(sources, wanted, audio=opts, workers=2)
    assert batches[1].audio is None
    for i in (0, 2, 3):
        b = batches[i]
        assert list(b.indices) == wanted[i]
        track = video_hw.AudioDecoder(WITH_AAC if i == 3 else sources[i], **opts)
        expect_equal(b.audio, track, list(b.pts_seconds), list(b.duration_seconds))
    # Without audio= the batches are as before.
    assert all(b.audio is None for b in video_hw.decode_many([WITH_AAC], [[0]]))


def test_a_named_track_that_is_not_audio_is_an_error_or_skipped():
    with pytest.raises(video_hw.InvalidInputError, match="not audio"):
        video_hw.decode_many([WITH_AAC], [[0]], audio={"stream_index": 0})
    got = video_hw.decode_many([WITH_AAC, SILENT], [[0], [0]], audio={"stream_index": 0}, on_error="skip")
    assert got == [None, None]


def test_bad_audio_option():
    with pytest.raises(TypeError, match="unknown option"):
        video_hw.decode_many([WITH_AAC], [[0]], audio={"rate": 1})
    with pytest.raises(TypeError):
        samplers.clips_at_random_indices(video_hw.VideoDecoder(WITH_AAC), audio="yes")
