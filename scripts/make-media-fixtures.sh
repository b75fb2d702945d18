#!/usr/bin/env bash
# Regenerate the container fixtures under testdata/media/ (see testdata/README.md, "Container
# fixtures"): small MP4 / fragmented MP4 / Matroska / WebM / MPEG-TS / M2TS files with audio, each
# FILE with FILE.json (ffprobe's view of it, from scripts/media-facts.py) and FILE.framemd5 (ffmpeg's
# decode of its first video stream), plus damaged files (and their FILE.json) under testdata/media/bad/.
#
#   scripts/make-media-fixtures.sh           regenerate testdata/media/, then rewrite testdata/SHA256SUMS
#   scripts/make-media-fixtures.sh --check   verify testdata/ against testdata/SHA256SUMS (no regeneration)
#
# Needs ffmpeg + ffprobe (5.1 or newer) built with libx264, libx265, libvpx, libsvtav1, libopus
# (Debian/Ubuntu: apt-get install ffmpeg), mkvmerge (apt-get install mkvtoolnix) and python3. Deterministic like scripts/make-fixtures.sh:
# single-threaded encoders, -bitexact encoders and muxers, no global metadata, fixed noise seeds;
# two runs with the same ffmpeg give byte-identical files. Touches only testdata/media/ (and
# SHA256SUMS, through scripts/make-fixtures.sh --sums).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TD=$ROOT/testdata

die() { echo "make-media-fixtures: $*" >&2; exit 1; }

case "${1:-}" in
    --check) exec "$ROOT/scripts/make-fixtures.sh" --check ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    "") ;;
    *) die "unknown argument '$1' (try --help)" ;;
esac

# --- tools --------------------------------------------------------------------------------------
install_hint="install it with: apt-get install ffmpeg   (Debian/Ubuntu; ffmpeg 5.1 or newer with libx264, libx265, libvpx, libsvtav1, libopus)"
command -v ffmpeg >/dev/null || die "ffmpeg not found; $install_hint"
command -v ffprobe >/dev/null || die "ffprobe not found; $install_hint"
command -v python3 >/dev/null || die "python3 not found (apt-get install python3)"
command -v mkvmerge >/dev/null || die "mkvmerge not found (apt-get install mkvtoolnix): it writes the Matroska rotation fixture"
encoders=$(ffmpeg -hide_banner -encoders 2>/dev/null)
for lib in libx264 libx265 libsvtav1 libvpx-vp9 libopus aac srt mpeg4 mjpeg libmp3lame; do
    grep -q " $lib " <<<"$encoders" || die "this ffmpeg has no $lib encoder; $install_hint"
done
echo "make-media-fixtures: $(ffmpeg -hide_banner -version | sed -n 1p)"

START=$SECONDS
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
OUT=$WORK/media
mkdir -p "$OUT/bad"
S=$WORK/src   # intermediate streams (not installed)
mkdir -p "$S"

FF=(ffmpeg -nostdin -hide_banner -nostats -loglevel error -y -filter_threads 1)
# Muxer flags for every output: no global metadata (encoder/creation-time tags), bit-exact muxing.
MUX=(-map_metadata -1 -fflags +bitexact)

# --- sources ------------------------------------------------------------------------------------
# Video: 100 frames (4 s at 25 fps) of testsrc2 with temporal noise (so no frame is flat or a
# repeat), 320x240. Audio: 4 s sine, 48 kHz stereo.
SRC="testsrc2=size=320x240:rate=25,noise=alls=12:allf=t+u:all_seed=4300"
# Closed GOPs of 25 frames (IDR every 1 s), fixed B-frame pattern (b-adapt=0, no scene cuts).
# Open GOP needs B-frames that precede a key picture in display order and follow it in decode order
# (leading pictures: RASL in HEVC). With keyint 25 and 3 B-frames the 24 frames between two key
# pictures are exactly six B-B-B-P groups, so there are none; with 4 B-frames (24 = 4 x 5 + 4) the 4
# frames before each key picture become leading pictures.
X264_CLOSED="threads=1:crf=30:keyint=25:min-keyint=25:scenecut=0:bframes=3:b-adapt=0:b-pyramid=normal"
X264_OPEN="threads=1:crf=30:keyint=25:min-keyint=25:scenecut=0:open-gop=1:bframes=4:b-adapt=0:b-pyramid=normal"
X265_CLOSED="pools=1:frame-threads=1:log-level=error:crf=30:keyint=25:min-keyint=25:scenecut=0:open-gop=0:bframes=4:b-adapt=0:b-pyramid=1"
X265_OPEN="pools=1:frame-threads=1:log-level=error:crf=30:keyint=25:min-keyint=25:scenecut=0:open-gop=1:radl=0:bframes=4:b-adapt=0"

