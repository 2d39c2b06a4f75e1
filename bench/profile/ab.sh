#!/usr/bin/env bash
# A/B timing of CPU kernel variants, interleaved in one process (bench/profile/kernel_ab.cc):
# the checkout's native/cpu/kernels.inc and up to 5 patched copies, AVX2 table.
#
#   bench/profile/ab.sh [PATCH...]
#   bench/profile/ab.sh my-kernel-change.patch other-idea.patch
#
# Does not touch native/ or build/. Needs g++ (or $CXX) and patch.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cxx="${CXX:-g++}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
flags=(-std=c++17 -O3 -ffp-contract=off -fno-math-errno -w)
names=("checkout")
dirs=("$root")
for p in "$@"; do
  d="$work/v${#dirs[@]}"
  cp -r "$root/native" "$d-native"
  mkdir -p "$d" && mv "$d-native" "$d/native"
  abs="$(cd "$(dirname "$p")" && pwd)/$(basename "$p")"
  (cd "$d" && patch -s -p1 < "$abs")
  names+=("$(basename "$p" .patch)")
  dirs+=("$d")
done
objs=()
for k in 0 1 2 3 4 5; do
  d="${dirs[$k]:-$root}"
  printf '#include "%s/native/cpu/kernels.h"\nnamespace fo::cpu::v%s { extern const KernelTable table; }\n#define FO_ISA_NS v%s\n#define FO_ISA_NAME "v%s"\n#include "%s/native/cpu/kernels.inc"\n' \
    "$d" "$k" "$k" "$k" "$d" > "$work/v$k.cc"
  "$cxx" "${flags[@]}" -mavx2 -mfma -I"$d" -c "$work/v$k.cc" -o "$work/v$k.o"
  objs+=("$work/v$k.o")
done
"$cxx" "${flags[@]}" -pthread -I"$root" "$root/bench/profile/kernel_ab.cc" "${objs[@]}" -o "$work/kernel_ab"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/kernel_ab" "${names[@]}"
