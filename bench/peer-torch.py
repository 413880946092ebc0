#!/usr/bin/env python3
"""PyTorch (CUDA) peers for hashflops on an NVIDIA GPU, measured in the same
call as hashflops, and the ratios.

    hashflops run --json hf.json
    hashflops run --suite matmul --m 8192 --n 8192 --k 8192 --json hf8k.json
    python3 bench/peer-torch.py hf.json hf8k.json

Peers, timed with CUDA events (median of 20 after warm-up, random data):
  - torch.matmul in f32 with TF32 disabled (cuBLAS SGEMM) at 4096^3 and 8192^3
  - a device-to-device copy of 2 GiB, counting bytes read plus written
  - a pinned host-to-device and device-to-host copy of 1 GiB
"""
import json
import statistics
import sys

import torch


def timed(fn, reps=20, warmup=3):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b) / 1e3)
    return statistics.median(times)


def main():
    rows = [r for f in sys.argv[1:] for r in json.load(open(f))["rows"] if r["verified"]]

    def best(suite, kernel, metric, size=None):
        vals = [
            r["value"]
            for r in rows
            if (r["suite"], r["kernel"], r["metric"]) == (suite, kernel, metric)
            and (size is None or f"m={size};n={size};k={size}" in r["params"])
        ]
        return max(vals) if vals else None

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    print(f"device: {torch.cuda.get_device_name(0)}; torch {torch.__version__}")
    out = {}
    for n in (4096, 8192):
        a = torch.rand(n, n, device=dev) * 2 - 1
        b = torch.rand(n, n, device=dev) * 2 - 1
        t = timed(lambda: torch.matmul(a, b))
        ref = torch.matmul(a.double(), b.double())
        err = (torch.matmul(a, b).double() - ref).norm() / ref.norm()
        out[f"sgemm_{n}"] = 2 * n**3 / t
        print(f"torch sgemm {n}^3 (TF32 off): {out[f'sgemm_{n}']/1e12:.2f} TFLOP/s (rel. error {err:.1e})")
        del a, b, ref
    n = (2 << 30) // 4
    src = torch.rand(n, device=dev)
    dst = torch.empty_like(src)
    t = timed(lambda: dst.copy_(src))
    out["d2d"] = 2 * n * 4 / t
    print(f"torch device copy 2 GiB: {out['d2d']/1e9:.0f} GB/s (read + written)")
    del src, dst
    n = (1 << 30) // 4
    host = torch.rand(n).pin_memory()
    gpu = torch.empty(n, device=dev)
    out["h2d"] = n * 4 / timed(lambda: gpu.copy_(host, non_blocking=True), reps=10)
    out["d2h"] = n * 4 / timed(lambda: host.copy_(gpu, non_blocking=True), reps=10)
    print(f"torch pinned upload 1 GiB: {out['h2d']/1e9:.1f} GB/s, download {out['d2h']/1e9:.1f} GB/s")

    print("\nhashflops / torch, same machine, same call:")
    pairs = [
        ("f32 matmul vs sgemm 4096^3", best("matmul", "sgemm", "flops", 4096), out["sgemm_4096"]),
        ("f32 matmul vs sgemm 8192^3", best("matmul", "sgemm", "flops", 8192), out["sgemm_8192"]),
        ("stream copy vs device copy", best("stream", "copy", "bandwidth"), out["d2d"]),
        ("stream triad vs device copy", best("stream", "triad", "bandwidth"), out["d2d"]),
        ("upload vs pinned upload", best("transfer", "h2d_write_buffer", "plateau"), out["h2d"]),
        ("upload (staging) vs pinned upload", best("transfer", "h2d_staging", "plateau"), out["h2d"]),
        ("download vs pinned download", best("transfer", "d2h", "plateau"), out["d2h"]),
    ]
    for name, hf, peer in pairs:
        if hf is None:
            print(f"  {name}: no verified hashflops value")
        else:
            print(f"  {name}: {hf:.4g} / {peer:.4g} = {hf/peer:.2f}")


if __name__ == "__main__":
    main()
