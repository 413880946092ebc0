//! Adapters, rows and telemetry for the tests that render a run's answer
//! without measuring (the verdict, summary, energy and every output).

use hashflops::gpu::AdapterDesc;
use hashflops::report::energy::{self, Window};
use hashflops::report::facts::Facts;
use hashflops::report::models;
use hashflops::report::summary::AdapterSummary;
use hashflops::report::verdict::{self, AdapterVerdict};
use hashflops::report::ResultRow;
use hashflops::telemetry::{Reading, Telemetry};

pub const CACHE: &str =
    "array_bytes=8388608;comparable=no(working set 25165824 under 4x a 272629760 cache)";
pub const ROOMY: &str = "array_bytes=268435456";
pub const Q4_7B: &str =
    "model=llama2-7b;format=q4_0;layers_resident=1;weight_bytes_per_token=3642753024";
pub const F16_7B: &str =
    "model=llama2-7b;format=f16;layers_resident=1;weight_bytes_per_token=12952010752";
/// Weight bytes Llama-2-7B Q4_0 decode reads per token.
pub const Q4_READ: f64 = 3642753024.0;

/// Adapter 0 of `device_type`, named `name`, with `vram` bytes.
pub fn desc(device_type: &str, name: &str, vram: u64) -> AdapterDesc {
    serde_json::from_value(serde_json::json!({
        "index": 0, "name": name, "backend": "vulkan", "device_type": device_type,
        "vendor_id": 0x10de, "device_id": 1, "driver": "", "driver_info": "",
        "pci_bus_id": "", "timestamps": true, "f16": true, "subgroups": true, "int64": true,
        "subgroup_min_size": 32, "subgroup_max_size": 32, "max_buffer_size": 1u64 << 31,
        "max_storage_binding_size": 1u64 << 31, "max_compute_workgroups_per_dimension": 65535,
        "max_compute_invocations_per_workgroup": 1024, "max_compute_workgroup_storage_size": 32768,
        "vram_bytes": vram, "vram_source": "heap the driver reports"
    }))
    .unwrap()
}

/// A verified row of `d`: `kernel` and `metric` by their catalogue names,
/// the suite and unit the catalogue's.
pub fn row(d: &AdapterDesc, kernel: &str, metric: &str, value: f64, params: &str) -> ResultRow {
    let k: hashflops::catalogue::Kernel = kernel.parse().unwrap();
    let m: hashflops::catalogue::Metric = metric.parse().unwrap();
    serde_json::from_value(serde_json::json!({
        "run_id": "r", "timestamp_utc": "t", "tool_version": "0", "host": "h",
        "adapter_index": 0, "adapter": d.name, "vendor_id": "0x10de", "device_id": "0x0001",
        "device_type": d.device_type, "backend": "vulkan", "driver": "", "driver_info": "",
        "suite": k.suite().name(), "kernel": kernel, "params": params, "metric": metric,
        "unit": k.unit(m), "value": value, "min": value, "max": value, "cv_pct": 1.0,
        "samples": 5, "timing": "gpu-timestamp", "verified": true,
        "bus_id": d.pci_bus_id, "device_uuid": ""
    }))
    .unwrap()
}

/// Power read all along, 100 W, while each suite ran.
pub fn telemetry() -> (Telemetry, Vec<Window>) {
    let mut t = Telemetry::default();
    for i in 0..40 {
        t.readings.push(Reading {
            t_s: i as f64 * 0.5,
            quantity: hashflops::catalogue::Quantity::Power,
            unit: "W",
            value: 100.0,
            source: "test",
        });
    }
    let windows = ["hash", "matmul", "peak", "stream", "llm", "transfer"]
        .iter()
        .enumerate()
        .map(|(i, s)| Window {
            suite: s.parse().unwrap(),
            t0_s: 3.0 * i as f64,
            t1_s: 3.0 * i as f64 + 2.0,
        })
        .collect();
    (t, windows)
}

