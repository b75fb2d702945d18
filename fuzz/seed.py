#!/usr/bin/env python3
"""Seed corpora for the fuzz targets from real streams (run by fuzz/seed.sh).

Reads every Annex-B stream under the given folders (.h264/.264/.jsv are H.264,
.h265/.265 HEVC), every .mp4, every .mkv/.webm, every .ts/.m2ts and every .avi, and writes one file per seed, named by its SHA-1, into
OUT/<target>/ in the input format each target expects (see fuzz/src/lib.rs):

  h264_sps, h264_pps, hevc_vps, hevc_sps, hevc_pps   one parameter-set NAL unit
  h264_slice_header, hevc_slice_header               framed: the stream's SPS and PPS in
                                                     force, then the slice (cut short)
  h264_nal, hevc_nal, h264_refs, hevc_refs           Annex-B, slices cut short
  au_assembler                                       [codec, chunk] + Annex-B
  split_consistency                                  [chunk a, chunk b] + Annex-B head
  avcc                                               avcC/hvcC records, length-prefixed samples
  demux_mkv                                          a Matroska/WebM file's first 64 KiB
  demux_ts                                           windows of .ts/.m2ts files (heads with
                                                     the PAT and PMT, and windows that start
                                                     mid-packet)
  demux_mp4                                          whole MP4 files up to 128 KiB
  demux_avi                                          whole AVI files up to 128 KiB, and
                                                     each with an OpenDML index made from
                                                     its idx1 (with and without the idx1)
  demux_raw                                          IVF files' first 32 KiB, raw streams'
                                                     first 32 KiB
  openh264_decode                                    H.264 streams' first 256 KiB (whole
                                                     pictures the decoder can reach)
  av1_decode                                         [flags] + temporal units of AV1 IVF and
                                                     OBU streams, each after a 2-byte
                                                     little-endian length: the first unit,
                                                     the first four, as many as fit in 16 KiB
                                                     and in 64 KiB, and a window from the
                                                     middle after the first unit
  audio_adts                                         ADTS frames' starts (.aac files, AAC in
                                                     .ts files): the 16 bytes at each of the
                                                     first 8 sync words
  audio_asc                                          AudioSpecificConfigs of MP4 esds boxes,
                                                     and a few written by hand (HE-AAC,
                                                     HE-AAC v2, a PCE, an escaped type)
  audio_opus_head                                    every OpusHead in any file (WebM, Ogg)
  audio_decode                                       testdata/audio's files, their first 64 KiB
  demux_obu                                          OBU streams (.obu files, Annex B ones whole,
                                                     AV1 IVF packets concatenated): the first
                                                     64 KiB (whole when shorter) and the
                                                     first two temporal units
"""

import hashlib
import os
import struct
import sys

H264_EXT = (".h264", ".264", ".jsv", ".26l")
HEVC_EXT = (".h265", ".265", ".hevc")

MAX_PS = 1024  # -max_len of the parameter-set targets
SLICE_CUT = 96  # bytes kept of a slice: far more than its header
NAL_WINDOW = 12 << 10  # h264_nal / hevc_nal / au_assembler seed size
MAX_WINDOWS = 6  # windows per stream
MAX_SLICES = 24  # slice-header seeds per stream
HEAD = 6 << 10  # split_consistency seed size
TS_WINDOW = 64 << 10  # demux_ts seed size (its -max_len)
TS_EXT = (".ts", ".m2ts", ".mts")
AV1_MAX = 64 << 10  # av1_decode and demux_obu seed size (their -max_len)


def split_annexb(data):
    """NAL units of an Annex-B stream (no start codes, trailing zeros stripped)."""
    out, start, i = [], None, 0
    while True:
        j = data.find(b"\x00\x00\x01", i)
        if j < 0:
            break
        if start is not None:
            nal = data[start:j].rstrip(b"\x00")
            if nal:
                out.append(nal)
        start = j + 3
        i = j + 3
    if start is not None:
        nal = data[start:].rstrip(b"\x00")
        if nal:
            out.append(nal)
    return out


def nal_type(nal, hevc):
    return (nal[0] >> 1) & 0x3F if hevc else nal[0] & 0x1F


def is_vcl(t, hevc):
    return t <= 31 if hevc else t in (1, 2, 3, 4, 5, 20, 21)


def framed(sps, pps, rest):
    return struct.pack(">H", len(sps)) + sps + struct.pack(">H", len(pps)) + pps + rest


class Seeds:
    def __init__(self, out):
        self.out = out
        self.count = {}

    def add(self, target, data):
        if not data:
            return
        d = os.path.join(self.out, target)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, hashlib.sha1(data).hexdigest())
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
            self.count[target] = self.count.get(target, 0) + 1


def annexb(nals):
    return b"".join(b"\x00\x00\x00\x01" + n for n in nals)


