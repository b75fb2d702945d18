"""Ctrl-C during calls that decode for seconds with the GIL released: ``KeyboardInterrupt``
arrives within a second of SIGINT (not when the batch is done), and the decoder is still
usable afterwards, with the right frames.

The clips are made here with the ffmpeg CLI (CI installs it): 1280x720, 300 frames, one
with a single GOP (the request is one run, decoded on the first session) and one with a
key frame every 30 frames (ten runs, decoded on two sessions at once). At 640x360 a call of
300 frames came to end before the signal (0.3 s in) once the RGB conversion got faster.
"""

import hashlib
import os
import shutil
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

import video_hw

# The bound the issue asks for, between the signal and the exception.
LATENCY = 1.0
# When the signal is sent, after the call started.
DELAY = 0.3


def md5(a):
    return hashlib.md5(np.ascontiguousarray(a).tobytes()).hexdigest()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    if shutil.which("ffmpeg") is None:
        pytest.skip("the ffmpeg CLI makes these clips")
    out = {}
    folder = tmp_path_factory.mktemp("interrupt")
    for name, gop in (("one-gop", 300), ("gop30", 30)):
        path = folder / f"{name}.mp4"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", "10",
             "-c:v", "libx264", "-preset", "veryfast", "-g", str(gop), "-pix_fmt", "yuv420p", str(path)],
            check=True,
            timeout=120,
        )
        out[name] = path
    return out


def interrupted(call):
    """Runs ``call()`` with SIGINT sent to this process DELAY seconds in; the seconds from
    the signal to the ``KeyboardInterrupt``. Fails if the call ends first (then no signal
    is sent: it must not land elsewhere)."""
    lock = threading.Lock()
    state = {"running": True}

    def fire():
        with lock:
            if state["running"]:
                state["sent"] = time.monotonic()
                os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(DELAY, fire)
    timer.start()
    try:
        call()
    except KeyboardInterrupt:
        return time.monotonic() - state["sent"]
    finally:
        with lock:
            state["running"] = False
        timer.cancel()
    pytest.fail(f"the call ended before the signal was sent ({DELAY} s): too short to show anything")


def check_still_decodes(dec, path, frames=(0, 7, 150, 299)):
    """The decoder gives the same frames as a fresh one, alone and as a batch."""
    fresh = video_hw.VideoDecoder(path, pixel_format="rgb24", sessions=1)
    want = [md5(fresh[k]) for k in frames]
    assert [md5(dec[k]) for k in frames] == want
    batch = np.from_dlpack(dec.get_frames_at(list(frames)).data)
    assert [md5(batch[i]) for i in range(len(frames))] == want


@pytest.mark.parametrize("clip,sessions", [("one-gop", 1), ("gop30", 1), ("gop30", 2)])
@pytest.mark.parametrize("how", ["get_frames_at", "get_frames_in_range", "slice"])
def test_ctrl_c_stops_a_batch_within_a_second(clips, clip, sessions, how):
    path = clips[clip]
    dec = video_hw.VideoDecoder(path, pixel_format="rgb24", sessions=sessions)
    calls = {
        "get_frames_at": lambda: dec.get_frames_at(list(range(300))),
        "get_frames_in_range": lambda: dec.get_frames_in_range(0, 300),
        "slice": lambda: dec[0:300],
    }
    latency = interrupted(calls[how])
    assert latency < LATENCY, f"KeyboardInterrupt {latency:.2f} s after SIGINT"
    check_still_decodes(dec, path)


def test_ctrl_c_during_iteration(clips):
    path = clips["gop30"]
    dec = video_hw.VideoDecoder(path, pixel_format="rgb24", sessions=2)

    def loop():
        for _ in range(10):
            for _frame in dec:
                pass

    latency = interrupted(loop)
    assert latency < LATENCY, f"KeyboardInterrupt {latency:.2f} s after SIGINT"
    check_still_decodes(dec, path)


