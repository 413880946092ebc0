//! What a whole rig adds up to: sums of the verified figures over every
//! measured adapter.

use serde::Serialize;

use super::metrics::{KeyMetrics, Val};
use super::AdapterSummary;
use crate::units::si;

/// Sums over every measured adapter: what a whole rig adds up to.
#[derive(Clone, Debug, Serialize)]
pub struct RigTotals {
    pub adapters: usize,
    pub hash_rate: f64,
    pub sgemm: f64,
    pub bandwidth: f64,
    pub vram_bytes: Option<u64>,
}

pub fn rig_totals(summaries: &[AdapterSummary]) -> RigTotals {
    let sum = |f: fn(&KeyMetrics) -> Option<Val>| {
        summaries
            .iter()
            .filter_map(|s| f(&s.facts.metrics))
            .filter(|v| v.verified)
            .map(|v| v.value)
            // From +0: an empty f64 sum is -0.0, which would print as "-0".
            .fold(0.0, |a, b| a + b)
    };
    RigTotals {
        adapters: summaries.len(),
        hash_rate: sum(|k| k.hash_rate),
        sgemm: sum(|k| k.sgemm),
        bandwidth: sum(|k| k.bandwidth()),
        vram_bytes: summaries.iter().map(|s| s.vram_bytes).sum(),
    }
}

pub fn render_rig(t: &RigTotals) -> String {
    // A sum of no verified figure is not a measured zero.
    let total = |v: f64, unit: &str| {
        if v > 0.0 {
            si(v, unit)
        } else {
            "not measured".into()
        }
    };
    format!(
        "\n== Rig: {} adapters (sums of verified figures) ==\n  SHA-256d {}, f32 matmul {}, memory bandwidth {} (each card's own; a model split across cards is limited by the host link), VRAM {}\n",
        t.adapters,
        total(t.hash_rate, "H/s"),
        total(t.sgemm, "FLOP/s"),
        total(t.bandwidth, "B/s"),
        t.vram_bytes.map(|b| si(b as f64, "B")).unwrap_or_else(|| "unknown".into())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::facts::Facts;
    use crate::report::summary::adapter_memory;
    use crate::report::summary::fixtures::desc;

    #[test]
    fn rig_totals_add_up_verified_figures() {
        let mk = |hash: f64, verified: bool| AdapterSummary {
            adapter_index: 0,
            adapter: "card".into(),
            backend: "vulkan".into(),
            device_type: "discrete".into(),
            facts: Facts {
                metrics: KeyMetrics {
                    hash_rate: Some(Val {
                        value: hash,
                        verified,
                    }),
                    stream_triad: Some(Val {
                        value: 400e9,
                        verified: true,
                    }),
                    ..Default::default()
                },
                ..Facts::from_rows(&[], adapter_memory(&desc(Some(8_000_000_000)), None))
            },
            vram_bytes: Some(8_000_000_000),
            vram_source: "test".into(),
            matmul_efficiency: None,
            fma_unfused_ratio: None,
            flop_per_hash: None,
            llm: Vec::new(),
            llm_measured: Vec::new(),
            flags: Vec::new(),
            neighbours: Vec::new(),
        };
        let t = rig_totals(&[mk(1e9, true), mk(2e9, true), mk(5e9, false)]);
        assert_eq!(t.adapters, 3);
        // The unverified card's hash rate is not added to the rig's.
        assert_eq!(t.hash_rate, 3e9);
        assert_eq!(t.bandwidth, 1200e9);
        assert_eq!(t.vram_bytes, Some(24_000_000_000));
        let text = render_rig(&t);
        assert!(text.contains("3 adapters"), "{text}");
        assert!(text.contains("f32 matmul not measured"), "{text}");
    }
}
