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

if [ "$(uname -s)" = Linux ] && ! have_vulkan_driver; then
    if command -v apt-get >/dev/null 2>&1; then
        sudo=""
        [ "$(id -u)" -ne 0 ] && sudo="sudo"
        echo "no Vulkan driver found: installing Mesa's software driver (mesa-vulkan-drivers)" >&2
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq mesa-vulkan-drivers >/dev/null
    else
        echo "no Vulkan driver found: install your GPU's driver or Mesa's software Vulkan driver" >&2
        exit 2
    fi
fi

# Release mode: the CPU references (f64 matmul, millions of SHA-256d) are
# too slow unoptimised.
cargo test --release --no-fail-fast "$@"
