#!/usr/bin/env bash
# Ethash's random-access read rate beside stream copy's sequential one, on
# the same adapter in the same run: (Ethash hash rate x 8192 B per hash) /
# stream copy bandwidth. Tuned miners reached 90-110 % of a card's spec
# bandwidth with Ethash, so on a GPU with the whole dataset the goal is a
# ratio of 0.9 or more. A cut dataset (a CPU adapter at default scale,
# `comparable=no` in params) is said so: its ratio is no such figure.
#
#   bench/ethash-ratio.sh [extra hashflops run flags, e.g. --adapter 0 --full]
#
# Check the load first (printed): a busy machine makes both numbers noisy.
set -euo pipefail
cd "$(dirname "$0")/.."

# HASHFLOPS=path/to/binary skips the build (a machine without a toolchain).
hashflops="${HASHFLOPS:-}"
if [ -z "$hashflops" ]; then
    cargo build --release --quiet
    hashflops="${CARGO_TARGET_DIR:-target}/release/hashflops"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "load: $(uptime)"
"$hashflops" run --suite stream,ethash --quiet --json "$work/run.json" "$@" >/dev/null
python3 - "$work/run.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
rows = [r for r in doc["rows"] if r["verified"]]
for a in sorted({r["adapter_index"] for r in rows}):
    mine = [r for r in rows if r["adapter_index"] == a]
    eth = [r for r in mine if r["kernel"] == "ethash" and r["metric"] == "hash_rate"]
    copy = [r for r in mine if r["kernel"] == "copy" and r["metric"] == "bandwidth"]
    if not eth or not copy:
        print(f"adapter {a}: no verified ethash and stream copy rows")
        continue
    e, c = max(eth, key=lambda r: r["value"]), max(copy, key=lambda r: r["value"])
    params = dict(kv.split("=", 1) for kv in e["params"].split(";") if "=" in kv)
    reads = e["value"] * 8192
    cut = "comparable" in params
    print(f"adapter {a} {e['adapter']}: ethash {e['value']/1e6:.3f} MH/s (epoch {params.get('epoch', '?')}"
          f"{', dataset cut: not the card figure' if cut else ''}) = {reads/1e9:.2f} GB/s of random reads; "
          f"stream copy {c['value']/1e9:.2f} GB/s; ratio {reads / c['value']:.2f}")
PY
