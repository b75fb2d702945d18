#!/usr/bin/env bash
# Sustained NVDEC decode on one GPU against every GPU of the machine (issue: 2 GPUs >= 1.9x
# one, all of them at full rate): nvdec_bench with 7 streams on GPU 0, then 7 per GPU spread
# over the GPUs, for the HEVC clip and the H.264 6 Mb/s input; then ONE stream split over
# the engines (segmented: 7 sessions on GPU 0, then 7 per GPU). Prints, per run:
#   fps       every frame over the run's wall time, start-up included (the cold figure);
#   steady    each stream's frames after its own first frame over the time after it,
#             summed (start-up left out: the steady rate);
#   ttff_ms   the slowest stream's open -> first frame (cold start).
# SCALE=K multiplies the inputs' repeat counts (1: ~26 s per run on one H200; 2: ~55 s).
# ROUNDS=N rounds (default 2). GPUS=N uses the first N GPUs (default: all). MODES picks
# "streams", "segmented" or both (default); INPUTS_LIST="file:repeats ..." the inputs. On a machine of several GPUs, inputs staged with
# gpu-stage --data bench/inputs/host:
#   bash .gpu/run.sh bash scripts/nvdec-sustained-gpus.sh
d=${INPUTS:-.gpu/data/bench/inputs/host}
bench=$(command -v nvdec_bench || echo .gpu/bin/nvdec_bench)
gpus=${GPUS:-$(nvidia-smi -L | wc -l)}
scale=${SCALE:-1}
rounds=${ROUNDS:-2}
modes=${MODES:-streams segmented}
inputs=${INPUTS_LIST:-"sample-10s.h265:100 h264-1080p-6m.h264:60"}
nvidia-smi --query-gpu=index,name,driver_version --format=csv,noheader
echo "# sustained NVDEC over 1 and $gpus GPUs $(date -u +%FT%TZ): nvdec_bench run --output cuda-nv12 --chunk 1m --no-mem, SCALE=$scale"
echo "# streams: one GPU = 7 streams on GPU 0, all = $((7 * gpus)) streams with --spread-over-gpus"
echo "# segmented: one stream of the input repeated, split over 7 sessions on GPU 0 / $((7 * gpus)) spread over the GPUs"
report() { # round input mode kind: reads nvdec_bench's JSON line
  python3 -c "
import json,sys,re
j=json.load(sys.stdin); per={}
seg=j.get('segmented') or {}
for b,n in ((seg.get('sessions_per_backend') if seg else None) or j.get('sessions_per_backend') or {}).items():
    m=re.search(r'GPU (\d+)',b); per['GPU '+(m.group(1) if m else '?')]=n
steady={}
for b,f in (j.get('steady_fps_per_backend') or {}).items():
    m=re.search(r'GPU (\d+)',b); steady['GPU '+(m.group(1) if m else '?')]=round(f)
print('$1', '$2', '$4', '$3', 'streams', j.get('streams'), 'sessions', j.get('sessions'), 'fps %.0f'%j['fps'], 'steady %.0f'%j.get('steady_fps',0), 'wall_s %.2f'%j['wall_s'], 'ttff_ms_max', j.get('ttff_ms_max'), 'frames', j.get('frames_total'), 'ok', j.get('ok'), per, 'steady per GPU', steady, 'cpu_s', j.get('cpu_s'), flush=True)"
}
for rep in $(seq 1 "$rounds"); do
for spec in $inputs; do
  set -- ${spec%%:*} ${spec##*:}; f=$d/$1; k=$(($2 * scale))
  for kind in $modes; do
    for mode in one all; do
      if [ $kind = streams ]; then
        if [ $mode = one ]; then args="--streams 7"; else args="--streams $((7 * gpus)) --spread-over-gpus"; fi
        passes=$k
      else
        # One stream as long as the 7 streams' run together.
        if [ $mode = one ]; then args="--streams 1 --segmented 7"; else args="--streams 1 --segmented $((7 * gpus)) --spread-over-gpus"; fi
        passes=$((7 * k))
      fi
      timeout 280 "$bench" run --input $f --repeat-input $passes --chunk 1m --output cuda-nv12 --no-mem $args 2>/dev/null \
        | tail -1 | report "$rep" "$1" "$mode" "$kind"
    done
  done
done; done
