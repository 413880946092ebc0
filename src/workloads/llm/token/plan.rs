//! What a `token` run times: which models, quantizations, contexts and
//! batches at each scale, which of a model's layers are held (each of the
//! kind it stands for: the same formats, the same attention span), and how
//! many experts of each MoE layer.

use crate::domain::formats::Format;
use crate::domain::models::{by_id, Model};
use crate::domain::quant::Quant;
use crate::gpu::Gpu;
use crate::workloads::llm::attention::plan::CONTEXTS;
use crate::workloads::llm::moe_plan::{plan as moe_steps, Part};
use crate::workloads::llm::shapes::weight_budget;
use crate::workloads::Scale;

/// Sequences decoded together.
pub const BATCHES: [u64; 3] = [1, 4, 16];

/// The models people run in the files they download: a dense GQA model
/// and an MoE model in llama.cpp's Q4_K_M, and gpt-oss in MXFP4, its only
/// release.
pub fn targets() -> Vec<(Model, Quant)> {
    let m = |id| by_id(id).expect("data/models.csv has the token models");
    vec![
        (m("llama3.1-8b"), Quant::Q4KM),
        (m("qwen3-30b-a3b"), Quant::Q4KM),
        (m("gpt-oss-20b"), Quant::Uniform(Format::MXFP4)),
    ]
}

/// Prompt tokens a prompt-processing row multiplies at once: a software
/// adapter's default one workgroup's columns, else llama-bench's pp512.
pub const PROMPTS: [u64; 2] = [16, 512];

/// One row to time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Case {
    pub model: Model,
    pub quant: Quant,
    /// Decode over a KV cache of this many tokens; None: prompt
    /// processing.
    pub context: Option<u64>,
    /// Sequences decoded together, or a prompt's tokens.
    pub batch: u64,
}

/// On a GPU, and a software adapter with --full, every target at every
/// context and batch, and a 512-token prompt; a software adapter by
/// default one context and one batch a model (the batches spread over the
/// models) and a 16-token prompt, none with --quick.
pub fn cases(gpu: &Gpu, scale: Scale) -> Vec<Case> {
    let case = |(model, quant): (Model, Quant), context, batch| Case {
        model,
        quant,
        context,
        batch,
    };
    let (decode, prompt): (Vec<(Option<u64>, u64)>, u64) = match (gpu.desc.is_cpu(), scale) {
        (true, Scale::Quick) => return Vec::new(),
        (true, Scale::Default) => (vec![(Some(CONTEXTS[0]), 0)], PROMPTS[0]),
        _ => (
            CONTEXTS
                .into_iter()
                .flat_map(|c| BATCHES.map(|b| (Some(c), b)))
                .collect(),
            PROMPTS[1],
        ),
    };
    let mut out = Vec::new();
    for (i, t) in targets().into_iter().enumerate() {
        for &(context, batch) in &decode {
            // batch 0: the default's one batch a model
            let batch = if batch == 0 {
                BATCHES[i % BATCHES.len()]
            } else {
                batch
            };
            out.push(case(t, context, batch));
        }
        out.push(case(t, None, prompt));
    }
    out
}

/// What a layer is, for standing in for another: its matrices' formats
/// and whether it attends over a sliding window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kind {
    pub formats: Vec<Format>,
    pub sliding: bool,
}

pub fn kind(m: &Model, q: Quant, layer: u64) -> Kind {
    Kind {
        formats: m
            .weights()
            .iter()
            .map(|w| q.format_of(m, w.matrix.name, layer))
            .collect(),
        sliding: m.is_sliding(layer),
    }
}

