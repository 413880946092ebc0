//! LLM inference: measured decode against its ceiling, prefill, and the
//! largest model the adapter's memory holds.

use super::figure::{source_of, Draft, Figure, Unit};
use super::{largest_q4_fit, Finding, Stance};
use crate::catalogue::Kernel;
use crate::domain::formats::Format;
use crate::domain::models::{Model, LLAMA2_7B};
use crate::domain::quant::Quant;
use crate::report::facts::{verified, Facts};
use crate::report::models;
use crate::report::pipeline::CONTEXT;
use crate::report::summary::{DecodeBound, Memory};

/// Below 10 tok/s a reply of a few hundred tokens takes minutes.
pub(super) const DECODE_GOOD: f64 = 10.0;
/// Under 50 tok/s a 2,000-token prompt takes most of a minute.
const PREFILL_GOOD: f64 = 50.0;

fn stance(rate: f64, good: f64) -> Stance {
    if rate >= good {
        Stance::GoodFor
    } else {
        Stance::NotFor
    }
}

/// The bound, as "stream copy 1.20 TB/s", its figure kept.
fn bound(d: &mut Draft, b: &DecodeBound) -> String {
    let rate = d.put(Figure::measured(
        "bound",
        b.bytes_per_s,
        Unit::BytesPerS,
        b.measured_by,
    ));
    format!("{} {rate}", b.kernel)
}

/// "; the stream kernels under-read ...": why the bound is not stream's.
fn note(d: &mut Draft, b: &DecodeBound) -> String {
    b.note_with(|k, rate| {
        d.put(Figure::measured(
            "stream_read",
            rate,
            Unit::BytesPerS,
            Kernel::Stream(k),
        ))
    })
    .map_or(String::new(), |n| format!("; {n}"))
}

/// `llm.decode` (Llama-2-7B Q4_0 measured, against its ceiling), else
/// `llm.decode_ceiling` (the ceiling alone), from verified figures.
pub fn decode(facts: &Facts) -> Option<Finding> {
    let (m, f) = (&LLAMA2_7B, Format::Q4_0);
    let rate = facts.llm(m, f);
    let kernel = Kernel::Decode(f);
    let b = facts.decode_bound.as_ref();
    let ceiling = facts.ceiling(m, f);
    let mut d = Draft::new();
    let Some(tps) = rate.and_then(|l| verified(l.decode)) else {
        let (b, c) = b.zip(ceiling)?;
        let c_shown = d.put(Figure::derived(
            "ceiling",
            c,
            Unit::TokensPerS,
            "bound / weights read per token",
        ));
        let text = format!(
            "LLM inference: at most {c_shown} for {} {} from the measured {} (a ceiling, not measured decode{})",
            m.name,
            f.label(),
            bound(&mut d, b),
            note(&mut d, b)
        );
        return Some(d.finish("llm.decode_ceiling", stance(c, DECODE_GOOD), text));
    };
    let tps_shown = d.put(Figure::measured("decode", tps, Unit::TokensPerS, kernel));
    let read = rate.and_then(|l| verified(l.decode_read));
    let share = match (read, b, ceiling) {
        (Some(r), Some(b), Some(c)) => {
            let read = d.put(Figure::measured("read", r, Unit::BytesPerS, kernel));
            let share = d.put(Figure::derived(
                "share",
                100.0 * r / b.bytes_per_s,
                Unit::Percent,
                format!("read / bound, {}", source_of(b.measured_by)),
            ));
            let bound = bound(&mut d, b);
            let per_token = d.put(Figure::derived(
                "weights_per_token",
                m.weights_read_per_token(f),
                Unit::Bytes,
                shape(m, f),
            ));
            let c = d.put(Figure::derived(
                "ceiling",
                c,
                Unit::TokensPerS,
                "bound / weights read per token",
            ));
            format!(
                " (weights read at {read}, {share} of the bound, {bound}; the ceiling for the {per_token} of weights it reads per token is {c}{})",
                note(&mut d, b)
            )
        }
        _ => String::new(),
    };
    let text = format!(
        "LLM inference: {} {} decodes at {tps_shown} measured{share}",
        m.name,
        f.label()
    );
    Some(d.finish("llm.decode", stance(tps, DECODE_GOOD), text))
}

/// Where a model's sizes come from.
fn shape(m: &Model, f: Format) -> String {
    format!("{} {} weights, from its published shape", m.name, f.label())
}

/// `llm.prefill`: Llama-2-7B Q4_0 prompt processing, measured and verified.
pub fn prefill(facts: &Facts) -> Option<Finding> {
    let (m, f) = (&LLAMA2_7B, Format::Q4_0);
    let p = facts.llm(m, f).and_then(|l| verified(l.prefill))?;
    let mut d = Draft::new();
    let shown = d.put(Figure::measured(
        "prefill",
        p,
        Unit::TokensPerS,
        Kernel::Prefill(f),
    ));
    let text = format!(
        "prompt processing: {shown} measured ({}, {} weights, batched)",
        m.name,
        f.label()
    );
    Some(d.finish("llm.prefill", stance(p, PREFILL_GOOD), text))
}

/// The largest model the memory holds (`vram.fit`, `host_memory.fit`), or
/// that not even the smallest does (`vram.small`, `host_memory.small`).
pub fn fit(memory: &Memory) -> Option<Finding> {
    let bytes = memory.bytes?;
    let (fit_code, small_code, what) = if memory.host {
        (
            "host_memory.fit",
            "host_memory.small",
            " available (a CPU adapter computes in the host's memory)",
        )
    } else {
        ("vram.fit", "vram.small", "")
    };
    let mut d = Draft::new();
    let size = d.put(Figure::reported(
        "memory",
        bytes as f64,
        Unit::Bytes,
        memory.source.clone(),
    ));
    let f = Format::Q4_0;
    let mut resident = |m: &Model| {
        d.put(Figure::derived(
            "needed",
            models::bytes_needed(m, Quant::Uniform(f)),
            Unit::Bytes,
            format!("{} and KV cache at {CONTEXT} tokens", shape(m, f)),
        ))
    };
    let (code, stance, text) = match largest_q4_fit(bytes) {
        Some(m) => (
            fit_code,
            Stance::GoodFor,
            format!(
                "{} {size}{what}: {} {} ({} with its KV cache at {CONTEXT} tokens) fits",
                memory.word,
                m.name,
                f.label(),
                resident(&m)
            ),
        ),
        None => (
            small_code,
            Stance::NotFor,
            format!(
                "{} {size}{what}: not even {} {} ({} with its KV cache at {CONTEXT} tokens) fits",
                memory.word,
                LLAMA2_7B.name,
                f.label(),
                resident(&LLAMA2_7B)
            ),
        ),
    };
    Some(d.finish(code, stance, text))
}
