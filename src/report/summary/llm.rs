//! What the measured bandwidth means for LLM inference: the decode ceiling
//! (every weight read once per token), the VRAM fit and the load time over
//! the host link of 7B / 13B / 70B models, beside the `llm` suite's measured
//! decode and prefill.

use serde::Serialize;

use super::metrics::Val;
use super::render::mark;
use super::rules::DecodeBound;
use crate::domain::formats::{FILE_FORMATS, FORMATS};
use crate::domain::models::{LLAMA2, LLAMA2_7B};
use crate::report::facts::Facts;
use crate::report::models;
use crate::units::{num, si, tokens_per_s};

/// Share of the bound that real runtimes reach in single-stream decode.
pub const REALISTIC: (f64, f64) = (0.60, 0.85);
/// Room left in VRAM for the KV cache and activations when judging a fit.
pub const FIT_HEADROOM: f64 = 0.9;

/// Single-stream decode reads every weight once per token, so
/// tokens/s <= bandwidth / bytes of weights read per token.
pub fn decode_ceiling(bandwidth_bs: f64, weights_read_per_token: f64) -> f64 {
    bandwidth_bs / weights_read_per_token
}

/// Whether a model of `bytes_resident` fits `memory_bytes` with room for
/// its cache.
pub fn fits(bytes_resident: f64, memory_bytes: u64) -> bool {
    bytes_resident <= memory_bytes as f64 * FIT_HEADROOM
}

pub fn load_seconds(file_bytes: f64, link_bs: f64) -> f64 {
    file_bytes / link_bs
}

#[derive(Clone, Debug, Serialize)]
pub struct LlmRow {
    /// Its size class: `7B`.
    pub model: String,
    /// As in kernel names: `q4_0`.
    pub format: String,
    /// Every parameter in the format: what must fit the adapter's memory.
    pub bytes_resident: f64,
    /// The layers' weights decode reads per token, which the ceiling divides.
    pub weights_read_per_token: f64,
    /// The GGUF file's tensors: what a load moves over the host link.
    pub file_size: f64,
    pub ceiling_tokens_s: f64,
    pub realistic_tokens_s: (f64, f64),
    /// Fits the adapter's memory (VRAM, or the host's for a CPU adapter)
    /// with its KV cache, by the fit rule ([`models::fits_in`]).
    pub fits_vram: Option<bool>,
    pub load_s: Option<f64>,
}

/// Every model and format of the table, from the bound on decode (none
/// without one), the adapter's memory and its upload.
pub fn ceiling_rows(facts: &Facts) -> Vec<LlmRow> {
    let mut out = Vec::new();
    for m in *LLAMA2 {
        for f in FILE_FORMATS {
            let Some(c) = facts.ceiling(&m, f) else {
                return Vec::new();
            };
            let resident = m.bytes_resident(f);
            let file = m.file_size(f);
            out.push(LlmRow {
                model: m.size.into(),
                format: f.name().into(),
                bytes_resident: resident,
                weights_read_per_token: m.weights_read_per_token(f),
                file_size: file,
                ceiling_tokens_s: c,
                realistic_tokens_s: (c * REALISTIC.0, c * REALISTIC.1),
                fits_vram: facts.memory.bytes.map(|v| models::fits_in(&m, f, v)),
                load_s: facts.metrics.upload.map(|u| load_seconds(file, u.value)),
            });
        }
    }
    out
}

/// Measured 7B decode (tokens/s and its share of the bound) and prefill,
/// one summary line each, as the facts hold them (verified, else marked).
pub fn measured_llm(facts: &Facts) -> Vec<String> {
    let bound = facts.decode_bound.as_ref();
    let rate = |f| facts.llm(&LLAMA2_7B, f);
    let mut out = Vec::new();
    for f in FORMATS {
        let Some((t, b)) = rate(f).and_then(|l| l.decode.zip(l.decode_read)) else {
            continue;
        };
        // A share of the bound only for a verified read: the bound is the
        // best verified one, so the share is at most 100 %.
        let share = bound
            .filter(|_| b.verified)
            .map(|bw| {
                format!(
                    ", {}% of the bound, {}",
                    num(100.0 * b.value / bw.bytes_per_s),
                    bw.kernel
                )
            })
            .unwrap_or_default();
        out.push(format!(
            "{:<22} {}{} ({}/s of weights{}{share})",
            format!("LLM decode 7B {}", f.name()),
            tokens_per_s(t.value),
            mark(&[Some(t)]),
            si(b.value, "B"),
            mark(&[Some(b)]),
        ));
    }
    for f in FORMATS {
        if let Some(t) = rate(f).and_then(|l| l.prefill) {
            out.push(format!(
                "{:<22} {} of prompt{}",
                format!("LLM prefill 7B {}", f.name()),
                tokens_per_s(t.value),
                mark(&[Some(t)])
            ));
        }
    }
    out
}

