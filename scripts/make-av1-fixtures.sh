#!/usr/bin/env bash
# Regenerate the extra AV1 fixtures under testdata/av1/ (see testdata/README.md, "AV1 fixtures"):
# 10-bit, film grain, odd size, a resolution change, periodic and forward (hidden) key frames,
# S-frames, reference scaling and super-resolution, the same stream in MP4 / fragmented MP4 /
# Matroska / WebM / a raw OBU stream, and two damaged IVF files (under testdata/av1/bad/). Each
# intact file gets libdav1d reference decodes beside it (FILE.yuv.framemd5 and FILE.nv12.framemd5,
# or FILE.p010.framemd5 for 10-bit), made like make-fixtures.sh's reference_ivf(). Each damaged
# file gets FILE.json: what ffmpeg + libdav1d make of it.
#
#   scripts/make-av1-fixtures.sh           regenerate these files, then update their lines in SHA256SUMS
#   scripts/make-av1-fixtures.sh --check   verify testdata/ against testdata/SHA256SUMS (no regeneration)
#
# Needs ffmpeg + ffprobe (5.1 or newer) built with libsvtav1, libaom and libdav1d (Debian/Ubuntu:
# apt-get install ffmpeg), aomenc (apt-get install aom-tools; or set AOMENC=/path/to/aomenc) for
# what ffmpeg cannot ask libaom for (forward key frames, reference scaling, super-resolution: these
# are aom_codec_enc_cfg_t fields, which ffmpeg's -aom-params cannot set), and python3.
# Deterministic: single-threaded encoders (SVT-AV1 lp=1; libaom threads=1, row-mt=0), single-threaded
# libdav1d, -bitexact muxing, no metadata; two runs with the same ffmpeg / SVT-AV1 / libaom give
# byte-identical files. Touches only the files it makes (testdata/av1/*, not the
# svtav1-cars-320x240.ivf family, which scripts/make-fixtures.sh owns, and testdata/av1/bad/) and
# their lines in testdata/SHA256SUMS: other lines stay as they are, in their order.
#
# Real-content source: testdata/real/cars-320x240.h264 (the libvpl clip cars_320x240.h264, MIT,
# Intel; 30 frames), decoded exactly as scripts/make-fixtures.sh decodes it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TD=$ROOT/testdata
CARS_MD5=6a11bce09792211bef95d9aca122bdb5   # libvpl examples/content/cars_320x240.h264 @ d77f9195

die() { echo "make-av1-fixtures: $*" >&2; exit 1; }

case "${1:-}" in
    --check) exec "$ROOT/scripts/make-fixtures.sh" --check ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    "") ;;
    *) die "unknown argument '$1' (try --help)" ;;
esac

# --- tools --------------------------------------------------------------------------------------
install_hint="install it with: apt-get install ffmpeg   (Debian/Ubuntu; ffmpeg 5.1 or newer with libsvtav1, libaom, libdav1d)"
command -v ffmpeg >/dev/null || die "ffmpeg not found; $install_hint"
command -v ffprobe >/dev/null || die "ffprobe not found; $install_hint"
command -v python3 >/dev/null || die "python3 not found (apt-get install python3)"
AOMENC=${AOMENC:-aomenc}
command -v "$AOMENC" >/dev/null || die "aomenc not found; install it with: apt-get install aom-tools   (or set AOMENC=/path/to/aomenc)"
encoders=$(ffmpeg -hide_banner -encoders 2>/dev/null)
for lib in libsvtav1 libaom-av1; do
    grep -q " $lib " <<<"$encoders" || die "this ffmpeg has no $lib encoder; $install_hint"
done
grep -q " libdav1d " <<<"$(ffmpeg -hide_banner -decoders 2>/dev/null)" || die "this ffmpeg has no libdav1d decoder; $install_hint"
muxers=$(ffmpeg -hide_banner -muxers 2>/dev/null)
for m in ivf obu mp4 matroska webm; do
    grep -q " $m " <<<"$muxers" || die "this ffmpeg has no $m muxer; $install_hint"
