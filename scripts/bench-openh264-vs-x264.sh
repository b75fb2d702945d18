#!/usr/bin/env bash
# OpenH264 (video-hw's built-in engine) vs x264 (ffmpeg's libx264) encode speed on the same
# frames: real camera content (the shared corpus clip libvpl/cars_320x240.h264) scaled to
# 640x360 and 1280x720, looped to FRAMES frames, raw yuv420p.
#
#   x264:     ffmpeg -c:v libx264 -preset ultrafast|medium, -threads 1 and default threads
#   OpenH264: cargo bench --bench openh264_encode (default EncoderConfig: CBR 4 Mb/s, medium
#             preset), default threads and VIDEO_HW_OPENH264_THREADS=1
#
# Prints a markdown table of frames per second and OpenH264/x264 ratios, also written to
# bench/results/openh264-vs-x264-DATE-COMMIT.md (…-DATE-COMMIT-$TAG.md with TAG set). OpenH264
# uses its x86 assembly when nasm is installed; VIDEO_HW_OPENH264_NO_ASM=1 measures the C
# code paths (the benchmark is rebuilt either way). Speed only: the
# encoders run at their own default quality settings (x264 CRF 23, OpenH264 CBR 4 Mb/s).
# Needs ffmpeg with libx264 and the shared corpus beside the checkout (or CORPUS=...).
set -euo pipefail
cd "$(dirname "$0")/.."

CORPUS=${CORPUS:-../shared/testdata/corpus}
CLIP="$CORPUS/libvpl/cars_320x240.h264"
FRAMES=${FRAMES:-150}
SIZES=("640x360" "1280x720")
[[ -f "$CLIP" ]] || { echo "no input clip at $CLIP (set CORPUS=...)" >&2; exit 2; }
command -v ffmpeg >/dev/null || { echo "ffmpeg not found" >&2; exit 2; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

for s in "${SIZES[@]}"; do
  ffmpeg -hide_banner -loglevel error -y -i "$CLIP" -vf "loop=loop=-1:size=300,scale=${s/x/:}:flags=bicubic" \
    -frames:v "$FRAMES" -pix_fmt yuv420p -f rawvideo "$WORK/in_$s.yuv"
done

# x264: wall-clock fps from ffmpeg's -benchmark rtime (encode of raw input to a null muxer).
x264_fps() { # size preset threads
  local args=()
  [[ "$3" != default ]] && args=(-threads "$3")
  local rtime
  rtime=$(ffmpeg -hide_banner -nostats -benchmark -f rawvideo -pix_fmt yuv420p -s "$1" -r 30 -i "$WORK/in_$1.yuv" \
    -c:v libx264 -preset "$2" "${args[@]}" -f null - 2>&1 | sed -n 's/.*rtime=\([0-9.]*\)s.*/\1/p' | tail -1)
  awk -v f="$FRAMES" -v t="$rtime" 'BEGIN { printf "%.1f", f / t }'
}

# OpenH264: criterion's throughput estimate (middle value of "thrpt: [lo mid hi] elem/s").
openh264_fps() { # threads-env-value (empty = default)
  local out
  out=$(VIDEO_HW_BENCH_INPUTS="$WORK" VIDEO_HW_OPENH264_THREADS="$1" \
    cargo bench -q -p video-hw --bench openh264_encode -- --noplot 2>&1)
  for s in "${SIZES[@]}"; do
    echo "$out" | awk -v s="$s" '
      $0 ~ "openh264_encode/" s { grab = 1 }
      grab && /thrpt:/ { v = $(NF-3); u = $(NF-2); if (u ~ /^K/) v *= 1000; print s, v; grab = 0 }'
  done
}

echo "building the benchmark…" >&2
cargo bench -q -p video-hw --bench openh264_encode --no-run >/dev/null 2>&1

declare -A OH
while read -r s v; do OH["$s,default"]=$v; done < <(openh264_fps "")
while read -r s v; do OH["$s,1"]=$v; done < <(openh264_fps 1)

cpus=$(nproc)
mkdir -p bench/results
{
echo "Encode speed, frames/s ($FRAMES frames of cars_320x240 scaled; $cpus CPU cores; $(ffmpeg -version | head -1 | cut -d' ' -f1-3))"
echo
echo "| size | threads | OpenH264 (medium, CBR 4 Mb/s) | x264 ultrafast | x264 medium | OpenH264 / x264 ultrafast | OpenH264 / x264 medium |"
echo "|---|---|---|---|---|---|---|"
for s in "${SIZES[@]}"; do
  for t in 1 default; do
    uf=$(x264_fps "$s" ultrafast "$t")
    md=$(x264_fps "$s" medium "$t")
    oh=${OH["$s,$t"]:-nan}
    awk -v s="$s" -v t="$t" -v oh="$oh" -v uf="$uf" -v md="$md" 'BEGIN {
      printf "| %s | %s | %.1f | %.1f | %.1f | %.2f | %.2f |\n", s, t, oh, uf, md, oh / uf, oh / md }'
  done
done
echo
if [[ -n ${VIDEO_HW_OPENH264_NO_ASM:-} ]] || ! command -v nasm >/dev/null; then
  echo "OpenH264 built without its assembly (C code paths); x264 with its assembly."
else
  echo "OpenH264 built with its x86 assembly (nasm); x264 with its assembly."
fi
echo "Load on the machine at the time affects both; rerun for stable numbers."
} | tee "bench/results/openh264-vs-x264-$(date +%Y%m%d)-$(git rev-parse --short HEAD)${TAG:+-$TAG}.md"
