//! What an MoE decode repetition runs, and which experts each repetition
//! chooses: the plan is the one place that says a token's layer is its
//! dense matrices (attention projections, router, shared experts) plus the
//! `active` routed experts gathered out of all the layer's experts.

use super::formats::{self, Format};
use super::shapes::Model;
use crate::domain::hash::mix32;
use crate::gpu::Gpu;
use crate::workloads::Scale;

pub use crate::domain::models::Matrix;

/// One matrix kind of a layer as the kernel runs it: `slots` products per
/// token, each with one of `stored` copies (routed experts: the token's
/// choice; a dense matrix: its only copy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub matrix: Matrix,
    pub stored: u64,
    pub slots: u64,
    /// The copy each slot reads is the repetition's expert choice.
    pub routed: bool,
}

impl Step {
    pub fn expert_bytes(&self, f: Format) -> u64 {
        self.matrix.rows * f.row_bytes(self.matrix.k)
    }

    /// Weight bytes one token reads.
    pub fn bytes_read(&self, f: Format) -> u64 {
        self.slots * self.expert_bytes(f)
    }
}

/// What one repetition times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The routed experts of one layer for one token.
    Experts,
    /// One layer for one token: attention projections, router and the
    /// routed experts, so that the model's decode rate is its layers times
    /// this.
    Layer,
}

impl Part {
    pub fn name(self) -> &'static str {
        match self {
            Part::Experts => "experts",
            Part::Layer => "layer",
        }
    }
}

/// The steps of `part` of a layer of `model`, `resident` routed experts
/// held (the rest of the model's are not, and no token chooses them).
pub fn plan(model: &Model, part: Part, resident: u64) -> Vec<Step> {
    model
        .weights()
        .into_iter()
        .filter(|w| part == Part::Layer || w.stored > w.read)
        .map(|w| {
            let routed = w.stored > w.read;
            Step {
                matrix: w.matrix,
                stored: if routed { resident } else { w.stored },
                slots: w.read,
                routed,
            }
        })
        .collect()
}

/// Tokens one repetition is worth: one layer of `model`. The model's decode
/// rate is therefore 1 / (layers x the time of one layer's attention
/// projections, router and active experts).
pub fn tokens_per_rep(model: &Model) -> f64 {
    1.0 / model.layers as f64
}

/// Routed experts held per matrix: on a software adapter twice the active
/// ones (16 of Qwen3-30B-A3B's 128) unless --full, then as many as fit its
/// budget; on a GPU every expert of the layer, if they fit.
pub fn experts_resident(gpu: &Gpu, scale: Scale, model: &Model, f: Format) -> u64 {
    let routed = plan(model, Part::Experts, model.experts);
    let per_expert: u64 = routed.iter().map(|s| s.expert_bytes(f)).sum();
    let fit = super::shapes::weight_budget(gpu, scale) / per_expert.max(1);
    let want = match (gpu.desc.is_cpu(), scale) {
        (true, Scale::Quick | Scale::Default) => 2 * model.active_experts,
        _ => model.experts,
    };
    want.min(fit).clamp(model.active_experts, model.experts)
}

/// Expert choices cycle with this period (even, so a choice always meets
/// the same activation window).
pub const SETS: usize = 64;

/// The experts each of [`SETS`] repetitions chooses: `active` distinct ones
/// of `resident`, by a hash of the repetition, no set equal to the one
/// before it (the last one's successor is the first).
pub fn index_sets(resident: u64, active: u64, seed: u32) -> Vec<Vec<u32>> {
    let mut sets: Vec<Vec<u32>> = Vec::with_capacity(SETS);
    for s in 0..SETS {
        let mut salt = 0u32;
        loop {
            let set = draw(resident, active, formats::key(&[seed, s as u32, salt]));
            let mut sorted = set.clone();
            sorted.sort_unstable();
            let same_as = |other: &Vec<u32>| {
                let mut o = other.clone();
                o.sort_unstable();
                o == sorted
            };
            let clash = sets.last().is_some_and(same_as) || (s + 1 == SETS && same_as(&sets[0]));
            if !clash || resident == active {
                sets.push(set);
                break;
            }
            salt += 1;
        }
    }
    sets
}

/// `active` distinct experts of `resident`, in the order drawn.
fn draw(resident: u64, active: u64, key: u32) -> Vec<u32> {
    let mut out = Vec::with_capacity(active as usize);
    let mut h = key;
    while (out.len() as u64) < active {
        h = mix32(h.wrapping_add(0x9e37_79b9));
        let e = (h as u64 % resident) as u32;
        if !out.contains(&e) {
            out.push(e);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::models::by_id;

    #[test]
    fn a_layer_is_its_dense_matrices_and_the_active_experts_the_domain_counts() {
        for id in ["qwen3-30b-a3b", "gpt-oss-20b"] {
            let m = by_id(id).unwrap();
            for f in [Format::Q4_0, Format::MXFP4] {
                let layer = plan(&m, Part::Layer, 16);
                let read: u64 = layer.iter().map(|s| s.bytes_read(f)).sum();
                assert_eq!(read, m.layer_bytes(f), "{id}");
                let experts = plan(&m, Part::Experts, 16);
                assert_eq!(experts.len(), 3, "{id}");
                assert!(experts.iter().all(|s| s.routed && s.stored == 16));
                assert!(experts.iter().all(|s| s.slots == m.active_experts));
                let names: Vec<_> = layer.iter().map(|s| s.matrix.name).collect();
                assert_eq!(&names[..5], ["q", "k", "v", "o", "router"]);
            }
            assert_eq!(tokens_per_rep(&m), 1.0 / m.layers as f64);
        }
    }

    #[test]
    fn expert_choices_are_distinct_in_range_and_change_every_repetition() {
        let sets = index_sets(16, 8, 7);
        assert_eq!(sets.len(), SETS);
        for (s, set) in sets.iter().enumerate() {
            let mut u = set.clone();
            u.sort_unstable();
            u.dedup();
            assert_eq!(u.len(), 8);
            assert!(set.iter().all(|&e| e < 16));
            let next = &sets[(s + 1) % SETS];
            let mut n = next.clone();
            n.sort_unstable();
            assert_ne!(u, n, "set {s} repeats");
        }
        let first_k: Vec<u32> = (0..8).collect();
        assert!(sets.iter().any(|s| *s != first_k));
    }
}
