//! A rig as one machine: a model split over its cards by layers (pipeline
//! parallelism), planned from what was measured. Each card takes as many
//! consecutive layers as fit its memory by the verdict's rule ([`fits`]:
//! resident bytes within [`super::summary::FIT_HEADROOM`] of it), the KV cache of those
//! layers at [`CONTEXT`] tokens included; the first card also holds the
//! embedding table, the last the output head. Filling cards in rig order
//! rather than spreading layers over all of them keeps the boundaries, and
//! so the link hops a token pays, to as few as the memory allows.
//!
//! Single-stream decode through the split is a bound: each card reads its
//! layers' weights at its measured decode bandwidth, one after the other,
//! and each boundary carries one activation vector (`hidden` fp16 values)
//! over the measured card-to-card link. Tensor parallelism over the same
//! cards and links is costed beside it: two all-reduces a layer a token,
//! which pay the link's latency every layer.

use serde::Serialize;

use super::network::{self, Link, BYTES_PER_VALUE};
use super::summary::{fits, DecodeBound};
use crate::domain::formats::{Format, FORMATS};
use crate::domain::models::{catalogue, Model};

/// The context the KV cache is sized for when placing layers: long enough
/// for a conversation, and what llama.cpp's server gives a slot by default.
pub const CONTEXT: u64 = 4096;

/// The bandwidth a card's decode ceilings divide, and the kernel that
/// measured it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Bound {
    pub bytes_per_s: f64,
    pub kernel: String,
}

/// One card as the planner sees it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Card {
    pub adapter_index: usize,
    pub name: String,
    /// Usable memory: what the verdict judges a fit against.
    pub memory_bytes: u64,
    /// None when nothing measured the card's memory bandwidth.
    pub decode: Option<Bound>,
}

/// The layers one card holds.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Stage {
    pub adapter_index: usize,
    /// The first layer it holds, from 0.
    pub first_layer: u64,
    pub layers: u64,
    /// Its layers' weights and KV cache, and the embedding table or output
    /// head if it holds them.
    pub bytes_resident: f64,
    /// Its layers' weight reads for one token at its measured bandwidth.
    pub seconds_per_token: Option<f64>,
}

/// A model in one format split over the cards.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Split {
    pub model: &'static str,
    pub format: Format,
    /// Tokens of KV cache counted.
    pub context: u64,
    /// Every parameter in the format and the KV cache at `context`.
    pub bytes_needed: f64,
    /// The summed memory of the cards.
    pub memory_bytes: u64,
    /// Whether `bytes_needed` fits the summed memory at all, by the rule.
    pub fits_summed: bool,
    /// Whether every layer found a card: whole layers per card, each card
    /// within the rule.
    pub fits: bool,
    /// The cards used, in order; empty when it does not fit.
    pub stages: Vec<Stage>,
    /// Σ of the stages' seconds per token.
    pub compute_s_per_token: Option<f64>,
    /// One activation vector over each boundary's link, per token.
    pub link_s_per_token: Option<f64>,
    /// Single-stream decode bound: 1 / (compute + link).
    pub tokens_per_s: Option<f64>,
    /// Tensor parallel over as many cards: its all-reduces per token over
    /// the slowest link the split crosses.
    pub tensor_link_s_per_token: Option<f64>,
    /// The kernels whose measured bandwidth the compute term divides.
    pub bound_by: Vec<String>,
}

/// Bytes of model `m`'s layers and ends in format `f`, as a card holds them.
struct Sizes<'m> {
    m: &'m Model,
    layer: f64,
    embedding: f64,
    /// The output head (an untied one), the final norm.
    tail: f64,
}

