//! Which catalogue models run on an adapter, in which weight format, at
//! what decode rate: the one rule the verdict, the summary, the energy
//! line and the JSON read, so a model's tokens/s is one figure wherever
//! it is printed.
//!
//! A model in a format fits by the fit rule ([`fits`]) with its KV cache
//! at [`CONTEXT`] tokens on top of every parameter. Its decode rate is
//! measured where the `llm` suite decoded that model in that format;
//! otherwise it is derived: the weight-read rate the adapter's decode
//! kernel for that format measured (on whatever model it ran), else the
//! decode bound, over the bytes of weights the model reads per token (of
//! an MoE model, the active experts'). The `llm` suite measures Llama-2
//! shapes only, so for the rest of the catalogue the figure is derived and
//! says from what.

use serde::Serialize;

use super::energy::J_PER_KWH;
use super::facts::{verified, Facts};
use super::pipeline::CONTEXT;
use super::summary::fits;
use super::verdict::{source_of, Basis};
use crate::catalogue::{Kernel, Suite};
use crate::domain::formats::Format;
use crate::domain::llama_cpp::nearest;
use crate::domain::models::{catalogue, Model};
use crate::domain::quant::Quant;

/// A decode rate and where it comes from.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DecodeRate {
    pub tokens_per_s: f64,
    /// Measured (this model in this format decoded), or derived.
    pub basis: Basis,
    /// The kernel that measured the rate, or the read rate it divides.
    #[serde(skip)]
    pub kernel: Kernel,
    /// The measured bytes/s of weights a derived rate divides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_bytes_per_s: Option<f64>,
    /// The suite whose power its energy per token is taken at.
    #[serde(skip)]
    pub suite: Suite,
    /// The KV cache a measured whole decode step attended over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<u64>,
}

impl DecodeRate {
    /// "decode_q4_0", "token_q4_k_m at context 4096", or "decode_q4_0's
    /// measured 3.30 GB/s" for a derived rate: what the figure's basis
    /// names.
    pub fn source(&self) -> String {
        match self.read_bytes_per_s {
            None => match self.context {
                Some(c) => format!("{} at context {c}", source_of(self.kernel)),
                None => source_of(self.kernel),
            },
            Some(b) => format!(
                "{}'s measured {}",
                source_of(self.kernel),
                crate::units::si(b, "B/s")
            ),
        }
    }
}

/// A single sequence's whole decode step of `m` stored as `q`, verified:
/// at [`CONTEXT`] where measured, else at the longest context measured.
/// (context, tok/s).
pub fn measured_step(facts: &Facts, m: &Model, q: Quant) -> Option<(u64, f64)> {
    facts
        .token_rates
        .iter()
        .filter(|t| t.model == m.id && t.quant == q && t.batch == 1 && t.tok_s.verified)
        .filter_map(|t| Some((t.context?, t.tok_s.value)))
        .max_by_key(|&(c, _)| (c == CONTEXT, c))
}

/// The decode rate of `m` stored as `q` on the adapter of `facts`, from
/// verified figures only: the one rule for "tok/s of a model". Measured
/// where the suite ran the model's whole decode step (`token_<quant>`,
/// one sequence), or decoded its layers in that one format
/// (`decode_<format>`); else derived from the read rate of the format's
/// own kernel (the mix's: Q4_K's, most of its bytes), else the bound.
pub fn decode_rate(facts: &Facts, m: &Model, q: Quant) -> Option<DecodeRate> {
    if let Some((context, t)) = measured_step(facts, m, q) {
        return Some(DecodeRate {
            tokens_per_s: t,
            basis: Basis::Measured,
            kernel: Kernel::Token(q),
            read_bytes_per_s: None,
            suite: Suite::Llm,
            context: Some(context),
        });
    }
    let f = match q {
        Quant::Uniform(f) => f,
        Quant::Q4KM => Format::Q4_K,
    };
    let kernel = Kernel::Decode(f);
    let layers = facts.llm(m, f).filter(|_| q == Quant::Uniform(f));
    if let Some(t) = layers.and_then(|l| verified(l.decode)) {
        return Some(DecodeRate {
            tokens_per_s: t,
            basis: Basis::Measured,
            kernel,
            read_bytes_per_s: None,
            suite: Suite::Llm,
            context: None,
        });
    }
    // The format's own kernel reads its blocks as decode of any model
    // would; the bound is what memory allows any kernel.
    let own = facts
        .llm_rates
        .iter()
        .filter(|l| l.format == f)
        .filter_map(|l| verified(l.decode_read))
        .reduce(f64::max)
        .map(|b| (kernel, b, Suite::Llm));
    let bound = facts
        .decode_bound
        .as_ref()
        .map(|b| (b.measured_by, b.bytes_per_s, b.suite));
    let (kernel, read, suite) = own.or(bound)?;
    Some(DecodeRate {
        tokens_per_s: read / q.weights_read_per_token(m) as f64,
        basis: Basis::Derived,
        kernel,
        read_bytes_per_s: Some(read),
        suite,
        context: None,
    })
}

