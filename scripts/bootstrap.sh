#!/usr/bin/env bash
# Installs the pinned toolchain into the repository: forge, cast and anvil (@foundry-rs/*), the
# npm `solc` package behind a native-solc-shaped wrapper, and OpenZeppelin contracts.
# Everything lands in ./node_modules and ./.tools/bin (both git-ignored). Idempotent; when all is
# present it only compares a few file times and returns (a few milliseconds).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bin="$root/.tools/bin"
stamp="$root/node_modules/.temporis-bootstrap"
tools=(forge cast anvil)

up_to_date() {
  [[ -f "$stamp" && "$stamp" -nt package-lock.json && "$stamp" -nt package.json ]] || return 1
  for t in "${tools[@]}" solc; do [[ -x "$bin/$t" ]] || return 1; done
  return 0
}

if up_to_date; then
  exit 0
fi

command -v node >/dev/null || { echo "bootstrap: node (>= 20) and npm are required" >&2; exit 1; }
command -v npm >/dev/null || { echo "bootstrap: npm is required" >&2; exit 1; }

echo "bootstrap: installing pinned npm toolchain (package-lock.json)" >&2
# --ignore-scripts: the @foundry-rs postinstall hooks only print; the binaries come in the
# per-platform optional packages. `npm install` (not `npm ci`) because the lock file lists only the
# platform packages the registry has, which `npm ci` refuses as "out of sync"; with exact pins in
# package.json and the lock file present, `install` resolves to the same versions.
log="$(mktemp)"
if ! npm install --no-audit --no-fund --ignore-scripts --loglevel=error >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "bootstrap: npm install failed (full log: $log)" >&2
  exit 1
fi
rm -f "$log"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) plat=linux-amd64 ;;
  Linux-aarch64) plat=linux-arm64 ;;
  Darwin-arm64) plat=darwin-arm64 ;;
  Darwin-x86_64) plat=darwin-amd64 ;;
  *) echo "bootstrap: unsupported platform $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

mkdir -p "$bin"
for t in "${tools[@]}"; do
  native="$root/node_modules/@foundry-rs/$t-$plat/bin/$t"
  [[ -x "$native" ]] || { echo "bootstrap: $native missing after npm ci" >&2; exit 1; }
  # Link the native binary directly: the npm `bin` shim costs a node start on every call.
  ln -sf "$native" "$bin/$t"
done
ln -sf "$root/scripts/solc-wrapper.cjs" "$bin/solc"

"$bin/forge" --version | head -n1 >&2
"$bin/solc" --version | tail -n1 >&2
touch "$stamp"
