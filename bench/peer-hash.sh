#!/usr/bin/env bash
# hashflops' SHA-256d rate beside hashcat's on the same machine, in one run.
#
# hashcat -m 21400 is sha256(sha256_bin(x)): the same two compressions per
# candidate as Bitcoin's SHA-256d with a midstate, so the ratio compares
# like with like. On a machine without a GPU, hashcat runs on the PoCL
# OpenCL CPU driver and hashflops on Mesa's software Vulkan driver.
#
#   bench/peer-hash.sh            # both, prints hashflops / hashcat
#   HASHCAT_ARGS="-D 2" bench/peer-hash.sh   # pick hashcat's device type
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v hashcat >/dev/null 2>&1; then
    echo "installing hashcat and the PoCL OpenCL CPU driver" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hashcat pocl-opencl-icd >/dev/null
fi
cargo build --release --quiet
bin=${HASHFLOPS:-target/release/hashflops}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# hashcat refuses CPU devices without --force; -D 1 selects them where no GPU exists.
default_args="--force"
if ! "$bin" list --json | python3 -c 'import json,sys; sys.exit(0 if any(a["device_type"] in ("discrete","integrated") for a in json.load(sys.stdin)) else 1)'; then
    default_args="-D 1 --force"
fi
# shellcheck disable=SC2086
(cd "$tmp" && hashcat -b -m 21400 ${HASHCAT_ARGS:-$default_args} 2>&1) | tee "$tmp/hashcat.txt" | grep -E "Speed|Hash-Mode" || true
"$bin" run --suite hash --quiet --json "$tmp/hf.json" | tail -n +2

python3 - "$tmp/hashcat.txt" "$tmp/hf.json" <<'PY'
import json, re, sys
units = {"H/s": 1, "kH/s": 1e3, "MH/s": 1e6, "GH/s": 1e9, "TH/s": 1e12}
rates = [float(v) * units[u] for v, u in re.findall(r"Speed\.#\d+\.*:\s*([\d.]+)\s*([kMGT]?H/s)", open(sys.argv[1]).read())]
if not rates:
    sys.exit("hashcat printed no speed; see its output above")
hashcat = sum(rates)
doc = json.load(open(sys.argv[2]))
row = next(r for r in doc["rows"] if r["kernel"] == "sha256d")
if not row["verified"]:
    sys.exit("hashflops' hash rate is unverified: no ratio")
hf = row["value"]
print(f"hashcat -m 21400: {hashcat/1e6:,.1f} MH/s")
print(f"hashflops sha256d: {hf/1e6:,.1f} MH/s on {row['adapter']} ({row['timing']})")
print(f"hashflops / hashcat = {hf/hashcat:.2f}")
PY
