#!/usr/bin/env bash
# NVDEC decode benchmark: video-hw (examples/nvdec_bench) against ffmpeg 5.1
# (-hwaccel cuda -hwaccel_output_format cuda -f null) and PyNvVideoCodec 2.2.4 (one thread per
# stream, device output), same inputs, interleaved, 1 warm-up + 5 repeats; prints a markdown
# table (median, p95, min, max, ratios, frames check, time to first frame, CPU/frame, device
# memory, video clock and NVDEC utilisation from nvidia-smi) and writes it with every run's raw
# data to bench/results/nvdec[-TAG]-YYYYMMDD-COMMIT.{md,json} (copied to $OUT when set). Plus the soak:
# 14 sessions, >= 2 minutes, random restarts, one corrupt stream, leak checks (PASS/FAIL).
#
# Runs ON the GPU machine (no cargo there): stage and run as bench/README.md says, e.g.
#   bash .gpu/run.sh bash scripts/bench-nvdec.sh --only startup,single,multi \
#        --input .gpu/data/bench/inputs/hevc-1080p-10s.h265
#   bash .gpu/run.sh bash scripts/bench-nvdec.sh --only soak --input ... --input ...
# Sections (--only, comma list): startup, single, multi, soak [all]. Other options:
#   --input FILE (repeatable) [every *.h264/*.h265 under .gpu/data/bench/inputs and bench/inputs]
#   --streams 7,14  --repeats 5  --warmup 1  --frames 3000  --stream-frames 3000 (or --multi-frames TOTAL)  --device 0
#   --contenders video-hw,ffmpeg,pynvc  --deadline 450  --run-timeout 120  --soak-seconds 120
#   --soak-streams 14  --vh-args '...'  --tag NAME  --out-dir DIR  --self-test
# No new run starts after --deadline seconds (the rest is reported as skipped), so one call
# stays within the GPU machine's time limit. A peer that fails shows as "failed" in the table.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec python3 scripts/bench_nvdec.py "$@"
