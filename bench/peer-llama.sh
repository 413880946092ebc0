#!/usr/bin/env bash
# hashflops' llm suite beside llama.cpp's own Vulkan MUL_MAT kernels, on the
# same Vulkan adapter, in one run: weight bytes per second per format.
#
# llama.cpp comes from the package registry (llama-cpp-python's source
# archive vendors it; bench/llama-cpp.sh fetches, patches and builds it);
# only test-backend-ops is built, once, into a cache folder. Its perf mode
# is fed one MUL_MAT through a test file per Llama-2-7B matrix shape (n=1
# for decode, the batch for prefill).
#
# Why two runs per decode shape. test-backend-ops repeats the op n times in
# one graph, computes that graph until a second has passed and prints
# total time / total runs, so whatever a graph costs beyond its runs
# (submission, fences, descriptors) is divided by n only, and PEER_MAX_RUNS
# (the patch that keeps a software adapter's run short) makes n small. Two
# graphs of n1 and n2 runs give the time per run as the slope of the time
# per graph, (n2*avg2 - n1*avg1) / (n2 - n1), without that cost; the
# intercept is printed as the per-graph cost.
# Both counts stay at 10 or more: ggml-vulkan (this version) sleeps on a
# fence for the first four fifths of a graph (n_nodes / 5 > 0) and spins on
# the fence status otherwise. Below 10 nodes it spins for the whole graph,
# which on a CPU adapter takes a core from the shader: on a 2-core lavapipe
# 1 to 9 runs take 19-20 ms each for Q4_0 4096x4096, 10 runs or more about
# 11-13 ms each, so 10 runs finish sooner than 9. A real decode graph has
# hundreds of nodes, so the >= 10 regime is llama.cpp's own.
#
# What the comparison means. llama.cpp re-reads one matrix (9-90 MB) every
# run; where that fits the last-level cache its rate is a cache rate, while
# hashflops' decode streams its resident layers. The summary prints both
# footprints beside the LLC size so that the reader sees which side was
# cached.
#
#   bench/peer-llama.sh                 # build if needed, run both, print ratios
#   bench/peer-llama.sh --build-only    # only build the peer
#   FORMATS="q4_0 q4_k mxfp4"           # formats compared (default: all seven)
#   PEER_RUNS="12 48"                   # decode: runs per graph of the two runs
#   PEER_PREFILL_RUNS=10                # prefill: runs in its one graph (a run
#       takes seconds there, so the per-graph cost is lost in it; 10, the
#       fewest at which ggml-vulkan sleeps on its fence)
#   PREFILL_FORMATS="q4_0 q8_0"         # prefill formats (default: q4_0, as
#       one llama.cpp graph at n=512 takes a CPU adapter minutes; empty: none)
#   HASHFLOPS_ARGS="--adapter 0"        # hashflops' flags (default: --adapter 0
#       --quick); --llm-formats is always the FORMATS
#   GGML_VK_VISIBLE_DEVICES=0 picks ggml's Vulkan device (CPU devices are
#   hidden unless named, so the default here is 0: lavapipe on this machine).
#   PEER_CACHE=/path                    # the build cache (bench/llama-cpp.sh)
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

# Bytes per block and weights per block as stored (ggml-common.h); the type
# ids are read from ggml.h below.
declare -A block_bytes=([q4_0]=18 [q8_0]=34 [f16]=64 [q4_k]=144 [q5_k]=176 [q6_k]=210 [mxfp4]=17)
declare -A block_weights=([q4_0]=32 [q8_0]=32 [f16]=32 [q4_k]=256 [q5_k]=256 [q6_k]=256 [mxfp4]=32)
formats=${FORMATS:-q4_0 q8_0 f16 q4_k q5_k q6_k mxfp4}
formats=${formats,,}
prefill_formats=${PREFILL_FORMATS-q4_0}
prefill_formats=${prefill_formats,,}
for t in $formats $prefill_formats; do
    [ -n "${block_bytes[$t]:-}" ] || { echo "unknown format $t (known: ${!block_bytes[*]})" >&2; exit 2; }
done
read -r n1 n2 <<<"${PEER_RUNS:-12 48}"
if [ "$n1" -ge "$n2" ] || [ "$n1" -lt 10 ]; then
    echo "PEER_RUNS=\"$n1 $n2\": want 10 <= n1 < n2 (see the header)" >&2
    exit 2
fi

bin=${HASHFLOPS:-${CARGO_TARGET_DIR:-target}/release/hashflops}
cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GGML_VK_VISIBLE_DEVICES=${GGML_VK_VISIBLE_DEVICES:-0}
ggml_h=$llama_src/ggml/include/ggml.h
mul_mat=$(awk '/enum ggml_op {/,/GGML_OP_MUL_MAT,/' "$ggml_h" |
    sed 's://.*::' | grep -o 'GGML_OP_[A-Z0-9_]*' | grep -n GGML_OP_MUL_MAT | cut -d: -f1)