/// llvmpipe: stream only over cache-sized arrays, decode_f16 reading its
/// weights faster than stream copies, transfers that are memory copies.
pub fn cpu() -> (AdapterDesc, Vec<ResultRow>) {
    let d = desc("cpu", "llvmpipe (LLVM 15.0.6, 256 bits)", 2 << 30);
    let rows = vec![
        row(&d, "sha256d", "hash_rate", 30e6, ""),
        row(&d, "fp32_fma", "peak_rate", 90e9, ""),
        row(&d, "fp32_mul_add", "peak_rate", 60e9, ""),
        row(&d, "triad", "bandwidth", 1.2e9, CACHE),
        row(&d, "copy", "bandwidth", 0.667e9, CACHE),
        row(&d, "decode_q4_0", "token_rate", 0.5, Q4_7B),
        row(&d, "decode_q4_0", "bandwidth", 0.5 * Q4_READ, Q4_7B),
        row(
            &d,
            "decode_f16",
            "token_rate",
            2.01e9 / 12952010752.0,
            F16_7B,
        ),
        row(&d, "decode_f16", "bandwidth", 2.01e9, F16_7B),
        row(&d, "h2d_staging", "plateau", 4e9, "bytes=16777216"),
        row(&d, "d2h", "plateau", 5e9, "bytes=16777216"),
    ];
    (d, rows)
}

/// An H100 measured by every suite; a cache-sized copy beats its memory.
pub fn h100() -> (AdapterDesc, Vec<ResultRow>) {
    let d = desc("discrete", "NVIDIA H100 80GB HBM3", 80 << 30);
    let rows = vec![
        row(&d, "sha256d", "hash_rate", 60e9, ""),
        row(&d, "sgemm", "flops", 50e12, "m=4096;n=4096;k=4096"),
        row(&d, "fp32_fma", "peak_rate", 60e12, ""),
        row(&d, "fp32_mul_add", "peak_rate", 30e12, ""),
        row(&d, "fp64_fma", "peak_rate", 30e12, ""),
        row(&d, "triad", "bandwidth", 2.9e12, ROOMY),
        row(&d, "copy", "bandwidth", 3.0e12, ROOMY),
        row(&d, "copy", "bandwidth", 9e12, CACHE),
        row(&d, "decode_q4_0", "token_rate", 2.2e12 / Q4_READ, Q4_7B),
        row(&d, "decode_q4_0", "bandwidth", 2.2e12, Q4_7B),
        row(&d, "h2d_staging", "plateau", 25e9, "bytes=268435456"),
        row(&d, "d2h", "plateau", 26e9, "bytes=268435456"),
        row(&d, "round_trip", "latency", 20e-6, "bytes=256"),
    ];
    (d, rows)
}

/// A CMP 170HX on a PCIe 1.1 x4 riser: FMA throttled to a sixteenth of
/// separate multiply and add, the host link under 1 GB/s.
pub fn mining() -> (AdapterDesc, Vec<ResultRow>) {
    let d = desc("discrete", "NVIDIA CMP 170HX", 8 << 30);
    let rows = vec![
        row(&d, "sha256d", "hash_rate", 9e9, ""),
        row(&d, "sgemm", "flops", 0.35e12, "m=4096;n=4096;k=4096"),
        row(&d, "fp32_fma", "peak_rate", 0.39e12, ""),
        row(&d, "fp32_mul_add", "peak_rate", 6.25e12, ""),
        row(&d, "triad", "bandwidth", 1.30e12, ROOMY),
        row(&d, "copy", "bandwidth", 1.35e12, ROOMY),
        row(&d, "decode_q4_0", "token_rate", 0.9e12 / Q4_READ, Q4_7B),
        row(&d, "decode_q4_0", "bandwidth", 0.9e12, Q4_7B),
        row(&d, "h2d_staging", "plateau", 0.75e9, "bytes=67108864"),
        row(&d, "d2h", "plateau", 0.8e9, "bytes=67108864"),
        row(&d, "round_trip", "latency", 40e-6, "bytes=256"),
    ];
    (d, rows)
}

/// The price of a kWh the answers are given (`run --power-price`).
pub const PRICE: f64 = 0.30;

/// The terminal text (verdict, summary, energy) and the JSON of one run,
/// all from the adapter's facts, computed once as `run` does, with power
/// read and [`PRICE`] given.
pub fn answer(d: &AdapterDesc, rows: &[ResultRow]) -> (String, serde_json::Value) {
    let (t, w) = telemetry();
    let host = d.is_cpu().then_some(23_000_000_000);
    let facts = Facts::new(d, rows, host).with_power(energy::suite_watts(&t, &w), Some(PRICE));
    let v = AdapterVerdict {
        adapter_index: 0,
        adapter: d.name.clone(),
        findings: verdict::findings(&facts, &[]),
    };
    let e = energy::energy(&t, &w, &facts);
    let llm = models::entries(0, &facts);
    let s = AdapterSummary::from_facts(d, facts);
    let text = verdict::render(&v) + &s.render() + &energy::render(&e);
    let json = serde_json::json!({
        "verdict": [v], "summaries": [s], "energy": [e], "llm": llm
    });
    (text, json)
}
