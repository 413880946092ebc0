#!/usr/bin/env bash
# Peer benchmark: memtest_vulkan against `hashflops run --suite vram` on the
# same adapter, one after the other, printing both check rates (in 10^9 B/s
# and in memtest_vulkan's 2^30 B/s), their ratio (hashflops ÷ memtest_vulkan;
# the goal is >= 1.0) and the load average beside them.
#
# Usage: bench/peer-vram.sh [MEMTEST_VULKAN_SOURCE_DIR]
#   The source folder (a checkout of github.com/GpuZelenograd/memtest_vulkan)
#   may also be given as $MEMTEST_VULKAN_SRC. It is copied into a cache
#   folder, its `mortal` git dependency is replaced by crates.io's
#   `mortal = "0.2.4"` (so it builds from crates.io alone), and it is built
#   there once; later runs reuse the build.
# Environment:
#   PEER_CACHE     cache folder (default ${XDG_CACHE_HOME:-~/.cache}/hashflops-peer)
#   ADAPTER        hashflops --adapter selector (default: hashflops's default)
#   MEMTEST_DEVICE memtest_vulkan's device number (default 1: the first)
#   MEMTEST_SECS   how long memtest_vulkan runs (default 30)
#   MEMTEST_BYTES  memory memtest_vulkan may take (default: as much as
#                  hashflops's vram suite tests, but at least 512 MiB:
#                  memtest_vulkan refuses less than 400 MiB)
#   HASHFLOPS_ARGS extra arguments for `hashflops run` (e.g. --full)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
src=${1:-${MEMTEST_VULKAN_SRC:-}}
[[ -n "$src" ]] && { [[ -f "$src/Cargo.toml" ]] || git -C "$src" cat-file -e HEAD:Cargo.toml 2>/dev/null; } || {
    echo "peer-vram: give the memtest_vulkan source (a folder or a git directory) as the argument or \$MEMTEST_VULKAN_SRC" >&2
    exit 2
}
cache=${PEER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hashflops-peer}
build="$cache/memtest_vulkan"
mtv="$build/target/release/memtest_vulkan"
if [[ ! -x "$mtv" ]]; then
    echo "peer-vram: copying memtest_vulkan into $build and building it (once)" >&2
    mkdir -p "$build"
    # A git directory (bare mirror) is exported; a plain folder is copied.
    if git -C "$src" rev-parse --is-bare-repository 2>/dev/null | grep -qx true; then
        git -C "$src" archive HEAD | tar -x -C "$build"
    else
        (cd "$src" && tar --exclude=./target --exclude=./.git -cf - .) | tar -x -C "$build"
    fi
    sed -i -E 's|^mortal *=.*$|mortal = "0.2.4"|' "$build/Cargo.toml"
    grep -qx 'mortal = "0.2.4"' "$build/Cargo.toml" || {
        echo "peer-vram: could not replace the mortal dependency in $build/Cargo.toml" >&2
        exit 2
    }
    (cd "$build" && cargo build --release >&2)
fi
echo "peer-vram: building hashflops" >&2
(cd "$here" && cargo build --release >&2)
hf="$here/target/release/hashflops"

# hashflops first: its tested size becomes memtest_vulkan's memory limit
# (HASHFLOPS_ARGS=--full tests 256 MiB on a CPU adapter).
json=$(mktemp --suffix .json)
args=(run --suite vram --quiet --json "$json")
[[ -n "${ADAPTER:-}" ]] && args+=(--adapter "$ADAPTER")
# shellcheck disable=SC2206
[[ -n "${HASHFLOPS_ARGS:-}" ]] && args+=(${HASHFLOPS_ARGS})
load_hf_before=$(cut -d' ' -f1-3 /proc/loadavg)
"$hf" "${args[@]}" >&2
load_hf_after=$(cut -d' ' -f1-3 /proc/loadavg)
read -r ours ours_bytes < <(python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
r = [r for r in rows if r["kernel"] == "vram_check" and r["verified"]]
if r:
    kv = dict(p.split("=", 1) for p in r[0]["params"].split(";") if "=" in p)
    print(r[0]["value"], kv.get("bytes", ""))' "$json")
[[ -n "${ours:-}" ]] || { echo "peer-vram: no verified vram_check row" >&2; exit 1; }

# memtest_vulkan is non-interactive when given a device number, and runs
# until SIGINT: it then prints a last report line with the check speed since
# the previous report, "... checked: X GB Y GB/s ..." (GB = 2^30 bytes).
# Reports come at 0 s, 1 s, 6 s, then every 30 s; the speed is taken from
# the last report that covers at least a few seconds.
# memtest_vulkan refuses less than 400 MiB; it tests in 256 MiB windows.
mt_bytes=$(( ours_bytes > 512 * 1048576 ? ours_bytes : 512 * 1048576 ))
log=$(mktemp)
load_mt_before=$(cut -d' ' -f1-3 /proc/loadavg)
# (It writes memtest_vulkan.log into its working folder: a temporary one.)
(cd "$(mktemp -d)" && timeout -k 10 -s INT "${MEMTEST_SECS:-30}" stdbuf -oL -eL \
    "$mtv" "${MEMTEST_DEVICE:-1}" "${MEMTEST_BYTES:-$mt_bytes}" >"$log" 2>&1) || true
load_mt_after=$(cut -d' ' -f1-3 /proc/loadavg)
cat "$log" >&2
peer=$(grep -oE 'checked: *[0-9.]+GB *[0-9.]+GB/s' "$log" | tail -1 | sed -E 's/.*GB *([0-9.]+)GB\/s/\1/')
if [[ -z "$peer" ]]; then
    echo "peer-vram: memtest_vulkan reported no check speed" >&2
    exit 1
fi
tested=$(grep -oE 'Test memory size *[0-9.]+GB' "$log" | head -1 | grep -oE '[0-9.]+GB' || true)

python3 - "$ours" "$peer" "$ours_bytes" "$tested" <<PY
import sys
ours = float(sys.argv[1])            # B/s
peer = float(sys.argv[2]) * 2**30    # memtest_vulkan's GB is 2^30 bytes
print(f"adapter: {'${ADAPTER:-default}'}; memtest_vulkan device {'${MEMTEST_DEVICE:-1}'}")
print(f"tested: hashflops {int(sys.argv[3]) / 2**20:.0f} MiB, memtest_vulkan {sys.argv[4] or '?'} (its GB = 2^30 B)")
print(f"check rate  hashflops      {ours / 1e9:7.3f} GB/s (10^9 B) = {ours / 2**30:7.3f} GiB/s (2^30 B)")
print(f"check rate  memtest_vulkan {peer / 1e9:7.3f} GB/s (10^9 B) = {peer / 2**30:7.3f} GiB/s (2^30 B)")
print(f"ratio hashflops / memtest_vulkan: {ours / peer:.2f} (goal >= 1.0)")
print("load average (1/5/15 min): hashflops $load_hf_before -> $load_hf_after; memtest_vulkan $load_mt_before -> $load_mt_after")
PY