done
grep -qx 'trace_headers' <<<"$(ffmpeg -hide_banner -bsfs 2>/dev/null)" \
    || die "this ffmpeg lacks the trace_headers bitstream filter (needed to check the streams)"
echo "make-av1-fixtures: $(ffmpeg -hide_banner -version | sed -n 1p)"
echo "make-av1-fixtures: $("$AOMENC" --help 2>&1 | grep -m1 'AV1 Encoder' | sed 's/^ *//')"

# --- real-content source ------------------------------------------------------------------------
CARS=$TD/real/cars-320x240.h264
[[ -f $CARS ]] || die "no $CARS"
[[ $(md5sum < "$CARS" | cut -d' ' -f1) == "$CARS_MD5" ]] || die "$CARS is not the expected libvpl cars_320x240.h264 (md5 $CARS_MD5)"

START=$SECONDS
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
OUT=$WORK/av1
mkdir -p "$OUT/bad"

FF=(ffmpeg -nostdin -hide_banner -nostats -loglevel error -y -filter_threads 1)
# Output flags of every encode / remux: no metadata, bit-exact encoder and muxer.
BITEXACT=(-map_metadata -1 -flags:v +bitexact -fflags +bitexact)

# The cars clip, decoded once (30 frames, 320x240, 25 fps), as in make-fixtures.sh; and 58 frames
# forward then backward (no hard cut) for the longer streams.
"${FF[@]}" -threads 1 -flags unaligned -f h264 -i "$CARS" -map 0:v:0 -fps_mode passthrough \
    -vf scale=in_range=full:out_range=full,format=yuv420p -fflags +bitexact -f yuv4mpegpipe "$WORK/cars.y4m"
"${FF[@]}" -i "$WORK/cars.y4m" -i "$WORK/cars.y4m" \
    -filter_complex '[1:v]reverse,trim=start_frame=1:end_frame=29,setpts=PTS-STARTPTS[r];[0:v][r]concat=n=2:v=1[v]' \
    -map '[v]' -fflags +bitexact -f yuv4mpegpipe "$WORK/cars-pingpong.y4m"
CARS_Y4M=$WORK/cars.y4m
PINGPONG=$WORK/cars-pingpong.y4m

# svt INPUT FRAMES PIXFMT SVT-PARAMS OUT-FORMAT OUT [EXTRA-OUTPUT-ARGS...]   (SVT-AV1 preset 8, crf 45)
svt() {
    local in=$1 frames=$2 pixfmt=$3 params=$4 fmt=$5 out=$6
    shift 6
    SVT_LOG=1 "${FF[@]}" -threads 1 -i "$in" -map 0:v:0 -an "$@" -frames:v "$frames" -pix_fmt "$pixfmt" \
        -c:v libsvtav1 -preset 8 -crf 45 -g 48 -svtav1-params "lp=1${params:+:$params}" "${BITEXACT[@]}" -f "$fmt" "$out"
}
# aomenc_ivf OUT FRAMES INPUT AOMENC-ARGS...   (one pass, good quality, cpu-used 6, cq-level 40, 1 thread)
aomenc_ivf() {
    local out=$1 frames=$2 in=$3
    shift 3
    "$AOMENC" --ivf -o "$out" --limit="$frames" --passes=1 --good --cpu-used=6 --threads=1 --row-mt=0 \
        --end-usage=q --cq-level=40 --quiet "$@" "$in"
}

# ---- 1. 10-bit ---------------------------------------------------------------------------------
svt "$CARS_Y4M" 20 yuv420p10le "" ivf "$OUT/svtav1-10bit-cars-320x240.ivf"

# ---- 2. film grain: SVT-AV1 denoises the source and signals grain parameters to re-synthesise ----
svt "$CARS_Y4M" 20 yuv420p film-grain=8 ivf "$OUT/svtav1-filmgrain-cars-320x240.ivf"

# ---- 3. odd width and height (SVT-AV1 1.4 refuses them; libaom does not) -----------------------
"${FF[@]}" -threads 1 -i "$CARS_Y4M" -map 0:v:0 -an -vf crop=317:179:1:31:exact=1 -frames:v 20 -pix_fmt yuv420p \
    -c:v libaom-av1 -threads 1 -row-mt 0 -cpu-used 8 -crf 40 -g 48 "${BITEXACT[@]}" -f ivf "$OUT/libaom-odd-317x179-cars.ivf"

