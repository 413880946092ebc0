#!/usr/bin/env bash
# Memory and host-link bandwidth beside a peer measured in the same run:
# clpeak's global memory bandwidth and transfer bandwidth (OpenCL) against
# hashflops' stream copy/triad and transfer upload/download plateaus.
#
#   bench/peer-memory.sh [extra hashflops run flags, e.g. --adapter 0 --full]
#
# Ratios above 1.0 mean hashflops measured more than clpeak. Both tools see
# the same hardware only when clpeak's OpenCL device is the adapter
# hashflops picked (on a machine without a GPU: PoCL and lavapipe, both on
# the CPU). Check `uptime` first: a busy machine makes both numbers noisy.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v clpeak >/dev/null || need+=(clpeak)
compgen -G "/etc/OpenCL/vendors/*.icd" >/dev/null || need+=(pocl-opencl-icd)
if ((${#need[@]})); then
    echo "installing ${need[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get install -y "${need[@]}"
fi

# HASHFLOPS=path/to/binary skips the build (a machine without a toolchain).
hashflops="${HASHFLOPS:-}"
if [ -z "$hashflops" ]; then
    cargo build --release --quiet
    hashflops="${CARGO_TARGET_DIR:-target}/release/hashflops"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "load: $(uptime)"
echo "clpeak: global memory and transfer bandwidth ..."
clpeak --global-bandwidth --transfer-bandwidth >"$work/clpeak.txt" 2>&1 || {
    cat "$work/clpeak.txt" >&2
    exit 1
}
echo "hashflops: stream, transfer ..."
"$hashflops" run --suite stream,transfer --json "$work/hashflops.json" --quiet "$@" >"$work/hashflops.txt"

python3 - "$work/clpeak.txt" "$work/hashflops.json" <<'EOF'
import json
import re
import sys

clpeak_txt, hf_json = sys.argv[1], sys.argv[2]

# clpeak prints "Global memory bandwidth (GBPS)" then "float16 : 21.09"
# lines, and "Transfer bandwidth (GBPS)" then "enqueueWriteBuffer : 14.07"
# lines; the map/unmap lines time no data movement and are left out.
section = None
memory, upload, download = [], [], []
device = None
for line in open(clpeak_txt):
    s = line.strip()
    if s.startswith("Device:"):
        device = device or s.split(":", 1)[1].strip()
    if s.startswith("Global memory bandwidth"):
        section = "memory"
        continue
    if s.startswith("Transfer bandwidth"):
        section = "transfer"
        continue
    m = re.match(r"^(.*?)\s*:\s*([0-9.]+)$", s)
    if not m:
        continue
    name, value = m.group(1).strip(), float(m.group(2)) * 1e9
    if section == "memory" and name.startswith("float"):
        memory.append(value)
    elif section == "transfer":
        if name.startswith("enqueueWriteBuffer") or name == "memcpy to mapped ptr":
            upload.append(value)
        elif name.startswith("enqueueReadBuffer") or name == "memcpy from mapped ptr":
            download.append(value)

doc = json.load(open(hf_json))
rows = doc["rows"]


def hf(kernel, metric):
    for r in rows:
        if r["kernel"] == kernel and r["metric"] == metric:
            return r
    sys.exit(f"hashflops produced no {kernel} {metric} row")


def gb(x):
    return f"{x / 1e9:8.2f} GB/s"


adapter = doc["adapters"][0]["name"] if doc.get("adapters") else "?"
print()
print(f"hashflops adapter: {adapter}")
print(f"clpeak device:     {device}")
print()
print(f"{'measure':34} {'hashflops':>13} {'clpeak':>13} {'ratio':>7}")
if not memory or not upload or not download:
    sys.exit("could not read clpeak's figures; its output was:\n" + open(clpeak_txt).read())
peer_mem = max(memory)
peer_up = max(upload)
peer_down = max(download)
lines = [
    ("stream copy vs global memory", hf("copy", "bandwidth"), peer_mem),
    ("stream triad vs global memory", hf("triad", "bandwidth"), peer_mem),
    ("upload (h2d_write_buffer) vs write", hf("h2d_write_buffer", "plateau"), peer_up),
    ("upload (h2d_staging) vs write", hf("h2d_staging", "plateau"), peer_up),
    ("download (d2h) vs read", hf("d2h", "plateau"), peer_down),
]
for name, row, peer in lines:
    flag = "" if row["verified"] else "  (unverified)"
    print(f"{name:34} {gb(row['value'])} {gb(peer)} {row['value'] / peer:6.2f}x{flag}")
best_up = max(hf("h2d_write_buffer", "plateau")["value"], hf("h2d_staging", "plateau")["value"])
print(f"{'best upload vs write':34} {gb(best_up)} {gb(peer_up)} {best_up / peer_up:6.2f}x")
print()
print("clpeak's figures: best float width for global memory; best of blocking and")
print("non-blocking enqueue and mapped memcpy for each transfer direction.")
for n in doc.get("notes", []):
    print("note:", n)
EOF
