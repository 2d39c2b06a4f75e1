#!/usr/bin/env bash
# The CUDA check on a GPU host, in one go (bench/gpu/README.md): GPU info, a Node.js to run it
# with, the addon (rebuilt here with cmake only when a rebuild can help), CUDA-vs-CPU parity,
# copy bandwidth, our fused steps and PyTorch's on the same cases, and the closing table.
#
# usage: bash bench/gpu/run.sh [OUTDIR]        (default: /tmp/fused-optim-gpu-<time>)
# needs, travelling with the tree: build/Release (the addon), dist/, and where the host has no
# Node >= 20: .gpu/node.xz (scripts/portable-node.sh); for a rebuild, node_modules/node-addon-api
# and node_modules/node-api-headers (headers only).
# environment:
#   FO_MOCK=1               dry run without a GPU: bench/gpu/mock-addon.cjs, sizes / 2^10,
#                           no PyTorch (what the scripts do, not what a GPU does)
#   FUSED_OPTIM_BINARY=...  the addon to check instead of build/Release/fused_optim.node
#   FO_FORCE_PORTABLE_NODE=1  use .gpu/node.xz even where the host has a suitable node
#   FO_CHECK_ARGS="..."     more arguments for check.mjs, split at spaces (e.g. --skip-bench --iters 50)
#   FO_CASES=REGEX          only the parity cases whose name matches (check.mjs --cases)
# Exit status: 0 when every check passed, 1 when one failed, 2 when the check could not run
# (no usable Node, CUDA unusable here: no device, a driver too old, a failed rebuild).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${1:-/tmp/fused-optim-gpu-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
exec > >(tee "$OUT/run.log") 2>&1
trap 'sleep 1' EXIT   # let tee write the last lines before the results are collected
T0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - T0 ))s] $*"; }
die() { local code=$1; shift; echo "FATAL: $*"; exit "$code"; }

MIN_NODE_MAJOR=20   # package.json "engines"
MOCK=${FO_MOCK:-}
CHECK_ARGS=()
if [[ -n $MOCK ]]; then
  export FUSED_OPTIM_BINARY=$ROOT/bench/gpu/mock-addon.cjs
  CHECK_ARGS+=(--scale 10 --iters 5)
  echo "MOCK RUN (FO_MOCK=1): no GPU is used; the numbers mean nothing"
fi
# shellcheck disable=SC2206
[[ -n ${FO_CHECK_ARGS:-} ]] && CHECK_ARGS+=(${FO_CHECK_ARGS})
[[ -n ${FO_CASES:-} ]] && CHECK_ARGS+=(--cases "$FO_CASES")

stamp "== GPU"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || echo "nvidia-smi failed"
  GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
else
  echo "no nvidia-smi on this host"
  GPU_NAME=
fi

stamp "== Node"
# Prints the version of node binary $1 and succeeds when it runs and is new enough.
node_usable() {
  local v
  if ! v=$("$1" --version 2>&1); then
    echo "  $1 does not run: ${v:-no output}"
    return 1
  fi
  if [[ ! $v =~ ^v([0-9]+)\. ]] || (( BASH_REMATCH[1] < MIN_NODE_MAJOR )); then
    echo "  $1 is Node $v; this package needs >= $MIN_NODE_MAJOR"
    return 1
  fi
  echo "  $1: Node $v"
}
unpack_node() {  # .gpu/node.xz -> $1
  { command -v xz >/dev/null 2>&1 && xz -dc .gpu/node.xz > "$1"; } ||
    python3 -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open('.gpu/node.xz'), open(sys.argv[1], 'wb'))" "$1"
}
NODE=
if [[ -z ${FO_FORCE_PORTABLE_NODE:-} ]] && command -v node >/dev/null 2>&1; then
  node_usable "$(command -v node)" && NODE=$(command -v node)
fi
if [[ -z $NODE ]]; then
  [[ -f .gpu/node.xz ]] || die 2 "no Node >= $MIN_NODE_MAJOR on this host and no .gpu/node.xz (make it with scripts/portable-node.sh before sending the tree)"
  echo "  portable Node from .gpu/node.xz ($(cat .gpu/node.version 2>/dev/null || echo 'version unknown'))"
  # A folder where the binary can run: /tmp may be mounted noexec.
  # The working tree comes last: a 100 MB binary there must not travel back with it.
  for dir in "${TMPDIR:-/tmp}/fo-node-bin" /tmp/fo-node-bin /dev/shm/fo-node-bin /var/tmp/fo-node-bin \
      "${HOME:-/nonexistent}/.cache/fo-node-bin" "$ROOT/.gpu/bin"; do
    mkdir -p "$dir" 2>/dev/null || continue
    # Unpack unless an earlier run left the same version there.
    if [[ ! -x $dir/node || $("$dir/node" --version 2>/dev/null) != "v$(cat .gpu/node.version 2>/dev/null)" ]]; then
      unpack_node "$dir/node" && chmod +x "$dir/node" || { echo "  cannot unpack into $dir"; continue; }
    fi
    if node_usable "$dir/node"; then NODE=$dir/node; break; fi
  done
  [[ -n $NODE ]] || die 2 "the portable Node runs nowhere here (noexec mounts?)"