# ---- 4. resolution change: two coded video sequences (key frame + new sequence header each), ---
# frames 0-11 at 320x240 then frames 12-23 at 240x180, joined as low-overhead OBU streams (a
# temporal unit starts with its temporal delimiter, so concatenating whole streams is valid) and
# remuxed into one IVF (header: 320x240, 24 frames; the packets are the OBU bytes unchanged).
svt "$CARS_Y4M" 12 yuv420p "" obu "$WORK/rc-a.obu"
svt "$CARS_Y4M" 12 yuv420p "" obu "$WORK/rc-b.obu" -vf trim=start_frame=12,setpts=PTS-STARTPTS,scale=240:180:flags=bicubic
cat "$WORK/rc-a.obu" "$WORK/rc-b.obu" > "$WORK/rc.obu"
"${FF[@]}" -f obu -i "$WORK/rc.obu" -map 0:v:0 -c copy "${BITEXACT[@]}" -f ivf "$OUT/svtav1-reschange-320x240-240x180-cars.ivf"

# ---- 5. key frames: every 8 frames (libaom), and forward key frames (aomenc) ------------------
"${FF[@]}" -threads 1 -i "$PINGPONG" -map 0:v:0 -an -frames:v 24 -pix_fmt yuv420p \
    -c:v libaom-av1 -threads 1 -row-mt 0 -cpu-used 8 -crf 40 -g 8 -keyint_min 8 "${BITEXACT[@]}" \
    -f ivf "$OUT/libaom-kf8-cars-320x240.ivf"
# Forward key frames: the key frame is coded early as a hidden frame (show_frame=0, in the temporal
# unit of an earlier frame) and shown 6 frames later by a 5-byte show_existing_frame temporal unit,
# which resets the decoder like a key frame. libaom makes one where a GOP of fwd-kf-dist frames
# ends; --kf-max-dist well above the length keeps regular key frames out.
aomenc_ivf "$OUT/aomenc-fwdkf-cars-320x240.ivf" 32 "$PINGPONG" \
    --lag-in-frames=35 --kf-max-dist=48 --enable-fwd-kf=1 --fwd-kf-dist=8

# ---- 6. S-frames (switch frames): SVT-AV1, low-delay structure only, one every 8 frames -------
# (libaom 3.6's sframe-dist / sframe-mode make none; SVT-AV1 1.4 and rav1e 0.5 do.)
svt "$PINGPONG" 24 yuv420p pred-struct=1:sframe-dist=8:sframe-mode=1 ivf "$OUT/svtav1-sframe-cars-320x240.ivf"

# ---- extra: frame size changes inside one sequence (aomenc) ------------------------------------
# Reference scaling: resize-mode 2 gives each frame a random size (frame_size_override_flag, with
# render size 320x240): inter frames predict from references of another size.
aomenc_ivf "$OUT/aomenc-resize-random-cars-320x240.ivf" 24 "$PINGPONG" --kf-min-dist=8 --kf-max-dist=8 --resize-mode=2
# Super-resolution: superres-mode 2 codes each frame at a random narrower width (denominator 9-16)
# and upscales it in the loop; every output frame is 320x240.
aomenc_ivf "$OUT/aomenc-superres-random-cars-320x240.ivf" 24 "$PINGPONG" --kf-min-dist=8 --kf-max-dist=8 --superres-mode=2

# ---- 7, 8. the same packets in other containers, and as a low-overhead OBU stream ---------------
KF8=$OUT/libaom-kf8-cars-320x240
"${FF[@]}" -i "$KF8.ivf" -map 0:v:0 -c copy "${BITEXACT[@]}" -f mp4 "$KF8.mp4"
"${FF[@]}" -i "$KF8.ivf" -map 0:v:0 -c copy "${BITEXACT[@]}" -movflags +frag_keyframe+empty_moov+default_base_moof \
    -f mp4 "$KF8-frag.mp4"
