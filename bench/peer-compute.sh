#!/usr/bin/env bash
# hashflops' peak f32 rate beside clpeak's, and its matmul beside its own
# peak, on the same machine in one run.
#
# clpeak's single-precision test runs long chains of mad() on float..float16
# vectors; its best width is the device's f32 peak as OpenCL sees it. On a
# machine without a GPU, clpeak runs on the PoCL OpenCL CPU driver and
# hashflops on Mesa's software Vulkan driver, both on the same cores.
# Goals: fp32_fma >= 1.0x clpeak; sgemm >= 0.6x fp32_fma.
#
#   bench/peer-compute.sh                      # both, prints the ratios
#   CLPEAK_ARGS="-p 0 -d 0" bench/peer-compute.sh   # pick clpeak's device
#   HASHFLOPS_ARGS="--full" bench/peer-compute.sh   # bigger matmul
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clpeak >/dev/null 2>&1; then
    echo "installing clpeak and the PoCL OpenCL CPU driver" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clpeak pocl-opencl-icd >/dev/null
fi
cargo build --release --quiet
bin=${HASHFLOPS:-${CARGO_TARGET_DIR:-target}/release/hashflops}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2
# shellcheck disable=SC2086
clpeak --compute-sp ${CLPEAK_ARGS:-} 2>&1 | tee "$tmp/clpeak.txt" | grep -E "Device:|float" || true
# shellcheck disable=SC2086
"$bin" run --suite peak,matmul --quiet --json "$tmp/hf.json" ${HASHFLOPS_ARGS:-} | tail -n +2
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 - "$tmp/clpeak.txt" "$tmp/hf.json" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
# "float16 : 44.16" lines, in GFLOPS; the best vector width is the peak.
rates = [float(v) for v in re.findall(r"^\s*float\d*\s*:\s*([\d.]+)", text, re.M)]
if not rates:
    sys.exit("clpeak printed no single-precision rate; see its output above")
clpeak = max(rates) * 1e9
doc = json.load(open(sys.argv[2]))
rows = {r["kernel"]: r for r in doc["rows"]}
for k in ("fp32_fma", "sgemm"):
    if k not in rows:
        sys.exit(f"hashflops reported no {k} row")
    if not rows[k]["verified"]:
        sys.exit(f"hashflops' {k} is unverified: no ratio")
fma, sgemm = rows["fp32_fma"], rows["sgemm"]
g = lambda r: r["value"] / 1e9
print(f"clpeak float peak:       {clpeak/1e9:8.1f} GFLOPS")
print(f"hashflops fp32_fma:      {g(fma):8.1f} GFLOP/s ({fma['params']})")
if "fp32_mul_add" in rows:
    print(f"hashflops fp32_mul_add:  {g(rows['fp32_mul_add']):8.1f} GFLOP/s")
print(f"hashflops sgemm:         {g(sgemm):8.1f} GFLOP/s ({sgemm['params']})")
if "hgemm" in rows:
    print(f"hashflops hgemm:         {g(rows['hgemm']):8.1f} GFLOP/s")
print(f"fp32_fma / clpeak = {fma['value']/clpeak:.2f}   (goal >= 1.0)")
print(f"sgemm / fp32_fma  = {sgemm['value']/fma['value']:.2f}   (goal >= 0.6)")
PY