def stream_seeds(seeds, data, hevc):
    nals = split_annexb(data)
    if not nals:
        return
    ps = {7: "h264_sps", 8: "h264_pps"} if not hevc else {32: "hevc_vps", 33: "hevc_sps", 34: "hevc_pps"}
    sps_type, pps_type = (33, 34) if hevc else (7, 8)
    sh_target = "hevc_slice_header" if hevc else "h264_slice_header"
    sps = pps = None
    slices = 0
    short = []
    for n in nals:
        t = nal_type(n, hevc)
        if t in ps and len(n) <= MAX_PS:
            seeds.add(ps[t], n)
        if t == sps_type:
            sps = n
        elif t == pps_type:
            pps = n
        vcl = is_vcl(t, hevc)
        if vcl and sps is not None and pps is not None and slices < MAX_SLICES:
            if len(sps) + len(pps) + 4 <= 2 * MAX_PS:
                seeds.add(sh_target, framed(sps, pps, n[:SLICE_CUT]))
                slices += 1
        short.append(n[:SLICE_CUT] if vcl else n)

    # Whole-stream targets: consecutive windows of the stream with slices cut short.
    nal_target = "hevc_nal" if hevc else "h264_nal"
    codec = b"\x01" if hevc else b"\x00"
    windows, cur = [], []
    size = 0
    for n in short:
        if size + len(n) + 4 > NAL_WINDOW and cur:
            windows.append(cur)
            cur, size = [], 0
        cur.append(n)
        size += len(n) + 4
    if cur:
        windows.append(cur)
    if len(windows) > MAX_WINDOWS:
        step = len(windows) / MAX_WINDOWS
        windows = [windows[int(i * step)] for i in range(MAX_WINDOWS)]
    for i, w in enumerate(windows):
        if i > 0:
            # Later windows need the parameter sets: put the stream's first ones in front.
            head = [n for n in short[:16] if not is_vcl(nal_type(n, hevc), hevc)]
            w = head + w
        body = annexb(w)[:NAL_WINDOW]
        seeds.add(nal_target, body)
        seeds.add("hevc_refs" if hevc else "h264_refs", body)
        seeds.add("au_assembler", codec + bytes([(len(body) * 7 + i * 31) % 256]) + body)
    seeds.add("split_consistency", bytes([len(data) % 256, 0x0F]) + data[:HEAD])

    # Length-prefixed samples for the avcc target: one access unit's NAL units, 4-byte lengths.
    sample = b"".join(struct.pack(">I", len(n)) + n for n in short[:8])
    seeds.add("avcc", sample[:4096])


def mp4_boxes(data, names):
    """Payloads of boxes with one of these four-character names, found anywhere."""
    out = []
    for name in names:
        i = 0
        while True:
            j = data.find(name, i)
            if j < 4:
                break
            size = struct.unpack(">I", data[j - 4 : j])[0]
            if 8 <= size <= 1 << 16 and j - 4 + size <= len(data):
                out.append(data[j + 4 : j - 4 + size])
            i = j + 4
    return out


