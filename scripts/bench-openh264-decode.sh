#!/usr/bin/env bash
# OpenH264 (video-hw's built-in engine) vs libavcodec (ffmpeg's h264 decoder, one thread)
# decode CPU time on the same H.264 High-profile streams, 720p and 1080p, in one run.
#
#   scripts/bench-openh264-decode.sh [VIDEO_HW_BIN ...]
#
# Each VIDEO_HW_BIN (default target/release/video-hw) is a video-hw binary to measure,
# e.g. one built with nasm and one built with VIDEO_HW_OPENH264_NO_ASM=1 (C code paths):
#   CARGO_TARGET_DIR=/tmp/noasm VIDEO_HW_OPENH264_NO_ASM=1 cargo build --release -p video-hw-cli
#
# Inputs (made here, not committed): the real clip testdata/real/cars-320x240.h264 looped,
# upscaled, panned and with temporal noise (as scripts/make-bench-inputs.sh does), FRAMES
# frames at 30 fps, encoded by x264 `-preset medium -profile:v high` (3 B-frames, CABAC,
# 8x8 transform, weighted prediction) at 3 Mb/s (720p) and 6 Mb/s (1080p).
#
# Measured: user+system CPU seconds of the whole process (/usr/bin/time), decoding to raw
# yuv420p written to /dev/null: `video-hw decode IN -o /dev/null --backend openh264` and
# `ffmpeg -threads 1 -i IN -f rawvideo -pix_fmt yuv420p -y /dev/null`. RUNS runs of each,
# interleaved; the table gives medians and the ratio to libavcodec. Written to
# bench/results/openh264-decode-DATE-COMMIT.md.
set -euo pipefail
cd "$(dirname "$0")/.."

FRAMES=${FRAMES:-300}
RUNS=${RUNS:-5}
SRC=testdata/real/cars-320x240.h264
BINS=("$@")
((${#BINS[@]})) || BINS=(target/release/video-hw)
for b in "${BINS[@]}"; do [[ -x $b ]] || { echo "no video-hw binary at $b" >&2; exit 2; }; done
command -v ffmpeg >/dev/null || { echo "ffmpeg not found" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time not found (apt-get install time)" >&2; exit 2; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=lib/bench-source.sh
source scripts/lib/bench-source.sh
graph() { printf '%s[v]' "$(bench_source_graph "$1" "$2" "$FRAMES")"; } # W H -> filtergraph ending in [v]

declare -A RATE=([720p]=3M [1080p]=6M) SIZE=([720p]=1280x720 [1080p]=1920x1080)
for name in 720p 1080p; do
    s=${SIZE[$name]}
    echo "encoding $name input ($FRAMES frames)…" >&2
    ffmpeg -nostdin -hide_banner -loglevel error -y -f h264 -i "$SRC" -filter_complex "$(graph "${s%x*}" "${s#*x}")" \
        -map '[v]' -c:v libx264 -preset medium -profile:v high -b:v "${RATE[$name]}" -f h264 "$WORK/$name.h264"
done

cpu() { # command... -> "user+sys" seconds
    /usr/bin/time -f '%U %S' -o "$WORK/time" "$@" >/dev/null 2>&1
    awk '{ printf "%.3f", $1 + $2 }' "$WORK/time"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A T
for name in 720p 1080p; do
    in="$WORK/$name.h264"
    for ((r = 0; r < RUNS; r++)); do
        T["$name,ffmpeg"]+="$(cpu ffmpeg -nostdin -threads 1 -i "$in" -f rawvideo -pix_fmt yuv420p -y /dev/null) "
        for i in "${!BINS[@]}"; do
            T["$name,$i"]+="$(cpu "${BINS[$i]}" decode "$in" -o /dev/null --backend openh264 -q) "
        done
    done
done

commit=$(git rev-parse --short HEAD)
mkdir -p bench/results
out="bench/results/openh264-decode-$(date +%Y%m%d)-$commit.md"
{
echo "Decode CPU time, seconds (user+sys, median of $RUNS), $FRAMES frames of x264 High (medium, 3 B-frames);"
echo "$(nproc) CPU cores, $(ffmpeg -version | head -1 | cut -d' ' -f1-3), commit $commit"
echo
printf '| input | libavcodec, 1 thread |'
for b in "${BINS[@]}"; do printf ' OpenH264 `%s` | ratio |' "$b"; done
echo
printf '|---|---|'
for _ in "${BINS[@]}"; do printf -- '---|---|'; done
echo
for name in 720p 1080p; do
    ff=$(tr ' ' '\n' <<<"${T[$name,ffmpeg]}" | grep . | median)
    printf '| %s (%s) | %.3f |' "$name" "${RATE[$name]}b/s" "$ff"
    for i in "${!BINS[@]}"; do
        oh=$(tr ' ' '\n' <<<"${T[$name,$i]}" | grep . | median)
        awk -v o="$oh" -v f="$ff" 'BEGIN { printf " %.3f | %.2fx |", o, o / f }'
    done
    echo
done
echo
echo "Assembly in each binary: as its build said (video-hw probe: openh264 notes; the build"
echo "warns when nasm was missing). Runs interleaved; load on the machine affects all alike."
} | tee "$out"
