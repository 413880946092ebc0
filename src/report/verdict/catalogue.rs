//! One finding per catalogue model: the best format that fits the
//! adapter's memory with its KV cache, at what decode rate (measured, or
//! derived and said from what), at what energy and cost per token; or
//! that it does not fit, by how much. The rule is [`crate::report::models`].

use super::figure::{source_of, Draft, Figure, Unit};
use super::{Finding, Stance};
use crate::report::facts::Facts;
use crate::report::models::{lines, DecodeRate, ModelRate};
use crate::report::summary::FIT_HEADROOM;
use crate::units::num;

/// Below this a reply of a few hundred tokens takes minutes.
const DECODE_GOOD: f64 = super::llm::DECODE_GOOD;

/// A finding per catalogue model, smallest first; none where the
/// adapter's memory is unknown, since no fit can be judged.
pub fn models(facts: &Facts) -> Vec<Finding> {
    let Some(bytes) = facts.memory.bytes else {
        return Vec::new();
    };
    lines(facts)
        .iter()
        .map(|l| model(facts, l, bytes))
        .collect()
}

/// `llm.model_runs`, `llm.model_slow` (fits, under [`DECODE_GOOD`]) or
/// `llm.model_too_big`.
fn model(facts: &Facts, l: &ModelRate, bytes: u64) -> Finding {
    let mut d = Draft::new();
    let fmt = l.format.label();
    let fitting = l.fits == Some(true);
    // Figures go in as the sentence shows them: the rate first.
    let rate = l.rate.as_ref().filter(|_| fitting).map(|r| rate(&mut d, r));
    let need = d.put(Figure::derived(
        "needed",
        l.bytes_needed,
        Unit::Bytes,
        format!(
            "{} {fmt} weights and KV cache at {} tokens, from its published shape",
            l.name, l.context
        ),
    ));
    let has = d.put(Figure::reported(
        "memory",
        bytes as f64,
        Unit::Bytes,
        facts.memory.source.clone(),
    ));
    let word = facts.memory.word;
    if !fitting {
        let text = format!(
            "{} does not fit: needs {need} at {fmt} (weights and KV cache at {} tokens), has {has} {word}, of which the fit rule uses {} %",
            l.name,
            l.context,
            num(FIT_HEADROOM * 100.0)
        );
        return d.finish("llm.model_too_big", Stance::NotFor, text);
    }
    let energy = energy(&mut d, facts, l);
    let text = format!(
        "{} {fmt}: {}{need} of weights and KV cache at {} tokens fits {has} {word}{energy}",
        l.name,
        rate.map_or(String::new(), |r| format!("{r}; ")),
        l.context,
    );
    match l.decode_tok_s {
        Some(t) if t < DECODE_GOOD => d.finish("llm.model_slow", Stance::NotFor, text),
        _ => d.finish("llm.model_runs", Stance::GoodFor, text),
    }
}

/// "62.1 tok/s derived from decode_q4_0's measured 900 GB/s", or "247
/// tok/s measured by decode_q4_0".
fn rate(d: &mut Draft, r: &DecodeRate) -> String {
    let Some(read) = r.read_bytes_per_s else {
        let t = d.put(Figure::measured(
            "decode",
            r.tokens_per_s,
            Unit::TokensPerS,
            r.kernel,
        ));
        return format!("{t} measured by {}", source_of(r.kernel));
    };
    let t = d.put(Figure::derived(
        "decode",
        r.tokens_per_s,
        Unit::TokensPerS,
        format!("{} / weights read per token", r.source()),
    ));
    let read = d.put(Figure::measured("read", read, Unit::BytesPerS, r.kernel));
    format!("{t} derived from {}'s measured {read}", source_of(r.kernel))
}

/// "; 1.61 J a token, 0.134 per million tokens at 0.3 a kWh", where power
/// was read. That it was not is said once, by the energy line and the
/// summary, not on every model's line.
fn energy(d: &mut Draft, facts: &Facts, l: &ModelRate) -> String {
    let (Some(j), Some(r)) = (l.joules_per_token, l.rate.as_ref()) else {
        return String::new();
    };
    let joules = d.put(Figure::derived(
        "joules_per_token",
        j,
        Unit::Joules,
        format!("mean power while the {} suite ran / decode rate", r.suite),
    ));
    let cost = match (l.cost_per_million_tokens, facts.power_price) {
        (Some(c), Some(p)) => {
            let c = d.put(Figure::derived(
                "cost_per_million_tokens",
                c,
                Unit::Money,
                "joules per token x 1e6 / 3.6e6 x the price of a kWh",
            ));
            let p = d.put(Figure::reported(
                "price_per_kwh",
                p,
                Unit::Money,
                "the owner (--power-price)",
            ));
            format!(", {c} per million tokens at {p} a kWh")
        }
        _ => String::new(),
    };
    format!("; {joules} a token{cost}")
}

#[cfg(test)]
mod tests;
