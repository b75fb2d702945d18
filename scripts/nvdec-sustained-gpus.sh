#!/usr/bin/env bash
# Sustained NVDEC decode on one GPU against every GPU of the machine (issue: 2 GPUs >= 1.9x
# one, all of them at full rate): nvdec_bench with 7 streams on GPU 0, then 7 per GPU spread
# over the GPUs, ~30 s each, 2 rounds, for the HEVC clip and the H.264 6 Mb/s input; prints
# fps, wall time and the slowest first frame (cold start). GPUS=N uses the first N GPUs
# (default: all). On a machine of several GPUs, inputs staged with gpu-stage --data
# bench/inputs/host:
#   bash .gpu/run.sh bash scripts/nvdec-sustained-gpus.sh
d=${INPUTS:-.gpu/data/bench/inputs/host}
bench=$(command -v nvdec_bench || echo .gpu/bin/nvdec_bench)
gpus=${GPUS:-$(nvidia-smi -L | wc -l)}
nvidia-smi --query-gpu=index,name,driver_version --format=csv,noheader
echo "# sustained NVDEC over 1 and $gpus GPUs $(date -u +%FT%TZ): nvdec_bench run --output cuda-nv12 --chunk 1m --no-mem; one GPU = 7 streams on GPU 0, all = $((7 * gpus)) streams with --spread-over-gpus"
for rep in 1 2; do
for spec in "sample-10s.h265 100" "h264-1080p-6m.h264 60"; do
  set -- $spec; f=$d/$1; k=$2
  for mode in one all; do
    if [ $mode = one ]; then args="--streams 7"; else args="--streams $((7 * gpus)) --spread-over-gpus"; fi
    timeout 150 "$bench" run --input $f --repeat-input $k --chunk 1m --output cuda-nv12 --no-mem $args 2>/dev/null | tail -1 | python3 -c "
import json,sys,re
j=json.load(sys.stdin); per={}
for b,n in (j.get('sessions_per_backend') or {}).items():
    m=re.search(r'GPU (\d+)',b); per['GPU '+(m.group(1) if m else '?')]=n
print('$rep', '$1', '$mode', 'streams', j.get('streams'), 'fps %.0f'%j['fps'], 'wall_s %.2f'%j['wall_s'], 'ttff_ms_max', j.get('ttff_ms_max'), 'frames', j.get('frames_total'), 'ok', j.get('ok'), per, flush=True)"
  done
done; done
