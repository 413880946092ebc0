#!/usr/bin/env bash
# hashflops' llm suite beside a real runtime: llama.cpp's llama-bench on a
# GGUF with a catalogue model's shapes and random weights, on the same
# Vulkan adapter, in one run. Per format it prints the tokens per second
# hashflops' measured rates give for that very file (decode: weight-read
# rate ÷ the file's weight bytes per token; prefill: FLOP rate ÷ 2 × its
# matrix weights per prompt token) over llama-bench's tg and pp tok/s, and
# how far hashflops' estimate of llama.cpp on this adapter (the JSON's llm
# list: its rate times llama.cpp's share on this kind of adapter, from
# data/llama_cpp_shares.csv) lies from what llama-bench reached.
#
# llama.cpp (llama-bench, llama-quantize) and gguf-py come from
# llama-cpp-python's source archive (bench/llama-cpp.sh builds it, cached).
#
#   bench/peer-llama-bench.sh                  # build if needed, run both, print ratios
#   bench/peer-llama-bench.sh --build-only     # only build llama-bench and llama-quantize
#   bench/peer-llama-bench.sh --q4km MODEL     # the tensor types llama-quantize gives
#       a Q4_K_M of MODEL's layer, head and expert counts (small matrices),
#       read back from the file: one line a tensor
#
#   MODEL=llama2-7b      catalogue id (data/models.csv; Llama, Mistral, Qwen3)
#   LAYERS=4             layers written (a whole 7B file does not fit a
#                        software adapter's time; LAYERS=all writes them all)
#   FORMATS="q4_0 q8_0 f16"
#   TG, PP, REPS         llama-bench -n, -p, -r (default 16, 64, 2 on a CPU
#                        adapter, else 128, 512, 5)
#   GGML_VK_VISIBLE_DEVICES=0 picks ggml's Vulkan device (CPU devices are
#   hidden unless named, so the default here is 0: lavapipe on this machine).
#   HASHFLOPS_ARGS="--adapter 0 --quick" picks hashflops' adapter and size.
#   KEEP=DIR keeps the raw outputs (hashflops JSON, llama-bench JSON, sizes).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=bench/llama-cpp.sh
. bench/llama-cpp.sh
llama_cpp_build llama-bench llama-quantize
if [ "${1:-}" = "--build-only" ]; then
    echo "$llama_bin/llama-bench"
    exit 0