mul_mat=$((mul_mat - 1))
type_id() { # format -> its ggml_type value
    sed -nE "s/^ *GGML_TYPE_${1^^} *= *([0-9]+),.*/\1/p" "$ggml_h"
}

llc=$(lscpu -B -C=LEVEL,ALL-SIZE 2>/dev/null | tail -n +2 | sort -n | tail -1 | awk '{print $2}')
echo "last-level cache (lscpu): $((${llc:-0} >> 20)) MiB" >&2
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2
# --llm-formats names the formats decode times whatever the scale (a CPU
# adapter's --quick or default would time only Q4_0, Q8_0 and F16, and
# --full everything the suite has, for hours).
hf_formats=$(echo "$formats" | tr -s ' ' ',')
# shellcheck disable=SC2086
"$bin" run --suite llm --quiet --json "$tmp/hf.json" \
    ${HASHFLOPS_ARGS:---adapter 0 --quick} --llm-formats "$hf_formats" | tail -n +2
echo "load after hashflops: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# One MUL_MAT per llama.cpp run: weights TYPE [K x M] times f32 [K x N].
# Prints "US_PER_RUN RUNS", "unsupported" or "failed".
peer_run() { # format m k n runs_per_graph
    local t=$1 m=$2 k=$3 n=$4 runs=$5 id bb bw rb nb0
    id=$(type_id "$t") bb=${block_bytes[$t]} bw=${block_weights[$t]}
    rb=$((k * bb / bw)) nb0=$bb
    [ "$t" = f16 ] && nb0=2 # a plain type's nb0 is its element size
    echo "$mul_mat 0 $m $n 1 1 0 2 $id $k $m 1 1 $nb0 $rb $((rb * m)) $((rb * m)) 0 $k $n 1 1 4 $((4 * k)) $((4 * k * n)) $((4 * k * n)) -" >"$tmp/case.txt"
    echo "== MUL_MAT $t m=$m k=$k n=$n PEER_MAX_RUNS=$runs" >>"$tmp/peer-all.txt"
    PEER_MAX_RUNS=$runs "$peer" perf -b Vulkan0 --test-file "$tmp/case.txt" >"$tmp/peer.txt" 2>&1 || true
    tee -a "$tmp/peer-all.txt" <"$tmp/peer.txt" >/dev/null
    if grep -q "not supported" "$tmp/peer.txt"; then
        echo unsupported
    elif grep -qE '[0-9]+ runs - +[0-9.]+ us/run' "$tmp/peer.txt"; then
        grep -oE '[0-9]+ runs - +[0-9.]+ us/run' "$tmp/peer.txt" | head -1 | awk '{print $4, $1}'
    else
        echo failed
    fi
}

python3 - "$tmp/hf.json" "$prefill_formats" >"$tmp/plan.txt" <<'PY'
import json, sys
wanted = sys.argv[2].split()
for r in json.load(open(sys.argv[1]))["rows"]:
    p = dict(kv.split("=", 1) for kv in r["params"].split(";") if "=" in kv)
    if r["kernel"].startswith("prefill_") and r["metric"] == "flops" and p["format"] in wanted:
        print(p["format"], p["batch"])
PY
: >"$tmp/peer.tsv"
for t in $formats; do
    for shape in "4096 4096" "11008 4096" "4096 11008"; do
        # shellcheck disable=SC2086
        set -- $shape
        for runs in "$n1" "$n2"; do
            echo -e "decode\t$t\t$1\t$2\t1\t$runs\t$(peer_run "$t" "$1" "$2" 1 "$runs")" >>"$tmp/peer.tsv"
            # an unsupported type is so for every shape and count
            if tail -1 "$tmp/peer.tsv" | grep -q unsupported; then break 2; fi
        done
    done
done
while read -r t batch; do
    for n in $(printf '%s\n' "$batch" 512 | sort -un); do
        runs=${PEER_PREFILL_RUNS:-10}
        echo -e "prefill\t$t\t4096\t4096\t$n\t$runs\t$(peer_run "$t" 4096 4096 "$n" "$runs")" >>"$tmp/peer.tsv"
    done
done <"$tmp/plan.txt"
grep -m1 -iE "Device description|ggml_vulkan: 0 =" "$tmp/peer-all.txt" >&2 || true
if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP" && cp "$tmp/hf.json" "$tmp/peer-all.txt" "$tmp/peer.tsv" "$KEEP/"
fi
echo "load after llama.cpp: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

bpw=$(for t in "${!block_bytes[@]}"; do echo "$t=${block_bytes[$t]}/${block_weights[$t]}"; done)
python3 - "$tmp/hf.json" "$tmp/peer.tsv" "$formats" "${llc:-0}" "$bpw" <<'PY'
import json, sys
from fractions import Fraction
hf_path, peer_path, formats, llc = sys.argv[1], sys.argv[2], sys.argv[3].split(), int(sys.argv[4])
bpw = {t: float(Fraction(f)) for t, f in (kv.split("=") for kv in sys.argv[5].split())}
hf = {}
for r in json.load(open(hf_path))["rows"]:
    p = dict(kv.split("=", 1) for kv in r["params"].split(";") if "=" in kv)
    if p.get("model") == "llama2-7b":
        hf[(r["kernel"], r["metric"])] = (r, p)
