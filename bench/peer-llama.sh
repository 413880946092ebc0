#!/usr/bin/env bash
# hashflops' llm suite beside llama.cpp's own Vulkan MUL_MAT kernels, on the
# same Vulkan adapter, in one run: weight bytes per second per type and shape.
#
# llama.cpp comes from the package registry (llama-cpp-python's source
# archive vendors it; bench/llama-cpp.sh fetches, patches and builds it);
# only test-backend-ops is built, once, into a cache folder. Its perf mode
# is fed the Llama-2 matrix shapes through a test file (one MUL_MAT per
# shape: n=1 for decode, n=512 for prefill).
#
#   bench/peer-llama.sh                 # build if needed, run both, print ratios
#   bench/peer-llama.sh --build-only    # only build the peer
#   PEER_CACHE=/path bench/peer-llama.sh
#   GGML_VK_VISIBLE_DEVICES=0 picks ggml's Vulkan device (CPU devices are
#   hidden unless named, so the default here is 0: lavapipe on this machine).
#   HASHFLOPS_ARGS="--adapter 0" picks hashflops' adapter (default: --adapter 0).
#   PEER_MAX_RUNS caps llama.cpp's repeats per graph (default 4 on a CPU
#   adapter, where one run of a 7B matrix takes a sizeable part of a second).
#   KEEP=DIR keeps the raw outputs (hashflops JSON, llama.cpp's output).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=bench/llama-cpp.sh
. bench/llama-cpp.sh
peer=$llama_bin/test-backend-ops

llama_cpp_build test-backend-ops
if [ "${1:-}" = "--build-only" ]; then
    echo "$peer"
    exit 0
fi

bin=${HASHFLOPS:-${CARGO_TARGET_DIR:-target}/release/hashflops}
cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GGML_VK_VISIBLE_DEVICES=${GGML_VK_VISIBLE_DEVICES:-0}
mul_mat=$(awk '/enum ggml_op {/,/GGML_OP_MUL_MAT,/' "$llama_src/ggml/include/ggml.h" |
    sed 's://.*::' | grep -o 'GGML_OP_[A-Z0-9_]*' | grep -n GGML_OP_MUL_MAT | cut -d: -f1)
mul_mat=$((mul_mat - 1))

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2
# shellcheck disable=SC2086
"$bin" run --suite llm --quiet --json "$tmp/hf.json" ${HASHFLOPS_ARGS:---adapter 0 --quick} | tail -n +2

# One MUL_MAT per llama.cpp run: weights TYPE [K x M] times f32 [K x N].
# ggml type ids: f32 0, f16 1, q4_0 2, q8_0 8; type sizes per 32 weights.
peer_us() { # type m k n -> microseconds per run
    local t=$1 m=$2 k=$3 n=$4 id ts
    case $t in q4_0) id=2 ts=18 ;; q8_0) id=8 ts=34 ;; f16) id=1 ts=64 ;; esac
    local rb=$((k * ts / 32)) nb0=$((id == 1 ? 2 : ts))
    echo "$mul_mat 0 $m $n 1 1 0 2 $id $k $m 1 1 $nb0 $rb $((rb * m)) $((rb * m)) 0 $k $n 1 1 4 $((4 * k)) $((4 * k * n)) $((4 * k * n)) -" >"$tmp/case.txt"
    echo "== MUL_MAT $t m=$m k=$k n=$n" >>"$tmp/peer-all.txt"
    "$peer" perf -b Vulkan0 --test-file "$tmp/case.txt" >"$tmp/peer.txt" 2>&1 || true
    tee -a "$tmp/peer-all.txt" <"$tmp/peer.txt" | grep -oE '[0-9.]+ us/run' | head -1 | cut -d' ' -f1
}

echo "load after hashflops: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if python3 -c 'import json,sys; sys.exit(0 if any(r["device_type"] == "cpu" for r in json.load(open(sys.argv[1]))["rows"]) else 1)' "$tmp/hf.json"; then
    export PEER_MAX_RUNS=${PEER_MAX_RUNS:-4}
