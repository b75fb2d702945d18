#!/usr/bin/env bash
# The inputs of scripts/bench_python.py, made from bench/inputs/ra-1080p-30s.mp4 (1080p25 H.264,
# keyint 250, B-frames; scripts/make-bench-inputs.sh) by stream copy, on the GPU machine:
#   OUT/long.mp4   10 minutes (the source looped 20 times; 15,000 frames)
#   OUT/seq.mp4    2 minutes (looped 4 times; 3,000 frames)
#   OUT/clips/     200 ten-second clips: the 60 ten-second pieces of long.mp4 (cut at its key
#                  frames, one every 10 s), each under 3-4 names to make 200 files
# usage: scripts/make-python-bench-inputs.sh SRC.mp4 OUT
# SRC is made here first if it does not exist (needs ffmpeg with libx264: this machine's, not
# the GPU machine's): 30 s of noisy test pattern, x264 veryfast at 2 Mb/s, keyint 250 without
# scene cuts, 3 B-frames with B-pyramid.
set -euo pipefail
src=$1 out=$2
if [[ ! -f $src ]]; then
  mkdir -p "$(dirname "$src")"
  ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1920x1080:rate=25,noise=alls=16:allf=t+u:all_seed=7" \
    -t 30 -c:v libx264 -preset veryfast -b:v 2M -maxrate 2.5M -bufsize 4M -bf 3 -pix_fmt yuv420p \
    -x264-params keyint=250:scenecut=0 -movflags +faststart "$src"
fi
mkdir -p "$out/clips" "$out/pieces"
ffmpeg -v error -y -stream_loop 19 -i "$src" -c copy -an -movflags +faststart "$out/long.mp4"
ffmpeg -v error -y -stream_loop 3 -i "$src" -c copy -an -movflags +faststart "$out/seq.mp4"
# Ten-second pieces cut at the key frames (every 10 s) by stream copy; the segment muxer would
# do it in one go, but the GPU machine's small ffmpeg has none.
for k in $(seq 0 59); do
  ffmpeg -v error -y -ss $((10 * k)) -i "$out/long.mp4" -t 10 -c copy -an -movflags +faststart \
    "$out/pieces/p$(printf %03d "$k").mp4"
done
pieces=("$out"/pieces/*.mp4)
for i in $(seq 0 199); do cp "${pieces[$((i % ${#pieces[@]}))]}" "$out/clips/c$(printf %03d "$i").mp4"; done
rm -rf "$out/pieces"
echo "made $out: long.mp4, seq.mp4, $(ls "$out/clips" | wc -l) clips from ${#pieces[@]} pieces"
