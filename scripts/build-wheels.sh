#!/usr/bin/env bash
# The Python package's portable wheels and its sdist, one command:
#
#   scripts/build-wheels.sh [--arch x86_64|aarch64|all] [--out DIR] [--profile release|dev]
#                           [--sdist] [--check-aarch64]
#
# Each wheel is abi3 (CPython 3.9 and later) and tagged manylinux_2_28: it installs on
# glibc 2.28 and later (RHEL/Rocky 8, Ubuntu 20.04, Debian 10 on), x86_64 and aarch64 (Grace
# Hopper, Grace Blackwell). `auditwheel show` checks each tag; a wheel that needs more than
# the tag says fails the script.
#
# Why zig (maturin --zig): zig compiles and links against the glibc version named (2.28),
# whatever the build machine's own (Debian 12 has 2.36, and a wheel linked against it would
# be manylinux_2_36); it is one C/C++ cross compiler for both architectures (OpenH264's C++
# and NEON, rav1d's and rav1e's assembly); and it links its libc++ statically, so the wheel
# needs no libstdc++ of a given version. The alternatives need more: the manylinux Docker
# images need a Docker engine, and Debian's cross g++ links against Debian's glibc. zig,
# maturin and auditwheel all come from PyPI (ziglang, maturin, auditwheel).
#
# --check-aarch64 also builds the aarch64 command-line tool and runs it under
# qemu-user-static (Debian's qemu-user-static and libc6-arm64-cross): OpenH264's NEON paths
# and rav1d's (film grain too) decode fixtures to their reference framemd5, and rav1e's
# encode decodes back. qemu emulates a CPU with every extension the assembly picks at run
# time (dotprod, i8mm, SVE2).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

arch=all out=target/wheels profile=release sdist=0 check_arm=0
while (($#)); do
  case $1 in
    --arch) arch=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --profile) profile=$2; shift 2 ;;
    --sdist) sdist=1; shift ;;
    --check-aarch64) check_arm=1; shift ;;
    *) echo "usage: $0 [--arch x86_64|aarch64|all] [--out DIR] [--profile release|dev] [--sdist] [--check-aarch64]" >&2; exit 2 ;;
  esac
done
case $arch in
  all) arches=(x86_64 aarch64) ;;
  x86_64 | aarch64) arches=("$arch") ;;
  *) echo "--arch $arch: x86_64, aarch64 or all" >&2; exit 2 ;;
esac

# The build tools, in a venv of their own (WHEEL_TOOLS to reuse one), at the versions these
# wheels were made and checked with (cargo-zigbuild: the version maturin carries inside). The
# command-line tool's build below does not reuse the wheel's: each names its own zig wrapper
# as the linker, and the linker is part of every crate's fingerprint (~3 minutes on 2 cores).
pins=(maturin==1.16.0 cargo-zigbuild==0.24.0 ziglang==0.17.1 auditwheel==6.8.2)
tools=${WHEEL_TOOLS:-$root/target/wheel-tools}
if ! "$tools/bin/pip" freeze 2>/dev/null | grep -qx "cargo-zigbuild==0.24.0"; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q --upgrade pip
  "$tools/bin/pip" install -q "${pins[@]}"
fi
export PATH=$tools/bin:$PATH

# zig takes extensions through -mcpu (it reads -march as a CPU name); rav1d's arm64
# assembly names dotprod, i8mm and SVE2 instructions and picks them at run time by the
# CPU's features. Only assembly is compiled with CFLAGS for this target (OpenH264's C++
# takes CXXFLAGS), so no C code is made to need these extensions.
export CFLAGS_aarch64_unknown_linux_gnu="${CFLAGS_aarch64_unknown_linux_gnu:-} -mcpu=generic+dotprod+i8mm+sve2"

mkdir -p "$out"
for a in "${arches[@]}"; do
  target=$a-unknown-linux-gnu
  rustup target add "$target" >/dev/null 2>&1 || true
  echo "== wheel for $target (manylinux_2_28, $profile)"
  rm -f "$out"/video_hw-*-manylinux_2_28_"$a".whl
  maturin build --profile "$profile" --zig --compatibility manylinux_2_28 --target "$target" -o "$out"
  wheel=$(ls "$out"/video_hw-*-manylinux_2_28_"$a".whl)
  report=$(auditwheel show "$wheel")
  echo "$report"
  if ! grep -q "platform tag: \"manylinux_2_28_$a\"" <<<"$report"; then
    echo "error: $wheel is not manylinux_2_28_$a by auditwheel" >&2
    exit 1
  fi
done

if ((sdist)); then
  echo "== sdist"
  rm -f "$out"/video_hw-*.tar.gz
  maturin sdist -o "$out"
fi

if ((check_arm)); then
  echo "== aarch64 command-line tool under qemu-user-static"
  command -v qemu-aarch64-static >/dev/null && [[ -d /usr/aarch64-linux-gnu/lib ]] || {
    echo "error: --check-aarch64 needs Debian's qemu-user-static and libc6-arm64-cross" >&2
    exit 1
  }
  cargo zigbuild --profile "$profile" -p video-hw-cli --target aarch64-unknown-linux-gnu.2.28
  dir=$profile
  [[ $profile == dev ]] && dir=debug
  bin=$root/target/aarch64-unknown-linux-gnu/$dir/video-hw
  python3 scripts/check-aarch64.py "$bin"
fi
