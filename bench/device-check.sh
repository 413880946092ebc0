#!/usr/bin/env bash
# Every measurement hashflops makes on a machine with a GPU, in one go of at
# most five minutes, written under one results folder: the environment
# (kernel, cores, memory, the Vulkan loader, nvidia-smi's identity, clocks
# and PCIe link), `hashflops list`, `run --full` on every adapter,
# `health --duration 2m`, and whichever peers (bench/peer-*) can run there
# without building anything or reaching the network. It never builds and
# never needs the network: the release binary is built beforehand, here or
# elsewhere (set LD_LIBRARY_PATH, VK_ICD_FILENAMES and the like in the
# environment if the machine's Vulkan loader needs them; they are recorded).
#
#   bench/device-check.sh [--bin PATH] [--out DIR]   # on the GPU machine
#   bench/device-check.sh --dry [--bin PATH]         # anywhere, in minutes
#
#   --bin PATH  the hashflops binary (default target/release/hashflops)
#   --out DIR   the results folder, new or empty (default $OUT if set, else
#               bench/results/<UTC date>-<short adapter name>/; with --dry
#               target/device-check/<UTC date and time>-<adapter>-dry/)
#   --dry       the same steps at quick sizes (`run --quick`,
#               `health --duration 10s`) on whatever adapter is present (on a
#               machine without a GPU, Mesa's software adapters), then checks
#               the folder: every JSON parses, every adapter has a run with
#               rows, health.json has a verdict, peers.txt has a line per
#               peer script. Exit 0 only if every check holds.
#
# Each step runs under its own `timeout` (its cap is printed before it
# starts; hashflops gets SIGINT, so it stops after the suite in progress and
# still writes its results). A step that fails or times out is recorded, with
# its partial output, and the next one runs. summary.txt lists per step its
# exit code (124: timed out), seconds, cap and the files it wrote; the folder
# is checked at the end in both modes, one line per check.
#
# Environment: DEVICE_CHECK_BUDGET (seconds for the whole, default 295; 1800
# with --dry), MEMTEST_VULKAN_SRC and PEER_CACHE (as bench/peer-vram.sh and
# bench/peer-llama.sh read them).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
bin=$repo/target/release/hashflops
out=${OUT:-}
dry=0
while (($#)); do
    case $1 in
    --bin) bin=${2:?--bin needs a path}; shift 2 ;;
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    --dry) dry=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "device-check: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
# The peers run from the checkout's root; the binary is named absolutely.
[[ $bin == /* ]] || bin=$PWD/$bin
if [[ ! -x $bin ]]; then
    echo "device-check: no hashflops binary at $bin; build it first (cargo build --release) or give --bin PATH" >&2
    exit 2
fi
export HASHFLOPS=$bin

start=$SECONDS
if ((dry)); then
    budget=${DEVICE_CHECK_BUDGET:-1800}
    size=--quick
    health_duration=10s
    health_cap=90
else
    budget=${DEVICE_CHECK_BUDGET:-295}
    size=--full
    health_duration=2m
    health_cap=135
fi
# After a step's cap, hashflops has this long to finish the suite in
# progress and write its files before it is killed.
grace=20
left() { echo $((budget - (SECONDS - start))); }

# The adapters, from `list --json`: "index<TAB>device_type<TAB>backend<TAB>name".
adapters_tsv() {
    python3 -c '
import json, sys
for a in json.load(sys.stdin):
    print(a["index"], a["device_type"], a["backend"], a["name"], sep="\t")'
}
adapters=""

if [[ -z $out ]]; then
    # The default adapter's short name: "NVIDIA H100 80GB HBM3" gives h100-80gb-hbm3,
    # Mesa's Vulkan llvmpipe gives lavapipe.
    short=$(timeout -k 5 60 "$bin" list --json 2>/dev/null | python3 -c '
import json, re, sys
adapters = json.load(sys.stdin)
rank = {"discrete": 0, "integrated": 1, "virtual": 2, "cpu": 3}
if not adapters:
    print("no-adapter"); sys.exit()
a = min(adapters, key=lambda a: (rank.get(a["device_type"], 4), a["index"]))
if a["backend"] == "vulkan" and a["driver"] == "llvmpipe":
    print("lavapipe"); sys.exit()
name = re.sub(r"\(.*?\)", " ", a["name"].lower())
name = re.sub(r"\b(nvidia|amd|ati|intel|geforce|radeon|corporation|graphics)\b", " ", name)
print(re.sub(r"[^a-z0-9]+", "-", name).strip("-")[:32] or "adapter")') || short=adapter
    if ((dry)); then
        out=$repo/target/device-check/$(date -u +%Y-%m-%dT%H%M%SZ)-$short-dry
    else
        out=$repo/bench/results/$(date -u +%F)-$short
    fi
fi
if [[ -d $out ]] && [[ -n $(ls -A "$out") ]]; then
    echo "device-check: $out is not empty; give a new or empty folder (--out DIR)" >&2
    exit 2
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
summary=$out/summary.txt
mode=$( ((dry)) && echo "dry (quick sizes)" || echo "full")
printf '# device-check, %s, started %s UTC, budget %s s\n# binary %s\n# step\texit\tseconds\tcap_s\tfiles\n' \
    "$mode" "$(date -u '+%F %T')" "$budget" "$bin" >"$summary"
echo "device-check: $mode; results in $out; budget $budget s"

# step NAME CAP FILES -- COMMAND...: stdout to NAME.txt (or $STEP_STDOUT),
# stderr to NAME.stderr.txt, under `timeout -s INT CAP`; records the exit code.
step() {
    local name=$1 cap=$2 files=$3
    shift 4
    if ((cap < 1)); then
        printf '%s\tskipped\t0\t0\t-\t(no time left in the budget)\n' "$name" >>"$summary"
        echo "[$name] skipped: no time left in the $budget s budget"
        return 0
    fi
    echo "[$name] cap ${cap} s (+${grace} s to stop): $*"
    local t0=$SECONDS rc=0
    local stdout=${STEP_STDOUT:-$name.txt}
    timeout -s INT -k "$grace" "$cap" "$@" >"$out/$stdout" 2>"$out/$name.stderr.txt" || rc=$?
    local secs=$((SECONDS - t0)) note=""
    ((rc == 124 || rc == 137)) && note="  (timed out after ${cap} s; partial output kept)"
    local f written="$stdout" missing=""
    for f in $files; do
        if [[ -e $out/$f ]]; then written+=" $f"; else missing+=" $f"; fi
    done
    [[ -z $missing ]] || note+="  (not written:$missing)"
    printf '%s\t%s\t%s\t%s\t%s%s\n' "$name" "$rc" "$secs" "$cap" "$written" "$note" >>"$summary"
    echo "[$name] exit $rc in ${secs} s${note}"
}

# --- environment ------------------------------------------------------------
environment() {
    local bin=$1 repo=$2
    echo "== date (UTC)"; date -u '+%F %T'
    echo "== uname -a"; uname -a
    echo "== nproc"; nproc
    echo "== cpu"; grep -m1 'model name' /proc/cpuinfo || true
    echo "== free -m"; free -m || true
    echo "== load"; cat /proc/loadavg
    echo "== hashflops --version"; "$bin" --version || true
    echo "== sha256sum of the binary"; sha256sum "$bin" || true
    echo "== ldd of the binary"; ldd "$bin" 2>&1 || true
    echo "== loader environment"
    for v in LD_LIBRARY_PATH VK_ICD_FILENAMES VK_DRIVER_FILES VK_LAYER_PATH VK_ADD_DRIVER_FILES \
        WGPU_BACKEND WGPU_ADAPTER_NAME MESA_LOADER_DRIVER_OVERRIDE CUDA_VISIBLE_DEVICES; do
        echo "$v=${!v-<unset>}"
    done
    echo "== ldconfig -p | grep libvulkan"
    ldconfig -p 2>/dev/null | grep libvulkan || echo "absent: no libvulkan in the linker cache"
    echo "== Vulkan ICD files"
    ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null || echo "absent: no ICD folder"
    echo "== vulkaninfo --summary"
    if command -v vulkaninfo >/dev/null; then
        timeout -k 5 30 vulkaninfo --summary 2>&1 || echo "(vulkaninfo exit $?)"
    else
        echo "absent: vulkaninfo not installed"
    fi
    echo "== lspci (display controllers)"
    if command -v lspci >/dev/null; then
        lspci -nn | grep -Ei 'vga|3d|display' || echo "none listed"
    else
        echo "absent: lspci not installed"
    fi
    echo "== git (checkout of the scripts)"
    git -C "$repo" log -1 --format='%H %cs %s' 2>/dev/null || echo "not a git checkout"
}
nvidia() {
    if ! command -v nvidia-smi >/dev/null; then
        echo "absent: nvidia-smi not on PATH (no NVIDIA driver here)"
        return 0
    fi
    echo "== nvidia-smi --query-gpu (identity, clocks, PCIe link)"
    timeout -k 5 30 nvidia-smi --format=csv --query-gpu=index,name,uuid,pci.bus_id,driver_version,vbios_version,memory.total,clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,pcie.link.gen.current,pcie.link.gen.max,pcie.link.width.current,pcie.link.width.max,power.limit,temperature.gpu,persistence_mode || true
    echo "== nvidia-smi -q (identity, PCI, clocks)"
    timeout -k 5 60 nvidia-smi -q
}
export -f environment nvidia
step environment "$(( $(left) < 30 ? $(left) : 30 ))" "" -- bash -c 'environment "$1" "$2"' environment "$bin" "$repo"
step nvidia-smi "$(( $(left) < 60 ? $(left) : 60 ))" "" -- bash -c nvidia

# --- adapters ---------------------------------------------------------------
step list 30 "" -- "$bin" list
STEP_STDOUT=list.json step list-json 30 "" -- "$bin" list --json
if [[ -s $out/list.json ]]; then
    adapters=$(adapters_tsv <"$out/list.json") || adapters=""
fi
if [[ -z $adapters ]]; then
    echo "device-check: hashflops lists no adapter (see list.stderr.txt and environment.txt)" >&2
fi

# The runs: `run_adapters RESERVE MIN_SHARE INDEX...` gives each adapter in
# turn the time left, less RESERVE for the steps after these runs and
# MIN_SHARE for each adapter after it (and the grace periods).
run_adapters() {
    local reserve=$1 min_share=$2 i type flag later cap
    shift 2
    local n=$#
    for i in "$@"; do
        type=$(awk -F'\t' -v i="$i" '$1 == i { print $2 }' <<<"$adapters")
        flag=$size
        [[ $type == cpu && $has_gpu == 1 ]] && flag=--quick
        n=$((n - 1))
        cap=$(($(left) - reserve - grace - n * (min_share + grace)))
        ((cap > (dry ? 600 : 240))) && cap=$((dry ? 600 : 240))
        step "run-$i" "$cap" "run-$i.json run-$i.csv" -- \
            "$bin" run "$flag" --adapter "$i" --json "$out/run-$i.json" --csv "$out/run-$i.csv"
        [[ $flag == "$size" ]] || echo "# run-$i: a CPU adapter beside a GPU: ran with --quick" >>"$summary"
    done
}
run_health() {
    local cap=$health_cap
    (($(left) - grace < cap)) && cap=$(($(left) - grace))
    step health "$cap" "health.json health.prom" -- \
        "$bin" health --duration "$health_duration" --json "$out/health.json" --prom "$out/health.prom"
}
# On a GPU machine the GPUs run first and get the time; health follows, then
# any CPU adapter (Mesa's lavapipe there: not what is measured, so --quick,
# in what is left), then the peers. Without a GPU every adapter runs before
# health.
has_gpu=$(awk -F'\t' '$2 != "" && $2 != "cpu" && $2 != "other" { g = 1 } END { print g + 0 }' <<<"$adapters")
gpus=$(awk -F'\t' '$1 != "" && $2 != "cpu" { print $1 }' <<<"$adapters")
cpus=$(awk -F'\t' '$2 == "cpu" { print $1 }' <<<"$adapters")
# shellcheck disable=SC2086
if ((has_gpu)); then
    run_adapters $((health_cap + grace)) 45 $gpus
    run_health
    run_adapters 0 30 $cpus
else
    run_adapters $((health_cap + grace + (dry ? 60 : 0))) $((dry ? 60 : 45)) $gpus $cpus
    run_health
fi
order=$(printf '%s\n' $gpus $cpus)

# --- peers ------------------------------------------------------------------
# Each peer script builds hashflops first (cargo build --release) and may
# install its peer from the network. Here nothing is built or installed: a
# peer runs only when its tool (or cached build) is already present, and its
# `cargo build` of hashflops is answered by a stub that builds nothing (the
# binary given here is the one measured). Otherwise peers.txt says why not.
stub=$(mktemp -d)
trap 'rm -rf "$stub"' EXIT
cat >"$stub/cargo" <<'EOF'
#!/bin/sh
# device-check: the hashflops binary is given; nothing is built here.
if [ "$1" = build ]; then echo "device-check: cargo $* skipped (binary given)" >&2; exit 0; fi
echo "device-check: cargo $* refused: nothing is built during a device check" >&2
exit 1
EOF
chmod +x "$stub/cargo"

# Prints nothing when the peer can run here, else the reason it cannot.
peer_blocker() {
    local cache
    case $1 in
    peer-hash.sh)
        command -v hashcat >/dev/null || { echo "hashcat not installed (the script would install it from the network)"; return; } ;;
    peer-compute.sh)
        command -v clpeak >/dev/null || { echo "clpeak not installed (the script would install it from the network)"; return; } ;;
    peer-memory.sh)
        command -v clpeak >/dev/null || { echo "clpeak not installed (the script would install it from the network)"; return; }
        compgen -G "/etc/OpenCL/vendors/*.icd" >/dev/null || { echo "no OpenCL driver (/etc/OpenCL/vendors is empty; the script would install PoCL from the network)"; return; } ;;
    peer-llama.sh)
        cache=${PEER_CACHE:-$HOME/.cache/hashflops-peers}
        local v=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
        [[ -x $cache/llama-build-$v/bin/test-backend-ops && -d $cache/llama_cpp_python-$v/vendor/llama.cpp ]] ||
            { echo "no cached llama.cpp build in $cache (the script would download and build it)"; return; }
        local want
        want=$(sed -n 's/^patch_level=//p' "$repo/bench/peer-llama.sh")
        [[ $(cat "$cache/llama-build-$v/patch-level" 2>/dev/null) == "$want" ]] ||
            { echo "the cached llama.cpp build in $cache is not at patch level $want (the script would rebuild it)"; return; } ;;
    peer-vram.sh)
        [[ -n ${MEMTEST_VULKAN_SRC:-} ]] || { echo "no memtest_vulkan source (\$MEMTEST_VULKAN_SRC unset; the script needs one)"; return; }
        cache=${PEER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hashflops-peer}
        [[ -x $cache/memtest_vulkan/target/release/memtest_vulkan ]] ||
            { echo "memtest_vulkan not built in $cache (the script would build it)"; return; }
        [[ -x $repo/target/release/hashflops ]] ||
            { echo "the script measures the checkout's target/release/hashflops, which is absent"; return; } ;;
    peer-torch.py)
        python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null ||
            { echo "no PyTorch with CUDA here"; return; } ;;
    *)
        echo "unknown peer script: device-check does not know what it needs"; return ;;
    esac
}

: >"$out/peers.txt"
runnable=()
for path in "$repo"/bench/peer-*; do
    p=$(basename "$path")
    reason=$(peer_blocker "$p")
    [[ ${HOME:-/} == / ]] || reason=${reason//$HOME/\~}
    if [[ -n $reason ]]; then
        echo "$p: skipped: $reason" >>"$out/peers.txt"
        echo "[${p%.*}] skipped: $reason"
    else
        runnable+=("$p")
    fi
done
# The run JSONs of the GPUs, for peer-torch.py.
gpu_jsons=()
for i in $order; do
    type=$(awk -F'\t' -v i="$i" '$1 == i { print $2 }' <<<"$adapters")
    if [[ $type != cpu && -s $out/run-$i.json ]]; then gpu_jsons+=("$out/run-$i.json"); fi
done
n=${#runnable[@]}
for p in "${runnable[@]}"; do
    cap=$((($(left) - grace * n) / n))
    ((cap > (dry ? 600 : 120))) && cap=$((dry ? 600 : 120))
    name=${p%.*}
    if [[ $p == peer-torch.py ]]; then
        if ((${#gpu_jsons[@]} == 0)); then
            echo "$p: skipped: no GPU run JSON to compare with" >>"$out/peers.txt"
            n=$((n - 1)); continue
        fi
        step "$name" "$cap" "" -- python3 "$repo/bench/$p" "${gpu_jsons[@]}"
    else
        # peer-llama.sh keeps its own HASHFLOPS_ARGS (adapter 0, quick): the
        # adapter must be the one ggml's Vulkan device 0 is.
        hf_args=(HASHFLOPS_ARGS="$size")
        [[ $p == peer-llama.sh ]] && hf_args=()
        step "$name" "$cap" "" -- env PATH="$stub:$PATH" "${hf_args[@]}" "$repo/bench/$p"
    fi
    line=$(awk -F'\t' -v s="$name" '$1 == s' "$summary")
    if [[ $(cut -f2 <<<"$line") == skipped ]]; then
        echo "$p: skipped: no time left in the $budget s budget" >>"$out/peers.txt"
    else
        echo "$p: ran: exit $(cut -f2 <<<"$line"), $(cut -f3 <<<"$line") s, output $name.txt" >>"$out/peers.txt"
    fi
    n=$((n - 1))
done
# Only the stderr files that say something are kept.
find "$out" -maxdepth 1 -name '*.stderr.txt' -empty -delete
printf '# finished %s UTC, %s s in all\n' "$(date -u '+%F %T')" $((SECONDS - start)) >>"$summary"

# --- checks -----------------------------------------------------------------
echo "device-check: checking $out"
checks=$(python3 - "$out" "$repo" <<'PY'
import glob, json, os, sys
out, repo = sys.argv[1], sys.argv[2]
ok = True
def check(cond, text):
    global ok
    ok &= bool(cond)
    print(("ok   " if cond else "FAIL ") + text)
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    try:
        json.load(open(path))
        check(True, f"{os.path.basename(path)} parses")
    except Exception as e:
        check(False, f"{os.path.basename(path)} does not parse: {e}")
try:
    adapters = json.load(open(os.path.join(out, "list.json")))
except Exception as e:
    adapters = None
    check(False, f"list.json unreadable: {e}")
if adapters is not None:
    check(adapters, f"list.json lists {len(adapters)} adapter(s)")
    for a in adapters:
        i, label = a["index"], f'adapter {a["index"]} ({a["name"]}, {a["backend"]})'
        try:
            doc = json.load(open(os.path.join(out, f"run-{i}.json")))
            rows = [r for r in doc["rows"] if r.get("adapter_index") == i]
            check(rows, f"run-{i}.json: {label}: {len(rows)} row(s), {sum(r['verified'] for r in rows)} verified"
                  + (", interrupted" if doc.get("interrupted") else ""))
        except Exception as e:
            check(False, f"run-{i}.json: {label}: missing or unreadable: {e}")
try:
    health = json.load(open(os.path.join(out, "health.json")))["health"]
    verdicts = [h.get("verdict") for h in health]
    check(health and all(verdicts), f"health.json: verdict {', '.join(map(str, verdicts))}")
except Exception as e:
    check(False, f"health.json: no verdict: {e}")
try:
    lines = open(os.path.join(out, "peers.txt")).read().splitlines()
except OSError as e:
    lines = []
    check(False, f"peers.txt unreadable: {e}")
for script in sorted(glob.glob(os.path.join(repo, "bench", "peer-*"))):
    name = os.path.basename(script)
    mine = [l for l in lines if l.startswith(name + ": ")]
    good = len(mine) == 1 and (mine[0].startswith(name + ": ran: ") or
                               (mine[0].startswith(name + ": skipped: ") and len(mine[0]) > len(name) + 12))
    check(good, f"peers.txt: {mine[0] if mine else name + ': no line'}")
    if good and ": ran: " in mine[0]:
        check(os.path.exists(os.path.join(out, os.path.splitext(name)[0] + ".txt")), f"{name}: its output is kept")
summary = open(os.path.join(out, "summary.txt")).read()
check("# finished" in summary, "summary.txt is complete")
sys.exit(0 if ok else 1)
PY
) && rc=0 || rc=$?
echo "$checks" | tee "$out/checks.txt"
echo "device-check: $( ((rc == 0)) && echo "all checks hold" || echo "some checks FAILED"); $((SECONDS - start)) s; results in $out"
exit "$rc"
