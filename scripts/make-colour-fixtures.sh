#!/usr/bin/env bash
# Make the colour-conversion fixtures under testdata/colour/ (see testdata/README.md, "Colour
# fixtures"): a few frames of real content (testdata/real/cars-320x240.y4m) or of ffmpeg's testsrc2
# in each chroma layout and depth the host RGB conversion reads, as small H.264 MP4s, then rewrite testdata/SHA256SUMS.
#
#   scripts/make-colour-fixtures.sh
#
# They serve tests/colour.rs (every host path gives the same RGB) and
# scripts/compare_rgb_torchcodec.py (RGB against torchcodec). Needs ffmpeg with libx264 (Debian:
# apt-get install ffmpeg). Deterministic: one thread, -bitexact muxing, no metadata.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/testdata/colour
mkdir -p "$OUT"
SRC=$ROOT/testdata/real/cars-320x240.y4m
FF=(ffmpeg -nostdin -hide_banner -nostats -loglevel error -y -threads 1 -filter_threads 1)
MUX=(-map_metadata -1 -fflags +bitexact -movflags +faststart)
X264=(-c:v libx264 -threads 1 -preset medium -crf 16 -g 3 -bf 1)

# name, input, picture filter, pixel format (x264's profile follows it).
make() {
    local name=$1 filter=$3 pix=$4
    local -n input=$2
    "${FF[@]}" "${input[@]}" -frames:v 3 -vf "$filter" -pix_fmt "$pix" "${X264[@]}" "${MUX[@]}" "$OUT/$name.mp4"
}
CARS=(-i "$SRC")
# testsrc2 has sharp colour edges: what 4:4:4 keeps and a conversion through 4:2:0 loses.
PATTERN=(-f lavfi -i testsrc2=size=96x64:rate=25)
make yuv420p-cars-96x64 CARS "crop=96:64:112:88" yuv420p
make yuv420p10-cars-96x64 CARS "crop=96:64:112:88" yuv420p10le
make yuv422p-cars-96x64 CARS "crop=96:64:112:88" yuv422p
make yuv444p-testsrc2-96x64 PATTERN "format=yuv444p" yuv444p
# 4:4:4 has no chroma subsampling, so H.264 takes an odd size (4:2:0 and 4:2:2 need even ones;
# the odd-sized 4:2:0 stream is testdata/av1/libaom-odd-317x179-cars.ivf).
make yuv444p-odd-testsrc2-65x49 PATTERN "format=yuv444p,crop=65:49:0:0" yuv444p
# HD streams (720 lines, where players' size rule would pick BT.709): without a colour
# description (x264 writes none unless asked), and the same pattern tagged BT.709. Untagged,
# ffmpeg and torchcodec convert with BT.601, as video_hw does by default (docs/transforms.md).
HD_CARS="scale=1280:720:flags=bicubic"
make yuv420p-untagged-cars-1280x720 CARS "$HD_CARS" yuv420p
HD_PATTERN=(-f lavfi -i testsrc2=size=1280x720:rate=25)
make yuv420p-untagged-testsrc2-1280x720 HD_PATTERN "format=yuv420p" yuv420p
TAGGED=(-colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range tv)
"${FF[@]}" "${HD_PATTERN[@]}" -frames:v 3 -vf format=yuv420p -pix_fmt yuv420p "${X264[@]}" "${TAGGED[@]}" \
    "${MUX[@]}" "$OUT/yuv420p-bt709-testsrc2-1280x720.mp4"

"$ROOT/scripts/make-fixtures.sh" --sums
ls -l "$OUT"
