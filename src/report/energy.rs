//! Energy per unit of work, wherever power was read while the work ran:
//! joules per GH for the hash loop, GFLOP per joule for matmul, tokens per
//! kWh for LLM decode (measured, and at the decode ceiling of the one bound).

use serde::Serialize;

use super::facts::{verified, Facts};
use crate::catalogue::{Quantity, Suite};
use crate::domain::formats::Format;
use crate::domain::models::LLAMA2_7B;
use crate::telemetry::{mean_power, Telemetry};

/// When each suite ran, in seconds since the sampler started.
#[derive(Clone, Debug, Serialize)]
pub struct Window {
    pub suite: Suite,
    pub t0_s: f64,
    pub t1_s: f64,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Energy {
    pub hash_j_per_gh: Option<f64>,
    pub hash_watts: Option<f64>,
    pub matmul_gflop_per_j: Option<f64>,
    pub matmul_watts: Option<f64>,
    pub decode_tokens_per_kwh: Option<f64>,
    pub decode_watts: Option<f64>,
    /// Tokens per kWh at the Llama-2-7B Q4_0 decode ceiling, at the power
    /// drawn while the suite that measured the bound ran.
    pub ceiling_tokens_per_kwh: Option<f64>,
    /// That ceiling, tokens/s: the verdict's and the summary's.
    pub ceiling_tokens_s: Option<f64>,
    /// The bound behind that ceiling, named as the verdict and the summary
    /// name it (e.g. "stream copy"), and its rate.
    pub ceiling_bound: Option<String>,
    pub ceiling_bandwidth_bs: Option<f64>,
    /// Why a figure is missing.
    pub unavailable: Option<String>,
}

const J_PER_KWH: f64 = 3.6e6;

fn watts(t: &Telemetry, windows: &[Window], suite: Suite) -> Option<f64> {
    let w = windows.iter().find(|w| w.suite == suite)?;
    mean_power(t, w.t0_s, w.t1_s)
}

/// The energy figures from one adapter's facts and the telemetry of its run.
pub fn energy(t: &Telemetry, windows: &[Window], facts: &Facts) -> Energy {
    let mut e = Energy::default();
    if !t.readings.iter().any(|r| r.quantity == Quantity::Power) {
        e.unavailable = Some(
            t.unavailable
                .iter()
                .find(|(q, _)| *q == Quantity::Power)
                .map_or("no power reading".into(), |(_, why)| {
                    format!("no power reading: {why}")
                }),
        );
        return e;
    }
    let m = &facts.metrics;
    e.hash_watts = watts(t, windows, Suite::Hash);
    if let (Some(w), Some(h)) = (e.hash_watts, verified(m.hash_rate)) {
        e.hash_j_per_gh = Some(w / (h / 1e9));
    }
    e.matmul_watts = watts(t, windows, Suite::Matmul);
    if let (Some(w), Some(f)) = (e.matmul_watts, verified(m.sgemm)) {
        e.matmul_gflop_per_j = Some(f / 1e9 / w);
    }
    e.decode_watts = watts(t, windows, Suite::Llm);
    let decode = facts
        .llm(&LLAMA2_7B, Format::Q4_0)
        .and_then(|l| verified(l.decode));
    if let (Some(w), Some(tps)) = (e.decode_watts, decode) {
        e.decode_tokens_per_kwh = Some(tps * J_PER_KWH / w);
    }
    // The one bound on decode, over the bytes Llama-2-7B Q4_0 reads per token.
    if let (Some(b), Some(c)) = (&facts.decode_bound, facts.ceiling(&LLAMA2_7B, Format::Q4_0)) {
        if let Some(w) = watts(t, windows, b.suite) {
            e.ceiling_tokens_per_kwh = Some(c * J_PER_KWH / w);
            e.ceiling_tokens_s = Some(c);
            e.ceiling_bound = Some(b.kernel.clone());
            e.ceiling_bandwidth_bs = Some(b.bytes_per_s);
        }
    }
    e
}

/// The terminal line.
pub fn render(e: &Energy) -> String {
    if e.unavailable.is_some() {
        // The reason is on the telemetry line above and in the JSON.
        return "energy per work: unavailable (no power reading)".into();
    }
    let mut parts = Vec::new();
    if let (Some(j), Some(w)) = (e.hash_j_per_gh, e.hash_watts) {
        parts.push(format!("SHA-256d {j:.2} J per GH at {w:.0} W"));
    }
    if let (Some(g), Some(w)) = (e.matmul_gflop_per_j, e.matmul_watts) {
        parts.push(format!("f32 matmul {g:.1} GFLOP per J at {w:.0} W"));
    }
    if let (Some(k), Some(w)) = (e.decode_tokens_per_kwh, e.decode_watts) {
        parts.push(format!(
            "Llama-2-7B Q4_0 decode {:.2} M tokens per kWh at {w:.0} W",
            k / 1e6
        ));
    }
    if let Some(k) = e.ceiling_tokens_per_kwh {
        let by = match (&e.ceiling_bound, e.ceiling_bandwidth_bs) {
            (Some(name), Some(b)) => format!(" ({name} {})", crate::units::si(b, "B/s")),
            _ => String::new(),
        };
        parts.push(format!(
            "{:.2} M tokens per kWh at the decode ceiling{by}",
            k / 1e6
        ));
    }
    if parts.is_empty() {
        "energy per work: power was read, but not while a rated suite ran".into()
    } else {
        format!("energy per work: {}", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::Reading;

    #[test]
    fn joules_per_gh_from_power_during_the_hash_suite() {
        let mut t = Telemetry::default();
        for (ts, w) in [(0.5, 100.0), (1.5, 200.0), (2.5, 200.0), (9.0, 999.0)] {
            t.readings.push(Reading {
                t_s: ts,
                quantity: Quantity::Power,
                unit: "W",
                value: w,
                source: "nvml",
            });
        }
        let windows = vec![Window {
            suite: Suite::Hash,
            t0_s: 1.0,
            t1_s: 3.0,
        }];
        let row: crate::report::ResultRow = serde_json::from_value(serde_json::json!({
            "run_id": "r", "timestamp_utc": "t", "tool_version": "0", "host": "h",
            "adapter_index": 0, "adapter": "a", "vendor_id": "0x10de", "device_id": "0x0001",
            "device_type": "discrete", "backend": "vulkan", "driver": "", "driver_info": "",
            "suite": "hash", "kernel": "sha256d", "params": "", "metric": "hash_rate", "unit": "H/s",
            "value": 4e9, "min": 4e9, "max": 4e9, "cv_pct": 1.0, "samples": 5,
            "timing": "gpu-timestamp", "verified": true
        }))
        .unwrap();
        let memory = crate::report::summary::Memory::unrecorded(false);
        let e = energy(&t, &windows, &Facts::from_rows(&[row], memory.clone()));
        // 200 W over the window / 4 GH/s = 50 J per GH.
        assert_eq!(e.hash_watts, Some(200.0));
        assert_eq!(e.hash_j_per_gh, Some(50.0));
        assert!(render(&e).contains("50.00 J per GH"));
        let none = energy(
            &Telemetry::default(),
            &windows,
            &Facts::from_rows(&[], memory),
        );
        assert!(render(&none).contains("unavailable"));
    }
}
