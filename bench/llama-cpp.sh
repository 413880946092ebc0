# shellcheck shell=bash
# Sourced by the llama.cpp peer scripts: fetches llama-cpp-python's source
# archive (it vendors llama.cpp) from PyPI, checks its sha256, patches it for
# Debian 12's Vulkan headers and builds the named CMake targets with Vulkan
# into one cached build folder, so that the Vulkan shaders are generated once
# for every peer script.
#
#   PEER_CACHE=/path        cache folder (default ~/.cache/hashflops-peers)
#   LLAMA_CPP_PYTHON_VERSION  source archive version (default 0.3.36)
#   PEER_JOBS               parallel compile jobs (default: the core count)
#
# After sourcing: $llama_src is the llama.cpp tree, $llama_bin its build's
# bin folder; llama_cpp_build TARGET... builds what is missing.

llama_cache=${PEER_CACHE:-$HOME/.cache/hashflops-peers}
llama_version=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
llama_src=$llama_cache/llama_cpp_python-$llama_version/vendor/llama.cpp
llama_build=$llama_cache/llama-build-$llama_version
llama_bin=$llama_build/bin

# Bump when the patches or the CMake flags below change, so that a cached
# build is redone.
llama_patch_level=4

llama_cpp_install_tools() {
    local tool
    for tool in glslc cmake /usr/share/cmake/SPIRV-Headers /usr/include/vulkan/vulkan.h; do
        if ! command -v "$tool" >/dev/null 2>&1 && [ ! -e "$tool" ]; then
            echo "installing glslc, libvulkan-dev, spirv-headers and cmake" >&2
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq glslc libvulkan-dev spirv-headers cmake >/dev/null
            return
        fi
    done
}

# The registry's simple index (JSON form) names the file and its sha256;
# `pip download` of an sdist would instead build its build dependencies
# (cmake among them) from source just to read its metadata.
llama_cpp_fetch() {
    local name=llama_cpp_python-$llama_version.tar.gz url sha
    mkdir -p "$llama_cache"
    [ -d "$llama_src" ] && return
    read -r url sha < <(curl -fsSL -H "Accept: application/vnd.pypi.simple.v1+json" \
        https://pypi.org/simple/llama-cpp-python/ | python3 -c '
import json, sys
name = sys.argv[1]
for f in json.load(sys.stdin)["files"]:
    if f["filename"] == name:
        print(f["url"], f["hashes"]["sha256"])
        break
else:
    sys.exit(f"{name} is not in the registry index")
' "$name")
    if [ ! -f "$llama_cache/$name" ] || ! echo "$sha  $llama_cache/$name" | sha256sum -c --quiet - 2>/dev/null; then
        curl -fsSL -o "$llama_cache/$name.part" "$url"
        echo "$sha  $llama_cache/$name.part" | sha256sum -c --quiet -
        mv "$llama_cache/$name.part" "$llama_cache/$name"
    fi
    tar xzf "$llama_cache/$name" -C "$llama_cache"
}

llama_cpp_patch() {
    # Debian 12's Vulkan headers predate VK_EXT_layer_settings, which ggml
    # uses only to configure the validation layer: build without that block.
    python3 - "$llama_src/ggml/src/ggml-vulkan/ggml-vulkan.cpp" <<'PY'
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
if text != open(path).read():
    open(path, "w").write(text)
PY
    # perf mode repeats each op up to 8192 times per graph (100 GFLOP or
    # 32 GiB of traffic on a GPU): on a software adapter that is many minutes
    # for one matrix-vector product. PEER_MAX_RUNS caps the repeats; the
    # per-run time printed stays the mean over all runs.
    python3 - "$llama_src/tests/test-backend-ops.cpp" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
anchor = "        // duplicate the op\n"
cap = ('        if (getenv("PEER_MAX_RUNS")) { n_runs = std::max(1, std::min(n_runs, '
       'atoi(getenv("PEER_MAX_RUNS")))); }\n')
if cap not in text:
    if text.count(anchor) != 1:
        sys.exit("could not find where perf mode sets its number of runs in test-backend-ops.cpp")
    text = text.replace(anchor, cap + anchor)
if text != open(path).read():
    open(path, "w").write(text)
PY
}

# llama_cpp_build TARGET...: builds the targets whose binary is missing or
# was built with other patches, at the lowest priority (the build shares the
# machine with whatever else runs there).
llama_cpp_build() {
    local target missing=()
    for target in "$@"; do
        if [ ! -x "$llama_bin/$target" ] ||
            [ "$(cat "$llama_build/patch-level.$target" 2>/dev/null)" != "$llama_patch_level" ]; then
            missing+=("$target")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return
    llama_cpp_install_tools
    llama_cpp_fetch
    llama_cpp_patch
    cmake -S "$llama_src" -B "$llama_build" -DCMAKE_BUILD_TYPE=Release \
        -DGGML_VULKAN=ON -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
        -DLLAMA_BUILD_TESTS=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_EXAMPLES=OFF \
        -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF >/dev/null
    nice -n 19 cmake --build "$llama_build" --target "${missing[@]}" -j "${PEER_JOBS:-$(nproc)}"
    for target in "${missing[@]}"; do
        echo "$llama_patch_level" >"$llama_build/patch-level.$target"
    done
}
