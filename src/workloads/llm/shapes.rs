//! Which models' weight matrices a run measures (the shapes are the
//! domain's), and how much of each is kept resident on a given adapter.

use super::formats::Format;
use crate::catalogue::Params;
use crate::gpu::Gpu;
use crate::workloads::Scale;

pub use crate::domain::models::{Matrix, Model, LLAMA2, LLAMA2_7B};

/// Which models a run measures: a software adapter only the 7B shape (its
/// memory is host RAM and its speed a CPU's), a GPU all three.
pub fn models(gpu: &Gpu) -> Vec<Model> {
    if gpu.desc.is_cpu() {
        vec![*LLAMA2_7B]
    } else {
        LLAMA2.to_vec()
    }
}

/// Bytes of weights a run may keep resident: on a GPU most of its memory
/// (unknown: 2 GiB); on a software adapter a few hundred MiB (one layer
/// with --quick), which keeps the CPU's time in check, and never over a
/// quarter of what the host can give it.
pub fn weight_budget(gpu: &Gpu, scale: Scale) -> u64 {
    let usable = gpu.desc.usable_memory();
    if gpu.desc.is_cpu() {
        let budget: u64 = match scale {
            Scale::Quick => 0,
            Scale::Default => 512 << 20,
            Scale::Full => 2 << 30,
        };
        return usable.map_or(budget, |u| budget.min(u / 4));
    }
    match usable {
        Some(v) => v / 10 * 8,
        None => 2 << 30,
    }
}

/// How a model's token is timed on this adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Residency {
    /// Distinct layers held in memory.
    pub resident: u64,
    /// Layers one timed repetition runs (the resident ones repeated).
    pub per_rep: u64,
    /// Layers in one token of the model.
    pub per_token: u64,
}

impl Residency {
    /// Tokens one repetition is worth.
    pub fn tokens_per_rep(&self) -> f64 {
        self.per_rep as f64 / self.per_token as f64
    }

    /// `p` with the residency's facts added.
    pub fn params(&self, p: Params) -> Params {
        p.detail("layers_resident", self.resident)
            .detail("layers_per_rep", self.per_rep)
            .detail("layers_per_token", self.per_token)
    }
}

/// As many layers as fit the budget (at least one). A GPU repeats them to
/// a whole token per repetition; a software adapter times the resident
/// layers once per repetition and counts the token's share, which keeps one
/// repetition short.
pub fn residency(gpu: &Gpu, scale: Scale, model: &Model, f: Format) -> Residency {
    let fit = weight_budget(gpu, scale) / model.layer_bytes(f).max(1);
    let resident = fit.clamp(1, model.layers);
    let per_rep = if gpu.desc.is_cpu() {
        resident
    } else {
        model.layers
    };
    Residency {
        resident,
        per_rep,
        per_token: model.layers,
    }
}
