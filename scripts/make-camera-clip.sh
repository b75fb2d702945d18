#!/usr/bin/env bash
# Make the real camera footage of the rate-control tests (crates/video-hw/tests/rate_control.rs),
# each with its reference decode beside it (.yuv.framemd5), then update their lines in
# testdata/SHA256SUMS:
#   testdata/real/camera-640x360.h264      3 seconds (90 frames, 29.97 fps), 640x360;
#   testdata/real/camera-10s-320x180.h264  the whole 10 seconds (303 frames), 320x180: for rav1e,
#       whose rate control (a reservoir, no VBV) needs a clip several times its 1.5-second
#       reservoir to be held to an average.
#
#   scripts/make-camera-clip.sh
#
# Source: the shared corpus's video-hw/sample-10s.h265 (1920x1080 HEVC, 303 frames; from
# github.com/Sanzentyo/video-hw sample-videos/ @ a9a08518f052, MIT OR Apache-2.0), read from
# ${VIDEO_HW_CORPUS:-../shared/testdata/corpus} (relative to the repository root). Its first 90
# frames are scaled to 640x360 (bicubic) and coded with x264 (preset slow, CRF 22, one thread,
# -bitexact, SEI removed): detailed enough that a low bitrate is a real test, small enough to keep
# (about 650 KB). Needs ffmpeg with libx264 and an HEVC decoder (Debian: apt-get install ffmpeg).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CORPUS=${VIDEO_HW_CORPUS:-$ROOT/../shared/testdata/corpus}
SRC=$CORPUS/video-hw/sample-10s.h265
SRC_MD5=7596375852b2888f82b3d28a0bfdbac0
[[ -f $SRC ]] || { echo "make-camera-clip: no $SRC (set VIDEO_HW_CORPUS)" >&2; exit 2; }
[[ $(md5sum < "$SRC" | cut -d' ' -f1) == "$SRC_MD5" ]] || { echo "make-camera-clip: $SRC is not the expected file" >&2; exit 2; }
FF=(ffmpeg -nostdin -hide_banner -loglevel error -y)
# make NAME FRAMES SIZE: the first FRAMES frames scaled to SIZE (W:H), and the reference.
make() {
  local out=$ROOT/testdata/real/$1
  "${FF[@]}" -threads 1 -i "$SRC" -frames:v "$2" -vf "scale=$3:flags=bicubic" -pix_fmt yuv420p \
      -c:v libx264 -preset slow -crf 22 -x264-params threads=1 -bsf:v filter_units=remove_types=6 \
      -map_metadata -1 -fflags +bitexact -flags +bitexact -f h264 "$out"
  "${FF[@]}" -threads 1 -f h264 -i "$out" -map 0:v:0 -fps_mode passthrough -pix_fmt yuv420p -fflags +bitexact \
      -f framemd5 "$out.yuv.framemd5"
  [[ $(grep -vc '^#' "$out.yuv.framemd5") == "$2" ]] || { echo "make-camera-clip: $1 has no $2 frames" >&2; exit 1; }
  echo "make-camera-clip: wrote $out ($(stat -c %s "$out") bytes) and its reference"
}
make camera-640x360.h264 90 640:360
make camera-10s-320x180.h264 303 320:180
python3 - "$ROOT/testdata" real/camera-640x360.h264 real/camera-640x360.h264.yuv.framemd5 \
    real/camera-10s-320x180.h264 real/camera-10s-320x180.h264.yuv.framemd5 <<'PY'
import hashlib, os, sys
td, *mine = sys.argv[1:]
sums = os.path.join(td, 'SHA256SUMS')
keep = [l for l in open(sums).read().splitlines() if l.split(None, 1)[1] not in mine]
new = [hashlib.sha256(open(os.path.join(td, p), 'rb').read()).hexdigest() + '  ' + p for p in mine]
open(sums, 'w').write('\n'.join(keep + new) + '\n')
PY
