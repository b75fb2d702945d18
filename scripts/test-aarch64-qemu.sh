#!/usr/bin/env bash
# The aarch64 (NEON) YUV → RGB kernel's tests, run for real on an x86-64 Linux host under
# QEMU user emulation: cross-compiled for aarch64-unknown-linux-gnu, each test binary run by
# `qemu-aarch64` against Debian's aarch64 libc (docs/transforms.md, "Speed (CPU)").
#
#   scripts/test-aarch64-qemu.sh               # the conversion's tests: pixels::transform
#   scripts/test-aarch64-qemu.sh pixels::      # any filter of the library's unit tests
#
# Run by hand, not by .ci/run (it costs minutes of CI's 2 cores): after a change to the
# kernels (`crates/video-hw/src/pixels/transform/rgb_kernel.rs`, `rgb_neon.rs`,
# `rgb_pairs.rs`). Nobody here has aarch64 hardware: this proves the NEON kernel's bytes
# (the same as the portable loops'), never its speed.
#
# Needs (Debian 12): `apt-get install -y qemu-user gcc-aarch64-linux-gnu g++-aarch64-linux-gnu`
# and `rustup target add aarch64-unknown-linux-gnu`. The build scripts' C and C++ (OpenH264's
# C++ and its aarch64 NEON assembly, through the `cc` crate) are compiled by the cross gcc/g++
# named below; `--no-default-features` leaves the `asm` feature off, so rav1d and rav1e
# assemble nothing (their Rust code paths run). Its own target directory (`CARGO_TARGET_DIR`,
# default target/aarch64-qemu) keeps the cross build apart from the host's: the first build
# takes about 10 minutes on 2 cores, later ones recompile the library alone.
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-pixels::transform}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/aarch64-qemu}
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export CXX_aarch64_unknown_linux_gnu=aarch64-linux-gnu-g++
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
export CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=line-tables-only
for tool in qemu-aarch64 aarch64-linux-gnu-gcc aarch64-linux-gnu-g++; do
  command -v "$tool" >/dev/null || { echo "error: $tool missing (see this script's header)" >&2; exit 2; }
done
nice -n 19 cargo test --target aarch64-unknown-linux-gnu -p video-hw --lib --no-default-features "$filter"