# x264 / x265 into NUT (keeps the encoder's pts and dts; parameter sets in extradata only)
vid() { # OUT ENC-ARGS... (input: $SRC, 100 frames)
    local out=$1; shift
    "${FF[@]}" -threads 1 -f lavfi -i "$SRC" -map 0:v -map_metadata -1 -frames:v 100 -pix_fmt yuv420p -threads 1 \
        "$@" -flags:v +bitexact -fflags +bitexact "$out"
}
vid "$S/h264.nut" -c:v libx264 -profile:v high -x264-params "$X264_CLOSED"
# Few reference frames (x264's faster presets): P-pictures predict from the previous P only, so
# random access can leave the B reference pictures of the mini-GOPs passed over undecoded
# (src/reader/prune.rs). ref=1 with weightp=2 (a duplicate reference for weighted prediction,
# through list modifications); ref=2 with strict B-pyramid. GOPs of 50.
X264_FEW="threads=1:crf=30:keyint=50:min-keyint=50:scenecut=0:bframes=3:b-adapt=0"
vid "$S/h264-ref1.nut" -c:v libx264 -profile:v high -x264-params "$X264_FEW:b-pyramid=normal:ref=1:weightp=2"
vid "$S/h264-ref2.nut" -c:v libx264 -profile:v high -x264-params "$X264_FEW:b-pyramid=strict:ref=2:weightp=1"
# The same for HEVC: x265 with one reference picture and a B-pyramid, closed GOPs of 50.
vid "$S/hevc-ref1.nut" -c:v libx265 -profile:v main -x265-params \
    "pools=1:frame-threads=1:log-level=error:crf=30:keyint=50:min-keyint=50:scenecut=0:open-gop=0:bframes=3:b-adapt=0:b-pyramid=1:ref=1"
vid "$S/hevc.nut" -c:v libx265 -profile:v main -x265-params "$X265_CLOSED"
vid "$S/hevc-open.nut" -c:v libx265 -profile:v main -x265-params "$X265_OPEN"
vid "$S/h264-open.nut" -c:v libx264 -profile:v high -x264-params "$X264_OPEN"
# libvpx makes alt-ref frames (hidden, sent in a superframe with the next shown frame) only in
# two-pass mode; one pass gives none.
VP9=(-c:v libvpx-vp9 -row-mt 0 -crf 50 -b:v 0 -deadline good -cpu-used 4 -g 25 -auto-alt-ref 1 -lag-in-frames 16 -passlogfile "$S/vp9")
vid /dev/null "${VP9[@]}" -pass 1 -f null
vid "$S/vp9.nut" "${VP9[@]}" -pass 2
SVT_LOG=1 vid "$S/av1.nut" -c:v libsvtav1 -preset 8 -crf 45 -g 25 -svtav1-params lp=1

# The same open-GOP H.264, with in-band SPS/PPS before every key picture (x264 repeat-headers; no
# global header in tee/raw/TS), as raw Annex B (for the NAL scan below) and MPEG-TS (with pts/dts).
"${FF[@]}" -threads 1 -f lavfi -i "$SRC" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=4" \
    -map 0:v -map 1:a -map_metadata -1 -frames:v 100 -pix_fmt yuv420p -threads 1 -c:v libx264 -profile:v high \
    -x264-params "$X264_OPEN" -flags:v +bitexact -ac 2 -c:a aac -b:a 48k -flags:a +bitexact -fflags +bitexact \
    -f tee "[select=v:f=h264]$S/h264-open.h264|[f=mpegts]$S/h264-open.ts"

