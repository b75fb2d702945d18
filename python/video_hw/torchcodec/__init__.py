"""torchcodec's import paths and signatures over video_hw, for what video_hw has:
``decoders.VideoDecoder``, ``decoders.AudioDecoder``, ``decoders.WavDecoder``, ``samplers.*``, ``transforms.*``
(the decoder transforms ``VideoDecoder(transforms=...)`` takes), ``Frame``, ``FrameBatch``
and ``AudioSamples`` with torch tensors.

    from video_hw.torchcodec.decoders import VideoDecoder      # was: from torchcodec.decoders
    from video_hw.torchcodec.samplers import clips_at_regular_indices

is the whole migration for code that uses them. Frames are ``torch.Tensor`` views of
video_hw's arrays (``torch.from_dlpack``: no copy, on the CPU and on the GPU);
``pts_seconds`` and ``duration_seconds`` are float64 tensors on the CPU as torchcodec gives
them. Needs torch (imported here, not by ``video_hw`` itself).
"""

from ._frame import Frame, FrameBatch
from ._audio import AudioSamples
from . import decoders, samplers, transforms  # noqa: E402

__all__ = ["AudioSamples", "Frame", "FrameBatch", "decoders", "samplers", "transforms"]