def ts_seeds(seeds, data):
    """Transport-stream windows: the head at a few sizes, then windows every 24 KiB (which
    start mid-packet; the muxers repeat the PAT and PMT often enough for each to hold
    them)."""
    for size in (4 << 10, 16 << 10, TS_WINDOW):
        seeds.add("demux_ts", data[:size])
    for start in range(24 << 10, max(len(data) - (8 << 10), 0), 24 << 10):
        seeds.add("demux_ts", data[start : start + TS_WINDOW // 2])


def ivf_packets(data):
    """The fourcc and packets of an IVF file (a truncated last packet is kept cut)."""
    if len(data) < 32 or data[:4] != b"DKIF":
        return None, []
    header = struct.unpack("<H", data[6:8])[0]
    fourcc, out, i = data[8:12], [], header
    while i + 12 <= len(data):
        size = struct.unpack("<I", data[i : i + 4])[0]
        out.append(data[i + 12 : i + 12 + size])
        i += 12 + size
    return fourcc, [p for p in out if p]


def obu_units(data):
    """Temporal units of a low-overhead OBU stream (split before each temporal
    delimiter; stops at the first OBU without a size field)."""
    units, start, i = [], 0, 0
    while i < len(data):
        header = data[i]
        if header & 0x82 != 0x02:
            break
        at = i + 1 + (1 if header & 0x04 else 0)
        size, shift = 0, 0
        while at < len(data) and shift < 56:
            b = data[at]
            at += 1
            size |= (b & 0x7F) << shift
            shift += 7
            if b & 0x80 == 0:
                break
        if (header >> 3) & 0x0F == 2 and i > start:
            units.append(data[start:i])
            start = i
        i = at + size
    if start < min(i, len(data)):
        units.append(data[start : min(i, len(data))])
    return units


def av1_seeds(seeds, name, units):
    """av1_decode and demux_obu seeds from one stream's temporal units."""
    # av1_decode: a flags byte (low latency, film grain off, output format; varied per
    # stream so that every combination is seeded), then 2-byte little-endian lengths.
    fit = [u for u in units if len(u) <= 0xFFFF]
    salt = int(hashlib.sha1(name.encode()).hexdigest()[:2], 16)

    def framed_units(flags, chosen, limit):
        out = bytearray([flags & 0x0F])
        for u in chosen:
            if len(out) + 2 + len(u) > limit:
                break
            out += struct.pack("<H", len(u)) + u
        return bytes(out) if len(out) > 1 else b""

    if fit:
        seeds.add("av1_decode", framed_units(salt, fit[:1], AV1_MAX))
        seeds.add("av1_decode", framed_units(salt + 1, fit[:4], AV1_MAX))
        seeds.add("av1_decode", framed_units(salt + 2, fit, 16 << 10))
        seeds.add("av1_decode", framed_units(salt + 3, fit, AV1_MAX))
        if len(fit) > 8:
            # The first unit (sequence header, key frame) and then units from the middle.
            mid = len(fit) // 2
            seeds.add("av1_decode", framed_units(salt + 4, fit[:1] + fit[mid:], 16 << 10))
    # demux_obu: the units back to back are a low-overhead OBU stream when each starts
    # with a temporal delimiter (IVF packets of every AV1 fixture do).
    stream = b"".join(units)
    if stream[:2] == b"\x12\x00":
        seeds.add("demux_obu", stream[:AV1_MAX])
        seeds.add("demux_obu", b"".join(units[:2])[:AV1_MAX])


# AudioSpecificConfigs no fixture holds: HE-AAC (explicit, AOT 5, 24 -> 48 kHz stereo),
# HE-AAC v2 (AOT 29, mono), backward-compatible SBR+PS signalling after an LC config, an
# LC config with a program_config_element (front SCE + CPE, back CPE, LFE), an escaped
# object type with an explicit rate, 960-sample frames.
ASC_SEEDS = ["2b118800", "eb098800", "131056e59d4880", "118004c8050001190000", "f83e00607220", "1234"]


def audio_seeds(seeds, data, low):
    """Seeds for the audio header targets from any file."""
    at = 0
    for _ in range(4):
        at = data.find(b"OpusHead", at)
        if at < 0:
            break
        seeds.add("audio_opus_head", data[at : at + 8 + 11 + 2 + 8])
        at += 8
    if low.endswith((".aac",) + TS_EXT):
        at, found = 0, 0
        while found < 8:
            at = data.find(b"\xff", at)
            if at < 0 or at + 7 > len(data):
                break
            if data[at + 1] & 0xF6 == 0xF0:
                seeds.add("audio_adts", data[at : at + 16])
                found += 1
            at += 1
    if low.endswith((".mp4", ".m4a")):
        # ffmpeg writes descriptor lengths in 4 bytes: DecoderSpecificInfo is
        # 05 80 80 80 <len> <config>.
        for esds in mp4_boxes(data, [b"esds"]):
            at = esds.find(b"\x05\x80\x80\x80")
            if at >= 0 and at + 5 < len(esds):
                n = esds[at + 4]
                seeds.add("audio_asc", esds[at + 5 : at + 5 + n])


def avi_odml(data):
    """An ffmpeg AVI (a JUNK chunk reserved in each strl for an OpenDML super index) with
    an OpenDML index made from its idx1: one standard index (ix##) per stream appended to
    the RIFF list, each strl's JUNK made the stream's indx pointing at it; None where the
    file is not of that shape. The library's lib tests make the same (media/avi/tests.rs)."""
    top, at = [], 12
    while at + 8 <= len(data):
        size = struct.unpack_from("<I", data, at + 4)[0]
        top.append((data[at : at + 4], at, size))
        at += 8 + size + (size & 1)
    movi = next((a + 8 for i, a, _ in top if i == b"LIST" and data[a + 8 : a + 12] == b"movi"), None)
    idx1 = next(((a, s) for i, a, s in top if i == b"idx1"), None)
    if movi is None or idx1 is None or idx1[0] + 8 + idx1[1] > len(data):
        return None
    streams = {}
    for e in range(idx1[0] + 8, idx1[0] + 8 + idx1[1] - 15, 16):
        cid = data[e : e + 4]
        if not cid[:2].isdigit() or cid[2:] == b"pc":
            continue
        flags, off, size = struct.unpack_from("<III", data, e + 4)
        streams.setdefault(int(cid[:2]), (cid, []))[1].append((off + 8, size, flags & 0x10))
    out = bytearray(data)
    ix_at = {}
    for s, (cid, entries) in sorted(streams.items()):
        body = struct.pack("<HBBI4sQI", 2, 0, 1, len(entries), cid, movi, 0)
        body += b"".join(struct.pack("<II", o, n | (0 if k else 1 << 31)) for o, n, k in entries)
        ix_at[s] = (len(out), len(body) + 8, len(entries), cid)
        out += b"ix" + cid[:2] + struct.pack("<I", len(body)) + body
    struct.pack_into("<I", out, 4, len(out) - 8)
    s, at = 0, 0
    while (strl := out.find(b"strlstrh", at)) >= 0:
        end = strl + struct.unpack_from("<I", out, strl - 4)[0]
        junk = out.find(b"JUNK", strl, end)
        if junk < 0 or s not in ix_at:
            return None
        n = struct.unpack_from("<I", out, junk + 4)[0]
        pos, size, count, cid = ix_at[s]
        indx = struct.pack("<HBBI4s12xQII", 4, 0, 0, 1, cid, pos, size, count)
        if n < len(indx):
            return None
        out[junk : junk + 4] = b"indx"
        out[junk + 8 : junk + 8 + n] = indx + bytes(n - len(indx))
        s, at = s + 1, end
    return bytes(out) if s == len(streams) else None


def main():
    out, dirs = sys.argv[1], sys.argv[2:]
    seeds = Seeds(out)
    for h in ASC_SEEDS:
        seeds.add("audio_asc", bytes.fromhex(h))
    streams = 0
    for top in dirs:
        for root, _, files in os.walk(top):
            for name in sorted(files):
                path = os.path.join(root, name)
                low = name.lower()
                if low.endswith((".aac", ".mp4", ".m4a", ".webm", ".mkv", ".ogg") + TS_EXT):
                    with open(path, "rb") as f:
                        audio_seeds(seeds, f.read(), low)
                if os.path.basename(root) == "audio" and not low.endswith((".json", "sums")):
                    with open(path, "rb") as f:
                        seeds.add("audio_decode", f.read(64 << 10))
                if low.endswith(H264_EXT) or low.endswith(HEVC_EXT):
                    with open(path, "rb") as f:
                        data = f.read()
                    stream_seeds(seeds, data, low.endswith(HEVC_EXT))
                    seeds.add("demux_raw", data[: 32 << 10])
                    if not low.endswith(HEVC_EXT):
                        seeds.add("openh264_decode", data[: 256 << 10])
                    streams += 1
                elif low.endswith((".mkv", ".webm")):
                    # The file's first 64 KiB (the fuzzing length): the headers and the
                    # first clusters; damaged files too.
                    with open(path, "rb") as f:
                        seeds.add("demux_mkv", f.read(1 << 16))
                elif low.endswith(TS_EXT):
                    with open(path, "rb") as f:
                        ts_seeds(seeds, f.read())
                elif low.endswith(".avi"):
                    # Whole files (the fixtures are under 128 KiB, the fuzzing length): the
                    # idx1 index comes last; damaged files too.
                    with open(path, "rb") as f:
                        data = f.read()
                    seeds.add("demux_avi", data[: 128 << 10])
                    odml = avi_odml(data)
                    if odml is not None:
                        seeds.add("demux_avi", odml[: 128 << 10])
                        # Without the idx1: only the OpenDML index (or the walk).
                        i = odml.rfind(b"idx1")
                        seeds.add("demux_avi", (odml[:i] + b"JUNK" + odml[i + 4 :])[: 128 << 10])
                elif low.endswith((".mp4", ".mov")):
                    # (.mov: MJPEG and ProRes sample entries, testdata/codecs.)
                    with open(path, "rb") as f:
                        data = f.read()
                    for rec in mp4_boxes(data, [b"avcC", b"hvcC"]):
                        seeds.add("avcc", rec)
                    # Whole small files (the fixtures are under 128 KiB, the fuzzing length).
                    if len(data) <= 128 << 10:
                        seeds.add("demux_mp4", data)
                elif low.endswith(".ivf"):
                    with open(path, "rb") as f:
                        data = f.read()
                    seeds.add("demux_raw", data[: 32 << 10])
                    fourcc, packets = ivf_packets(data)
                    if fourcc == b"AV01":
                        av1_seeds(seeds, name, packets)
                elif low.endswith(".obu"):
                    with open(path, "rb") as f:
                        data = f.read()
                    if data[:2] == b"\x12\x00":
                        av1_seeds(seeds, name, obu_units(data))
                    else:
                        # Annex B (length-delimited): the file itself, and its start.
                        seeds.add("demux_obu", data[:AV1_MAX])
                        seeds.add("demux_obu", data[:4096])
    print(f"{streams} streams read; new seeds per target:")
    for t in sorted(seeds.count):
        print(f"  {t:20} {seeds.count[t]}")


if __name__ == "__main__":
    main()
