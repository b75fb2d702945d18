#!/usr/bin/env bash
# Many NVDEC streams over several GPUs: runs nvdec_bench (no peers) with sessions on one GPU and
# with `DecoderConfig::spread_over_gpus` (`--spread-over-gpus`), and prints one line per run: fps,
# CPU per frame, and how many sessions landed on each GPU. A check that spreading works and what it
# gives, not the benchmark of record (scripts/bench-nvdec.sh).
#
# usage: scripts/nvdec-multi-gpu.sh [--reps R] [--streams "7 14 28"] [--repeat-input K] [--warm] INPUT
# --warm: nvdec_bench --warm (Decoder::prepare before the clock; with spreading, every GPU).
# On the GPU machine (a kind with 2+ GPUs): bash .gpu/run.sh bash scripts/nvdec-multi-gpu.sh .gpu/data/...
set -euo pipefail
reps=3 streams="7 14 28" repeat=10 input="" warm=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --streams) streams=$2; shift 2 ;;
    --repeat-input) repeat=$2; shift 2 ;;
    --warm) warm=(--warm); shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) input=$1; shift ;;
  esac
done
[[ -n "$input" ]] || { echo "nvdec-multi-gpu: no INPUT" >&2; exit 2; }
bench=$(command -v nvdec_bench || echo target/release/examples/nvdec_bench)
echo "# nvdec multi-GPU $(date -u +%FT%TZ) ${warm[*]:-cold processes}"
nvidia-smi --query-gpu=index,name,driver_version --format=csv,noheader 2>/dev/null || true
printf '%-8s %-8s %-4s %9s %8s %8s  %s\n' streams spread rep fps cpu_ms wall_s "sessions per GPU"
for n in $streams; do
  for rep in $(seq 1 "$reps"); do
    for spread in no yes; do
      flag=()
      [[ $spread == yes ]] && flag=(--spread-over-gpus)
      json=$(timeout 120 "$bench" --input "$input" --streams "$n" --repeat-input "$repeat" --no-mem "${warm[@]}" "${flag[@]}" 2>/dev/null | tail -1) || true
      python3 - "$n" "$spread" "$rep" "$json" <<'EOF'
import json, re, sys
n, spread, rep, raw = sys.argv[1:5]
try:
    j = json.loads(raw)
except ValueError:
    print("%-8s %-8s %-4s FAILED: %s" % (n, spread, rep, raw[:200]))
    sys.exit(0)
per = {}
for backend, k in (j.get("sessions_per_backend") or {}).items():
    m = re.search(r"GPU (\d+)", backend)
    per["GPU " + (m.group(1) if m else "?")] = k
ok = "" if j.get("ok") else "  NOT OK: %s" % j.get("errors")
print("%-8s %-8s %-4s %9.0f %8.3f %8.3f  %s%s" % (n, spread, rep, j.get("fps") or 0, j.get("cpu_ms_per_frame") or 0,
                                                j.get("wall_s") or 0, ", ".join("%s: %d" % kv for kv in sorted(per.items())), ok))
EOF
    done
  done
done
