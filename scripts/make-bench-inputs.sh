#!/usr/bin/env bash
# Make the (large, NOT committed) benchmark inputs under bench/inputs/ (git-ignored).
#
#   scripts/make-bench-inputs.sh            make whatever is missing
#   FORCE=1 scripts/make-bench-inputs.sh    remake everything
#
# Outputs (Annex-B elementary streams, 30 fps, GOP 60 = 2 s, 4:2:0 8-bit):
#   h264-1080p-big.h264    >= 100 MB  H.264 High (x264 veryfast, ~100 Mb/s), copies of one encode
#   hevc-1080p-big.h265    >= 200 MB  HEVC Main (x265 ultrafast, ~80 Mb/s), copies of one encode
#   h264-1080p-10s.h264    ~10 s      H.264 High, 12 Mb/s    (GPU decode benchmarks)
#   h264-1080p-6m-10s.h264 ~10 s      H.264 High, 6 Mb/s, B-frames (the issue's H.264 peer setting)
#   hevc-1080p-10s.h265    ~10 s      HEVC Main, 8 Mb/s
#   h264-2160p-10s.h264    ~10 s      H.264 High (level 5.1), 40 Mb/s
#   hevc-2160p-10s.h265    ~10 s      HEVC Main, 25 Mb/s
#   MANIFEST.txt           sizes, bitrates, frame counts, md5s of the above
#
# Content: the committed real clip testdata/real/cars-320x240.h264 (MIT, Intel libvpl), played
# forward/backward in a loop, upscaled, panned (a moving crop window) and with temporal noise
# (noise=alls=20:allf=t+u) so no two frames are alike and the encoders cannot make it tiny.
# The big streams are N copies of one IDR-started encode, concatenated: a concatenation of
# Annex-B streams that each start with parameter sets + IDR is itself a valid stream.
# Not bit-reproducible (multi-threaded encoders); that does not matter for benchmarks.
#
# Knobs: BENCH_SECONDS (default 10), BENCH_INPUTS (default bench/inputs), X264_PRESET
# (veryfast), X265_PRESET (ultrafast). Needs ffmpeg with libx264/libx265 (apt-get install ffmpeg).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUTDIR=${BENCH_INPUTS:-$ROOT/bench/inputs}
SECS=${BENCH_SECONDS:-10}
X264_PRESET=${X264_PRESET:-veryfast}
X265_PRESET=${X265_PRESET:-ultrafast}
SRC=$ROOT/testdata/real/cars-320x240.h264
MB=$((1000 * 1000))

die() { echo "make-bench-inputs: $*" >&2; exit 1; }
command -v ffmpeg >/dev/null || die "ffmpeg not found; install it with: apt-get install ffmpeg"
command -v ffprobe >/dev/null || die "ffprobe not found; install it with: apt-get install ffmpeg"
encoders=$(ffmpeg -hide_banner -encoders 2>/dev/null)
for lib in libx264 libx265; do
    grep -q " $lib " <<<"$encoders" || die "this ffmpeg has no $lib encoder; install it with: apt-get install ffmpeg"
done
[[ -f $SRC ]] || die "missing $SRC (run from a checkout with testdata/)"
mkdir -p "$OUTDIR"
START=$SECONDS

# Source filter graph for a WxH output (scripts/lib/bench-source.sh).
# shellcheck source=lib/bench-source.sh
source "$ROOT/scripts/lib/bench-source.sh"
source_graph() { bench_source_graph "$1" "$2" $((SECS * 30)); } # W H -> filtergraph (no label)

# need NAME -> true when NAME must be (re)made
need() { [[ ${FORCE:-0} == 1 || ! -s $OUTDIR/$1 ]]; }

x264() { echo -c:v libx264 -preset "$X264_PRESET" -profile:v high -g 60 -keyint_min 60 -sc_threshold 0 -b:v "$1" -maxrate "$1" -bufsize "$2" -f h264; }
x265() { echo -c:v libx265 -preset "$X265_PRESET" -profile:v main -b:v "$1" -x265-params "keyint=60:min-keyint=60:scenecut=0:vbv-maxrate=${1%M}000:vbv-bufsize=${2%M}000:log-level=error" -f hevc; }