"${FF[@]}" -i "$KF8.ivf" -map 0:v:0 -c copy "${BITEXACT[@]}" -f matroska "$KF8.mkv"
"${FF[@]}" -i "$KF8.ivf" -map 0:v:0 -c copy "${BITEXACT[@]}" -f webm "$KF8.webm"
"${FF[@]}" -i "$KF8.ivf" -map 0:v:0 -c copy "${BITEXACT[@]}" -f obu "$KF8.obu"
# MPEG-TS, in both forms found in files. AOM's "Carriage of AV1 in MPEG-2 TS" (registration
# descriptor 'AV01', start codes and emulation prevention; no muxer we can install writes it, so
# scripts/av1-in-ts.py does): one PES per temporal unit with OBUs lacking their size fields; one
# PES per access unit (a hidden frame in a PES of its own) with size fields and no temporal
# delimiters, of this stream and of the forward-key-frame one. And ffmpeg's form (5.1 to 8.1: stream
# type 0x06 with no descriptor, low-overhead units), which ffmpeg itself reads back as "bin_data".
# These hold the IVF files' units, so the IVF files' references are theirs (no ffmpeg decodes
# either form as video).
python3 "$ROOT/scripts/av1-in-ts.py" "$KF8.ivf" "$KF8.ts"
python3 "$ROOT/scripts/av1-in-ts.py" "$KF8.ivf" "$KF8-split.ts" --split --keep-sizes --no-delimiters
python3 "$ROOT/scripts/av1-in-ts.py" "$OUT/aomenc-fwdkf-cars-320x240.ivf" "$OUT/aomenc-fwdkf-cars-320x240-split.ts" --split
"${FF[@]}" -i "$KF8.ivf" -map 0:v:0 -c copy "${BITEXACT[@]}" -f mpegts "$KF8-ffmpeg.ts"

# ---- 9. damaged copies of libaom-kf8-cars-320x240.ivf (python: IVF + OBU walk) ------------------
python3 - "$KF8.ivf" "$OUT/bad" <<'EOF'
import struct, sys
src, bad = sys.argv[1], sys.argv[2]
data = open(src, 'rb').read()
assert data[:4] == b'DKIF' and struct.unpack('<H', data[6:8])[0] == 32
packets, pos = [], 32            # (offset of the 12-byte frame header, payload size)
while pos < len(data):
    size = struct.unpack('<I', data[pos:pos + 4])[0]
    packets.append((pos, size))
    pos += 12 + size
assert pos == len(data) and len(packets) == 24

def obus(tu):                    # (type, payload offset, payload size) of each OBU in a temporal unit
    out, i = [], 0
    while i < len(tu):
        h = tu[i]; typ = (h >> 3) & 15; ext = (h >> 2) & 1; has_size = (h >> 1) & 1
        assert has_size, 'OBU without obu_size'
        j = i + 1 + ext; size = shift = 0
        while True:
            b = tu[j]; j += 1; size |= (b & 0x7f) << shift; shift += 7
            if not b & 0x80: break
        out.append((typ, j, size)); i = j + size
    assert i == len(tu)
    return out

# Truncated: the file ends in the middle of temporal unit 9 (its two hidden frames and shown frame).
off, size = packets[9]
cut = off + 12 + size // 2
open(f'{bad}/truncated-libaom-kf8-cars-320x240.ivf', 'wb').write(data[:cut])
print(f'truncated: {cut} of {len(data)} bytes, inside temporal unit 9 ({size} bytes at {off})')

# Bit flips: in temporal units 1 and 17 (right after key frames 0 and 16), XOR 0xff into 4 bytes
# two thirds into the payload of the largest OBU_FRAME (type 6): tile data, headers intact.
buf = bytearray(data)
for k in (1, 17):
    off, size = packets[k]
    tu = data[off + 12:off + 12 + size]
    typ, p, n = max((o for o in obus(tu) if o[0] == 6), key=lambda o: o[2])
    at = off + 12 + p + (2 * n) // 3
    for b in range(at, at + 4):
        buf[b] ^= 0xff
    print(f'bitflip: temporal unit {k}: bytes {at}-{at + 3} (OBU_FRAME of {n} bytes)')
open(f'{bad}/bitflip-libaom-kf8-cars-320x240.ivf', 'wb').write(bytes(buf))
EOF