# VFR: frame durations 40 ms (frames 0-24), 80 ms (25-49), 20 ms (50-74), then 30/50 ms alternating.
# pts in milliseconds = the filter time base (settb), no division (3530/1000/TB would round to 3529).
VFR_PTS='if(lt(N,25),40*N,if(lt(N,50),1000+80*(N-25),if(lt(N,75),3000+20*(N-50),3500+40*(N-75)-10*mod(N-75,2))))'
"${FF[@]}" -threads 1 -f lavfi -i "$SRC" -map 0:v -map_metadata -1 -frames:v 100 \
    -vf "settb=1/1000,setpts='$VFR_PTS'" -fps_mode passthrough -enc_time_base 1/1000 -pix_fmt yuv420p -threads 1 \
    -c:v libx264 -profile:v high -x264-params "$X264_CLOSED" -flags:v +bitexact -fflags +bitexact "$S/h264-vfr.nut"

# Resolution change: three 25-frame parts (320x240, 160x120, 320x240), each its own x264 run
# (IDR + SPS/PPS at its start), as MPEG-TS; joined below by the concat demuxer (keeps pts/dts).
X264_PART="threads=1:crf=30:keyint=25:min-keyint=25:scenecut=0:bframes=2:b-adapt=0"
for part in "0 320:240" "25 160:120" "50 320:240"; do
    set -- $part
    "${FF[@]}" -threads 1 -f lavfi -i "$SRC" -map 0:v -map_metadata -1 \
        -vf "trim=start_frame=$1:end_frame=$(($1 + 25)),setpts=PTS-STARTPTS,scale=$2" -frames:v 25 -pix_fmt yuv420p \
        -threads 1 -c:v libx264 -profile:v high -x264-params "$X264_PART" -flags:v +bitexact -fflags +bitexact \
        -f mpegts "$S/part$1.ts"
done
printf "file 'part%s.ts'\n" 0 25 50 > "$S/parts.txt"

# Audio: AAC-LC and Opus, 48 kHz stereo, 4 s.
"${FF[@]}" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=4" -map_metadata -1 -ac 2 \
    -c:a aac -b:a 48k -flags:a +bitexact -fflags +bitexact "$S/aac.nut"
"${FF[@]}" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=4" -map_metadata -1 -ac 2 \
    -c:a libopus -b:a 32k -flags:a +bitexact -fflags +bitexact "$S/opus.nut"
"${FF[@]}" -f lavfi -i "sine=frequency=660:sample_rate=48000:duration=4" -map_metadata -1 -ac 2 \
    -c:a libopus -b:a 32k -flags:a +bitexact -fflags +bitexact "$S/opus-fra.nut"
cat > "$S/subs.srt" <<'EOF'
1
00:00:00,500 --> 00:00:01,500
First subtitle

2
00:00:02,000 --> 00:00:03,200
Second subtitle
EOF

# --- containers ---------------------------------------------------------------------------------
LANG_VA=(-metadata:s:v:0 language=und -metadata:s:a:0 language=eng)
MP4=(-video_track_timescale 12800)     # 1/12800: what ffmpeg picks when it encodes 25 fps itself
cd "$OUT"

# 1. MP4, moov first
"${FF[@]}" -i "$S/h264.nut" -i "$S/aac.nut" -map 0:v -map 1:a -c copy "${MUX[@]}" "${LANG_VA[@]}" "${MP4[@]}" \
    -movflags +faststart h264-aac.mp4
# 2. fragmented MP4 (moov without samples, then moof+mdat per GOP; tfhd default-base-is-moof),
#    and the same with a global sidx per track after the moov
"${FF[@]}" -i "$S/h264.nut" -i "$S/aac.nut" -map 0:v -map 1:a -c copy "${MUX[@]}" "${LANG_VA[@]}" "${MP4[@]}" \
    -movflags +frag_keyframe+empty_moov+default_base_moof h264-aac-frag.mp4
"${FF[@]}" -i "$S/h264.nut" -i "$S/aac.nut" -map 0:v -map 1:a -c copy "${MUX[@]}" "${LANG_VA[@]}" "${MP4[@]}" \
    -movflags +frag_keyframe+empty_moov+default_base_moof+global_sidx h264-aac-frag-sidx.mp4
