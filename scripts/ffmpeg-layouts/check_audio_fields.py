#!/usr/bin/env python3
"""Checks the audio offsets of one major's table in layouts.rs against a loaded FFmpeg,
for a major whose headers are not at hand (README.md beside this script).

    python3 scripts/ffmpeg-layouts/check_audio_fields.py DIR

DIR holds libavutil.so.N and libavcodec.so.N (a PyAV wheel's `av.libs/` will do). Two checks,
through FFmpeg's own functions only:
- AVCodecContext: every audio field that is also an AVOption (`ar`, `frame_size`,
  `request_sample_fmt`, `ch_layout`) lies where the option table says (the engine repeats
  this check at every load), and a PCM decoder opened with the rate and layout written
  there sets `sample_fmt` (at its offset) to its storage format;
- AVFrame: with `format`, `nb_samples` and `ch_layout` written at the table's offsets,
  `av_frame_get_buffer` allocates planar float planes of that many samples and channels,
  and `extended_data` (at its offset) points at `data`; then `av_frame_copy_props` onto a
  frame whose `sample_rate` was set through the table copies that one int and no other.
Exit status 0 when every check holds.
"""
import ctypes
import glob
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LAYOUTS = os.path.join(HERE, "..", "..", "crates", "video-hw", "src", "backend", "ffmpeg", "sys", "layouts.rs")


def lib(folder, stem):
    found = sorted(glob.glob(os.path.join(folder, f"{stem}*.so*")))
    if not found:
        sys.exit(f"{folder}: no {stem}")
    return ctypes.CDLL(found[0], mode=ctypes.RTLD_GLOBAL)


def table(major):
    text = open(LAYOUTS).read()
    block = next(m.group(0) for m in re.finditer(r"(?ms)^    Layout \{\n.*?^    \},\n", text)
                 if f"avcodec_major: {major}," in m.group(0))

    def fields(name):
        body = re.search(rf"(?ms)^        {name}: \w+ \{{\n(.*?)^        \}},\n", block).group(1)
        return {k: (None if v == "None" else int(v.strip("Some()")))
                for k, v in re.findall(r"^            (\w+): (None|Some\(\d+\))", body, re.M)}

    return fields("frame"), fields("codec_context")


def main():
    folder = sys.argv[1]
    avutil, avcodec = lib(folder, "libavutil"), lib(folder, "libavcodec")
    avcodec.avcodec_version.restype = ctypes.c_uint
    major = avcodec.avcodec_version() >> 16
    frame, ctx = table(major)
    bad = []

    avcodec.avcodec_alloc_context3.restype = ctypes.c_void_p
    avutil.av_opt_find.restype = ctypes.c_void_p
    avutil.av_opt_find.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
    avutil.av_channel_layout_default.argtypes = [ctypes.c_void_p, ctypes.c_int]
    c = avcodec.avcodec_alloc_context3(None)
    for opt, field in [("ar", "sample_rate"), ("sample_fmt", "sample_fmt"), ("frame_size", "frame_size"),
                       ("request_sample_fmt", "request_sample_fmt"), ("ch_layout", "ch_layout_order")]:
        o = avutil.av_opt_find(ctypes.c_void_p(c), opt.encode(), None, 0, 0)
        if not o:
            print(f"AVCodecContext.{field}: no option '{opt}' in this major")
            continue
        # AVOption: name, help (two pointers), then the int offset.
        at = ctypes.c_int.from_address(o + 16).value
        print(f"AVCodecContext.{field}: table {ctx[field]}, option '{opt}' {at}")
        if at != ctx[field]:
            bad.append(field)

    # sample_fmt is no option: a PCM decoder opened on a context sets it to its storage.
    avcodec.avcodec_find_decoder_by_name.restype = ctypes.c_void_p
    avcodec.avcodec_open2.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    for name, want in [(b"pcm_s16le", 1), (b"pcm_f32le", 3)]:  # AV_SAMPLE_FMT_S16, _FLT
        dec = avcodec.avcodec_find_decoder_by_name(name)
        d = avcodec.avcodec_alloc_context3(ctypes.c_void_p(dec))
        ctypes.c_int.from_address(d + ctx["sample_rate"]).value = 48000
        avutil.av_channel_layout_default(ctypes.c_void_p(d + ctx["ch_layout_order"]), 2)
        rc = avcodec.avcodec_open2(d, dec, None)
        got = ctypes.c_int.from_address(d + ctx["sample_fmt"]).value
        print(f"AVCodecContext.sample_fmt: table {ctx['sample_fmt']}, {name.decode()} opened (rc {rc}) wrote {got}")
        if rc != 0 or got != want:
            bad.append(f"sample_fmt ({name.decode()})")

    avutil.av_frame_alloc.restype = ctypes.c_void_p
    avutil.av_frame_get_buffer.argtypes = [ctypes.c_void_p, ctypes.c_int]
    avutil.av_frame_copy_props.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    f = avutil.av_frame_alloc()
    fltp, samples, channels = 8, 1000, 3  # AV_SAMPLE_FMT_FLTP is 8 in every major
    ctypes.c_int.from_address(f + frame["format"]).value = fltp
    ctypes.c_int.from_address(f + frame["nb_samples"]).value = samples
    avutil.av_channel_layout_default(f + frame["ch_layout_order"], channels)
    got_channels = ctypes.c_int.from_address(f + frame["ch_layout_nb_channels"]).value
    rc = avutil.av_frame_get_buffer(f, 0)
    data = [ctypes.c_void_p.from_address(f + 8 * i).value for i in range(8)]
    linesize0 = ctypes.c_int.from_address(f + 64).value  # after data[8]: linesize[8]
    ext = ctypes.c_void_p.from_address(f + frame["extended_data"]).value
    ok = (rc == 0 and got_channels == channels and all(data[:channels]) and not any(data[channels:])
          and linesize0 >= samples * 4 and ext == f)
    print(f"AVFrame: get_buffer rc {rc}, {got_channels} channels in ch_layout, planes "
          f"{sum(1 for d in data if d)}, linesize[0] {linesize0}, extended_data -> data: {ext == f}")
    if not ok:
        bad.append("AVFrame nb_samples/format/ch_layout/extended_data")

    g = avutil.av_frame_alloc()
    ctypes.c_int.from_address(f + frame["sample_rate"]).value = 44100
    before = ctypes.string_at(g, 400)
    avutil.av_frame_copy_props(g, f)
    after = ctypes.string_at(g, 400)
    changed = [i for i in range(0, 400, 4) if before[i:i + 4] != after[i:i + 4]]
    rate = ctypes.c_int.from_address(g + frame["sample_rate"]).value
    print(f"AVFrame.sample_rate: table {frame['sample_rate']}, copied {rate}; words copy_props changed: {changed}")
    if rate != 44100:
        bad.append("AVFrame.sample_rate")
    if bad:
        sys.exit(f"libavcodec {major}: wrong: {', '.join(bad)}")
    print(f"libavcodec {major}: the audio fields hold")


if __name__ == "__main__":
    main()
