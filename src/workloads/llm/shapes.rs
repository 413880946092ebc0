//! The models whose weight matrices are measured, and how much of each is
//! kept resident on a given adapter.

use super::formats::Format;
use crate::gpu::Gpu;
use crate::workloads::Scale;

/// A Llama-2 shape: every layer has the attention projections Q, K, V, O
/// and the feed-forward gate, up and down.
#[derive(Clone, Copy, Debug)]
pub struct Model {
    pub name: &'static str,
    pub hidden: u64,
    pub ffn: u64,
    pub layers: u64,
    /// Rows of K and V: hidden for multi-head attention, fewer with grouped
    /// query attention (70B: 8 KV heads of 128).
    pub kv: u64,
}

pub const LLAMA2_7B: Model = Model {
    name: "llama2-7b",
    hidden: 4096,
    ffn: 11008,
    layers: 32,
    kv: 4096,
};
pub const LLAMA2_13B: Model = Model {
    name: "llama2-13b",
    hidden: 5120,
    ffn: 13824,
    layers: 40,
    kv: 5120,
};
pub const LLAMA2_70B: Model = Model {
    name: "llama2-70b",
    hidden: 8192,
    ffn: 28672,
    layers: 80,
    kv: 1024,
};

/// One weight matrix of a layer: `rows` outputs, `k` inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Matrix {
    pub name: &'static str,
    pub rows: u64,
    pub k: u64,
}

impl Model {
    /// The layer's matrices in the order a token uses them.
    pub fn matrices(&self) -> [Matrix; 7] {
        let m = |name, rows, k| Matrix { name, rows, k };
        [
            m("q", self.hidden, self.hidden),
            m("k", self.kv, self.hidden),
            m("v", self.kv, self.hidden),
            m("o", self.hidden, self.hidden),
            m("gate", self.ffn, self.hidden),
            m("up", self.ffn, self.hidden),
            m("down", self.hidden, self.ffn),
        ]
    }

    pub fn layer_weights(&self) -> u64 {
        self.matrices().iter().map(|m| m.rows * m.k).sum()
    }

    pub fn layer_bytes(&self, f: Format) -> u64 {
        self.matrices()
            .iter()
            .map(|m| m.rows * f.row_bytes(m.k))
            .sum()
    }

    /// Outputs of one layer for one token.
    pub fn layer_outputs(&self) -> u64 {
        self.matrices().iter().map(|m| m.rows).sum()
    }
}

/// Which models a run measures: a software adapter only the 7B shape (its
/// memory is host RAM and its speed a CPU's), a GPU all three.
pub fn models(gpu: &Gpu) -> Vec<Model> {
    if gpu.desc.is_cpu() {
        vec![LLAMA2_7B]
    } else {
        vec![LLAMA2_7B, LLAMA2_13B, LLAMA2_70B]
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

    pub fn params(&self) -> String {
        format!(
            "layers_resident={};layers_per_rep={};layers_per_token={}",
            self.resident, self.per_rep, self.per_token
        )
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