# 3. Matroska: HEVC, AAC (eng), Opus (fra), SRT subtitles (eng)
"${FF[@]}" -i "$S/hevc.nut" -i "$S/aac.nut" -i "$S/opus-fra.nut" -i "$S/subs.srt" -map 0:v -map 1:a -map 2:a -map 3:s \
    -c:v copy -c:a copy -c:s srt "${MUX[@]}" "${LANG_VA[@]}" -metadata:s:a:1 language=fra -metadata:s:s:0 language=eng \
    hevc-aac.mkv
# 4, 5. WebM
"${FF[@]}" -i "$S/vp9.nut" -i "$S/opus.nut" -map 0:v -map 1:a -c copy "${MUX[@]}" "${LANG_VA[@]}" vp9-opus.webm
"${FF[@]}" -i "$S/av1.nut" -i "$S/opus.nut" -map 0:v -map 1:a -c copy "${MUX[@]}" "${LANG_VA[@]}" av1-opus.webm
# 6, 7. MPEG-TS (188-byte packets) and M2TS (192: 4-byte arrival timestamp + TS packet). The TS
#    muxer writes AAC as ADTS and puts the extradata's parameter sets before each IDR / IRAP.
"${FF[@]}" -i "$S/h264.nut" -i "$S/aac.nut" -map 0:v -map 1:a -c copy "${MUX[@]}" "${LANG_VA[@]}" -f mpegts h264-aac.ts
"${FF[@]}" -i "$S/hevc.nut" -i "$S/aac.nut" -map 0:v -map 1:a -c copy "${MUX[@]}" "${LANG_VA[@]}" \
    -mpegts_m2ts_mode 1 -f mpegts hevc-aac.m2ts
# 8. 33-bit PTS wrap: the TS muxer starts the first dts 1.4 s (its mux delay) after the offset, so
#    with offset 95440.24 s the first (raw) pts is 8589747600 = 2^33 - 186992 and display frame 52
#    has raw pts 208: pts wraps between display frames 51 and 52, in the middle of the third GOP;
#    dts wraps between decode-order packets 53 and 54.
WRAP_OFFSET=95440.24
"${FF[@]}" -i "$S/h264.nut" -i "$S/aac.nut" -map 0:v -map 1:a -c copy "${MUX[@]}" "${LANG_VA[@]}" \
    -output_ts_offset "$WRAP_OFFSET" -f mpegts h264-wrap.ts
# 8b. few reference frames (see X264_FEW)
"${FF[@]}" -i "$S/h264-ref1.nut" -map 0:v -c copy "${MUX[@]}" -metadata:s:v:0 language=und "${MP4[@]}" \
    -movflags +faststart h264-ref1.mp4
"${FF[@]}" -i "$S/h264-ref2.nut" -map 0:v -c copy "${MUX[@]}" -metadata:s:v:0 language=und h264-ref2.mkv
"${FF[@]}" -i "$S/hevc-ref1.nut" -map 0:v -c copy "${MUX[@]}" -metadata:s:v:0 language=und "${MP4[@]}" \
    -tag:v hvc1 -movflags +faststart hevc-ref1.mp4
# 9. variable frame rate, B-frames
"${FF[@]}" -i "$S/h264-vfr.nut" -map 0:v -c copy "${MUX[@]}" -metadata:s:v:0 language=und -movflags +faststart h264-vfr.mp4
"${FF[@]}" -i "$S/h264-vfr.nut" -map 0:v -c copy "${MUX[@]}" -metadata:s:v:0 language=und h264-vfr.mkv
# 10. edit list that skips pre-roll: stream copy from 1.28 s (display frame 32) starts at the key
#     frame before it (frame 25, 1.0 s); the elst media_time hides the 7 frames before frame 32.
EDIT_SS=1.28
"${FF[@]}" -ss "$EDIT_SS" -i h264-aac.mp4 -map 0 -c copy "${MUX[@]}" "${LANG_VA[@]}" "${MP4[@]}" -movflags +faststart h264-editlist.mp4
# 11. HEVC open GOP (IDR, then CRA every 25 frames, each followed by RASL pictures), hvc1
"${FF[@]}" -i "$S/hevc-open.nut" -i "$S/aac.nut" -map 0:v -map 1:a -c copy "${MUX[@]}" "${LANG_VA[@]}" "${MP4[@]}" \
    -tag:v hvc1 -movflags +faststart hevc-opengop.mp4
