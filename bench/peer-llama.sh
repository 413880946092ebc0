#!/usr/bin/env bash
# hashflops' llm suite beside llama.cpp's own Vulkan MUL_MAT kernels, on the
# same Vulkan adapter, in one run: weight bytes per second per type and shape.
#
# llama.cpp comes from the package registry (llama-cpp-python's source
# archive vendors it); only test-backend-ops is built, once, into a cache
# folder. Its perf mode is fed the Llama-2 matrix shapes through a test file
# (one MUL_MAT per shape: n=1 for decode, n=512 for prefill).
#
#   bench/peer-llama.sh                 # build if needed, run both, print ratios
#   bench/peer-llama.sh --build-only    # only build the peer
#   PEER_CACHE=/path bench/peer-llama.sh
#   GGML_VK_VISIBLE_DEVICES=0 picks ggml's Vulkan device (CPU devices are
#   hidden unless named, so the default here is 0: lavapipe on this machine).
#   HASHFLOPS_ARGS="--adapter 0" picks hashflops' adapter (default: --adapter 0).
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${PEER_CACHE:-$HOME/.cache/hashflops-peers}
version=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
src=$cache/llama_cpp_python-$version/vendor/llama.cpp
peer=$cache/llama-build-$version/bin/test-backend-ops

build_peer() {
    if [ -x "$peer" ]; then return; fi
    for tool in glslc cmake /usr/share/cmake/SPIRV-Headers; do
        if ! command -v $tool >/dev/null 2>&1 && [ ! -e $tool ]; then
            echo "installing glslc, libvulkan-dev, spirv-headers and cmake" >&2
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq glslc libvulkan-dev spirv-headers cmake >/dev/null
            break
        fi
    done
    mkdir -p "$cache"
    if [ ! -d "$src" ]; then
        (cd "$cache" && pip download --quiet --no-deps --no-binary :all: "llama-cpp-python==$version" -d . &&
            tar xzf "llama_cpp_python-$version.tar.gz")
    fi
    # Debian 12's Vulkan headers predate VK_EXT_layer_settings, which ggml
    # uses only to configure the validation layer: build without that block.
    python3 - "$src/ggml/src/ggml-vulkan/ggml-vulkan.cpp" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
text = text.replace("const bool layer_settings = ggml_vk_instance_layer_settings_available();",
                    "const bool layer_settings = false;")
text, n = re.subn(r"VkBool32 enable_best_practice = layer_settings;.*?"
                  r"vk::InstanceCreateInfo instance_create_info\(([^;]*?), &layer_setting_info\);",
                  r"vk::InstanceCreateInfo instance_create_info(\1);", text, flags=re.S)
if n != 1 and "enable_best_practice" in text:
    sys.exit("could not remove the VK_EXT_layer_settings block from ggml-vulkan.cpp")
open(path, "w").write(text)
PY
    cmake -S "$src" -B "$cache/llama-build-$version" -DCMAKE_BUILD_TYPE=Release \
        -DGGML_VULKAN=ON -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=ON \
        -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF >/dev/null
    cmake --build "$cache/llama-build-$version" --target test-backend-ops -j "$(nproc)"
}

build_peer
if [ "${1:-}" = "--build-only" ]; then
    echo "$peer"
    exit 0
fi
