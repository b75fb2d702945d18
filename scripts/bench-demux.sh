#!/usr/bin/env bash
# Demux + index of large files: `video-hw info --json FILE` (opens the container, reads its
# tables or scans it, builds the first video track's frame index, reads the parameter sets)
# against `ffprobe -v error -count_packets -show_entries stream=nb_read_packets FILE` (reads
# every packet of every stream), on the same files in the same run, interleaved.
#
#   scripts/bench-demux.sh [RUNS]        default 5 measured runs (+1 warm-up) per tool and file
#
# Inputs (made if missing, under bench/inputs/, git-ignored): one 30 s 1080p H.264 High encode
# (x264 veryfast, GOP 250, 3 B-frames, ~8 Mb/s) with AAC stereo, looped by stream copy to
# >= 1 GB in MP4 (moov first), Matroska and MPEG-TS. The clock is whole-process wall time
# (`date +%s%N` around each command); the figure is the median, and the ratio ours/ffprobe.
# The files are read from the page cache after the warm-up (both tools alike).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${1:-5}
IN=${BENCH_INPUTS:-$ROOT/bench/inputs}
BIN=${VIDEO_HW:-$ROOT/target/release/video-hw}
mkdir -p "$IN"
[[ -x $BIN ]] || (cd "$ROOT" && cargo build --release -q -p video-hw-cli)
command -v ffprobe >/dev/null || { echo "bench-demux: ffprobe not found (apt-get install ffmpeg)" >&2; exit 1; }

src=$IN/demux-src-1080p-30s.mkv
if [[ ! -f $src ]]; then
  ffmpeg -nostdin -hide_banner -loglevel error -y \
    -f lavfi -i "testsrc2=size=1920x1080:rate=25,noise=alls=16:allf=t+u:all_seed=7" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000" -t 30 \
    -c:v libx264 -preset veryfast -b:v 8M -maxrate 8M -bufsize 16M -g 250 -bf 3 -pix_fmt yuv420p \
    -c:a aac -b:a 128k -ac 2 "$src"
fi
loops=$(python3 -c "import os; print(max(0, -(-1_000_000_000 // os.path.getsize('$src')) - 1))")
for ext in mp4 mkv ts; do
  out=$IN/demux-1gb.$ext
  [[ -f $out ]] && continue
  flags=()
  [[ $ext == mp4 ]] && flags=(-movflags +faststart)
  ffmpeg -nostdin -hide_banner -loglevel error -y -stream_loop "$loops" -i "$src" -map 0 -c copy "${flags[@]}" "$out"
done

ms() { local a b; a=$(date +%s%N); "$@" >/dev/null 2>&1 || true; b=$(date +%s%N); echo $(((b - a) / 1000000)); }
median() { tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "# Demux + index, $(date -u +%Y-%m-%d), $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores, $(ffprobe -version | head -1 | cut -d' ' -f1-3)"
echo
echo "| file | size | video-hw info (ms) | ffprobe -count_packets (ms) | ratio | frames (ours / ffprobe packets) |"
echo "|---|---|---|---|---|---|"
for ext in mp4 mkv ts; do
  f=$IN/demux-1gb.$ext
  ours=() theirs=()
  for r in $(seq 0 "$RUNS"); do
    a=$(ms "$BIN" info --json "$f")
    b=$(ms ffprobe -v error -count_packets -show_entries stream=nb_read_packets "$f")
    if [[ $r -gt 0 ]]; then ours+=("$a"); theirs+=("$b"); fi
  done
  mo=$(echo "${ours[@]}" | median)
  mt=$(echo "${theirs[@]}" | median)
  frames=$("$BIN" info --json "$f" 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['frames'])")
  packets=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$f" | head -1)
  size=$(du -h "$f" | cut -f1)
  echo "| $(basename "$f") | $size | $mo | $mt | $(python3 -c "print(f'{$mo / $mt:.3f}x')") | $frames / $packets |"
done
