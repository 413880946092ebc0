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

# The tests also run python3: the SHA-256d shader must be what
# tools/gen_sha256d.py writes.
missing=()
if [ "$(uname -s)" = Linux ] && ! have_vulkan_driver; then
    missing+=(mesa-vulkan-drivers)
fi
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
        sudo=""
        [ "$(id -u)" -ne 0 ] && sudo="sudo"
        echo "installing ${missing[*]} (no Vulkan driver means Mesa's software one, lavapipe)" >&2
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
