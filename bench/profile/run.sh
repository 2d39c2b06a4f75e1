#!/usr/bin/env bash
# Builds bench/profile/kernel_cost.cc against the CPU kernels with the addon's flags
# (CMakeLists.txt: -O3 -ffp-contract=off -fno-math-errno; -mavx2 -mfma for the AVX2 table)
# and runs it. Needs g++ (or $CXX). Does not touch native/ or build/.
#
#   bench/profile/run.sh [--patch FILE] [kernel_cost args: isa=avx2 threads=2 quick]
#
# --patch FILE applies a patch (made with `git diff` from the repository root) to a temporary
# copy of native/ first and prints the same tables, so "results hash" lines can be compared
# for equal bits: bench/profile/run.sh --patch my-change.patch hash
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cxx="${CXX:-g++}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
src="$root"
if [[ "${1:-}" == "--patch" ]]; then
  patch_file="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
  shift 2
  cp -r "$root/native" "$work/native"
  (cd "$work" && patch -s -p1 < "$patch_file")
  src="$work"
  echo "kernels: native/ with $(basename "$patch_file") applied"
else
  echo "kernels: native/ as checked out ($(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo '?'))"
fi
flags=(-std=c++17 -O3 -ffp-contract=off -fno-math-errno -I"$src")
"$cxx" "${flags[@]}" -c "$src/native/cpu/kernels_baseline.cc" -o "$work/k_baseline.o"
"$cxx" "${flags[@]}" -mavx2 -mfma -c "$src/native/cpu/kernels_avx2.cc" -o "$work/k_avx2.o"
"$cxx" "${flags[@]}" -mavx512f -mavx512vl -mavx512dq -mavx512bw -mavx2 -mfma -mprefer-vector-width=512 \
  -c "$src/native/cpu/kernels_avx512.cc" -o "$work/k_avx512.o"
"$cxx" "${flags[@]}" -pthread "$root/bench/profile/kernel_cost.cc" "$work"/k_*.o -o "$work/kernel_cost"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/kernel_cost" "$@"
