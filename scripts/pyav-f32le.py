#!/usr/bin/env python3
"""Writes a file's first audio track to stdout as `ffmpeg -i FILE -f f32le -` would, with
PyAV's own FFmpeg: libavcodec's decoder, then libswresample to packed float at the track's
rate and layout. The FFmpeg audio tests take it as their reference where the loaded FFmpeg
is PyAV's and the ffmpeg tool on PATH is another version (decoders of lossy codecs differ
between versions in their last bits):

    VIDEO_HW_FFMPEG_DIR=.../av.libs VIDEO_HW_F32LE_REFERENCE="python3 scripts/pyav-f32le.py" \\
        cargo test -p video-hw --lib ffmpeg::audio
"""
import sys

import av

with av.open(sys.argv[1]) as container:
    stream = container.streams.audio[0]
    resampler = av.AudioResampler(format="flt", layout=stream.layout, rate=stream.rate)
    out = sys.stdout.buffer
    for frame in list(container.decode(stream)) + [None]:
        for converted in resampler.resample(frame):
            size = converted.samples * len(converted.layout.channels) * 4
            out.write(bytes(converted.planes[0])[:size])
