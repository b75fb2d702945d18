#!/usr/bin/env python3
"""Measures, with the C compiler, the FFmpeg struct layouts video-hw reads and writes,
from each FFmpeg major's public headers, and writes them as Rust constants.

The FFmpeg engine loads libavcodec/libavutil at run time, so it cannot take layouts from
bindgen at build time: it keeps one table per major (libavcodec 59-63), made here.

    python3 scripts/ffmpeg-layouts/measure.py DIR59 DIR60 ... > \
        crates/video-hw/src/backend/ffmpeg/sys/layouts.rs

or, to measure some majors again or add one and keep every other major's table of an
existing file as it is (text unchanged, so its headers need not be at hand):

    python3 scripts/ffmpeg-layouts/measure.py --onto layouts.rs DIR63 > new-layouts.rs

Each DIR holds one FFmpeg version's installed headers (`libavcodec/`, `libavutil/`), e.g.
Debian's libavcodec-dev/libavutil-dev unpacked (`dpkg-deb -x`). Each field is compiled on its
own, so a field a major lacks (removed or not yet added) is measured as absent (`None`).
The headers are only read here; none are kept in the repository (see README.md beside this
script for where each major's came from).
"""
import os
import re
import subprocess
import sys
import tempfile

# (C struct, Rust table name, fields). Each field: (C member, Rust name).
STRUCTS = [
    ("AVFrame", "frame", [
        "data", "linesize", "width", "height", "format", "key_frame", "pict_type", "pts",
        "best_effort_timestamp", "flags", "color_range", "color_primaries", "color_trc",
        "colorspace", "chroma_location", "decode_error_flags", "hw_frames_ctx", "crop_top",
        "crop_bottom", "crop_left", "crop_right", "interlaced_frame", "top_field_first",
        # Audio: the samples, their rate and channel layout (AVChannelLayout's members).
        "nb_samples", "extended_data", "sample_rate", "ch_layout.order", "ch_layout.nb_channels",
        "ch_layout.u.mask",
    ]),
    ("AVCodecContext", "codec_context", [
        "codec", "priv_data", "opaque", "bit_rate", "flags", "extradata", "extradata_size",
        "time_base", "framerate", "width", "height", "pix_fmt", "sw_pix_fmt", "get_format",
        "gop_size", "max_b_frames", "rc_max_rate", "rc_buffer_size", "global_quality",
        "thread_count", "thread_type", "active_thread_type", "strict_std_compliance",
        "apply_cropping", "max_pixels", "hw_device_ctx", "hw_frames_ctx", "color_range",
        "color_primaries", "color_trc", "colorspace", "chroma_sample_location", "profile",
        "level",
        # Audio decoding: what the PCM decoders need set, what every decoder reports.
        "sample_rate", "sample_fmt", "frame_size", "request_sample_fmt", "ch_layout.order",
        "ch_layout.nb_channels", "ch_layout.u.mask",
    ]),
    ("AVPacket", "packet", ["buf", "pts", "dts", "data", "size", "flags", "duration"]),
    ("AVCodec", "codec", ["name", "long_name", "type", "id", "capabilities", "pix_fmts", "wrapper_name"]),
    ("AVCodecHWConfig", "hw_config", ["pix_fmt", "methods", "device_type"]),
    ("AVHWFramesContext", "hw_frames", ["device_ctx", "initial_pool_size", "format", "sw_format", "width", "height"]),
    ("AVPixFmtDescriptor", "pix_fmt_descriptor", ["name", "nb_components", "log2_chroma_w", "log2_chroma_h", "flags", "comp"]),
    ("AVComponentDescriptor", "component", ["plane", "step", "offset", "shift", "depth"]),
    ("AVOption", "option", ["name", "offset", "type"]),
]

PRELUDE = """#include <stddef.h>
#include <stdio.h>
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/hwcontext.h>
#include <libavutil/pixdesc.h>
#include <libavutil/opt.h>
"""


# C members whose names are Rust keywords or paths into a nested struct, and the names the
# Rust tables give them.
RUST_NAMES = {
    "type": "kind",
    "ch_layout.order": "ch_layout_order",
    "ch_layout.nb_channels": "ch_layout_nb_channels",
    "ch_layout.u.mask": "ch_layout_mask",
}


def rust_name(field):
    return RUST_NAMES.get(field, field)


def compile_run(src, include):
    with tempfile.TemporaryDirectory() as tmp:
        c, exe = os.path.join(tmp, "m.c"), os.path.join(tmp, "m")
        with open(c, "w") as f:
            f.write(PRELUDE + src)
        r = subprocess.run(["gcc", "-w", "-I", include, c, "-o", exe], capture_output=True, text=True)
        if r.returncode != 0:
            return None, r.stderr
        return subprocess.run([exe], capture_output=True, text=True, check=True).stdout, ""


def measure(include):
    out, err = compile_run(
        'int main(void){printf("%d %d\\n", LIBAVCODEC_VERSION_MAJOR, LIBAVUTIL_VERSION_MAJOR);return 0;}', include)
    if out is None:
        sys.exit(f"{include}: the headers do not compile:\n{err}")
    codec_major, util_major = map(int, out.split())
    tables = []
    for struct, name, fields in STRUCTS:
        size, _ = compile_run(f'int main(void){{printf("%zu", sizeof({struct}));return 0;}}', include)
        measured = []
        for field in fields:
            got, _ = compile_run(f'int main(void){{printf("%zu", offsetof({struct}, {field}));return 0;}}', include)
            measured.append((field, None if got is None else int(got)))
        tables.append((struct, name, int(size) if size else None, measured))
    return codec_major, util_major, tables


