#!/usr/bin/env bash
# video-hw's FFmpeg engine (libx264, libx265 or SVT-AV1 through libavcodec, `video-hw encode
# --backend ffmpeg`) against the ffmpeg CLI encoding the same raw frames with the same settings.
#
#   scripts/bench-ffmpeg-encode.sh          libx264, 1 warm-up + 5 measured runs of each, interleaved
#   REPEATS=7 BITRATE=6M PRESET=fast scripts/bench-ffmpeg-encode.sh
#   ENCODER=libx265 FRAMES=60 scripts/bench-ffmpeg-encode.sh
#   ENCODER=libsvtav1 RATE="--quality 35" scripts/bench-ffmpeg-encode.sh
#
# RATE: video-hw's rate-control arguments (default `--bitrate $BITRATE`); each encoder gets
# what video-hw's table makes of them (SVT-AV1's CBR, for one, is its low-delay structure;
# `--quality` is its CRF).
# Input: FRAMES (300) frames of 1920x1080 yuv420p made once by ffmpeg from the committed real
# clip testdata/real/cars-320x240.h264 (forward/backward loop, upscaled, a panning crop,
# temporal noise: the content scripts/make-bench-inputs.sh uses), kept as
# bench/inputs/x264-bench-1080p-<FRAMES>.yuv (git-ignored).
#
# Identical settings: the ffmpeg CLI gets exactly the encoder options video-hw sets (read
# from video-hw's own debug log line "ffmpeg encoder options: -c:v ENCODER …", the
# encoder_options.rs table rendered as ffmpeg arguments), so preset, rate control, GOP,
# B-frames, threads and flags are the same. Both read the raw file and write an Annex-B
# stream (IVF for AV1) to the same temporary folder; wall time of the whole process (start to exit) is
# measured for each run. Runs alternate (ours first on odd rounds, ffmpeg first on even).
# Prints a markdown table (medians, ratio ours / ffmpeg) and writes it to
# bench/results/ffmpeg-ENCODER-DATE-COMMIT.md. Needs ffmpeg with that encoder, and cargo.
set -euo pipefail
cd "$(dirname "$0")/.."

ENCODER=${ENCODER:-libx264}
# LIB: the encoder's shared library, whose file name the report gives where the stream does
# not name the encoder's version.
case $ENCODER in
  libx264) CODEC=h264 EXT=h264 FMT=h264 LIB=libx264 ;;
  libx265) CODEC=hevc EXT=h265 FMT=hevc LIB=libx265 ;;
  libsvtav1) CODEC=av1 EXT=ivf FMT=ivf LIB=libSvtAv1Enc ;;
  libaom-av1) CODEC=av1 EXT=ivf FMT=ivf LIB=libaom ;;
  *) echo "ENCODER: libx264, libx265, libsvtav1 or libaom-av1" >&2; exit 2 ;;
esac
FRAMES=${FRAMES:-300}
REPEATS=${REPEATS:-5}
BITRATE=${BITRATE:-8M}
read -r -a RATE_ARGS <<<"${RATE:---bitrate $BITRATE}"
PRESET=${PRESET:-medium}
GOP=${GOP:-60}
SIZE=1920x1080
FPS=30
INPUTS=${BENCH_INPUTS:-bench/inputs}
RAW=$INPUTS/x264-bench-1080p-$FRAMES.yuv
SRC=testdata/real/cars-320x240.h264

command -v ffmpeg >/dev/null || { echo "ffmpeg not found (apt-get install ffmpeg)" >&2; exit 2; }
encoders=$(ffmpeg -hide_banner -encoders 2>/dev/null)
grep -q " $ENCODER " <<<"$encoders" || { echo "this ffmpeg has no $ENCODER" >&2; exit 2; }

echo "building video-hw (release; FFmpeg is loaded at run time)…" >&2
cargo build -q --release -p video-hw-cli
VH=target/release/video-hw

