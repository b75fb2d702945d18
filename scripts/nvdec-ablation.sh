#!/usr/bin/env bash
# NVDEC ablation: where does multi-stream throughput go? Runs video-hw's nvdec_bench (no
# peers) over a grid of settings — environment knobs (VIDEO_HW_NVDEC_CONTEXT=own: a CUDA
# context per session instead of the shared primary one), display delay, stream count —
# and prints one line per run with fps, CPU/frame, the time per frame / per call spent in
# cuvidDecodePicture, cuvidMapVideoFrame and the copy-out, the mean cuvidCreateDecoder time
# and count, the mean wait at the creation barrier and the sessions that waited, the decode /
# map / copy / unmap calls that took over 5 ms (count, ms, longest), and the
# mean NVDEC utilisation and video clock nvidia-smi saw during it.
# Not the benchmark of record (that is scripts/bench-nvdec.sh, with the peers): this finds
# which knob matters, in few device minutes.
#
# usage: scripts/nvdec-ablation.sh [--reps R] [--frames F] [--streams "1 7 14"]
#            [--envs "- VIDEO_HW_NVDEC_LEND=0 VIDEO_HW_NVDEC_CONTEXT=own"] [--delays "4"]
#            [--ttff] [--bench-args "--stagger-ms 20"] INPUT...
# --envs: settings to compare, each VAR=VALUE[,VAR=VALUE] or - for the defaults. Knobs the
#   library reads for this: VIDEO_HW_NVDEC_CONTEXT=own (a context per session),
#   VIDEO_HW_NVDEC_KEEP=N (decoders parked for reuse per GPU), VIDEO_HW_NVDEC_CREATE_BARRIER=0
#   (turns off the creation barrier: a burst of sessions that fits the GPU's engines decodes
#   only once none of its decoder creations is under way; =all makes every session wait
#   for every creation under way, whatever the burst's size), VIDEO_HW_NVDEC_EXTRA_SURFACES=N
#   (decode surfaces beyond the parser's minimum and the display delay; default 2),
#   VIDEO_HW_NVDEC_LEND=0 (copies every CUDA frame out instead of lending the decoder's
#   output surface).
# On the GPU machine: bash .gpu/run.sh bash scripts/nvdec-ablation.sh .gpu/data/...
set -euo pipefail
reps=2 frames=3000 streams="1 7 14" envs="-" delays="4" ttff=0 extra=""
inputs=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --frames) frames=$2; shift 2 ;;
    --streams) streams=$2; shift 2 ;;
    --envs) envs=$2; shift 2 ;;
    --delays) delays=$2; shift 2 ;;
    --ttff) ttff=1; shift ;;
    --bench-args) extra=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) inputs+=("$1"); shift ;;
  esac
done
bench=$(command -v nvdec_bench || echo target/release/examples/nvdec_bench)
out=${OUT:-/tmp}/nvdec-ablation-$(date +%Y%m%d-%H%M%S).txt
smi() { timeout 600 nvidia-smi --query-gpu=clocks.video,utilization.decoder --format=csv,noheader,nounits -lms 100 >"$1" 2>/dev/null & echo $!; }
assign() { [[ $1 == - ]] || echo "${1//,/ }"; }
mean() { awk -F, '{v+=$1; u+=$2; n++} END {if (n) printf "%.0f MHz %.0f%%", v/n, u/n; else printf "- -"}' "$1"; }

{
  echo "# nvdec ablation $(date -u +%FT%TZ)"
  # No clocks.max.video: drivers without that field (580) refuse the whole query.
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || true
  printf '%-22s %-30s %-5s %-7s %-4s %9s %8s %7s %-32s %-22s %-22s %-20s %s\n' input setting delay streams rep frames fps cpu_ms "driver us/frame (dec map copy)" "session fps" "create/barrier ms/n" "stalls n/ms/max" clock/util
  for input in "${inputs[@]}"; do
    per=$("$bench" probe "$input" | python3 -c 'import json,sys; print(json.load(sys.stdin)["inputs"][0]["frames"])' 2>/dev/null || echo 300)
    for n in $streams; do
      # Each session decodes about frames/n... no: every session decodes `frames` frames
      # when alone, and the total stays near frames*min(n,7) so runs last a few seconds.
      total=$((frames * (n < 7 ? n : 7)))
      passes=$(( (total / n + per - 1) / per )); ((passes < 1)) && passes=1
      for mode in $envs; do
        for delay in $delays; do
          for ((r = 1; r <= reps; r++)); do
            tmp=$(mktemp); pid=$(smi "$tmp")
            line=$(env $(assign "$mode") timeout 120 "$bench" --input "$input" --streams "$n" \
              --repeat-input "$passes" --display-delay "$delay" --no-mem --quiet $extra 2>/dev/null || true)
            kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
            python3 - "$line" "$(basename "$input")" "$mode" "$delay" "$n" "$r" "$(mean "$tmp")" <<'PY'
import json, sys
j = json.loads((sys.argv[1].splitlines() or ["{}"])[0] or "{}")
name, mode, delay, n, r, smi = sys.argv[2:8]
d = j.get("driver_calls") or {}
us = " ".join(f"{(d.get(k) or {}).get('us_per_frame', 0):.0f}/{(d.get(k) or {}).get('us_per_call', 0):.0f}" for k in ("decode_picture", "map", "copy"))
mode = mode.replace("VIDEO_HW_NVDEC_", "")
sf = j.get("session_fps") or [0]
spread = f"{min(sf):.0f}-{max(sf):.0f} sum {sum(sf):.0f}"
def per_call(key):
    c = (j.get("startup") or {}).get(key) or {}
    return f"{c.get('ms', 0) / max(c.get('calls', 0), 1):.1f}/{c.get('calls', 0)}"
create = per_call("create_decoder") + " " + per_call("creation_barrier")
# Calls of another session that stalled (over 5 ms: behind a decoder creation, say).
held = [d.get(k) or {} for k in ("decode_picture", "map", "copy", "unmap")]
stalls = f"{sum(c.get('long_calls', 0) for c in held)}/{sum(c.get('long_ms', 0) for c in held):.0f}/{max([c.get('longest_ms', 0) for c in held]):.0f}"
print(f"{name[:22]:<22} {mode[:30]:<30} {delay:<5} {n:<7} {r:<4} {j.get('frames_total', 0):>9} {j.get('fps', 0):>8.0f} {j.get('cpu_ms_per_frame') or 0:>7.3f} {us:<32} {spread:<22} {create:<22} {stalls:<20} {smi}{'' if j.get('ok') else '  FAILED: ' + str(j.get('errors') or j)[:200]}")
PY
            rm -f "$tmp"
          done
        done
      done
    done
    if ((ttff)); then
      for warm in "" "--warm"; do
        for mode in $envs; do
          vals=()
          for ((r = 1; r <= 5; r++)); do
            v=$(env $(assign "$mode") timeout 60 "$bench" --input "$input" --max-frames 1 --no-mem --quiet $warm 2>/dev/null |
              python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["ttff_ms_median"], j.get("open_ms_median"))' || echo "- -")
            vals+=("$v")
          done
          echo "ttff $(basename "$input") $mode ${warm:-cold}: (ttff_ms open_ms) x5: ${vals[*]}"
        done
      done
    fi
  done
} | tee "$out"