/// One catalogue model in one format on one adapter. Rates by other
/// runtimes (llama.cpp's) join as further optional fields.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ModelRate {
    /// As in row params: `llama3.1-8b`.
    pub model: &'static str,
    /// As published: `Llama-3.1-8B`.
    #[serde(skip)]
    pub name: &'static str,
    /// How the model's matrices are stored: one format, or the Q4_K_M mix.
    pub format: Quant,
    /// Bytes of weights decode reads per token (an MoE model's active
    /// experts).
    pub weight_bytes_per_token: f64,
    /// Tokens of KV cache counted in `bytes_needed`.
    pub context: u64,
    /// Every parameter in the format and the KV cache at `context`.
    pub bytes_needed: f64,
    /// By the fit rule; None where the adapter's memory is unknown.
    pub fits: Option<bool>,
    /// The format the verdict names for the model: the most bits that fit.
    pub best_fit: bool,
    /// hashflops' own decode kernels, measured or derived.
    pub decode_tok_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<Basis>,
    /// What measured it, or what it is derived from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decode_source: Option<String>,
    /// Measured batched prompt processing, where the suite ran it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefill_tok_s: Option<f64>,
    /// The power drawn while the rate's suite ran, over the rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joules_per_token: Option<f64>,
    /// At `run --power-price` a kWh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_per_million_tokens: Option<f64>,
    /// What llama.cpp is estimated to decode on this adapter: hashflops'
    /// rate times llama.cpp's share of it on this kind of adapter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llama_cpp_decode_tok_s: Option<f64>,
    /// The same for prompt processing, where the share's line has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llama_cpp_prefill_tok_s: Option<f64>,
    /// Whose llama-bench figure the share comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llama_cpp_basis: Option<String>,
    #[serde(skip)]
    pub rate: Option<DecodeRate>,
}

/// What `m` stored as `q` needs of the adapter's memory: every parameter
/// and the KV cache at [`CONTEXT`] tokens. Every fit judged by the verdict,
/// the summary and the chart is of this.
pub fn bytes_needed(m: &Model, q: Quant) -> f64 {
    q.bytes_resident(m) + m.kv_cache_bytes(CONTEXT) as f64
}

/// Whether `m` in `f` fits `memory` bytes by the fit rule.
pub fn fits_in(m: &Model, f: Format, memory: u64) -> bool {
    fits(bytes_needed(m, Quant::Uniform(f)), memory)
}

/// Measured prompt processing of `m` stored as `q`: its layers in that
/// one format (`prefill_<format>`), else its whole prompt
/// (`prompt_<quant>`, the longest measured).
fn prefill_of(facts: &Facts, m: &Model, q: Quant) -> Option<f64> {
    let layers = match q {
        Quant::Uniform(f) => facts.llm(m, f).and_then(|l| verified(l.prefill)),
        Quant::Q4KM => None,
    };
    layers.or_else(|| {
        facts
            .token_rates
            .iter()
            .filter(|t| t.model == m.id && t.quant == q && t.context.is_none())
            .filter(|t| t.tok_s.verified)
            .max_by_key(|t| t.batch)
            .map(|t| t.tok_s.value)
    })
}