impl<'m> Sizes<'m> {
    fn of(m: &'m Model, f: Format) -> Sizes<'m> {
        let per = f.bits_per_weight() / 8.0;
        let layer = m.layer_params() as f64 * per;
        let embedding = (m.vocab * m.hidden) as f64 * per;
        // What the layers and the table leave of every parameter, so the
        // stages sum to `bytes_resident`.
        let tail = m.bytes_resident(f) - m.layers as f64 * layer - embedding;
        Sizes {
            m,
            layer,
            embedding,
            tail,
        }
    }

    /// Bytes of `count` layers from `first`, their KV cache at `context`,
    /// and the ends the stage holds: the table on the first stage, the
    /// head on the last (a tied head is the table, a second copy when the
    /// last stage is not the first).
    fn stage(&self, first: u64, count: u64, context: u64) -> f64 {
        let kv: u64 = (first..first + count)
            .map(|l| self.m.layer_kv_bytes(l, context))
            .sum();
        let (is_first, is_last) = (first == 0, first + count == self.m.layers);
        let mut bytes = count as f64 * self.layer + kv as f64;
        if is_first {
            bytes += self.embedding;
        }
        if is_last {
            bytes += self.tail;
            if self.m.tied_embeddings && !is_first {
                bytes += self.embedding;
            }
        }
        bytes
    }
}

/// Layers per card, filling each in order with as many as fit it: (card
/// position, first layer, count, bytes). None when the layers outrun the
/// cards.
fn fill(cards: &[Card], s: &Sizes, context: u64) -> Option<Vec<(usize, u64, u64, f64)>> {
    let mut out = Vec::new();
    let mut next = 0;
    for (i, card) in cards.iter().enumerate() {
        if next == s.m.layers {
            break;
        }
        // Scanning up, not down: the head joins only the stage that ends
        // the model, so a count that fits may follow one that does not.
        let mut count = 0;
        while next + count < s.m.layers
            && fits(s.stage(next, count + 1, context), card.memory_bytes)
        {
            count += 1;
        }
        if count > 0 {
            out.push((i, next, count, s.stage(next, count, context)));
            next += count;
        }
    }
    (next == s.m.layers).then_some(out)
}

/// The link out of each card to the next one: `links[i]` leaves `cards[i]`.
/// A boundary's activation crosses the link of the card that sends it.
pub fn plan(cards: &[Card], links: &[Link], m: &Model, f: Format, context: u64) -> Split {
    let sizes = Sizes::of(m, f);
    let bytes_needed = m.bytes_resident(f) + m.kv_cache_bytes(context) as f64;
    let memory_bytes: u64 = cards.iter().map(|c| c.memory_bytes).sum();
    let placed = fill(cards, &sizes, context).unwrap_or_default();
    let stages: Vec<Stage> = placed
        .iter()
        .map(|&(i, first, count, bytes)| Stage {
            adapter_index: cards[i].adapter_index,
            first_layer: first,
            layers: count,
            bytes_resident: bytes,
            seconds_per_token: cards[i]
                .decode
                .as_ref()
                .map(|b| (count * m.layer_bytes(f)) as f64 / b.bytes_per_s),
        })
        .collect();
    // The boundaries: every stage but the last sends one vector on.
    let boundaries: Option<Vec<&Link>> = placed[..placed.len().saturating_sub(1)]
        .iter()
        .map(|&(i, ..)| links.get(i))
        .collect();
    let activation = m.hidden as f64 * BYTES_PER_VALUE;
    let link_s = boundaries
        .as_ref()
        .map(|b| b.iter().map(|l| network::hop(activation, l)).sum::<f64>());
    let compute_s: Option<f64> = stages.iter().map(|s| s.seconds_per_token).sum();
    let fits_all = !stages.is_empty();
    let tensor = boundaries
        .as_ref()
        .map(|b| tensor_s(m, stages.len() as u32, b));
    Split {
        model: m.name,
        format: f,
        context,
        bytes_needed,
        memory_bytes,
        fits_summed: fits(bytes_needed, memory_bytes),
        fits: fits_all,
        tokens_per_s: compute_s.zip(link_s).map(|(c, l)| 1.0 / (c + l)),
        compute_s_per_token: compute_s,
        link_s_per_token: link_s,
        tensor_link_s_per_token: tensor,
        bound_by: bound_by(cards, &placed),
        stages,
    }
    .or_nothing_if(!fits_all)
}

impl Split {
    /// A split that does not fit states the fit only.
    fn or_nothing_if(self, nothing: bool) -> Split {
        if !nothing {
            return self;
        }
        Split {
            stages: Vec::new(),
            compute_s_per_token: None,
            link_s_per_token: None,
            tokens_per_s: None,
            tensor_link_s_per_token: None,
            bound_by: Vec::new(),
            ..self
        }
    }
}

/// Tensor parallel over `n` cards: a ring all-reduce is as slow as its
/// slowest link and pays its worst latency at every step.
fn tensor_s(m: &Model, n: u32, links: &[&Link]) -> f64 {
    let Some(first) = links.first() else {
        return 0.0;
    };
    let worst = links.iter().fold(**first, |w, l| Link {
        bytes_per_s: w.bytes_per_s.min(l.bytes_per_s),
        latency_s: w.latency_s.max(l.latency_s),
        ..w
    });
    network::tensor_per_token_s(m, n, &worst)
}

/// The distinct kernels that measured the bandwidth of the cards used.
fn bound_by(cards: &[Card], placed: &[(usize, u64, u64, f64)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for b in placed
        .iter()
        .filter_map(|&(i, ..)| cards[i].decode.as_ref())
    {
        if !out.contains(&b.kernel) {
            out.push(b.kernel.clone());
        }
    }
    out
}

/// Every format of `m` split over the cards, the best that fits first: the
/// most bits per weight among those that fit, then those that do not from
/// the fewest bits (the nearest to fitting).
pub fn by_format(cards: &[Card], links: &[Link], m: &Model, formats: &[Format]) -> Vec<Split> {
    let mut all: Vec<Split> = formats
        .iter()
        .map(|&f| plan(cards, links, m, f, CONTEXT))
        .collect();
    all.sort_by(|a, b| {
        let bits = |s: &Split| s.format.bits_per_weight();
        match (a.fits, b.fits) {
            (true, true) => bits(b).total_cmp(&bits(a)),
            (false, false) => bits(a).total_cmp(&bits(b)),
            _ => b.fits.cmp(&a.fits),
        }
    });
    all
}

/// Every catalogue model split over a rig, each in every format.
#[derive(Clone, Debug, Serialize)]
pub struct RigPlan {
    pub context: u64,
    pub cards: Vec<Card>,
    /// `links[i]` leaves `cards[i]` for the next card.
    pub links: Vec<Link>,
    pub models: Vec<ModelPlan>,
}

/// One model's splits, the best that fits first ([`by_format`]).
#[derive(Clone, Debug, Serialize)]
pub struct ModelPlan {
    /// As in row params: `llama2-7b`.
    pub model: &'static str,
    pub formats: Vec<Split>,
}

/// Every catalogue model in every format over `cards` and `links`.
pub fn rig_plan(cards: Vec<Card>, links: Vec<Link>) -> RigPlan {
    let models = catalogue()
        .iter()
        .map(|m| ModelPlan {
            model: m.id,
            formats: by_format(&cards, &links, m, &FORMATS),
        })
        .collect();
    RigPlan {
        context: CONTEXT,
        cards,
        links,
        models,
    }
}

impl From<&DecodeBound> for Bound {
    fn from(b: &DecodeBound) -> Bound {
        Bound {
            bytes_per_s: b.bytes_per_s,
            kernel: b.kernel.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