# ---- references (libdav1d, as make-fixtures.sh's reference_ivf) --------------------------------
# reference FILE DEMUXER TAG PIXFMT [LIBDAV1D-OPTION...]
reference() {
    local f=$1 fmt=$2 tag=$3 pix=$4
    shift 4
    "${FF[@]}" -threads 1 -flags unaligned -c:v libdav1d "$@" -f "$fmt" -i "$f" -map 0:v:0 -fps_mode passthrough -autoscale 0 \
        -vf "scale=in_range=full:out_range=full,format=$pix" -fflags +bitexact -f framemd5 "$f.$tag.framemd5"
}
demuxer() { case $1 in *.ivf) echo ivf ;; *.obu) echo obu ;; *.mp4) echo mov ;; *.mkv|*.webm) echo matroska ;; esac; }
for f in "$OUT"/*.ivf "$OUT"/*.obu "$OUT"/*.mp4 "$OUT"/*.mkv "$OUT"/*.webm; do
    fmt=$(demuxer "$f")
    if [[ $(ffprobe -v error -f "$fmt" -i "$f" -select_streams v:0 -show_entries stream=pix_fmt -of csv=p=0) == *10le ]]; then
        reference "$f" "$fmt" p010 p010le
        reference "$f" "$fmt" yuv yuv420p10le
    else
        reference "$f" "$fmt" nv12 nv12
        reference "$f" "$fmt" yuv yuv420p
    fi
done
# Film grain off: libdav1d exports the grain parameters as side data instead of applying them
# (ffmpeg 5.1's libdav1d option -filmgrain 0 does the same, but is deprecated).
FG=$OUT/svtav1-filmgrain-cars-320x240.ivf
reference "$FG" ivf nograin.yuv yuv420p -export_side_data film_grain
reference "$FG" ivf nograin.nv12 nv12 -export_side_data film_grain

# ---- checks ------------------------------------------------------------------------------------
hashes() { grep -v '^#' "$1" | awk -F, '{ gsub(/ /, "", $6); print $6 }'; }
sizes() { grep -v '^#' "$1" | awk -F, '{ gsub(/ /, "", $5); print $5 }' | uniq -c | awk '{ printf "%s%sx%s", sep, $1, $2; sep = "," }'; }
# frame_headers FILE: counts of the frame header fields that tell the frame kinds apart (trace_headers)
frame_headers() {
    ffmpeg -nostdin -hide_banner -loglevel trace -i "$1" -map 0:v:0 -c copy -bsf:v trace_headers -f null - 2>&1 \
        | sed -n 's/^\[trace_headers @ [^]]*\] *[0-9]* *\([a-z_]*\) .* = \([0-9]*\)$/\1=\2/p' \
        | awk -F= '$1 == "show_existing_frame" && $2 == 1 { se++ }
                   $1 == "frame_type" { ft = $2 }
                   $1 == "show_frame" { fh++; if (ft == 0 && $2 == 1) key++; else if (ft == 0) hkey++; else if (ft == 3) sw++; else if ($2 == 0) hid++ }
                   $1 == "apply_grain" && $2 == 1 { grain++ }
                   $1 == "frame_size_override_flag" && $2 == 1 { fso++ }
                   $1 == "use_superres" && $2 == 1 { sr++ }
                   END { printf "frame_headers=%d key=%d hidden_key=%d switch=%d hidden=%d show_existing=%d apply_grain=%d size_override=%d superres=%d\n",
                                fh, key, hkey, sw, hid, se, grain, fso, sr }'
}
field() { sed -n "s/.*\\b$2=\\([0-9]*\\).*/\\1/p" <<<"$1"; }
frames() { grep -vc '^#' "$1.yuv.framemd5"; }
key_packets() { ffprobe -v error -i "$1" -select_streams v:0 -show_entries packet=flags -of csv=p=0 | grep -c K || true; }

