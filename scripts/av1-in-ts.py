#!/usr/bin/env python3
"""Write the AV1 temporal units of an IVF file into an MPEG-TS file as AOM's "Carriage of AV1 in
MPEG-2 TS" (v1.0, https://github.com/AOMediaCodec/av1-mpeg2-ts) lays them out, for the test
fixtures (no encoder or muxer we can install writes this form yet: FFmpeg 5.1 to 8.1 write AV1 in
MPEG-TS as private data with no descriptor, in the low-overhead form).

    scripts/av1-in-ts.py IN.ivf OUT.ts [--split] [--keep-sizes] [--no-delimiters]

What it writes:
  * a PAT (program 1) and a PMT (PCR on the video PID 0x100) before the first PES and every 8th;
  * the video on PID 0x100: stream_type 0x06, a registration descriptor 'AV01' and the AV1 video
    descriptor (tag 0x80; seq_profile and seq_level_idx_0 from the first sequence header);
  * one PES (stream_id 0xBD, data_alignment_indicator 1, PTS = DTS, 90 kHz, from the IVF
    timestamps plus 1 s) per temporal unit, or with --split per access unit: the OBUs up to and
    including each frame's last OBU (a hidden frame and the frame shown after it become two PES);
  * each OBU after a start code 00 00 01, escaped against start-code emulation (00 00 0x with
    x <= 3 becomes 00 00 03 0x, and an OBU ending in 00 00 gets a trailing 03), without its
    obu_size field unless --keep-sizes; temporal delimiters left out with --no-delimiters;
  * random_access_indicator and a PCR in the adaptation field of a PES's first packet when it
    holds a key frame shown (frame_type KEY_FRAME with show_frame).
Deterministic: the same input gives the same bytes.
"""

import argparse
import struct
import sys

PID_PMT, PID_VIDEO = 0x1000, 0x100
TD, SEQ, FRAME_HEADER, TILE_GROUP, FRAME = 2, 1, 3, 4, 6


def ivf_units(data):
    """(pts, temporal unit) of each IVF frame, and the time base (num, den)."""
    if data[:4] != b'DKIF':
        sys.exit('not an IVF file')
    header_len = struct.unpack('<H', data[6:8])[0]
    den, num = struct.unpack('<II', data[16:24])
    pos, out = header_len, []
    while pos + 12 <= len(data):
        size, pts = struct.unpack('<IQ', data[pos:pos + 12])
        out.append((pts, data[pos + 12:pos + 12 + size]))
        pos += 12 + size
    return out, (num, den)


def leb128(b, i):
    value = shift = 0
    while True:
        byte = b[i]
        i += 1
        value |= (byte & 0x7f) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def obus(tu):
    """(type, header bytes, payload) of each OBU of a low-overhead temporal unit."""
    out, i = [], 0
    while i < len(tu):
        h = tu[i]
        ext = (h >> 2) & 1
        if not (h >> 1) & 1:
            sys.exit('OBU without obu_size in the IVF file')
        size, j = leb128(tu, i + 1 + ext)
        out.append(((h >> 3) & 15, tu[i:i + 1 + ext], tu[j:j + size]))
        i = j + size
    return out


def key_shown(units):
    """Whether the first frame header of the OBUs is a key frame that is shown."""
    for typ, _, payload in units:
        if typ in (FRAME_HEADER, FRAME) and payload:
            b = payload[0]
            return not b & 0x80 and (b >> 5) & 3 == 0 and bool(b & 0x10)
    return False


def access_units(tu):
    """The OBUs of a temporal unit in access units: each ends with a frame's last OBU."""
    units = obus(tu)
    out, cur = [], []
    for k, u in enumerate(units):
        cur.append(u)
        nxt = units[k + 1][0] if k + 1 < len(units) else None
        if u[0] == FRAME or (u[0] in (FRAME_HEADER, TILE_GROUP) and nxt != TILE_GROUP):
            out.append(cur)
            cur = []
    if cur:
        if out:
            out[-1].extend(cur)  # metadata or padding after the last frame
        else:
            out.append(cur)
    return out


def escape(b):
    out, zeros = bytearray(), 0
    for x in b:
        if zeros >= 2 and x <= 3:
            out.append(3)
            zeros = 0
        out.append(x)
        zeros = zeros + 1 if x == 0 else 0
    if zeros >= 2:
        out.append(3)
    return bytes(out)


def write_leb128(v):
    out = bytearray()
    while True:
        byte = v & 0x7f
        v >>= 7
        out.append(byte | (0x80 if v else 0))
        if not v:
            return bytes(out)


def start_coded(units, keep_sizes, delimiters):
    out = bytearray()
    for typ, header, payload in units:
        if typ == TD and not delimiters:
            continue
        if keep_sizes:
            obu = bytes([header[0] | 2]) + header[1:] + write_leb128(len(payload)) + payload
        else:
            obu = bytes([header[0] & ~2 & 0xff]) + header[1:] + payload
        out += b'\x00\x00\x01' + escape(obu)
    return bytes(out)