# encode_set W H NAME:ENCODER-ARGS... : one decode + filter run feeding several encoders (split).
encode_set() {
    local w=$1 h=$2; shift 2
    local names=() args=() n=0 i graph
    for spec in "$@"; do
        local name=${spec%%=*} enc=${spec#*=}
        need "$name" || { echo "make-bench-inputs: $name exists (FORCE=1 to remake)"; continue; }
        names+=("$name")
        # shellcheck disable=SC2206
        args+=(-map "[o$n]" $enc "$OUTDIR/$name.part")
        n=$((n + 1))
    done
    ((n > 0)) || return 0
    graph="$(source_graph "$w" "$h"),split=$n"
    for ((i = 0; i < n; i++)); do graph+="[o$i]"; done
    echo "make-bench-inputs: encoding ${w}x${h}, ${SECS} s: ${names[*]}"
    ffmpeg -nostdin -hide_banner -loglevel error -y -f h264 -i "$SRC" -filter_complex "$graph" "${args[@]}"
    for name in "${names[@]}"; do mv "$OUTDIR/$name.part" "$OUTDIR/$name"; done
}

# concat_to NAME SEED MINBYTES: NAME = copies of SEED until it has at least MINBYTES.
concat_to() {
    local name=$1 seed=$2 min=$3 size copies
    size=$(stat -c %s "$OUTDIR/$seed")
    copies=$(((min + size - 1) / size))
    : > "$OUTDIR/$name.part"
    for ((i = 0; i < copies; i++)); do cat "$OUTDIR/$seed" >> "$OUTDIR/$name.part"; done
    mv "$OUTDIR/$name.part" "$OUTDIR/$name"
    rm -f "$OUTDIR/$seed"
    echo "make-bench-inputs: $name = $copies x $seed ($size bytes)"
}

big264=h264-1080p-big.h264 big265=hevc-1080p-big.h265
specs=()
need $big264 && specs+=("$big264.seed=$(x264 100M 100M)")
need $big265 && specs+=("$big265.seed=$(x265 80M 80M)")
specs+=("h264-1080p-10s.h264=$(x264 12M 24M)" "hevc-1080p-10s.h265=$(x265 8M 16M)" "h264-1080p-6m-10s.h264=$(x264 6M 12M)")
encode_set 1920 1080 "${specs[@]}"
[[ -s $OUTDIR/$big264.seed ]] && concat_to $big264 $big264.seed $((100 * MB))
[[ -s $OUTDIR/$big265.seed ]] && concat_to $big265 $big265.seed $((200 * MB))

encode_set 3840 2160 "h264-2160p-10s.h264=$(x264 40M 80M)" "hevc-2160p-10s.h265=$(x265 25M 50M)"

# Manifest + sizes.
{
    echo "# made by scripts/make-bench-inputs.sh ($(ffmpeg -hide_banner -version | sed -n 1p))"
    printf '%-22s %12s %6s %10s %9s %-8s %s\n' name bytes frames size Mbit/s profile md5
    for f in h264-1080p-big.h264 hevc-1080p-big.h265 h264-1080p-10s.h264 h264-1080p-6m-10s.h264 hevc-1080p-10s.h265 \
        h264-2160p-10s.h264 hevc-2160p-10s.h265; do
        [[ -f $OUTDIR/$f ]] || continue
        fmt=h264; [[ $f == *.h265 ]] && fmt=hevc
        bytes=$(stat -c %s "$OUTDIR/$f")
        frames=$(ffprobe -v error -f $fmt -i "$OUTDIR/$f" -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0)
        info=$(ffprobe -v error -f $fmt -i "$OUTDIR/$f" -select_streams v:0 -show_entries stream=width,height,profile -of default=nw=1)
        pw=$(sed -n 's/^width=//p' <<<"$info"); ph=$(sed -n 's/^height=//p' <<<"$info"); prof=$(sed -n 's/^profile=//p' <<<"$info")
        mbps=$(awk -v b="$bytes" -v n="$frames" 'BEGIN { printf "%.1f", b * 8 * 30 / n / 1e6 }')
        printf '%-22s %12s %6s %10s %9s %-8s %s\n' "$f" "$bytes" "$frames" "${pw}x${ph}" "$mbps" "$prof" "$(md5sum < "$OUTDIR/$f" | cut -d' ' -f1)"
    done
} > "$OUTDIR/MANIFEST.txt"
cat "$OUTDIR/MANIFEST.txt"
echo "make-bench-inputs: done in $((SECONDS - START)) s; $(du -sh "$OUTDIR" | cut -f1) in $OUTDIR"