/// The ceiling table with its heading line, indented for the summary; the
/// figures are bounds, from verified reads only (the upload behind a load
/// time is marked when unverified).
pub fn render_ceilings(
    llm: &[LlmRow],
    bound: &DecodeBound,
    upload: Option<Val>,
    memory_word: &str,
) -> String {
    let mut out = format!(
        "  LLM decode ceiling (a bound, not a measurement), single stream: tokens/s <= {} (measured, {}) / weights read per token; real runtimes reach {:.0}-{:.0}% of it\n",
        si(bound.bytes_per_s, "B/s"),
        bound.kernel,
        REALISTIC.0 * 100.0,
        REALISTIC.1 * 100.0
    );
    if let Some(n) = bound.note() {
        out += &format!("  ({n})\n");
    }
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    let fits_header = format!("fits {memory_word} with KV cache");
    t.set_header([
        "model",
        "resident",
        "weights read per token",
        "ceiling tok/s",
        "realistic tok/s",
        fits_header.as_str(),
        "file",
        "load file over host link",
    ]);
    let load_mark = mark(&[upload]);
    for r in llm {
        t.add_row([
            format!("{} {}", r.model, r.format),
            si(r.bytes_resident, "B"),
            si(r.weights_read_per_token, "B"),
            num(r.ceiling_tokens_s),
            format!(
                "{}-{}",
                num(r.realistic_tokens_s.0),
                num(r.realistic_tokens_s.1)
            ),
            match r.fits_vram {
                Some(true) => "yes".into(),
                Some(false) => "no".into(),
                None => "unknown".into(),
            },
            si(r.file_size, "B"),
            r.load_s
                .map(|s| format!("{s:.1} s{load_mark}"))
                .unwrap_or_else(|| "not measured".into()),
        ]);
    }
    for l in t.to_string().lines() {
        out += &format!("  {l}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llm_arithmetic_by_hand() {
        // 14 GB read per token at 3.35 TB/s: at most 239.3 tokens/s.
        assert!((decode_ceiling(3.35e12, 14e9) - 239.2857).abs() < 1e-3);
        // 39.375 GB at 256 GB/s: 6.50 tokens/s.
        assert!((decode_ceiling(256e9, 39.375e9) - 6.5016).abs() < 1e-3);
        // VRAM fit keeps 10% for the KV cache: 14 GB fits in 16 GB, not in 15 GB.
        assert!(fits(14e9, 16_000_000_000));
        assert!(!fits(14e9, 15_000_000_000));
        // 14 GB over a 0.8 GB/s riser: 17.5 s.
        assert_eq!(load_seconds(14e9, 0.8e9), 17.5);
    }

    #[test]
    fn each_table_row_names_its_three_sizes_from_the_domain() {
        use crate::domain::formats::Format;
        use crate::domain::models::LLAMA2_7B;
        use crate::report::summary::fixtures::{desc, row};
        let rows = [row("stream", "copy", "bandwidth", 100e9, true)];
        let facts = Facts::new(&desc(Some(16_000_000_000)), &rows, None);
        let bound = facts.decode_bound.clone().unwrap();
        let rows = ceiling_rows(&facts);
        assert_eq!(rows.len(), 9);
        let r = &rows[0];
        assert_eq!((r.model.as_str(), r.format.as_str()), ("7B", "q4_0"));
        let f = Format::Q4_0;
        assert_eq!(
            r.weights_read_per_token,
            LLAMA2_7B.weights_read_per_token(f)
        );
        assert_eq!(r.bytes_resident, LLAMA2_7B.bytes_resident(f));
        assert_eq!(r.file_size, LLAMA2_7B.file_size(f));
        assert_eq!(r.ceiling_tokens_s, 100e9 / r.weights_read_per_token);
        let text = render_ceilings(&rows, &bound, None, "VRAM");
        assert!(text.contains("resident") && text.contains("weights read per token"));
    }
}