# 12. H.264 open GOP (IDR, then non-IDR I-pictures with recovery-point SEI every 25 frames)
"${FF[@]}" -i "$S/h264-open.nut" -i "$S/aac.nut" -map 0:v -map 1:a -c copy "${MUX[@]}" "${LANG_VA[@]}" h264-opengop.mkv
# 13. display matrix rotation (ffmpeg 5.1: the "rotate" tag becomes the tkhd matrix)
"${FF[@]}" -i h264-aac.mp4 -map 0 -c copy "${MUX[@]}" "${LANG_VA[@]}" "${MP4[@]}" -metadata:s:v:0 rotate=90 \
    -movflags +faststart h264-rotate90.mp4
# 13b. the same turn in Matroska: a flat Projection whose ProjectionPoseRoll is 90 (ffmpeg reads it
#      as the display matrix of 13); mkvmerge, as ffmpeg 5.1's Matroska muxer writes no Projection
#      for a display matrix. --deterministic: byte-identical runs.
mkvmerge -q --deterministic 1 -o h264-rotate90.mkv --projection-type 0:0 --projection-pose-roll 0:90 h264-rotate90.mp4
# 14a. resolution change 320x240 -> 160x120 -> 320x240 mid-stream (new SPS at each change)
"${FF[@]}" -f concat -safe 0 -i "$S/parts.txt" -map 0:v -c copy "${MUX[@]}" -f mpegts h264-reschange.ts

# 14b. TS that starts at a non-IDR I-picture (recovery point SEI): find the second I-picture of the
#      open-GOP Annex-B stream (decode order), then drop every packet before it (noise bitstream
#      filter, so the pts/dts of the rest are kept) and the audio before its pts.
NOIDR_AT=$(python3 - "$S/h264-open.h264" <<'EOF'
import sys
d = open(sys.argv[1], "rb").read()
starts = []                      # NAL payload start offsets
i = d.find(b"\0\0\1")
while i >= 0:
    starts.append(i + 3)
    i = d.find(b"\0\0\1", i + 3)
nals = [d[s:(starts[k + 1] - 3 if k + 1 < len(starts) else len(d))].rstrip(b"\0") for k, s in enumerate(starts)]

def ue(bits, pos):
    z = 0
    while bits[pos] == "0":
        z += 1; pos += 1
    v = int(bits[pos:pos + z + 1], 2) - 1
    return v, pos + z + 1

aus, cur = [], None              # access units: (nal types, first slice type, sei payload types)
for n in nals:
    t = n[0] & 0x1f
    if t in (1, 5):
        rbsp = n[1:8].replace(b"\0\0\3", b"\0\0")
        bits = "".join(f"{b:08b}" for b in rbsp)
        first_mb, p = ue(bits, 0)
        st, _ = ue(bits, p)
        if cur is None or first_mb == 0 and cur["slice"] is not None:
            cur = {"types": [], "slice": None, "sei": []}; aus.append(cur)
        if cur["slice"] is None:
            cur["slice"] = st % 5
        cur["types"].append(t)
    else:
        if cur is None or cur["slice"] is not None:   # SPS/PPS/SEI/AUD open a new access unit
            cur = {"types": [], "slice": None, "sei": []}; aus.append(cur)
        cur["types"].append(t)
        if t == 6:
            cur["sei"].append(n[1])  # first payload type (single-byte types only)
intra = [k for k, a in enumerate(aus) if a["slice"] == 2]
k = intra[1]
a = aus[k]
assert 5 not in a["types"] and 1 in a["types"], f"access unit {k} is not a non-IDR I-picture: {a}"
assert 6 in a["sei"], f"access unit {k} has no recovery point SEI: {a}"
assert 7 in a["types"] and 8 in a["types"], f"access unit {k} has no SPS/PPS: {a}"
print(len(aus), k)
EOF
)
read -r NOIDR_AUS NOIDR_K <<<"$NOIDR_AT"
NOIDR_PTS=$(ffprobe -v error -select_streams v:0 -show_entries packet=pts -of csv=p=0 "$S/h264-open.ts" | grep -v '^$' | cut -d, -f1 | sed -n "$((NOIDR_K + 1))p")
[[ $NOIDR_PTS =~ ^[0-9]+$ ]] || die "no pts for access unit $NOIDR_K of the open-GOP TS"
"${FF[@]}" -i "$S/h264-open.ts" -map 0:v -map 0:a -c copy "${MUX[@]}" "${LANG_VA[@]}" \
    -bsf:v "noise=drop='lt(n,$NOIDR_K)'" -bsf:a "noise=drop='lt(pts,$NOIDR_PTS)'" -f mpegts h264-noidr.ts