fi
export PATH="$(dirname "$NODE"):$PATH"   # cmake's `node -p` (rebuild) finds the same one
[[ -f dist/index.js ]] || die 2 "dist/ is missing: run 'npm run build:ts' before sending the tree"

# Prints buildInfo().cuda of the addon at $1. Exit 0: CUDA available; 1: the addon loads and has
# the CUDA backend, but CUDA is unusable here (no device, driver too old); 3: it does not load;
# 4: it loads but was built without the CUDA backend.
probe() {
  FUSED_OPTIM_BINARY="$1" "$NODE" -e '
    let a;
    try { a = require(process.env.FUSED_OPTIM_BINARY); } catch (e) { console.log(`does not load: ${e.message}`); process.exit(3); }
    const c = a.buildInfo().cuda;
    console.log(JSON.stringify(c));
    process.exit(c.available ? 0 : c.compiled ? 1 : 4);'
}

stamp "== addon"
ADDON=${FUSED_OPTIM_BINARY:-$ROOT/build/Release/fused_optim.node}
REBUILT=no
probe "$ADDON"
P=$?
if (( P == 1 )); then
  die 2 "the addon loads and has the CUDA backend, but CUDA is unusable here (reason above): a rebuild would not help"
elif (( P != 0 )); then
  [[ -n $MOCK ]] && die 2 "the mock addon does not load (build/Release/fused_optim.node is needed behind it)"
  why=$([[ $P == 3 ]] && echo "does not load" || echo "was built without the CUDA backend")
  if ! command -v nvcc >/dev/null 2>&1; then
    for d in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda /usr/local/cuda-*; do
      if [[ -n $d && -x $d/bin/nvcc ]]; then export PATH="$d/bin:$PATH"; break; fi
    done
  fi
  NVCC=$(command -v nvcc) || die 2 "$ADDON $why, and there is no nvcc to rebuild it (not on PATH, CUDA_HOME, /usr/local/cuda*)"
  stamp "REBUILD: $ADDON $why; rebuilding here with cmake ($("$NVCC" --version | tail -1))"
  B=/tmp/fo-build-gpu
  INC="$ROOT/node_modules/node-api-headers/include;$ROOT/node_modules/node-addon-api"
  if cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Release -DFUSED_OPTIM_CUDA=ON -DCMAKE_CUDA_COMPILER="$NVCC" \
       -DCMAKE_JS_INC="$INC" -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$B/Release" > "$OUT/rebuild.log" 2>&1 &&
     cmake --build "$B" -j "$(nproc)" >> "$OUT/rebuild.log" 2>&1; then
    ADDON=$B/Release/fused_optim.node
    REBUILT=yes
    stamp "REBUILD done: $ADDON"
    probe "$ADDON" || die 2 "CUDA is still unavailable with the rebuilt addon"
  else
    echo "REBUILD FAILED (see $OUT/rebuild.log):"; tail -30 "$OUT/rebuild.log"; exit 2
  fi
fi
export FUSED_OPTIM_BINARY=$ADDON
echo "addon: $ADDON (rebuilt here: $REBUILT)"
echo "$REBUILT" > "$OUT/rebuilt.txt"

stamp "== CUDA checks and our timings (bench/gpu/check.mjs ${CHECK_ARGS[*]})"
"$NODE" bench/gpu/check.mjs --out "$OUT" ${CHECK_ARGS[@]+"${CHECK_ARGS[@]}"}
CHECK=$?

stamp "== PyTorch (bench/gpu/torch_bench.py)"
if [[ -n $MOCK ]]; then
  echo "skipped: mock run"
elif [[ ! -f $OUT/ours.json ]]; then
  echo "skipped: check.mjs wrote no ours.json"
elif ! python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "skipped: python3 has no PyTorch with CUDA here"
else
  python3 bench/gpu/torch_bench.py "$OUT/ours.json" "$OUT/torch.json" || echo "torch_bench.py failed"
fi

stamp "== report"
if ! "$NODE" bench/gpu/report.mjs "$OUT" "${GPU_NAME:-}"; then
  echo "report.mjs failed"
  (( CHECK == 0 )) && CHECK=1
fi
[[ $REBUILT == yes ]] && echo "NOTE: the addon was rebuilt on this host (build/Release did not give CUDA)."
stamp "done (exit $CHECK); results in $OUT"
exit "$CHECK"
