#!/usr/bin/env bash
# Runs every test. The GPU tests need a GPU driver; where no Vulkan driver is
# installed on a Debian/Ubuntu machine, Mesa's software one (lavapipe) is
# installed first, so the same command works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

have_vulkan_driver() {
    ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json /usr/local/share/vulkan/icd.d/*.json \
        >/dev/null 2>&1
}

# wgpu's GL backend (tested under every suite) needs EGL and Mesa's GL
# drivers, llvmpipe among them.
have_gl_driver() {
    ldconfig -p 2>/dev/null | grep -q 'libEGL.so.1' &&
        ls /usr/lib/*/dri/swrast_dri.so /usr/lib/dri/swrast_dri.so >/dev/null 2>&1
}

# The tests also run python3: the SHA-256d shader must be what
# tools/gen_sha256d.py writes.
missing=()
if [ "$(uname -s)" = Linux ] && ! have_vulkan_driver; then
    missing+=(mesa-vulkan-drivers)
fi
if [ "$(uname -s)" = Linux ] && ! have_gl_driver; then
    missing+=(libegl1 libgl1-mesa-dri)
fi
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
        sudo=""
        [ "$(id -u)" -ne 0 ] && sudo="sudo"
        echo "installing ${missing[*]} (no Vulkan driver means Mesa's software one, lavapipe; no GL driver, Mesa's llvmpipe through EGL)" >&2
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "missing: ${missing[*]}: install your GPU's Vulkan driver (or Mesa's software one) and python3" >&2
        exit 2
    fi
fi

# Release mode: the CPU references (f64 matmul, millions of SHA-256d) are
# too slow unoptimised.
cargo test --release --no-fail-fast "$@"