def test_ctrl_c_during_decode_many(clips):
    paths = [clips["gop30"], clips["one-gop"]] * 3
    started = time.monotonic()
    latency = interrupted(lambda: video_hw.decode_many(paths, pixel_format="rgb24", workers=2))
    assert latency < LATENCY, f"KeyboardInterrupt {latency:.2f} s after SIGINT"
    # The pool's threads were stopped too: none is left decoding.
    assert time.monotonic() - started < DELAY + LATENCY + 0.5
    assert not [t for t in threading.enumerate() if t.name.startswith("ThreadPoolExecutor")]
    again = video_hw.decode_many(paths[:2], [[5], [299]], pixel_format="rgb24")
    fresh = [video_hw.VideoDecoder(p, pixel_format="rgb24") for p in paths[:2]]
    assert md5(np.from_dlpack(again[0].data)[0]) == md5(fresh[0][5])
    assert md5(np.from_dlpack(again[1].data)[0]) == md5(fresh[1][299])


def test_interrupt_from_another_thread(clips):
    """``decode_many``'s way to stop a decoder at work on another thread: the call raises
    ``VideoHwError`` (kind ``closed``), and the decoder goes on."""
    path = clips["one-gop"]
    dec = video_hw.VideoDecoder(path, pixel_format="rgb24", sessions=1)
    threading.Timer(DELAY, dec._native.interrupt).start()
    start = time.monotonic()
    with pytest.raises(video_hw.VideoHwError) as e:
        dec.get_frames_at(list(range(300)))
    assert e.value.kind == "closed"
    assert time.monotonic() - start < DELAY + LATENCY
    check_still_decodes(dec, path)


@pytest.fixture(scope="module")
def long_audio(tmp_path_factory):
    """Half an hour of a mono 48 kHz tone in FLAC (small: the tone compresses well)."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("the ffmpeg CLI makes this file")
    path = tmp_path_factory.mktemp("interrupt-audio") / "tone.flac"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=1800",
         "-c:a", "flac", str(path)],
        check=True,
        timeout=120,
    )
    return path


@pytest.mark.parametrize("sample_rate", [None, 44100])
def test_ctrl_c_during_an_audio_range(long_audio, sample_rate):
    """``AudioDecoder`` ranges decode between checks too (natively and resampled); the
    decoder gives the same samples afterwards, behind and ahead of where it stopped."""
    dec = video_hw.AudioDecoder(long_audio, sample_rate=sample_rate)
    latency = interrupted(dec.get_all_samples)
    assert latency < LATENCY, f"KeyboardInterrupt {latency:.2f} s after SIGINT"
    fresh = video_hw.AudioDecoder(long_audio, sample_rate=sample_rate)
    for start, stop in ((10.0, 11.0), (1700.0, 1701.5)):
        got = dec.get_samples_played_in_range(start, stop)
        want = fresh.get_samples_played_in_range(start, stop)
        assert got.pts_seconds == want.pts_seconds
        assert md5(np.from_dlpack(got.data)) == md5(np.from_dlpack(want.data))


def test_ctrl_c_during_a_batch_assembly(clips):
    """One frame asked for many times: decoded once, then converted into the batch many
    times (the assembly, not the decode, takes the time); the assembly stops too."""
    path = clips["gop30"]
    dec = video_hw.VideoDecoder(path, pixel_format="gbrp", sessions=1)
    latency = interrupted(lambda: dec.get_frames_at([3] * 1500))
    assert latency < LATENCY, f"KeyboardInterrupt {latency:.2f} s after SIGINT"
    fresh = video_hw.VideoDecoder(path, pixel_format="gbrp", sessions=1)
    batch = np.from_dlpack(dec.get_frames_at([3, 3, 40]).data)
    assert [md5(batch[i]) for i in range(3)] == [md5(fresh[3]), md5(fresh[3]), md5(fresh[40])]
