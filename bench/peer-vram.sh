#!/usr/bin/env bash
# Peer benchmark: memtest_vulkan against `hashflops run --suite vram` on the
# same adapter, one after the other, printing the ratio of check bandwidth
# (hashflops ÷ memtest_vulkan; the goal is >= 1.0).
#
# Usage: bench/peer-vram.sh [MEMTEST_VULKAN_SOURCE_DIR]
#   The source folder may also be given as $MEMTEST_VULKAN_SRC; without
#   either, the script clones github.com/GpuZelenograd/memtest_vulkan into a
#   temporary folder (network needed). It is built with cargo, never copied.
# Environment:
#   ADAPTER        hashflops --adapter selector (default: hashflops's default)
#   MEMTEST_DEVICE memtest_vulkan's device number (default 1: the first)
#   MEMTEST_SECS   how long memtest_vulkan runs (default 30)
#   MEMTEST_BYTES  memory memtest_vulkan may take (default: its own choice)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
src=${1:-${MEMTEST_VULKAN_SRC:-}}
if [[ -z "$src" ]]; then
    src=$(mktemp -d)/memtest_vulkan
    git clone --depth 1 https://github.com/GpuZelenograd/memtest_vulkan "$src" >&2
fi
[[ -f "$src/Cargo.toml" ]] || { echo "peer-vram: $src is not the memtest_vulkan source" >&2; exit 2; }

echo "building memtest_vulkan in $src" >&2
(cd "$src" && cargo build --release >&2)
mtv="$src/target/release/memtest_vulkan"
echo "building hashflops" >&2
(cd "$here" && cargo build --release >&2)
hf="$here/target/release/hashflops"

# memtest_vulkan runs until interrupted; its last report line carries the
# check speed: "... checked:  X GB  Y GB/s ...".
log=$(mktemp)
timeout -s INT "${MEMTEST_SECS:-30}" "$mtv" "${MEMTEST_DEVICE:-1}" ${MEMTEST_BYTES:-} >"$log" 2>&1 || true
peer=$(grep -o 'checked: *[0-9.]*GB *[0-9.]*GB/s' "$log" | tail -1 | sed -E 's/.*GB *([0-9.]+)GB\/s/\1/')
if [[ -z "$peer" ]]; then
    echo "peer-vram: memtest_vulkan reported no check speed; its output:" >&2
    cat "$log" >&2
    exit 1
fi

json=$(mktemp --suffix .json)
args=(run --suite vram --quiet --json "$json")
[[ -n "${ADAPTER:-}" ]] && args+=(--adapter "$ADAPTER")
"$hf" "${args[@]}" >&2
ours=$(python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
r = [r for r in rows if r["kernel"] == "vram_check" and r["verified"]]
print(r[0]["value"] / 1e9 if r else "")' "$json")
[[ -n "$ours" ]] || { echo "peer-vram: no verified vram_check row" >&2; exit 1; }

python3 - "$ours" "$peer" <<'PY'
import sys
# memtest_vulkan's "GB" is 2^30 bytes; hashflops's GB is 10^9.
ours, peer = float(sys.argv[1]), float(sys.argv[2]) * 2**30 / 1e9
print(f"check bandwidth: hashflops {ours:.2f} GB/s, memtest_vulkan {peer:.2f} GB/s")
print(f"ratio hashflops / memtest_vulkan: {ours / peer:.2f} (goal >= 1.0)")
PY