expect() { # WHAT GOT WANT
    [[ $2 == "$3" ]] || die "$1: got $2, expected $3"
}
for f in "$OUT"/*.ivf; do
    n=$(frames "$f")
    [[ $(grep -vc '^#' "$f".nv12.framemd5 2>/dev/null || grep -vc '^#' "$f".p010.framemd5) == "$n" ]] || die "$f: reference line counts differ"
    [[ $(ffprobe -v error -i "$f" -select_streams v:0 -count_frames -show_entries stream=nb_read_frames -of csv=p=0) == "$n" ]] \
        || die "$f: ffprobe -count_frames disagrees with the reference ($n frames)"
done
expect "10-bit frames" "$(frames "$OUT/svtav1-10bit-cars-320x240.ivf")" 20
expect "10-bit pix_fmt" "$(ffprobe -v error -i "$OUT/svtav1-10bit-cars-320x240.ivf" -show_entries stream=pix_fmt -of csv=p=0)" yuv420p10le
H=$(frame_headers "$FG")
expect "film grain: frame headers with apply_grain" "$(field "$H" apply_grain)" "$(field "$H" frame_headers)"
[[ -z $(comm -12 <(hashes "$FG.yuv.framemd5" | sort) <(hashes "$FG.nograin.yuv.framemd5" | sort)) ]] \
    || die "film grain: some frames decode the same with and without grain"
expect "odd size" "$(sizes "$OUT/libaom-odd-317x179-cars.ivf.yuv.framemd5")" 20x85363   # 317x179 + 2 x 159x90
RC=$OUT/svtav1-reschange-320x240-240x180-cars.ivf
expect "resolution change: frame sizes" "$(sizes "$RC.yuv.framemd5")" 12x115200,12x64800
expect "resolution change: key packets" "$(key_packets "$RC")" 2
expect "resolution change: bytes" "$(stat -c %s "$RC")" "$(( $(stat -c %s "$WORK/rc.obu") + 32 + 24 * 12 ))"
expect "kf8: key packets" "$(key_packets "$KF8.ivf")" 3
H=$(frame_headers "$OUT/aomenc-fwdkf-cars-320x240.ivf")
expect "fwd-kf: shown key frames" "$(field "$H" key)" 1
expect "fwd-kf: hidden key frames" "$(field "$H" hidden_key)" 2
expect "fwd-kf: key frames output" "$(ffprobe -v error -i "$OUT/aomenc-fwdkf-cars-320x240.ivf" -show_entries frame=key_frame -of csv=p=0 | grep -c 1)" 3
H=$(frame_headers "$OUT/svtav1-sframe-cars-320x240.ivf")
expect "S-frames" "$(field "$H" switch)" 2
[[ $(sizes "$OUT/aomenc-resize-random-cars-320x240.ivf.yuv.framemd5" | tr , '\n' | wc -l) -gt 4 ]] || die "resize: too few frame sizes"
H=$(frame_headers "$OUT/aomenc-superres-random-cars-320x240.ivf")
(( $(field "$H" superres) > 12 )) || die "superres: too few super-resolved frames ($H)"
expect "superres: frame sizes" "$(sizes "$OUT/aomenc-superres-random-cars-320x240.ivf.yuv.framemd5")" 24x115200
for f in "$KF8.mp4" "$KF8-frag.mp4" "$KF8.mkv" "$KF8.webm" "$KF8.obu"; do
    [[ $(hashes "$f.yuv.framemd5") == $(hashes "$KF8.ivf.yuv.framemd5") ]] || die "$f does not decode to the frames of $KF8.ivf"
done
# The MPEG-TS files as ffprobe reads their transport structure: one packet per PES (a PES per
# temporal unit, or per access unit when split), the 'AV01' registration on the specification's form.
ts_packets() { ffprobe -v error -i "$1" -select_streams 0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 | head -n1; }
expect "$KF8.ts: PES" "$(ts_packets "$KF8.ts")" 24
expect "$KF8-ffmpeg.ts: PES" "$(ts_packets "$KF8-ffmpeg.ts")" 24
expect "$KF8-split.ts: PES" "$(ts_packets "$KF8-split.ts")" 33
expect "$KF8.ts: registration" "$(ffprobe -v error -i "$KF8.ts" -show_entries stream=codec_tag_string -of csv=p=0 | head -n1)" AV01

# ---- damaged files: what ffmpeg + libdav1d make of them (FILE.json) ----------------------------
for f in "$OUT"/bad/*.ivf; do
    status=0
    ffmpeg -nostdin -hide_banner -nostats -loglevel warning -y -threads 1 -c:v libdav1d -f ivf -i "$f" -map 0:v:0 \
        -fps_mode passthrough -autoscale 0 -vf scale=in_range=full:out_range=full,format=yuv420p -fflags +bitexact \
        -f framemd5 "$WORK/bad.framemd5" 2> "$WORK/bad.err" || status=$?
    python3 - "$f" "$status" "$WORK/bad.framemd5" "$WORK/bad.err" "$KF8.ivf.yuv.framemd5" <<'EOF'
import json, re, sys
f, status, got, err, intact = sys.argv[1:]
def rows(p):
    return [l.split(',')[-1].strip() for l in open(p) if not l.startswith('#')]
got, intact = rows(got), rows(intact)
prefix = 0
while prefix < min(len(got), len(intact)) and got[prefix] == intact[prefix]:
    prefix += 1
msgs = []
for l in open(err, errors='replace'):
    l = re.sub(r' @ 0x[0-9a-f]+', '', l.strip()).replace(f, f.rsplit('/', 1)[-1])
    if l and not l.startswith('Last message repeated') and l not in msgs:
        msgs.append(l)
json.dump({'decoder': 'libdav1d', 'from': 'libaom-kf8-cars-320x240.ivf', 'ffmpeg_exit': int(status),
           'decoded_frames': len(got), 'intact_frames': len(intact), 'frames_matching_intact_prefix': prefix,
           'frames_found_in_intact': sum(h in set(intact) for h in got), 'messages': msgs[:6]},
          open(f + '.json', 'w'), indent=1)
open(f + '.json', 'a').write('\n')
EOF
done

# ---- summary -----------------------------------------------------------------------------------
printf '%-52s %7s %6s %7s %3s  %s\n' file bytes frames packets K frame-headers
for f in "$OUT"/*.ivf "$OUT"/*.obu "$OUT"/*.mp4 "$OUT"/*.mkv "$OUT"/*.webm; do
    fmt=$(demuxer "$f")
    printf '%-52s %7s %6s %7s %3s  %s\n' "${f#"$OUT"/}" "$(stat -c %s "$f")" "$(frames "$f")" \
        "$(ffprobe -v error -f "$fmt" -i "$f" -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0)" \
        "$(key_packets "$f")" "$(frame_headers "$f")"
done
for f in "$OUT"/bad/*.ivf; do
    printf '%-52s %7s  %s\n' "bad/${f##*/}" "$(stat -c %s "$f")" "$(tr -d '\n' < "$f.json" | sed 's/ *"messages".*//')"