def rust(layouts, sources):
    lines = [
        "// @generated by scripts/ffmpeg-layouts/measure.py from each major's public headers:",
    ]
    lines += [f"//   {s}" for s in sources]
    lines += [
        "// Do not edit: run the script again (scripts/ffmpeg-layouts/README.md).",
        "",
        "use super::layout::*;",
        "",
        "/// The layouts of every FFmpeg major the engine loads, by libavcodec major.",
        "pub(crate) const LAYOUTS: &[Layout] = &[",
    ]
    for codec_major, util_major, tables in layouts:
        lines.append("    Layout {")
        lines.append(f"        avcodec_major: {codec_major},")
        lines.append(f"        avutil_major: {util_major},")
        for struct, name, size, measured in tables:
            type_name = "".join(p.capitalize() for p in name.split("_")) + "Layout"
            lines.append(f"        {name}: {type_name} {{")
            lines.append(f"            struct_size: {size},")
            for field, off in measured:
                value = "None" if off is None else f"Some({off})"
                lines.append(f"            {rust_name(field)}: {value},")
            lines.append("        },")
        lines.append("    },")
    lines.append("];")
    return "\n".join(lines) + "\n"


def struct_defs():
    """The Rust struct definitions of the tables (layout.rs includes them)."""
    out = []
    for struct, name, fields in STRUCTS:
        type_name = "".join(p.capitalize() for p in name.split("_")) + "Layout"
        out.append(f"/// Offsets in `{struct}` (bytes; `None`: not in this major).")
        out.append("#[derive(Debug, Clone, Copy, PartialEq, Eq)]")
        out.append(f"pub(crate) struct {type_name} {{")
        out.append(f"    /// `sizeof({struct})`.")
        out.append("    pub struct_size: usize,")
        for field in fields:
            out.append(f"    /// `{struct}::{field}`.")
            out.append(f"    pub {rust_name(field)}: Option<usize>,")
        out.append("}")
        out.append("")
    return "\n".join(out)


def read_generated(path):
    """The per-major source lines and `Layout` blocks (text) of a file this script made."""
    text = open(path).read()
    sources, blocks = {}, {}
    for line in text.splitlines():
        m = re.match(r"//   libavcodec (\d+) / ", line)
        if m:
            sources[int(m.group(1))] = line[len("//   "):]
    for m in re.finditer(r"(?ms)^    Layout \{\n.*?^    \},\n", text):
        major = int(re.search(r"avcodec_major: (\d+),", m.group(0)).group(1))
        blocks[major] = m.group(0)
    if sorted(sources) != sorted(blocks) or not blocks:
        sys.exit(f"{path}: not a file this script made (source lines and tables disagree)")
    return sources, blocks


NOT_MEASURED = "// not measured: this major's headers were not at hand when the field was added"


def complete_kept(block):
    """A kept major's block with every field the script measures now: one the block lacks
    (added to the script after that major was measured) is `None`, marked not measured, so
    the engine refuses what needs it on that major rather than guess its offset. Returns the
    block and whether anything was added."""
    added = False
    for struct, name, fields in STRUCTS:
        m = re.search(rf"(?ms)^        {name}: \w+ \{{\n(.*?)^        \}},\n", block)
        if m is None:
            sys.exit(f"kept table of libavcodec block lacks {name}: measure that major again")
        have = set(re.findall(r"^            (\w+):", m.group(1), re.M))
        missing = [f for f in fields if rust_name(f) not in have]
        if missing:
            added = True
            extra = "".join(f"            {rust_name(f)}: None, {NOT_MEASURED}\n" for f in missing)
            block = block[:m.end(1)] + extra + block[m.end(1):]
    return block, added


if __name__ == "__main__":
    args = sys.argv[1:]
    if args == ["--structs"]:
        print(struct_defs())
        sys.exit(0)
    onto = None
    if args[:1] == ["--onto"]:
        if len(args) < 2:
            sys.exit(__doc__)
        onto, args = args[1], args[2:]
    dirs = args
    if not dirs:
        sys.exit(__doc__)
    layouts, sources = [], {}
    for d in dirs:
        codec_major, util_major, tables = measure(d)
        layouts.append((codec_major, util_major, tables))
        src = os.path.join(d, "SOURCE.txt")
        origin = open(src).read().strip().splitlines()[0] if os.path.exists(src) else os.path.basename(d.rstrip("/"))
        sources[codec_major] = f"libavcodec {codec_major} / libavutil {util_major}: {origin}"
    layouts.sort()
    if onto is None:
        print(rust(layouts, [sources[m] for m, _, _ in layouts]), end="")
        sys.exit(0)
    # Majors measured now replace the file's; the others are kept as they are.
    kept_sources, kept_blocks = read_generated(onto)
    measured = {m: l for m, l in zip((l[0] for l in layouts), layouts)}
    for major in measured:
        kept_sources.pop(major, None)
        kept_blocks.pop(major, None)
    for major in list(kept_blocks):
        kept_blocks[major], added = complete_kept(kept_blocks[major])
        if added and "later fields not measured" not in kept_sources[major]:
            kept_sources[major] += " (later fields not measured: None)"
    majors = sorted(set(kept_blocks) | set(measured))
    all_sources = [kept_sources.get(m) or sources[m] for m in majors]
    fresh = rust([measured[m] for m in sorted(measured)], [])
    fresh_blocks = {m: b for m, b in ((int(re.search(r"avcodec_major: (\d+),", b).group(1)), b)
                                       for b in re.findall(r"(?ms)^    Layout \{\n.*?^    \},\n", fresh))}
    text = rust([], all_sources)
    body = "".join(kept_blocks.get(m) or fresh_blocks[m] for m in majors)
    print(text.replace("pub(crate) const LAYOUTS: &[Layout] = &[\n", "pub(crate) const LAYOUTS: &[Layout] = &[\n" + body), end="")
