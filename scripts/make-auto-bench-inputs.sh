#!/usr/bin/env bash
# The inputs of scripts/bench_auto.py (the device="auto" grid), made with this machine's ffmpeg
# (libx264, libx265, SVT-AV1) from its testsrc2 pattern; the GPU machine has no ffmpeg, so they
# are made here and carried there. Small on purpose (under 25 MB in all): low bit rates (the
# pictures are blocky; what is measured is decoding them), and the 200 clips of a batch are
# 10 distinct files at 720p, 5 at 2160p, each listed over and over by the benchmark.
# For each of 720p and 2160p and each of h264, hevc, av1 (OUT/<res>-<codec>/):
#   short.mp4      5 s at 30 fps (150 frames), a key frame every second
#   clips/cNN.mp4  10 (720p) or 5 (2160p) clips of 2 s at 15 fps (30 frames), a key frame
#                  every second, each a different stretch of the pattern
#   long.mp4       10 minutes at 2 fps (1,200 frames), a key frame every 4 s: 30 s encoded once,
#                  looped 20 times by stream copy
# usage: scripts/make-auto-bench-inputs.sh [OUT]   (default bench/inputs/auto)
set -euo pipefail
out=${1:-bench/inputs/auto}
enc() { # codec bitrate
  case $1 in
    h264) echo "-c:v libx264 -preset veryfast -b:v $2 -bf 0" ;;
    hevc) echo "-c:v libx265 -preset ultrafast -b:v $2 -x265-params log-level=error:bframes=0" ;;
    av1) echo "-c:v libsvtav1 -preset 12 -b:v $2" ;;
  esac
}
for res in 720p 2160p; do
  if [[ $res == 720p ]]; then
    size=1280x720 rate=200k long_rate=20k clips=10
  else
    size=3840x2160 rate=800k long_rate=30k clips=5
  fi
  for codec in h264 hevc av1; do
    d="$out/$res-$codec"
    mkdir -p "$d/clips"
    # shellcheck disable=SC2046
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=$size:rate=30" -t 5 $(enc $codec $rate) -g 30 \
      -pix_fmt yuv420p -movflags +faststart "$d/short.mp4"
    for k in $(seq 0 $((clips - 1))); do
      # shellcheck disable=SC2046
      ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=$size:rate=15" -ss $((3 * k)) -t 2 $(enc $codec $rate) \
        -g 15 -pix_fmt yuv420p -movflags +faststart "$d/clips/c$(printf %02d "$k").mp4"
    done
    # shellcheck disable=SC2046
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=$size:rate=2" -t 30 $(enc $codec $long_rate) -g 8 \
      -pix_fmt yuv420p -movflags +faststart "$d/long30.mp4"
    ffmpeg -nostdin -v error -y -stream_loop 19 -i "$d/long30.mp4" -c copy -movflags +faststart "$d/long.mp4"
    rm "$d/long30.mp4"
  done
done
du -sh "$out"
(cd "$out" && find . -name '*.mp4' | sort | xargs sha256sum) > "$out/SHA256SUMS"
echo "made $out"