done

# ---- install, checksum -------------------------------------------------------------------------
mkdir -p "$TD/av1"
rm -rf "${TD:?}/av1/bad"
(cd "$OUT" && find . -type f -printf '%P\n') | while read -r p; do
    mkdir -p "$(dirname "$TD/av1/$p")"
    cp "$OUT/$p" "$TD/av1/$p"
done
# SHA256SUMS: drop the lines of the files made here (and of files under av1/bad/), append fresh ones.
python3 - "$TD" "$OUT" <<'EOF'
import hashlib, os, sys
td, out = sys.argv[1:]
mine = sorted('av1/' + os.path.relpath(os.path.join(d, n), out) for d, _, ns in os.walk(out) for n in ns)
sums = os.path.join(td, 'SHA256SUMS')
old = open(sums).read().splitlines() if os.path.exists(sums) else []
keep = [l for l in old if l.split(None, 1)[1].lstrip('*') not in mine and not l.split(None, 1)[1].startswith('av1/bad/')]
new = [hashlib.sha256(open(os.path.join(td, p), 'rb').read()).hexdigest() + '  ' + p for p in mine]
open(sums, 'w').write('\n'.join(keep + new) + '\n')
EOF

echo "make-av1-fixtures: done in $((SECONDS - START)) s; wrote $(find "$OUT" -type f | wc -l) files, $(find "$OUT" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }') bytes, into testdata/av1/"