echo "make-media-fixtures: h264-noidr.ts starts at access unit $NOIDR_K of $NOIDR_AUS (non-IDR I-picture with SPS/PPS and recovery point SEI)"

# 15. AVI (ffmpeg's AVI muxer; no timestamps of its own): the MP4's H.264 (made Annex-B, parameter
#     sets before each IDR) and AAC by stream copy, where the copy's 1/50 s clock leaves an empty
#     chunk between frames; MPEG-4 Part 2 with 2 B-frames and MP3 (50 frames); MJPEG and 16-bit PCM
#     (10 frames, 8 kHz mono: small).
"${FF[@]}" -i h264-aac.mp4 -map 0 -c copy -bsf:v h264_mp4toannexb "${MUX[@]}" h264-aac.avi
"${FF[@]}" -threads 1 -f lavfi -i "$SRC" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=2" \
    -map 0:v -map 1:a -map_metadata -1 -frames:v 50 -pix_fmt yuv420p -threads 1 -c:v mpeg4 -bf 2 -g 25 -q:v 14 \
    -flags:v +bitexact -ac 2 -c:a libmp3lame -b:a 32k -flags:a +bitexact -fflags +bitexact mpeg4-mp3.avi
"${FF[@]}" -threads 1 -f lavfi -i "$SRC" -f lavfi -i "sine=frequency=440:sample_rate=8000:duration=0.4" \
    -map 0:v -map 1:a -map_metadata -1 -frames:v 10 -pix_fmt yuvj420p -threads 1 -c:v mjpeg -q:v 20 \
    -flags:v +bitexact -ac 1 -c:a pcm_s16le -fflags +bitexact mjpeg-pcm.avi
# DivX's packed bitstream (Xvid with 2 B-frames packs each B-VOP into its anchor's chunk and leaves
# an N-VOP in its slot; user data DivX503b1393p says so), 50 frames, and MP3. Not in GOOD: its
# facts' packets are the packed chunks, ours are unpacked (one VOP each, as mpeg4_unpack_bframes).
"${FF[@]}" -threads 1 -f lavfi -i "$SRC" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=2" \
    -map 0:v -map 1:a -map_metadata -1 -frames:v 50 -pix_fmt yuv420p -threads 1 -c:v libxvid -bf 2 -g 25 -q:v 8 \
    -vtag XVID -ac 2 -c:a libmp3lame -b:a 32k -flags:a +bitexact -fflags +bitexact mpeg4-packed.avi

GOOD=(h264-aac.mp4 h264-aac-frag.mp4 h264-aac-frag-sidx.mp4 hevc-aac.mkv vp9-opus.webm av1-opus.webm
      h264-aac.ts hevc-aac.m2ts h264-wrap.ts h264-vfr.mp4 h264-vfr.mkv h264-editlist.mp4 hevc-opengop.mp4
      h264-opengop.mkv h264-rotate90.mp4 h264-rotate90.mkv h264-reschange.ts h264-noidr.ts h264-ref1.mp4 h264-ref2.mkv
      hevc-ref1.mp4 h264-aac.avi mpeg4-mp3.avi mjpeg-pcm.avi)

# --- references and facts -----------------------------------------------------------------------
# The same decode as reference() in scripts/make-fixtures.sh, of the first video stream, plus
# -noautorotate: the frames as decoded; the display matrix of h264-rotate90.{mp4,mkv} stays metadata.
for f in "${GOOD[@]}"; do
    "${FF[@]}" -threads 1 -flags unaligned -noautorotate -i "$f" -map 0:v:0 -fps_mode passthrough -autoscale 0 \
        -vf scale=in_range=full:out_range=full,format=yuv420p -fflags +bitexact -f framemd5 "$f.framemd5"
    python3 "$ROOT/scripts/media-facts.py" "$f" "$f.framemd5" > "$f.json"
