#!/usr/bin/env bash
# Regenerate the fixtures of the codecs only the FFmpeg engine decodes, under testdata/codecs/
# (see testdata/README.md, "Codec fixtures"): MPEG-2 video in MPEG-TS and Matroska, MPEG-4 Part 2
# in MP4, Matroska and MPEG-TS, VP8 in WebM, MJPEG in Matroska and MOV, ProRes in MOV, FFV1 in
# Matroska and MOV, HuffYUV (4:2:2, given as yuv420p through swscale) in Matroska; each FILE
# with FILE.yuv.framemd5, ffmpeg's decode of it (yuv420p; ProRes, 10-bit 4:2:2, at yuv420p10le
# through swscale's bicubic, as the FFmpeg engine converts it).
#
#   scripts/make-codec-fixtures.sh           regenerate these files, then rewrite testdata/SHA256SUMS
#   scripts/make-codec-fixtures.sh --check   verify testdata/ against testdata/SHA256SUMS (no regeneration)
#
# Needs ffmpeg + ffprobe (5.1 or newer) with libvpx (Debian/Ubuntu: apt-get install ffmpeg).
# Deterministic: one thread, -bitexact encoders and muxers, no metadata. Touches only
# testdata/codecs/ and testdata/SHA256SUMS (rewritten by scripts/make-fixtures.sh --sums).
# No AVI: the crate has no AVI demuxer.
#
# Source: testdata/real/cars-320x240.h264 (the libvpl clip cars_320x240.h264, MIT, Intel), its 30
# frames decoded by libavcodec and scaled to 160x120.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TD=$ROOT/testdata
CARS_MD5=6a11bce09792211bef95d9aca122bdb5   # libvpl examples/content/cars_320x240.h264 @ d77f9195

die() { echo "make-codec-fixtures: $*" >&2; exit 1; }

case "${1:-}" in
    --check) exec "$ROOT/scripts/make-fixtures.sh" --check ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    "") ;;
    *) die "unknown argument '$1' (try --help)" ;;
esac

command -v ffmpeg >/dev/null || die "ffmpeg not found; install it with: apt-get install ffmpeg"
for enc in mpeg2video mpeg4 libvpx mjpeg prores_ks ffv1 huffyuv; do
    grep -q " $enc " <<<"$(ffmpeg -hide_banner -encoders 2>/dev/null)" || die "this ffmpeg has no $enc encoder"
done
CARS=$TD/real/cars-320x240.h264
[[ $(md5sum < "$CARS" | cut -d' ' -f1) == "$CARS_MD5" ]] || die "$CARS is not the expected libvpl cars_320x240.h264"

FF=(ffmpeg -nostdin -hide_banner -loglevel error -y)
OUT=$TD/codecs
rm -rf "$OUT"
mkdir -p "$OUT"
# Every encode: the 30 source frames at 160x120, 25 fps, one thread, bit-exact, no metadata.
IN=(-threads 1 -r 25 -i "$CARS" -frames:v 30 -map 0:v:0 -an -map_metadata -1 -vf scale=160:120 -threads 1)
BX=(-flags:v +bitexact -fflags +bitexact)

# MPEG-2: B-frames (2 between references), closed GOPs (-g 12 gives an I picture, with the
# sequence header repeated, every 10 frames), in MPEG-TS (stream type 0x02) and the same packets in Matroska.
"${FF[@]}" "${IN[@]}" -c:v mpeg2video -pix_fmt yuv420p -q:v 6 -bf 2 -g 12 -sc_threshold 1000000000 -flags:v +cgop+bitexact \
    -fflags +bitexact -f mpegts "$OUT/mpeg2-cars-160x120.ts"
"${FF[@]}" -i "$OUT/mpeg2-cars-160x120.ts" -map 0:v:0 -c copy -map_metadata -1 "${BX[@]}" \
    -f matroska "$OUT/mpeg2-cars-160x120.mkv"
# The same with open GOPs (the B-pictures before each later I picture refer to the GOP before):
# their random access starts at the I picture before.
"${FF[@]}" "${IN[@]}" -c:v mpeg2video -pix_fmt yuv420p -q:v 6 -bf 2 -g 12 -sc_threshold 1000000000 \
    "${BX[@]}" -f mpegts "$OUT/mpeg2-opengop-cars-160x120.ts"
# MPEG-4 Part 2 (Simple/ASP): B-frames, closed GOPs of 12. In MP4 and Matroska the VOL headers
# are out of band (esds DecoderSpecificInfo, CodecPrivate); in MPEG-TS (0x10) in band.
"${FF[@]}" "${IN[@]}" -c:v mpeg4 -pix_fmt yuv420p -q:v 6 -bf 2 -g 12 -sc_threshold 1000000000 -flags:v +cgop+bitexact+global_header \
    -fflags +bitexact -f mp4 "$OUT/mpeg4-cars-160x120.mp4"
