#!/usr/bin/env python3
"""Runs torchcodec's own tests against video_hw's torchcodec compat module, without
copying them into this repository.

    python scripts/run_torchcodec_tests.py /path/to/torchcodec-checkout [test files...] [-- pytest args]

It copies the checkout's ``test/`` folder (their tests, utils and resource files) to a
temporary folder, writes beside it a stand-in package named ``torchcodec`` that re-exports
``video_hw.torchcodec`` (and the few internals their test helpers import: the sampler
policies and clip builders from ``video_hw.samplers``, the FFmpeg version from
``video_hw.ffmpeg_info``, the metadata base class ``_core._metadata.StreamMetadata``), and runs pytest there with the stand-in first on the path, so
``import torchcodec`` in their tests imports video_hw. Default tests: test_samplers.py and
test_decoders.py. Prints pytest's summary; the temporary folder is removed afterwards.
Needs torch and an installed video_hw (the real torchcodec need not be installed).
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import textwrap

STAND_IN = {
    "__init__.py": """
        # Stand-in for torchcodec: video_hw's compat module (scripts/run_torchcodec_tests.py).
        from video_hw.torchcodec import AudioSamples, Frame, FrameBatch
        from . import _core, decoders, samplers, transforms
        __version__ = "video_hw"
    """,
    "_core/__init__.py": """
        import re
        import video_hw
        from video_hw.torchcodec import _metadata

        def get_ffmpeg_library_versions():
            summary = video_hw.ffmpeg_info().get("summary") or ""
            m = re.search(r"(\\d+\\.\\d+(?:\\.\\d+)?)", summary)
            return {"ffmpeg_version": m.group(1) if m else "0.0"}
    """,
    "decoders/__init__.py": """
        from video_hw.torchcodec.decoders import (
            AudioDecoder, AudioStreamMetadata, VideoDecoder, VideoStreamMetadata, WavDecoder,
        )
        from . import _video_decoder

        def set_cuda_backend(*args, **kwargs):
            raise NotImplementedError("video_hw has no CUDA backends to choose from")
    """,
    "decoders/_video_decoder.py": """
        from video_hw.torchcodec.decoders import VideoDecoder

        def _read_custom_frame_mappings(*args, **kwargs):
            raise NotImplementedError("custom_frame_mappings: video_hw indexes every file itself")
    """,
    "transforms/__init__.py": """
        from video_hw.torchcodec.transforms import CenterCrop, DecoderTransform, RandomCrop, Resize
    """,
    "samplers/__init__.py": """
        from video_hw.torchcodec.samplers import (
            clips_at_random_indices, clips_at_random_timestamps,
            clips_at_regular_indices, clips_at_regular_timestamps,
        )
    """,
    "samplers/_common.py": """
        from video_hw.samplers import POLICIES as _POLICY_FUNCTIONS
    """,
    "samplers/_index_based.py": """
        from video_hw import samplers as _s

        def _policy_name(fun):
            return next(k for k, v in _s.POLICIES.items() if v is fun)

        def _build_all_clips_indices(*, clip_start_indices, num_frames_per_clip, num_indices_between_frames,
                                     num_frames_in_video, policy_fun):
            starts = [int(s) for s in clip_start_indices]
            clips = _s.clip_indices(starts, num_frames_in_video, num_frames_per_clip,
                                    num_indices_between_frames, _policy_name(policy_fun))
            return [i for c in clips for i in c]
    """,
    "samplers/_time_based.py": """
        from video_hw import samplers as _s
        from ._index_based import _policy_name

        def _build_all_clips_timestamps(*, clip_start_seconds, num_frames_per_clip, seconds_between_frames,
                                        end_stream_seconds, policy_fun):
            starts = [float(s) for s in clip_start_seconds]
            clips = _s.clip_timestamps(starts, num_frames_per_clip, seconds_between_frames,
                                       end_stream_seconds, _policy_name(policy_fun))
            return [t for c in clips for t in c]
    """,
}


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    checkout = pathlib.Path(argv[0]).resolve()
    rest = argv[1:]
    extra = []
    if "--" in rest:
        extra = rest[rest.index("--") + 1 :]
        rest = rest[: rest.index("--")]
    tests = rest or ["test_samplers.py", "test_decoders.py"]
    if not (checkout / "test").is_dir():
        sys.exit(f"{checkout}: no test/ folder (a torchcodec checkout?)")
    with tempfile.TemporaryDirectory(prefix="tc-tests-") as tmp:
        root = pathlib.Path(tmp)
        shutil.copytree(checkout / "test", root / "test")
        for name, body in STAND_IN.items():
            path = root / "torchcodec" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(body).lstrip())
        env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        cmd = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", "--tb=line"]
        cmd += [f"test/{t}" for t in tests] + extra
        return subprocess.run(cmd, cwd=root, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