done
# The packed AVI's frames (the same decode: ffmpeg's decoder unpacks it itself).
"${FF[@]}" -threads 1 -flags unaligned -i mpeg4-packed.avi -map 0:v:0 -fps_mode passthrough -autoscale 0 \
    -vf scale=in_range=full:out_range=full,format=yuv420p -fflags +bitexact -f framemd5 mpeg4-packed.avi.framemd5
grep -q 'DivX503b1393p' mpeg4-packed.avi || die "mpeg4-packed.avi: the encoder did not mark its bitstream packed"

# The same packets in other containers decode to the same frames (hash column of the framemd5s).
hashes() { grep -v '^#' "$1.framemd5" | awk -F', *' '{ print $6 }' | sed -n "${2:-1},\$p"; }
same() { # FILE REFERENCE-FILE [FIRST-LINE-OF-REFERENCE]
    [[ $(hashes "$1") == "$(hashes "$2" "${3:-1}")" ]] || die "$1 does not decode to the frames of $2${3:+ from frame $(($3 - 1))}"
}
for f in h264-aac-frag.mp4 h264-aac-frag-sidx.mp4 h264-aac.avi h264-aac.ts h264-wrap.ts h264-rotate90.mp4 h264-rotate90.mkv; do same "$f" h264-aac.mp4; done
same hevc-aac.m2ts hevc-aac.mkv
same h264-vfr.mkv h264-vfr.mp4
same h264-editlist.mp4 h264-aac.mp4 33        # display frames 32-99
same h264-noidr.ts h264-opengop.mkv 26        # display frames 25-99 (the 4 leading B-frames are not output)

# --- damaged files (byte patches of the files above) ---------------------------------------------
python3 - <<'EOF'
import struct

def boxes(d, off, end, path=()):
    """(path, type, offset, size, header) of every ISO-BMFF box, depth first."""
    while off + 8 <= end:
        size, typ = struct.unpack(">I4s", d[off:off + 8]); hdr = 8
        if size == 1:
            size = struct.unpack(">Q", d[off + 8:off + 16])[0]; hdr = 16
        elif size == 0:
            size = end - off
        typ = typ.decode("latin-1")
        yield path, typ, off, size, hdr
        if typ in ("moov", "trak", "mdia", "minf", "stbl", "moof", "traf", "mvex", "edts"):
            yield from boxes(d, off + hdr, off + size, path + (typ,))
        off += size

def write(name, data):
    open(name, "wb").write(bytes(data))

# bad/truncated.mp4: h264-aac.mp4 (moov first) cut in the middle of its mdat payload
d = open("h264-aac.mp4", "rb").read()
mdat = [b for b in boxes(d, 0, len(d)) if b[1] == "mdat"][0]
cut = mdat[2] + mdat[4] + (mdat[3] - mdat[4]) // 2
write("bad/truncated.mp4", d[:cut])

# bad/absurd-stsz.mp4: the video track's stsz sample_count = 0x7fffffff (the table holds 100 entries)
d = bytearray(d)
stsz = [b for b in boxes(d, 0, len(d)) if b[1] == "stsz"][0]       # first trak = video
off = stsz[2] + stsz[4] + 8                                          # version/flags, sample_size, sample_count
assert struct.unpack(">I", d[off:off + 4])[0] == 100
d[off:off + 4] = struct.pack(">I", 0x7fffffff)
write("bad/absurd-stsz.mp4", d)

# bad/frag-outside.mp4: in h264-aac-frag.mp4, the video trun of the second moof gets a data_offset
# (relative to its moof: default-base-is-moof) that points 4096 bytes past the end of the file
d = bytearray(open("h264-aac-frag.mp4", "rb").read())
bs = list(boxes(d, 0, len(d)))
moofs = [b for b in bs if b[1] == "moof"]
moof = moofs[1]
trun = [b for b in bs if b[1] == "trun" and moof[2] < b[2] < moof[2] + moof[3]][0]   # first traf = video
flags = struct.unpack(">I", d[trun[2] + 8:trun[2] + 12])[0] & 0xffffff
assert flags & 1, "trun without data_offset"
off = trun[2] + 16                                                   # version/flags, sample_count, data_offset
d[off:off + 4] = struct.pack(">i", len(d) - moof[2] + 4096)
write("bad/frag-outside.mp4", d)

