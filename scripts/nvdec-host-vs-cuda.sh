#!/usr/bin/env bash
# The library with 7 NVDEC streams of the HEVC clip in one process: CUDA NV12 output against
# host NV12 and host YUV420P (host should reach >= 90% of CUDA), 3 interleaved rounds at 10
# and at 30 repeats of the clip. Inputs staged with gpu-stage --data bench/inputs/host:
#   bash .gpu/run.sh bash scripts/nvdec-host-vs-cuda.sh
b=.gpu/bin/nvdec_bench; f=.gpu/data/bench/inputs/host/sample-10s.h265
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
for k in 10 30; do for round in 1 2 3; do for o in cuda-nv12 host-nv12 host-yuv420p; do
  timeout 120 $b run --input $f --streams 7 --repeat-input $k --chunk 1m --output $o --no-mem 2>/dev/null | tail -1 | python3 -c "
import json,sys; j=json.load(sys.stdin); print('repeat $k round $round $o fps %.0f wall_s %.2f frames %s ok %s' % (j['fps'], j['wall_s'], j.get('frames_total'), j.get('ok')), flush=True)"
done; done; done
