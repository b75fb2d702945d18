#!/usr/bin/env bash
# Compiles the NVIDIA kernels to PTX; commit the .ptx files next to the .cu files.
#   convert.cu   needs nvcc (CUDA toolkit; the GPU machine has one): scripts/build-ptx.sh convert
#   transform.cu needs only clang (its CUDA front end, no CUDA headers): scripts/build-ptx.sh transform
# With no argument, both. The PTX targets compute_75 / sm_75 (Turing and newer); the driver
# JIT-compiles it at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=crates/video-hw/src/backend/nvidia/kernels
what=${1:-all}
if [[ $what == convert || $what == all ]]; then
  nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
  "$nvcc" -ptx -arch=compute_75 -O3 "$dir/convert.cu" -o "$dir/convert.ptx"
  echo "wrote $dir/convert.ptx"
fi
if [[ $what == transform || $what == all ]]; then
  clang -x cuda --cuda-device-only -nocudainc -nocudalib --cuda-gpu-arch=sm_75 -O3 -S "$dir/transform.cu" -o "$dir/transform.ptx"
  echo "wrote $dir/transform.ptx"
fi
