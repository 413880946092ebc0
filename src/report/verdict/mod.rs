//! The verdict: what a card is good for, what not, and why, in findings a
//! person reads first and a program can match on (a stable code each).
//! Every finding carries the figures it rests on, as data, and its
//! sentence is written from them; only verified figures are used. It reads
//! the adapter's [`Facts`], as the summary and the energy line do.

mod catalogue;
mod compute;
mod ethash;
mod figure;
mod llama_cpp;
mod llm;
mod render;
mod standing;
#[cfg(test)]
mod tests;

use crate::domain::quant::Quant;
use serde::Serialize;

pub use figure::{source_of, Basis, Draft, Figure, Unit};
pub use llama_cpp::{Setting, CUDA_DECODE, SETTINGS as LLAMA_CPP_SETTINGS};
pub use render::render;

use super::facts::Facts;
use super::models::{bytes_needed, fits_in};
use super::ResultRow;
use crate::domain::formats::Format;
use crate::domain::models::{Model, LLAMA2};
use crate::gpu::AdapterDesc;
use crate::units::si;

/// What a finding says about the card.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Stance {
    GoodFor,
    NotFor,
    Fault,
    Standing,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Finding {
    /// Stable and machine-readable, e.g. `llm.decode`, `fma.crippled`.
    pub code: &'static str,
    pub stance: Stance,
    /// One sentence, written from `figures`.
    pub text: String,
    /// The figures the sentence shows, each with its basis and source, so
    /// no program needs to read the sentence.
    pub figures: Vec<Figure>,
}

/// The largest Llama-2 whose Q4_0 weights and KV cache fit `memory` bytes
/// by the fit rule ([`models::fits_in`]).
pub fn largest_q4_fit(memory: u64) -> Option<Model> {
    LLAMA2
        .into_iter()
        .rev()
        .find(|m| fits_in(m, Format::Q4_0, memory))
}

/// "5.94 GB with its KV cache at 4096 tokens": how the fit findings quote
/// what a model needs.
pub fn q4_needed(m: &Model) -> String {
    format!(
        "{} with its KV cache at {} tokens",
        si(bytes_needed(m, Quant::Uniform(Format::Q4_0)), "B"),
        super::pipeline::CONTEXT
    )
}

/// Findings for one adapter from its rows; `faults` are findings from the
/// health checks (VRAM errors, instability), which come first. A CPU
/// adapter's memory is the host's, read now.
pub fn verdict(desc: &AdapterDesc, rows: &[ResultRow], faults: &[Finding]) -> Vec<Finding> {
    findings(&Facts::of(desc, rows), faults)
}

/// [`verdict`] with the host's available memory given.
pub fn verdict_with_host(
    desc: &AdapterDesc,
    rows: &[ResultRow],
    faults: &[Finding],
    host_available: Option<u64>,
) -> Vec<Finding> {
    findings(&Facts::new(desc, rows, host_available), faults)
}

/// The findings from an adapter's facts, after `faults`: LLM inference,
/// the memory models fit in, compute, the host link, and where the card
/// stands among known cards.
pub fn findings(facts: &Facts, faults: &[Finding]) -> Vec<Finding> {
    let mut out: Vec<Finding> = faults.to_vec();
    out.extend(llm::decode(facts));
    out.extend(llm::prefill(facts));
    out.extend(llm::fit(&facts.memory));
    out.extend(catalogue::models(facts));
    out.extend(llama_cpp::int8_throttled(facts));
    out.extend(compute::fma(facts));
    out.extend(compute::fp64(facts));
    out.extend(compute::link(facts));
    out.extend(standing::standing(facts));
    out.extend(ethash::record(facts));
    out
}

/// One adapter's verdict, as the JSON carries it.
#[derive(Clone, Debug, Serialize)]
pub struct AdapterVerdict {
    pub adapter_index: usize,
    pub adapter: String,
    pub findings: Vec<Finding>,
}