mkdir -p "$INPUTS"
if [[ ! -s $RAW ]]; then
  echo "making $RAW…" >&2
  graph="[0:v]split[a][b];[b]reverse,trim=start_frame=1:end_frame=29,setpts=PTS-STARTPTS[r];"
  graph+="[a][r]concat=n=2:v=1,loop=loop=-1:size=58,setpts=N/(25*TB),fps=30,trim=end_frame=$FRAMES,"
  graph+="scale=2304:1728:flags=bicubic,"
  graph+="crop=1920:1080:x='(iw-ow)/2*(1+sin(2*PI*t/7))':y='(ih-oh)/2*(1+sin(2*PI*t/5))',"
  graph+="noise=alls=20:allf=t+u,format=yuv420p[v]"
  ffmpeg -nostdin -hide_banner -loglevel error -y -f h264 -i "$SRC" -filter_complex "$graph" -map "[v]" \
    -frames:v "$FRAMES" -f rawvideo "$RAW.part"
  mv "$RAW.part" "$RAW"
fi
want=$((1920 * 1080 * 3 / 2 * FRAMES))
[[ $(stat -c %s "$RAW") == "$want" ]] || { echo "$RAW is not $FRAMES frames" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

OURS=("$VH" encode "$RAW" --size "$SIZE" --fps "$FPS" --codec "$CODEC" --backend ffmpeg "${RATE_ARGS[@]}" --gop "$GOP"
  --preset "$PRESET" -q -o "$WORK/ours.$EXT")
# The options video-hw gives the encoder for this configuration (the last such line: the
# registry's probe opens a small encoder first).
ARGS=$(VIDEO_HW_LOG=video_hw=debug NO_COLOR=1 "$VH" encode --synthetic 2 --size "$SIZE" --fps "$FPS" --codec "$CODEC" \
  --backend ffmpeg "${RATE_ARGS[@]}" --gop "$GOP" --preset "$PRESET" -q -o "$WORK/args.$EXT" 2>&1 |
  sed 's/\x1b\[[0-9;]*m//g' | grep -o -- "-c:v $ENCODER.*" | tail -1)
[[ -n $ARGS ]] || { echo "could not read video-hw's encoder options" >&2; exit 1; }
# The log quotes a value as a shell would ('a=1:b=2'): split it as a shell does.
mapfile -t ARGV < <(python3 -c 'import shlex, sys; print("\n".join(shlex.split(sys.argv[1])))' "$ARGS")
THEIRS=(ffmpeg -nostdin -hide_banner -loglevel error -y -f rawvideo -pix_fmt yuv420p -s "$SIZE" -r "$FPS" -i "$RAW"
  "${ARGV[@]}" -f "$FMT" "$WORK/ffmpeg.$EXT")

echo "video-hw: ${OURS[*]}" >&2
echo "ffmpeg:   ${THEIRS[*]}" >&2

# measure command… -> "wall cpu": wall-clock seconds of the whole process and its CPU time
# (user + system, all threads). CPU time hardly moves when other jobs share the machine;
# wall time does, which is why the runs are interleaved.
measure() {
  local TIMEFORMAT='%R %U %S'
  { time "$@" >/dev/null 2>"$WORK/err"; } 2>"$WORK/time" || { cat "$WORK/err" >&2; exit 1; }
  awk '{ printf "%.2f %.2f", $1, $2 + $3 }' "$WORK/time"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
load_start=$(load)
ours=() theirs=() ours_cpu=() theirs_cpu=()
for ((round = 0; round <= REPEATS; round++)); do
  if ((round % 2 == 1)); then
    read -r a ac <<<"$(measure "${OURS[@]}")"; read -r b bc <<<"$(measure "${THEIRS[@]}")"
  else
    read -r b bc <<<"$(measure "${THEIRS[@]}")"; read -r a ac <<<"$(measure "${OURS[@]}")"
  fi
  [[ -n $a && -n $ac && -n $b && -n $bc ]] || { echo "a run failed" >&2; exit 1; }
  label=$([[ $round == 0 ]] && echo "warm-up" || echo "run $round")
  echo "$label: video-hw ${a}s (cpu ${ac}s), ffmpeg ${b}s (cpu ${bc}s), load $(load)" >&2
  if ((round > 0)); then ours+=("$a"); theirs+=("$b"); ours_cpu+=("$ac"); theirs_cpu+=("$bc"); fi
done
load_end=$(load)

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mo=$(median "${ours[@]}")
mt=$(median "${theirs[@]}")
co=$(median "${ours_cpu[@]}")
ct=$(median "${theirs_cpu[@]}")
ratio=$(awk -v a="$mo" -v b="$mt" 'BEGIN { printf "%.3f", a / b }')
cpu_ratio=$(awk -v a="$co" -v b="$ct" 'BEGIN { printf "%.3f", a / b }')
bytes_o=$(stat -c %s "$WORK/ours.$EXT")
bytes_t=$(stat -c %s "$WORK/ffmpeg.$EXT")
frames_o=$(ffprobe -v error -f "$FMT" -i "$WORK/ours.$EXT" -count_packets -show_entries stream=nb_read_packets -of csv=p=0)
frames_t=$(ffprobe -v error -f "$FMT" -i "$WORK/ffmpeg.$EXT" -count_packets -show_entries stream=nb_read_packets -of csv=p=0)
# The encoder's version: x264 and x265 write it into the stream; otherwise the file name of
# the library the ffmpeg tool loads (libSvtAv1Enc.so.1.4.1, libaom.so.3.6.0).
version=$(strings "$WORK/ffmpeg.$EXT" | grep -o -m1 -E 'x264 - core [0-9]+|x265 \(build [0-9]+\) - [0-9.+]+' || true)
if [[ -z $version ]]; then
  lib_path=$(ldd "$(command -v ffmpeg)" | awk -v lib="$LIB" 'index($1, lib) == 1 { print $3; exit }')
  [[ -n $lib_path ]] && version="$ENCODER ($(basename "$(readlink -f "$lib_path")"))"
fi

mkdir -p bench/results
{
  echo "# video-hw FFmpeg engine ($ENCODER) vs the ffmpeg CLI, same settings"
  echo
  echo "$FRAMES frames of ${SIZE} yuv420p (real clip upscaled, panned, with noise), $PRESET preset, ${RATE_ARGS[*]}, GOP $GOP."
  echo "Machine: $(nproc) CPU cores ($(lscpu | sed -n 's/^Model name: *//p' | head -1)), $(ffmpeg -version | head -1 | cut -d' ' -f1-3), ${version:-$ENCODER}."
  echo "Wall and CPU time of the whole process (start to exit, reading the raw file and writing .$EXT), 1 warm-up + $REPEATS runs each, interleaved; medians."
  echo
  echo "| | median wall time (s) | wall runs (s) | median CPU time (s) | CPU runs (s) | fps (wall) | output bytes | frames |"
  echo "|---|---|---|---|---|---|---|---|"
  echo "| video-hw encode --backend ffmpeg | $mo | ${ours[*]} | $co | ${ours_cpu[*]} | $(awk -v f="$FRAMES" -v t="$mo" 'BEGIN { printf "%.1f", f / t }') | $bytes_o | $frames_o |"
  echo "| ffmpeg -c:v $ENCODER | $mt | ${theirs[*]} | $ct | ${theirs_cpu[*]} | $(awk -v f="$FRAMES" -v t="$mt" 'BEGIN { printf "%.1f", f / t }') | $bytes_t | $frames_t |"
  echo
  echo "**Ratio video-hw / ffmpeg, median wall time: $ratio** (target ≤ 1.05, i.e. fps ≥ 0.95x); median CPU time (user + system): $cpu_ratio."
  echo
  echo "Load average (1, 5, 15 min) at the start: $load_start; at the end: $load_end. Other jobs on the"
  echo "machine stretch wall times (both tools alike, runs interleaved); CPU time is the steadier figure."
  echo
  echo "Commands (the ffmpeg options are the ones video-hw sets, read from its debug log):"
  echo
  echo '```'
  echo "${OURS[*]}" | sed "s#$WORK#\$TMP#g"
  echo "${THEIRS[*]}" | sed "s#$WORK#\$TMP#g"
  echo '```'
  echo
  echo "Output sizes may differ slightly run to run: an encoder with VBV and frame threads is"
  echo "not bit-exact between runs (the ffmpeg CLI neither)."
} | tee "bench/results/ffmpeg-${ENCODER#lib}-$(date +%Y%m%d)-$(git rev-parse --short HEAD).md"