fi
python3 - "$tmp/hf.json" >"$tmp/plan.txt" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
for r in rows:
    p = dict(kv.split("=", 1) for kv in r["params"].split(";") if "=" in kv)
    if r["kernel"].startswith("prefill_") and r["metric"] == "flops":
        print("prefill", p["format"], p["batch"])
PY
: >"$tmp/peer.tsv"
for t in q4_0 q8_0 f16; do
    for shape in "4096 4096" "11008 4096" "4096 11008"; do
        # shellcheck disable=SC2086
        set -- $shape
        echo -e "decode\t$t\t$1\t$2\t1\t$(peer_us "$t" "$1" "$2" 1)" >>"$tmp/peer.tsv"
    done
done
while read -r _ t batch; do
    for n in $batch 512; do
        echo -e "prefill\t$t\t4096\t4096\t$n\t$(peer_us "$t" 4096 4096 "$n")" >>"$tmp/peer.tsv"
    done
done <"$tmp/plan.txt"
grep -m1 -iE "Device description|ggml_vulkan: 0 =" "$tmp/peer-all.txt" >&2 || true
if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP" && cp "$tmp/hf.json" "$tmp/peer-all.txt" "$tmp/peer.tsv" "$KEEP/"
fi
echo "load after llama.cpp: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 - "$tmp/hf.json" "$tmp/peer.tsv" <<'PY'
import json, sys
bpw = {"q4_0": 18 / 32, "q8_0": 34 / 32, "f16": 2.0}
rows = json.load(open(sys.argv[1]))["rows"]
hf = {}
for r in rows:
    p = dict(kv.split("=", 1) for kv in r["params"].split(";") if "=" in kv)
    if p.get("model") == "llama2-7b":
        hf[(r["kernel"], r["metric"])] = (r, p)
peer = [l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if l.strip()]
print("llama.cpp test-backend-ops MUL_MAT (Vulkan) vs hashflops llm, Llama-2-7B shapes")
for t in ("q4_0", "q8_0", "f16"):
    dec = [(int(m), int(k), float(us)) for kind, tt, m, k, n, us in peer if kind == "decode" and tt == t and us]
    if not dec:
        print(f"{t}: llama.cpp printed no decode timing")
        continue
    for m, k, us in dec:
        print(f"  llama.cpp decode {t} m={m} k={k} n=1: {us:10.1f} us  {m*k*bpw[t]/us/1e3:6.2f} GB/s")
    # a layer: q, k, v, o are 4096x4096, gate and up 11008x4096, down 4096x11008
    times = {(m, k): us for m, k, us in dec}
    layer_us = 4 * times[(4096, 4096)] + 2 * times[(11008, 4096)] + times[(4096, 11008)]
    layer_bytes = (4 * 4096 * 4096 + 3 * 11008 * 4096) * bpw[t]
    peer_bw = layer_bytes / layer_us * 1e6
    got = hf.get((f"decode_{t}", "bandwidth"))
    if got is None or not got[0]["verified"]:
        print(f"  hashflops decode_{t}: no verified row")
        continue
    ratio = got[0]["value"] / peer_bw
    print(f"decode {t}: hashflops {got[0]['value']/1e9:.3f} GB/s, llama.cpp {peer_bw/1e9:.3f} GB/s (one layer's 7 matrices)  hashflops/llama.cpp = {ratio:.2f}  (goal >= 1.0)")
for kind, t, m, k, n, us in peer:
    if kind != "prefill" or not us:
        continue
    m, k, n, us = int(m), int(k), int(n), float(us)
    peer_flops = 2 * m * k * n / us * 1e6
    got = hf.get((f"prefill_{t}", "flops"))
    if got is None or not got[0]["verified"]:
        continue
    print(f"prefill {t} m={m} k={k}: hashflops batch {got[1]['batch']} {got[0]['value']/1e9:.2f} GFLOP/s, llama.cpp n={n} {peer_flops/1e9:.2f} GFLOP/s  hashflops/llama.cpp = {got[0]['value']/peer_flops:.2f}  (goal >= 1.0)")
PY