peer = [l.rstrip("\n").split("\t") for l in open(peer_path) if l.strip()]
MB = 1e6
print("llama.cpp test-backend-ops MUL_MAT (Vulkan) vs hashflops llm, Llama-2-7B shapes")
# a layer: q, k, v, o are 4096x4096, gate and up 11008x4096, down 4096x11008
layer = {(4096, 4096): 4, (11008, 4096): 2, (4096, 11008): 1}


def slope(t, m, k):
    """(us per run, ms per graph) from the two graphs of one shape, or a reason."""
    got = {int(runs): res.split() for kind, tt, mm, kk, n, runs, res in peer
           if kind == "decode" and tt == t and (int(mm), int(kk)) == (m, k)}
    bad = [r[0] for r in got.values() if len(r) != 2]
    if bad or len(got) != 2:
        return bad[0] if bad else "missing"
    (n1, (a1, _)), (n2, (a2, _)) = sorted((n, (float(a), r)) for n, (a, r) in got.items())
    us = (n2 * a2 - n1 * a1) / (n2 - n1)
    print(f"  llama.cpp decode {t} m={m} k={k}: {n1} runs {a1:.0f} us/run, {n2} runs {a2:.0f} us/run"
          f" -> {us:.0f} us per run, {(n1 * a1 - n1 * us) / 1e3:.1f} ms per graph,"
          f" {m * k * bpw[t] / us / 1e3:.3f} GB/s ({m * k * bpw[t] / MB:.1f} MB matrix)")
    return (us, (n1 * a1 - n1 * us) / 1e3) if us > 0 else "non-positive slope"


for t in formats:
    fits = {s: slope(t, *s) for s in layer}
    why = next((v for v in fits.values() if isinstance(v, str)), None)
    if why == "unsupported":
        print(f"decode {t}: llama.cpp's Vulkan backend does not support MUL_MAT with {t} weights (not supported)")
        continue
    if why:
        print(f"decode {t}: llama.cpp gave no per-run figure ({why})")
        continue
    layer_us = sum(c * fits[s][0] for s, c in layer.items())
    graph_ms = sum(fits[s][1] for s in layer) / len(layer)
    # the intercept is n1*n2/(n2-n1) times the two averages' difference (16
    # at 12 and 48 runs): a busy machine's noise can outweigh a cost of ms
    cost = f"{graph_ms:.1f} ms" + (" (below zero: noise over the cost)" if graph_ms < 0 else "")
    peer_bw = sum(c * s[0] * s[1] for s, c in layer.items()) * bpw[t] / layer_us * 1e6
    got = hf.get((f"decode_{t}", "bandwidth"))
    if got is None or not got[0]["verified"]:
        print(f"decode {t}: llama.cpp {peer_bw / 1e9:.3f} GB/s; hashflops has no verified decode_{t} row")
        continue
    r, p = got
    streamed = int(p["weight_bytes_per_token"]) / int(p["layers_per_token"]) * int(p["layers_resident"])
    print(f"decode {t}: hashflops {r['value'] / 1e9:.3f} GB/s, llama.cpp {peer_bw / 1e9:.3f} GB/s"
          f" (per-run slope; per-graph cost {cost})  hashflops/llama.cpp = {r['value'] / peer_bw:.2f}"
          f"  (goal >= 1.0)")
    print(f"  footprints against the {llc / 2**20:.0f} MiB LLC: hashflops streams {p['layers_resident']}"
          f" layer(s), {streamed / MB:.0f} MB; llama.cpp re-reads one matrix of"
          f" {min(m * k for m, k in layer) * bpw[t] / MB:.0f}-{max(m * k for m, k in layer) * bpw[t] / MB:.0f} MB")
if any(m * k * bpw[t] < llc for t in formats for m, k in layer):
    print("note: a llama.cpp matrix that fits the LLC is re-read from cache, not memory: its rate flatters"
          " llama.cpp against a decode that streams more than the LLC")
for kind, t, m, k, n, runs, res in peer:
    if kind != "prefill":
        continue
    m, k, n = int(m), int(k), int(n)
    if len(res.split()) != 2:
        print(f"prefill {t} m={m} k={k} n={n}: llama.cpp {'not supported' if res == 'unsupported' else res}")
        continue
    us = float(res.split()[0])
    peer_flops = 2 * m * k * n / us * 1e6
    got = hf.get((f"prefill_{t}", "flops"))
    if got is None or not got[0]["verified"]:
        continue
    print(f"prefill {t} m={m} k={k}: hashflops batch {got[1]['batch']} {got[0]['value'] / 1e9:.2f} GFLOP/s,"
          f" llama.cpp n={n} {peer_flops / 1e9:.2f} GFLOP/s ({runs} runs a graph)"
          f"  hashflops/llama.cpp = {got[0]['value'] / peer_flops:.2f}  (goal >= 1.0)")
PY