"${FF[@]}" -i "$OUT/mpeg4-cars-160x120.mp4" -map 0:v:0 -c copy -map_metadata -1 "${BX[@]}" \
    -f matroska "$OUT/mpeg4-cars-160x120.mkv"
"${FF[@]}" "${IN[@]}" -c:v mpeg4 -pix_fmt yuv420p -q:v 6 -bf 2 -g 12 -sc_threshold 1000000000 -flags:v +cgop+bitexact \
    -fflags +bitexact -f mpegts "$OUT/mpeg4-cars-160x120.ts"
# VP8: a key frame every 12 frames, no alt-ref frames (every packet shows a picture).
"${FF[@]}" "${IN[@]}" -c:v libvpx -pix_fmt yuv420p -crf 20 -b:v 200k -g 12 -auto-alt-ref 0 -deadline good \
    -cpu-used 4 "${BX[@]}" -f webm "$OUT/vp8-cars-160x120.webm"
# MJPEG (full-range 4:2:0, every frame a key frame): Matroska (V_MJPEG) and MOV ('jpeg').
"${FF[@]}" "${IN[@]}" -c:v mjpeg -pix_fmt yuvj420p -q:v 16 "${BX[@]}" -f matroska "$OUT/mjpeg-cars-160x120.mkv"
"${FF[@]}" -i "$OUT/mjpeg-cars-160x120.mkv" -map 0:v:0 -c copy -map_metadata -1 "${BX[@]}" \
    -f mov "$OUT/mjpeg-cars-160x120.mov"
# ProRes 422 Proxy (10-bit 4:2:2), 12 frames (every frame a key frame).
"${FF[@]}" "${IN[@]}" -frames:v 12 -c:v prores_ks -profile:v 0 -pix_fmt yuv422p10le "${BX[@]}" \
    -f mov "$OUT/prores-cars-160x120.mov"

# Two of the codecs known by FFmpeg's name (Codec::Other), lossless and small (6 frames at
# 96x72): FFV1 version 3 in Matroska (V_MS/VFW/FOURCC, its configuration after the
# BITMAPINFOHEADER) and the same packets in MOV (configuration in 'glbl'); HuffYUV in Matroska
# (V_MS/VFW/FOURCC). Both need the container's picture size before their first packet.
OTHER_IN=(-threads 1 -r 25 -i "$CARS" -frames:v 6 -map 0:v:0 -an -map_metadata -1 -vf scale=96:72 -threads 1)
"${FF[@]}" "${OTHER_IN[@]}" -c:v ffv1 -level 3 -slicecrc 1 -pix_fmt yuv420p "${BX[@]}" -f matroska \
    "$OUT/ffv1-cars-96x72.mkv"
"${FF[@]}" -i "$OUT/ffv1-cars-96x72.mkv" -map 0:v:0 -c copy -map_metadata -1 "${BX[@]}" -f mov "$OUT/ffv1-cars-96x72.mov"
"${FF[@]}" "${OTHER_IN[@]}" -c:v huffyuv -pix_fmt yuv422p "${BX[@]}" -f matroska "$OUT/huffyuv-cars-96x72.mkv"

reference() { # FILE PIXFMT
    "${FF[@]}" -threads 1 -flags unaligned -i "$1" -map 0:v:0 -fps_mode passthrough -autoscale 0 \
        -vf "scale=in_range=full:out_range=full,format=$2" -fflags +bitexact -f framemd5 "$1.yuv.framemd5"
}
for f in "$OUT"/*.ts "$OUT"/*.mkv "$OUT"/*.mp4 "$OUT"/*.webm "$OUT"/*.mov; do
    case "$f" in *prores*) reference "$f" yuv420p10le ;; *) reference "$f" yuv420p ;; esac
    want=30; [[ $f == *prores* ]] && want=12; [[ $f == *96x72* ]] && want=6
    [[ $(grep -vc '^#' "$f.yuv.framemd5") == "$want" ]] || die "$f: the reference has no $want frames"
done
# The same packets decode to the same pictures in every container.
same() { cmp <(grep -v '^#' "$OUT/$1.yuv.framemd5" | cut -d, -f6) <(grep -v '^#' "$OUT/$2.yuv.framemd5" | cut -d, -f6) \
    || die "$1 and $2 decode differently"; }
same mpeg2-cars-160x120.ts mpeg2-cars-160x120.mkv
same mpeg4-cars-160x120.mp4 mpeg4-cars-160x120.mkv
same mjpeg-cars-160x120.mkv mjpeg-cars-160x120.mov
same ffv1-cars-96x72.mkv ffv1-cars-96x72.mov

"$ROOT/scripts/make-fixtures.sh" --sums
du -sh "$OUT"
echo "make-codec-fixtures: wrote $(find "$OUT" -type f | wc -l) files under $OUT"