/// The model's layers in groups holding each kind in the model's own
/// proportion (for Llama-3.1-8B's Q4_K_M: one layer with the Q6_K V and
/// down projections and one without), group `j` the `j`-th layers of each
/// kind: a group's share of a token's work is its share of the layers.
pub fn groups(m: &Model, q: Quant) -> Vec<Vec<u64>> {
    let mut kinds: Vec<(Kind, Vec<u64>)> = Vec::new();
    for l in 0..m.layers {
        let k = kind(m, q, l);
        match kinds.iter_mut().find(|(have, _)| *have == k) {
            Some((_, ls)) => ls.push(l),
            None => kinds.push((k, vec![l])),
        }
    }
    let g = kinds
        .iter()
        .map(|(_, ls)| ls.len() as u64)
        .fold(0, gcd)
        .max(1);
    (0..g as usize)
        .map(|j| {
            let mut group: Vec<u64> = kinds
                .iter()
                .flat_map(|(_, ls)| {
                    let per = ls.len() / g as usize;
                    ls[j * per..(j + 1) * per].to_vec()
                })
                .collect();
            group.sort_unstable();
            group
        })
        .collect()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Which layers are held and which run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layers {
    /// The model layer each held layer is (its formats and keys).
    pub resident: Vec<u64>,
    /// The held layer each position of a repetition runs.
    pub positions: Vec<usize>,
    pub per_token: u64,
    /// Routed experts held per matrix of an MoE layer (0: dense).
    pub experts: u64,
}

impl Layers {
    /// Tokens (of one sequence) a repetition is worth.
    pub fn tokens_per_rep(&self) -> f64 {
        self.positions.len() as f64 / self.per_token as f64
    }
}

/// Bytes a held layer of kind `layer` stores with `experts` of each
/// routed matrix.
fn held_bytes(m: &Model, q: Quant, layer: u64, experts: u64) -> u64 {
    moe_steps(m, Part::Layer, experts)
        .iter()
        .map(|s| {
            s.stored * s.matrix.rows * q.format_of(m, s.matrix.name, layer).row_bytes(s.matrix.k)
        })
        .sum()
}

/// A software adapter holds one group and runs it (twice the active
/// experts, all that fit with --full); a GPU holds as many whole groups as
/// its budget allows, with every expert that fits, and runs every layer of
/// a token, each on a held layer of its kind. Prompt processing (`prompt`)
/// runs one group everywhere: its pace is set by arithmetic, and its
/// outputs are a prompt's worth per layer. `reserved` bytes (the KV caches
/// the step holds beside the weights) come out of the weights' budget, so
/// that both fit a small card together.
pub fn layers(
    gpu: &Gpu,
    scale: Scale,
    m: &Model,
    q: Quant,
    (prompt, reserved): (bool, u64),
) -> Layers {
    let groups = groups(m, q);
    let budget = weight_budget(gpu, scale).saturating_sub(reserved);
    let first = &groups[0];
    let experts = if m.experts == 0 {
        0
    } else if gpu.desc.is_cpu() && scale != Scale::Full {
        (2 * m.active_experts).min(m.experts)
    } else {
        let one: u64 = first.iter().map(|&l| held_bytes(m, q, l, 1)).sum();
        let dense: u64 = first.iter().map(|&l| held_bytes(m, q, l, 0)).sum();
        (budget.saturating_sub(dense) / (one - dense).max(1)).clamp(m.active_experts, m.experts)
    };
    let group_bytes =
        |g: &Vec<u64>| -> u64 { g.iter().map(|&l| held_bytes(m, q, l, experts)).sum() };
    let mut resident: Vec<u64> = first.clone();
    let one_group = gpu.desc.is_cpu() || prompt;
    if !one_group {
        let mut used = group_bytes(first);
        for g in &groups[1..] {
            used += group_bytes(g);
            if used > budget {
                break;
            }
            resident.extend(g);
        }
    }
    let positions = match one_group {
        true => (0..resident.len()).collect(),
        false => (0..m.layers)
            .map(|l| stand_in(m, q, &resident, l))
            .collect(),
    };
    Layers {
        resident,
        positions,
        per_token: m.layers,
        experts,
    }
}

/// The held layer that runs model layer `l`: of its kind, the held ones
/// taken in turn.
fn stand_in(m: &Model, q: Quant, resident: &[u64], l: u64) -> usize {
    let k = kind(m, q, l);
    let same: Vec<usize> = (0..resident.len())
        .filter(|&i| kind(m, q, resident[i]) == k)
        .collect();
    let nth = (0..l).filter(|&e| kind(m, q, e) == k).count();
    same[nth % same.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_hold_each_kind_in_the_models_proportion() {
        for (m, q) in targets() {
            let gs = groups(&m, q);
            let all: u64 = gs.iter().map(|g| g.len() as u64).sum();
            assert_eq!(all, m.layers, "{}", m.id);
            let sizes: Vec<usize> = gs.iter().map(Vec::len).collect();
            assert!(sizes.iter().all(|&s| s == sizes[0]), "{}", m.id);
            // Every group has as many layers of a kind as the model over
            // the number of groups.
            for g in &gs {
                for l in g {
                    let k = kind(&m, q, *l);
                    let here = g.iter().filter(|&&e| kind(&m, q, e) == k).count();
                    let total = (0..m.layers).filter(|&e| kind(&m, q, e) == k).count();
                    assert_eq!(here * gs.len(), total, "{} layer {l}", m.id);
                }
            }
        }
        let llama = by_id("llama3.1-8b").unwrap();
        let g = &groups(&llama, Quant::Q4KM)[0];
        assert_eq!(g.len(), 2);
        assert_ne!(
            kind(&llama, Quant::Q4KM, g[0]),
            kind(&llama, Quant::Q4KM, g[1])
        );
        let oss = by_id("gpt-oss-20b").unwrap();
        let g = &groups(&oss, Quant::Uniform(Format::MXFP4))[0];
        assert_eq!(g, &vec![0, 1]);
    }
}