/// `m` stored as `q` on the adapter of `facts`.
fn rate_of(facts: &Facts, m: &Model, q: Quant) -> ModelRate {
    let f = q;
    let needed = bytes_needed(m, q);
    let rate = decode_rate(facts, m, q);
    let joules = rate
        .as_ref()
        .and_then(|r| facts.watts(r.suite).map(|w| w / r.tokens_per_s));
    let prefill = prefill_of(facts, m, q);
    let rate_tps = rate.as_ref().map(|r| r.tokens_per_s);
    // llama.cpp's share of the weight-read rate behind hashflops' figure.
    let llama = facts
        .llama_cpp_kind
        .zip(rate_tps)
        .and_then(|((b, v), tps)| nearest(b, v, tps * q.weights_read_per_token(m) as f64))
        .map(|s| (s, prefill));
    ModelRate {
        model: m.id,
        name: m.name,
        format: f,
        weight_bytes_per_token: q.weights_read_per_token(m) as f64,
        context: CONTEXT,
        bytes_needed: needed,
        fits: facts.memory.bytes.map(|b| fits(needed, b)),
        best_fit: false,
        decode_tok_s: rate.as_ref().map(|r| r.tokens_per_s),
        basis: rate.as_ref().map(|r| r.basis),
        decode_source: rate.as_ref().map(DecodeRate::source),
        prefill_tok_s: prefill,
        llama_cpp_decode_tok_s: llama.map(|(s, _)| s.decode() * rate_tps.unwrap_or(0.0)),
        llama_cpp_prefill_tok_s: llama.and_then(|(s, p)| Some(s.prefill()? * p?)),
        llama_cpp_basis: llama.map(|(s, _)| s.basis()),
        joules_per_token: joules,
        cost_per_million_tokens: joules
            .zip(facts.power_price)
            .map(|(j, p)| j * 1e6 / J_PER_KWH * p),
        rate,
    }
}

/// Every format `m` is run in, in the domain's order, the best fit marked:
/// the most bits that fit, the first of equals (Q4_0 before Q4_K).
fn formats_of(facts: &Facts, m: &Model) -> Vec<ModelRate> {
    let mut all: Vec<ModelRate> = Quant::offered(m)
        .into_iter()
        .map(|q| rate_of(facts, m, q))
        .collect();
    let best = all
        .iter()
        .enumerate()
        .filter(|(_, r)| r.fits == Some(true))
        .reduce(
            |a, b| match b.1.format.bits_per_weight(m) > a.1.format.bits_per_weight(m) {
                true => b,
                false => a,
            },
        )
        .map(|(i, _)| i);
    if let Some(i) = best {
        all[i].best_fit = true;
    }
    all
}

/// Every catalogue model in every format: the JSON's `llm` list.
pub fn rates(facts: &Facts) -> Vec<ModelRate> {
    catalogue()
        .iter()
        .flat_map(|m| formats_of(facts, m))
        .collect()
}

/// One line per catalogue model, smallest first: its best fitting format,
/// or where none fits (or the memory is unknown) the fewest bits, the
/// nearest to fitting.
pub fn lines(facts: &Facts) -> Vec<ModelRate> {
    catalogue()
        .iter()
        .filter_map(|m| {
            let all = formats_of(facts, m);
            let best = all.iter().find(|r| r.best_fit).cloned();
            best.or_else(|| {
                all.into_iter().min_by(|a, b| {
                    a.format
                        .bits_per_weight(m)
                        .total_cmp(&b.format.bits_per_weight(m))
                })
            })
        })
        .collect()
}

/// A [`ModelRate`] of one adapter, as the JSON's `llm` list carries it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LlmEntry {
    pub adapter_index: usize,
    #[serde(flatten)]
    pub rate: ModelRate,
}

/// The `llm` entries of the adapter `adapter_index`.
pub fn entries(adapter_index: usize, facts: &Facts) -> Vec<LlmEntry> {
    rates(facts)
        .into_iter()
        .map(|rate| LlmEntry {
            adapter_index,
            rate,
        })
        .collect()
}

#[cfg(test)]
mod tests;
