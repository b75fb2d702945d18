#!/usr/bin/env bash
# `video-hw transcode` of a 1080p H.264 MP4 (with AAC audio, copied) to MP4: whole-process
# wall time and CPU time (user + system), medians of REPEATS (5) runs, for two builds of the CLI side by side (a change
# against its base), with the built-in OpenH264 encoder and with FFmpeg's (libx264).
#
#   scripts/bench-cli-transcode.sh BEFORE_BINARY AFTER_BINARY
#   REPEATS=7 SECONDS_OF_VIDEO=20 scripts/bench-cli-transcode.sh old/video-hw target/release/video-hw
#
# The input, made once by ffmpeg (testsrc2 at 1920x1080, 30 fps, libx264 `fast`, an IDR every
# 60 frames; a 440 Hz sine as AAC), is kept as bench/inputs/transcode-1080p-SECONDS.mp4
# (git-ignored). Runs alternate between the two builds (the first on odd rounds, the second on
# even). Prints a markdown table of the medians. Needs ffmpeg with libx264, GNU time and bc.
set -euo pipefail
cd "$(dirname "$0")/.."

BEFORE=${1:?usage: $0 BEFORE_BINARY AFTER_BINARY}
AFTER=${2:?usage: $0 BEFORE_BINARY AFTER_BINARY}
REPEATS=${REPEATS:-5}
SECS=${SECONDS_OF_VIDEO:-10}
INPUTS=${BENCH_INPUTS:-bench/inputs}
IN=$INPUTS/transcode-1080p-$SECS.mp4
mkdir -p "$INPUTS"
if [[ ! -s $IN ]]; then
  ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=1920x1080:rate=30 \
    -f lavfi -i sine=frequency=440:sample_rate=48000 -t "$SECS" \
    -c:v libx264 -preset fast -g 60 -pix_fmt yuv420p -c:a aac -b:a 128k -shortest "$IN"
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# "WALL CPU" seconds of one run of BINARY with the encoder ENGINE: wall time of the whole
# process, and its user + system CPU time (which other work on a shared machine disturbs less).
run() {
  local bin=$1 engine=$2
  /usr/bin/time -f '%e %U %S' -o "$OUT/time" \
    "$bin" -q transcode "$IN" -o "$OUT/out.mp4" --backend "$engine" >/dev/null 2>&1
  awk '{printf "%s %.2f\n", $1, $2 + $3}' "$OUT/time"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "| encoder | wall before (s) | wall after (s) | after / before | CPU before (s) | CPU after (s) | after / before |"
echo "|---|---|---|---|---|---|---|"
for engine in openh264 ffmpeg; do
  # A warm-up of each (page cache, FFmpeg's libraries).
  run "$BEFORE" "$engine" >/dev/null
  run "$AFTER" "$engine" >/dev/null
  before=() after=()
  for ((i = 1; i <= REPEATS; i++)); do
    if ((i % 2)); then
      before+=("$(run "$BEFORE" "$engine")")
      after+=("$(run "$AFTER" "$engine")")
    else
      after+=("$(run "$AFTER" "$engine")")
      before+=("$(run "$BEFORE" "$engine")")
    fi
  done
  bw=$(printf '%s\n' "${before[@]}" | cut -d' ' -f1 | median)
  aw=$(printf '%s\n' "${after[@]}" | cut -d' ' -f1 | median)
  bc_=$(printf '%s\n' "${before[@]}" | cut -d' ' -f2 | median)
  ac_=$(printf '%s\n' "${after[@]}" | cut -d' ' -f2 | median)
  printf '| %s | %.2f | %.2f | %.3f | %.2f | %.2f | %.3f |\n' "$engine" "$bw" "$aw" "$(echo "$aw / $bw" | bc -l)" \
    "$bc_" "$ac_" "$(echo "$ac_ / $bc_" | bc -l)"
  echo "  $engine runs (wall cpu) before: ${before[*]// /\/}; after: ${after[*]// /\/}" >&2
done
