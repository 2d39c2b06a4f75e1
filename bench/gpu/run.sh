#!/usr/bin/env bash
# The CUDA check on a GPU host, in one go (bench/gpu/README.md): GPU info, the addon (rebuilt
# here with cmake when it does not load or reports CUDA unavailable), CUDA-vs-CPU parity,
# copy bandwidth, our fused steps and PyTorch's on the same cases, and the closing table.
#
# usage: bench/gpu/run.sh [OUTDIR]        (default: /tmp/fused-optim-gpu-<time>)
# needs, travelling with the tree: .gpu/node.xz (no Node on the host), build/Release, dist/,
# and for a rebuild node_modules/node-addon-api + node_modules/node-api-headers (headers only).
# Exit status: 0 when every check passed, 1 when one failed, 2 when CUDA could not be used.
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

stamp "== GPU"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || echo "nvidia-smi failed"
GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)

stamp "== Node"
if [[ -z ${FO_FORCE_PORTABLE_NODE:-} ]] && command -v node >/dev/null 2>&1; then
  NODE=$(command -v node)
else
  mkdir -p /tmp/fo-node-bin
  if [[ ! -x /tmp/fo-node-bin/node ]]; then
    { xz -dc .gpu/node.xz > /tmp/fo-node-bin/node ||
      python3 -c "import lzma, shutil; shutil.copyfileobj(lzma.open('.gpu/node.xz'), open('/tmp/fo-node-bin/node', 'wb'))"; } &&
      chmod +x /tmp/fo-node-bin/node || { echo "cannot unpack .gpu/node.xz"; exit 2; }
  fi
  ln -sf /tmp/fo-node-bin/node /tmp/node
  NODE=/tmp/fo-node-bin/node
  export PATH=/tmp/fo-node-bin:$PATH   # cmake's `node -p` finds it too
fi
"$NODE" --version
[[ -f dist/index.js ]] || { echo "dist/ is missing: run 'npm run build:ts' before sending the tree"; exit 2; }

probe() {  # prints buildInfo().cuda of the addon at $1; exit 0 when CUDA is available
  FUSED_OPTIM_BINARY="$1" "$NODE" -e "
    const a = require(process.env.FUSED_OPTIM_BINARY);
    const c = a.buildInfo().cuda;
    console.log(JSON.stringify(c));
    process.exit(c.available ? 0 : 1);"
}

stamp "== addon"
ADDON=$ROOT/build/Release/fused_optim.node
REBUILT=no
if ! probe "$ADDON"; then
  stamp "REBUILD: $ADDON does not load or reports CUDA unavailable; rebuilding here with cmake (nvcc $(nvcc --version 2>/dev/null | tail -1))"
  B=/tmp/fo-build-gpu
  INC="$ROOT/node_modules/node-api-headers/include;$ROOT/node_modules/node-addon-api"
  if cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Release -DFUSED_OPTIM_CUDA=ON \
       -DCMAKE_JS_INC="$INC" -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$B/Release" > "$OUT/rebuild.log" 2>&1 &&
     cmake --build "$B" -j "$(nproc)" >> "$OUT/rebuild.log" 2>&1; then
    ADDON=$B/Release/fused_optim.node
    REBUILT=yes
    stamp "REBUILD done: $ADDON"
    probe "$ADDON" || { echo "CUDA is still unavailable with the rebuilt addon"; tail -5 "$OUT/rebuild.log"; exit 2; }
  else
    echo "REBUILD FAILED (see $OUT/rebuild.log):"; tail -30 "$OUT/rebuild.log"; exit 2
  fi
fi
export FUSED_OPTIM_BINARY=$ADDON
echo "addon: $ADDON (rebuilt here: $REBUILT)"
echo "$REBUILT" > "$OUT/rebuilt.txt"

stamp "== CUDA checks and our timings (bench/gpu/check.mjs)"
"$NODE" bench/gpu/check.mjs --out "$OUT"
CHECK=$?

stamp "== PyTorch (bench/gpu/torch_bench.py)"
if [[ -f $OUT/ours.json ]]; then
  python3 bench/gpu/torch_bench.py "$OUT/ours.json" "$OUT/torch.json" || echo "torch_bench.py failed"
fi

stamp "== report"
"$NODE" bench/gpu/report.mjs "$OUT" "${GPU_NAME:-}"
[[ $REBUILT == yes ]] && echo "NOTE: the addon was rebuilt on this host (build/Release did not give CUDA)."
stamp "done; results in $OUT"
exit $CHECK
