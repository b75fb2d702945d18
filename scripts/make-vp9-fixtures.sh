#!/usr/bin/env bash
# Regenerate the 10-bit VP9 fixtures under testdata/vp9/ (see testdata/README.md, "VP9 fixtures"):
# VP9 Profile 2 (10-bit 4:2:0) from libvpx, in IVF and in WebM (the same packets), each with
# reference decodes by libavcodec's vp9 beside it (FILE.yuv.framemd5 at yuv420p10le and
# FILE.p010.framemd5), made like make-fixtures.sh's reference_ivf().
#
#   scripts/make-vp9-fixtures.sh           regenerate these files, then update their lines in SHA256SUMS
#   scripts/make-vp9-fixtures.sh --check   verify testdata/ against testdata/SHA256SUMS (no regeneration)
#
# Needs ffmpeg + ffprobe (5.1 or newer) with libvpx (Debian/Ubuntu: apt-get install ffmpeg) and
# python3. Deterministic: libvpx on one thread without row-mt, -bitexact muxing, no metadata.
# Touches only the files it makes and their lines in testdata/SHA256SUMS.
#
# Real-content source: testdata/real/cars-320x240.h264 (the libvpl clip cars_320x240.h264, MIT,
# Intel), its first 12 frames decoded by libavcodec.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TD=$ROOT/testdata
CARS_MD5=6a11bce09792211bef95d9aca122bdb5   # libvpl examples/content/cars_320x240.h264 @ d77f9195

die() { echo "make-vp9-fixtures: $*" >&2; exit 1; }

case "${1:-}" in
    --check) exec "$ROOT/scripts/make-fixtures.sh" --check ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    "") ;;
    *) die "unknown argument '$1' (try --help)" ;;
esac

command -v ffmpeg >/dev/null || die "ffmpeg not found; install it with: apt-get install ffmpeg"
grep -q " libvpx-vp9 " <<<"$(ffmpeg -hide_banner -encoders 2>/dev/null)" || die "this ffmpeg has no libvpx-vp9 encoder"
CARS=$TD/real/cars-320x240.h264
[[ $(md5sum < "$CARS" | cut -d' ' -f1) == "$CARS_MD5" ]] || die "$CARS is not the expected libvpl cars_320x240.h264"

FF=(ffmpeg -nostdin -hide_banner -loglevel error -y)
OUT=$TD/vp9
IVF=$OUT/libvpx-10bit-cars-320x240.ivf
WEBM=$OUT/libvpx-10bit-cars-320x240.webm
# Profile 2: 10-bit 4:2:0, a key frame every 8 frames (one-pass libvpx makes no alt-ref
# frames here: one frame per packet).
"${FF[@]}" -threads 1 -i "$CARS" -frames:v 12 -map 0:v:0 -an -map_metadata -1 -pix_fmt yuv420p10le \
    -c:v libvpx-vp9 -profile:v 2 -threads 1 -row-mt 0 -crf 36 -b:v 0 -deadline good -cpu-used 4 -g 8 \
    -auto-alt-ref 1 -lag-in-frames 8 -flags:v +bitexact -fflags +bitexact -f ivf "$IVF"
# The same packets in WebM.
"${FF[@]}" -i "$IVF" -map 0:v:0 -c copy -map_metadata -1 -flags:v +bitexact -fflags +bitexact -f webm "$WEBM"

reference() { # FILE TAG PIXFMT
    "${FF[@]}" -threads 1 -flags unaligned -c:v vp9 -i "$1" -map 0:v:0 -fps_mode passthrough -autoscale 0 \
        -vf "scale=in_range=full:out_range=full,format=$3" -fflags +bitexact -f framemd5 "$1.$2.framemd5"
}
for f in "$IVF" "$WEBM"; do
    reference "$f" yuv yuv420p10le
    reference "$f" p010 p010le
    [[ $(ffprobe -v error -i "$f" -show_entries stream=profile,pix_fmt -of csv=p=0) == "Profile 2,yuv420p10le" ]] \
        || die "$f is not VP9 Profile 2, 10-bit"
    [[ $(grep -vc '^#' "$f.yuv.framemd5") == 12 ]] || die "$f: the reference has no 12 frames"
done
cmp <(grep -v '^#' "$IVF.yuv.framemd5" | cut -d, -f6) <(grep -v '^#' "$WEBM.yuv.framemd5" | cut -d, -f6) \
    || die "the IVF and WebM files decode differently"

python3 - "$TD" vp9/libvpx-10bit-cars-320x240.ivf vp9/libvpx-10bit-cars-320x240.ivf.yuv.framemd5 \
    vp9/libvpx-10bit-cars-320x240.ivf.p010.framemd5 vp9/libvpx-10bit-cars-320x240.webm \
    vp9/libvpx-10bit-cars-320x240.webm.yuv.framemd5 vp9/libvpx-10bit-cars-320x240.webm.p010.framemd5 <<'PY'
import hashlib, os, sys
td, *mine = sys.argv[1:]
sums = os.path.join(td, 'SHA256SUMS')
keep = [l for l in open(sums).read().splitlines() if l.split(None, 1)[1] not in mine]
new = [hashlib.sha256(open(os.path.join(td, p), 'rb').read()).hexdigest() + '  ' + p for p in mine]
open(sums, 'w').write('\n'.join(keep + new) + '\n')
PY
echo "make-vp9-fixtures: wrote $IVF, $WEBM and their references"