def crc32(data):
    crc = 0xffffffff
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04c11db7) if crc & 0x80000000 else crc << 1
            crc &= 0xffffffff
    return crc


def section(table_id, ident, body):
    length = 5 + len(body) + 4
    s = bytes([table_id, 0xb0 | (length >> 8), length & 0xff]) + struct.pack('>H', ident) + b'\xc1\x00\x00' + body
    return s + struct.pack('>I', crc32(s))


class Writer:
    def __init__(self, out):
        self.out = out
        self.cc = {}

    def packet(self, pid, payload, start, adaptation=None):
        """One transport packet; `payload` must fit (adaptation stuffing fills the rest)."""
        af = adaptation
        room = 184 - (len(af) + 1 if af is not None else 0)
        assert len(payload) <= room
        if len(payload) < room:
            need = room - len(payload)
            if af is None:
                af = b'' if need == 1 else b'\x00' + b'\xff' * (need - 2)
            else:
                af += b'\xff' * need
        cc = self.cc.get(pid, 0)
        self.cc[pid] = (cc + 1) & 15
        control = 0x30 if af is not None else 0x10
        head = bytes([0x47, (0x40 if start else 0) | (pid >> 8), pid & 0xff, control | cc])
        body = (bytes([len(af)]) + af if af is not None else b'') + payload
        p = head + body
        assert len(p) == 188
        self.out.append(p)

    def psi(self, pid, sec):
        data = b'\x00' + sec
        self.packet(pid, data + b'\xff' * (184 - len(data)), True, None)

    def pes(self, pid, payload, pts, key, pcr):
        t = pts & ((1 << 33) - 1)
        ts = bytes([0x21 | ((t >> 29) & 0x0e), (t >> 22) & 0xff, ((t >> 14) & 0xfe) | 1, (t >> 7) & 0xff, ((t << 1) & 0xfe) | 1])
        length = 3 + len(ts) + len(payload)
        head = b'\x00\x00\x01\xbd' + struct.pack('>H', length if length <= 0xffff else 0) + b'\x84\x80' + bytes([len(ts)]) + ts
        data = head + payload
        base = pcr & ((1 << 33) - 1)
        pcr_bytes = struct.pack('>I', base >> 1) + bytes([((base & 1) << 7) | 0x7e, 0])
        af = bytes([(0x40 if key else 0) | 0x10]) + pcr_bytes
        first = 184 - (len(af) + 1)
        self.packet(pid, data[:first], True, af)
        i = first
        while i < len(data):
            self.packet(pid, data[i:i + 184], False, None)
            i += 184


def video_descriptor(tus):
    """The AV1 video descriptor from the first sequence header (seq_profile, and
    seq_level_idx_0 when the header is as simple as encoders write it)."""
    for _, tu in tus:
        for typ, _, payload in obus(tu):
            if typ != SEQ:
                continue
            bits = ''.join(f'{b:08b}' for b in payload[:8])
            profile = int(bits[0:3], 2)
            reduced = bits[4] == '1'
            if reduced:
                level = int(bits[5:10], 2)
            elif bits[5] == '0':  # no timing info: initial_display_delay_present, cnt, idc, level
                level = int(bits[7 + 5 + 12:7 + 5 + 12 + 5], 2)
            else:
                level = 31
            return bytes([0x80, 4, 0x81, (profile << 5) | level, 0x0c, 0x00])  # 4:2:0, 8-bit
    sys.exit('no sequence header')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('input')
    ap.add_argument('output')
    ap.add_argument('--split', action='store_true', help='one PES per access unit, not per temporal unit')
    ap.add_argument('--keep-sizes', action='store_true', help='keep each OBU\'s obu_size field')
    ap.add_argument('--no-delimiters', action='store_true', help='leave temporal delimiters out')
    a = ap.parse_args()
    tus, (num, den) = ivf_units(open(a.input, 'rb').read())
    es_info = b'\x05\x04AV01' + video_descriptor(tus)
    pmt = section(0x02, 1, bytes([0xe0 | (PID_VIDEO >> 8), PID_VIDEO & 0xff, 0xf0, 0x00, 0x06,
                                  0xe0 | (PID_VIDEO >> 8), PID_VIDEO & 0xff, 0xf0, len(es_info)]) + es_info)
    pat = section(0x00, 1, struct.pack('>HH', 1, 0xe000 | PID_PMT))
    w = Writer([])
    count = 0
    for pts, tu in tus:
        t = 90000 + pts * 90000 * num // den
        groups = access_units(tu) if a.split else [obus(tu)]
        for units in groups:
            if count % 8 == 0:
                w.psi(0, pat)
                w.psi(PID_PMT, pmt)
            payload = start_coded(units, a.keep_sizes, not a.no_delimiters)
            w.pes(PID_VIDEO, payload, t, key_shown(units), t - 9000)
            count += 1
    open(a.output, 'wb').write(b''.join(w.out))
    print(f'{a.output}: {len(tus)} temporal units in {count} PES, {len(w.out)} transport packets')


if __name__ == '__main__':
    main()