fi
python3 -c 'import numpy' 2>/dev/null || pip install --quiet numpy
gguf() { python3 bench/llama-gguf.py "$1" "$llama_src/gguf-py" "${@:2}"; }
load() { echo "load $1: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "${1:-}" = "--q4km" ]; then
    model=${2:?--q4km takes a catalogue model id}
    # Rows of 256 weights: K-quant super-blocks. The mix depends on the
    # tensor names and the layer, head and expert counts, not on sizes.
    ffn=512
    if [ "$(awk -F, -v m="$model" '$1 == m { print $10 }' data/models.csv)" != 0 ]; then
        ffn=256 # per expert: 128 experts x 48 layers at 512 would be 5 GB of f16
    fi
    gguf write data/models.csv "$tmp/f16.gguf" --model "$model" --type f16 \
        --hidden 256 --ffn "$ffn" --vocab 512
    nice -n 19 "$llama_bin/llama-quantize" "$tmp/f16.gguf" "$tmp/q4km.gguf" Q4_K_M >"$tmp/quantize.txt" 2>&1 ||
        { cat "$tmp/quantize.txt" >&2; exit 1; }
    echo "# $model: llama-quantize Q4_K_M (llama-cpp-python $llama_version), hidden 256, ffn $ffn, vocab 512, read back with gguf-py"
    gguf types "$tmp/q4km.gguf"
    exit 0
fi

model=${MODEL:-llama2-7b}
layers=${LAYERS:-4}
[ "$layers" = all ] && layers=$(awk -F, -v m="$model" '$1 == m { print $4 }' data/models.csv)
formats=${FORMATS:-q4_0 q8_0 f16}
bin=${HASHFLOPS:-${CARGO_TARGET_DIR:-target}/release/hashflops}
cargo build --release --quiet
export GGML_VK_VISIBLE_DEVICES=${GGML_VK_VISIBLE_DEVICES:-0}

load before
# shellcheck disable=SC2086
"$bin" run --suite llm --quiet --json "$tmp/hf.json" ${HASHFLOPS_ARGS:---adapter 0 --quick} | tail -n +2
load "after hashflops"
if python3 -c 'import json,sys; sys.exit(0 if any(r["device_type"] == "cpu" for r in json.load(open(sys.argv[1]))["rows"]) else 1)' "$tmp/hf.json"; then
    tg=${TG:-16} pp=${PP:-64} reps=${REPS:-2}
else
    tg=${TG:-128} pp=${PP:-512} reps=${REPS:-5}
fi

: >"$tmp/sizes.jsonl"
for t in $formats; do
    gguf write data/models.csv "$tmp/$t.gguf" --model "$model" --type "$t" --layers "$layers"
    echo "{\"format\": \"$t\", \"sizes\": $(gguf bytes "$tmp/$t.gguf" --prompt "$pp")}" >>"$tmp/sizes.jsonl"
    "$llama_bin/llama-bench" -m "$tmp/$t.gguf" -ngl 99 -n "$tg" -p "$pp" -r "$reps" -o json \
        >"$tmp/llama-$t.json" 2>"$tmp/llama-$t.err" || { cat "$tmp/llama-$t.err" >&2; exit 1; }
    rm "$tmp/$t.gguf"
    load "after llama-bench $t"
done
grep -m1 -E "ggml_vulkan: 0 =" "$tmp/llama-${formats%% *}.err" >&2 || true
if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP" && cp "$tmp"/hf.json "$tmp"/sizes.jsonl "$tmp"/llama-*.json "$tmp"/llama-*.err "$KEEP/"
fi

python3 - "$tmp" "$model" "$layers" <<'PY'
import json, sys
tmp, model, layers = sys.argv[1:]
doc = json.load(open(f"{tmp}/hf.json"))
rows = doc["rows"]
# hashflops' estimate of what llama.cpp reaches on this adapter (the JSON's
# llm list: its rates times llama.cpp's share of them on this kind of
# adapter, data/llama_cpp_shares.csv), per format, for the whole model.
est = {e["format"]: e for e in doc.get("llm", []) if e["model"] == model}
hf = {}
for r in rows:
    p = dict(kv.split("=", 1) for kv in r["params"].split(";") if "=" in kv)
    if r["verified"]:
        hf[(r["kernel"], r["metric"])] = (r["value"], p)
print(f"llama-bench (Vulkan, -ngl 99) vs hashflops llm, {model} shapes, {layers} layers, random weights")
print("hashflops tok/s for the file = its measured rate ÷ the file's per-token work; ratio = hashflops ÷ llama-bench")
for line in open(f"{tmp}/sizes.jsonl"):
    s = json.loads(line)
    t, size = s["format"], s["sizes"]
    bench = json.load(open(f"{tmp}/llama-{t}.json"))
    tg = next((b for b in bench if b["n_gen"] > 0 and b["n_prompt"] == 0), None)
    pp = next((b for b in bench if b["n_prompt"] > 0 and b["n_gen"] == 0), None)
    by = size["weight_bytes_per_token"]
    dec = hf.get((f"decode_{t}", "bandwidth"))
    if tg and dec:
        hf_tg = dec[0] / by
        print(f"decode {t}: {by/1e6:.0f} MB per token; hashflops {dec[0]/1e9:.3f} GB/s -> {hf_tg:.2f} tok/s, "
              f"llama-bench tg{tg['n_gen']} {tg['avg_ts']:.2f} tok/s  ratio {hf_tg/tg['avg_ts']:.2f}  "
              f"(llama.cpp's share of hashflops' rate {tg['avg_ts']*by/dec[0]:.2f})")
        e = est.get(t)
        if e and e.get("llama_cpp_decode_tok_s"):
            # the estimate's read rate over this file's bytes per token
            guess = e["llama_cpp_decode_tok_s"] * e["weight_bytes_per_token"] / by
            off = guess / tg["avg_ts"] - 1
            print(f"  llama.cpp estimate: {guess:.2f} tok/s against llama-bench's {tg['avg_ts']:.2f}: "
                  f"{100 * off:+.0f} %  (goal within 20 %; share from {e['llama_cpp_basis']})")
    else:
        print(f"decode {t}: {'no verified hashflops row' if tg else 'llama-bench printed no tg'}")
    pre = hf.get((f"prefill_{t}", "flops"))
    if pp and pre:
        flop = 2 * size["prefill_weights_per_token"]
        hf_pp = pre[0] / flop
        print(f"prefill {t}: {flop/1e9:.2f} GFLOP per token; hashflops batch {pre[1].get('batch')} "
              f"{pre[0]/1e9:.2f} GFLOP/s -> {hf_pp:.2f} tok/s, llama-bench pp{pp['n_prompt']} "
              f"{pp['avg_ts']:.2f} tok/s  ratio {hf_pp/pp['avg_ts']:.2f}")
        e = est.get(t)
        if e and e.get("llama_cpp_prefill_tok_s") and e.get("prefill_tok_s"):
            # the estimate is the same share of hashflops' prefill rate
            guess = hf_pp * e["llama_cpp_prefill_tok_s"] / e["prefill_tok_s"]
            off = guess / pp["avg_ts"] - 1
            print(f"  llama.cpp estimate: {guess:.2f} tok/s against llama-bench's {pp['avg_ts']:.2f}: "
                  f"{100 * off:+.0f} %  (goal within 20 %)")
    else:
        print(f"prefill {t}: {'no verified hashflops row' if pp else 'llama-bench printed no pp'}")
PY
load "at the end"
