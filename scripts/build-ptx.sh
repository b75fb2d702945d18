#!/usr/bin/env bash
# Compiles the NVDEC conversion kernels to PTX. Needs nvcc (CUDA toolkit); run it on a
# machine that has one (the GPU machine does), then commit the .ptx next to the .cu.
# The PTX targets compute_75 (Turing and newer); the driver JIT-compiles it at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
src=crates/video-hw/src/backend/nvidia/kernels/convert.cu
out=${1:-crates/video-hw/src/backend/nvidia/kernels/convert.ptx}
nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
"$nvcc" -ptx -arch=compute_75 -O3 "$src" -o "$out"
echo "wrote $out"