# bad/badsync.ts: h264-aac.ts with the 0x47 sync byte of 3 packets in the middle zeroed
d = bytearray(open("h264-aac.ts", "rb").read())
n = len(d) // 188
for k in (n // 2, n // 2 + 1, n // 2 + 5):
    assert d[k * 188] == 0x47
    d[k * 188] = 0x00
write("bad/badsync.ts", d)

# bad/truncated.avi: h264-aac.avi cut in the middle of its movi list (the idx1 after it is lost,
# so the chunks are found by walking their headers up to the cut)
d = open("h264-aac.avi", "rb").read()
movi = d.find(b"movi")
assert d[movi - 8:movi - 4] == b"LIST"
write("bad/truncated.avi", d[:movi + struct.unpack("<I", d[movi - 4:movi])[0] // 2])

# Matroska: EBML element walk
def vint(d, o):
    b = d[o]; n = 1
    while not b & (0x80 >> (n - 1)):
        n += 1
    v = b & ((0x80 >> (n - 1)) - 1)
    for i in range(1, n):
        v = (v << 8) | d[o + i]
    return v, n

def eid(d, o):
    b = d[o]; n = 1
    while not b & (0x80 >> (n - 1)):
        n += 1
    return int.from_bytes(d[o:o + n], "big"), n

def clusters(d):
    o = 0
    i, il = eid(d, o); s, sl = vint(d, o + il); o += il + sl + s          # EBML header
    i, il = eid(d, o); assert i == 0x18538067                             # Segment
    s, sl = vint(d, o + il); o += il + sl
    out = []
    while o < len(d):
        i, il = eid(d, o); s, sl = vint(d, o + il)
        if i == 0x1F43B675:
            out.append((o, il, sl, s))
        o += il + sl + s
    return out

# bad/truncated.mkv: hevc-aac.mkv cut in the middle of its second cluster (no Cues, no later clusters)
d = open("hevc-aac.mkv", "rb").read()
c = clusters(d)[1]
write("bad/truncated.mkv", d[:c[0] + c[1] + c[2] + c[3] // 2])

# bad/lying-size.mkv: h264-opengop.mkv with the second Cluster's size set to the largest value its
# size field can hold (2^(7*len)-2; all ones would mean "unknown size", which is legal)
d = bytearray(open("h264-opengop.mkv", "rb").read())
o, il, sl, s = clusters(d)[1]
huge = (1 << (7 * sl)) - 2
d[o + il:o + il + sl] = ((1 << (8 * sl - sl)) | huge).to_bytes(sl, "big")
assert vint(d, o + il) == (huge, sl)
write("bad/lying-size.mkv", d)
print(f"make-media-fixtures: bad/lying-size.mkv: cluster at {o}, size {s} -> {huge} ({sl}-byte size field)")
EOF

# What ffprobe and ffmpeg make of the damaged files (intact = the file each was patched from).
damaged() { python3 "$ROOT/scripts/media-facts.py" --damaged "bad/$1" "$2.framemd5" > "bad/$1.json"; }
damaged truncated.mp4 h264-aac.mp4
damaged absurd-stsz.mp4 h264-aac.mp4
damaged frag-outside.mp4 h264-aac-frag.mp4
damaged badsync.ts h264-aac.ts
damaged truncated.avi h264-aac.avi
damaged truncated.mkv hevc-aac.mkv
damaged lying-size.mkv h264-opengop.mkv

# --- install, checksum --------------------------------------------------------------------------
cd "$ROOT"
rm -rf "${TD:?}/media"
cp -r "$OUT" "$TD/media"
"$ROOT/scripts/make-fixtures.sh" --sums
echo "make-media-fixtures: done in $((SECONDS - START)) s; testdata/media/ holds $(find "$TD/media" -type f | wc -l) files, $(du -sb "$TD/media" | cut -f1) bytes"
