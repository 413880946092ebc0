//! The summary: per adapter, the measured figures side by side, what follows
//! from them (FLOP per hash, LLM decode ceilings, model load times), the
//! card beside a mining ASIC, and the nearest published cards. It follows
//! the verdict, whose judgments it does not repeat.

mod cards;
#[cfg(test)]
pub(crate) mod fixtures;
mod flags;
mod llm;
mod metrics;
mod models;
mod render;
pub mod rules;
mod totals;

use serde::Serialize;

pub use cards::{nearest_cards, Neighbour};
pub use flags::{ASIC_S19_HS, FMA_CRIPPLE_RATIO};
pub use llm::{decode_ceiling, fits, load_seconds, LlmRow, FIT_HEADROOM, REALISTIC};
pub use metrics::{Field, KeyMetrics, Val, FIELDS};
pub use rules::{
    adapter_memory, best, decode_bound, fma_judgment, DecodeBound, FmaJudgment, Memory,
};
pub use totals::{render_rig, rig_totals, RigTotals};

use super::facts::Facts;
use super::ResultRow;
use crate::gpu::AdapterDesc;
use crate::reference_cards;

#[derive(Clone, Debug, Serialize)]
pub struct AdapterSummary {
    pub adapter_index: usize,
    pub adapter: String,
    pub backend: String,
    pub device_type: String,
    /// The adapter's facts (key metrics, memory, the decode bound, the FMA
    /// judgment, the host link, measured LLM rates), at the top level of
    /// the JSON as before.
    #[serde(flatten)]
    pub facts: Facts,
    pub vram_bytes: Option<u64>,
    pub vram_source: String,
    pub matmul_efficiency: Option<f64>,
    pub fma_unfused_ratio: Option<f64>,
    pub flop_per_hash: Option<f64>,
    pub llm: Vec<LlmRow>,
    /// Measured decode and prefill of the `llm` suite (7B), one line each.
    pub llm_measured: Vec<String>,
    /// The card's figures beside other machines', for scale.
    pub flags: Vec<String>,
    pub neighbours: Vec<Neighbour>,
}

impl AdapterSummary {
    /// The summary; a CPU adapter's memory is the host's, read now.
    pub fn new(desc: &AdapterDesc, rows: &[ResultRow]) -> AdapterSummary {
        AdapterSummary::from_facts(desc, Facts::of(desc, rows))
    }

    /// [`AdapterSummary::new`] with the host's available memory given.
    pub fn with_host(
        desc: &AdapterDesc,
        rows: &[ResultRow],
        host_available: Option<u64>,
    ) -> AdapterSummary {
        AdapterSummary::from_facts(desc, Facts::new(desc, rows, host_available))
    }

    /// The summary of the adapter's facts, computed once for every output.
    pub fn from_facts(desc: &AdapterDesc, facts: Facts) -> AdapterSummary {
        let m = &facts.metrics;
        let ratio = |a: Option<Val>, b: Option<Val>| match (a, b) {
            (Some(x), Some(y)) if y.value > 0.0 => Some(x.value / y.value),
            _ => None,
        };
        let llm = llm::ceiling_rows(&facts);
        AdapterSummary {
            adapter_index: desc.index,
            adapter: desc.name.clone(),
            backend: desc.backend.clone(),
            device_type: desc.device_type.clone(),
            vram_bytes: desc.vram_bytes,
            vram_source: desc.vram_source.clone(),
            matmul_efficiency: ratio(m.sgemm, m.fp32_fma),
            fma_unfused_ratio: ratio(m.fp32_fma, m.fp32_mul_add),
            flop_per_hash: ratio(m.sgemm, m.hash_rate),
            llm,
            llm_measured: llm::measured_llm(&facts),
            flags: flags::for_scale(m),
            neighbours: nearest_cards(m, &reference_cards::cards()),
            facts,
        }
    }
}
