//! What the measured bandwidth means for LLM inference: the decode ceiling
//! (every weight read once per token), the VRAM fit and the load time over
//! the host link of 7B / 13B / 70B models, beside the `llm` suite's measured
//! decode and prefill.

use serde::Serialize;

use super::metrics::Val;
use super::render::mark;
use super::rules::{shown, DecodeBound, Pick};
use crate::catalogue::{Kernel, Metric};
use crate::report::{network, ResultRow};
use crate::units::{num, si, tokens_per_s};
use crate::workloads::llm::formats::FORMATS as WEIGHT_FORMATS;
use crate::workloads::llm::shapes::LLAMA2_7B;

/// Bits per weight of the model formats in the LLM table: fp16 exactly;
/// q8 and q4 with the per-block scales of llama.cpp's Q8_0 / Q4 formats.
pub const FORMATS: [(&str, f64); 3] = [("fp16", 16.0), ("q8", 8.5), ("q4", 4.5)];
/// Llama-2's parameter counts, the models the verdict and the rig's
/// network arithmetic speak of, so every figure for "7B" agrees.
pub const MODELS: [(&str, f64); 3] = [
    ("7B", network::MODELS[0].params),
    ("13B", network::MODELS[1].params),
    ("70B", network::MODELS[2].params),
];
/// Bits per weight of Q4_0, the format the verdict judges by.
pub const Q4_BITS: f64 = FORMATS[2].1;
/// Share of the bandwidth bound that real runtimes reach in single-stream decode.
pub const REALISTIC: (f64, f64) = (0.60, 0.85);
/// Room left in VRAM for the KV cache and activations when judging a fit.
pub const FIT_HEADROOM: f64 = 0.9;

pub fn model_bytes(params: f64, bits: f64) -> f64 {
    params * bits / 8.0
}

/// Single-stream decode reads every weight once per token, so
/// tokens/s <= bandwidth / model bytes.
pub fn decode_ceiling(bandwidth_bs: f64, model_bytes: f64) -> f64 {
    bandwidth_bs / model_bytes
}

pub fn fits(model_bytes: f64, vram_bytes: u64) -> bool {
    model_bytes <= vram_bytes as f64 * FIT_HEADROOM
}

pub fn load_seconds(model_bytes: f64, link_bs: f64) -> f64 {
    model_bytes / link_bs
}

/// Bytes of weights single-stream decode reads per token at `bits` per
/// weight: every matrix of every layer, as the `llm` suite's decode kernels
/// read them (its rows' `weight_bytes_per_token`). The embedding table is
/// read a row per token and the output head is left out, so the ceilings
/// bound the layers the suite measures (and, a little loosely, a whole model).
pub fn read_bytes_per_token(model: usize, bits: f64) -> f64 {
    use crate::workloads::llm::shapes::{LLAMA2_13B, LLAMA2_70B, LLAMA2_7B};
    let m = [LLAMA2_7B, LLAMA2_13B, LLAMA2_70B][model];
    (m.layers * m.layer_weights()) as f64 * bits / 8.0
}

#[derive(Clone, Debug, Serialize)]
pub struct LlmRow {
    pub model: String,
    pub format: String,
    /// The whole model: what must fit and be loaded.
    pub model_bytes: f64,
    /// What decode reads per token, which the ceiling divides.
    pub read_bytes_per_token: f64,
    pub ceiling_tokens_s: f64,
    pub realistic_tokens_s: (f64, f64),
    /// Fits the adapter's memory: VRAM, or the host's for a CPU adapter.
    pub fits_vram: Option<bool>,
    pub load_s: Option<f64>,
}

/// Every model and format of the table, from the bound on decode (none
/// without one); `memory` is what the adapter can hold.
pub fn ceiling_rows(
    bound: Option<&DecodeBound>,
    upload: Option<Val>,
    memory: Option<u64>,
) -> Vec<LlmRow> {
    let Some(bw) = bound else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, (model, params)) in MODELS.into_iter().enumerate() {
        for (format, bits) in FORMATS {
            let bytes = model_bytes(params, bits);
            let read = read_bytes_per_token(i, bits);
            let c = decode_ceiling(bw.bytes_per_s, read);
            out.push(LlmRow {
                model: model.into(),
                format: format.into(),
                model_bytes: bytes,
                read_bytes_per_token: read,
                ceiling_tokens_s: c,
                realistic_tokens_s: (c * REALISTIC.0, c * REALISTIC.1),
                fits_vram: memory.map(|v| fits(bytes, v)),
                load_s: upload.map(|u| load_seconds(bytes, u.value)),
            });
        }
    }
    out
}

/// Measured 7B decode (tokens/s and its share of the bound) and prefill
/// from the `llm` suite's rows, one summary line each: the best verified
/// row of each kernel (else the best unverified one, marked).
pub fn measured_llm(rows: &[ResultRow], bound: Option<&DecodeBound>) -> Vec<String> {
    let find = |kernel, metric| shown(rows, Pick::of(kernel, metric).model(LLAMA2_7B.name));
    let mut out = Vec::new();
    for f in WEIGHT_FORMATS {
        let (Some(t), Some(b)) = (
            find(Kernel::Decode(f), Metric::TokenRate),
            find(Kernel::Decode(f), Metric::Bandwidth),
        ) else {
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
    for f in WEIGHT_FORMATS {
        if let Some(t) = find(Kernel::Prefill(f), Metric::TokenRate) {
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
        "  LLM decode ceiling (a bound, not a measurement), single stream: tokens/s <= {} (measured, {}) / bytes read per token; real runtimes reach {:.0}-{:.0}% of it\n",
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
    let fits_header = format!("fits {memory_word}");
    t.set_header([
        "model",
        "resident",
        "read per token",
        "ceiling tok/s",
        "realistic tok/s",
        fits_header.as_str(),
        "load over host link",
    ]);
    let load_mark = mark(&[upload]);
    for r in llm {
        t.add_row([
            format!("{} {}", r.model, r.format),
            si(r.model_bytes, "B"),
            si(r.read_bytes_per_token, "B"),
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
        // 7B at fp16 = 14 GB; at 3.35 TB/s the bound is 239.3 tokens/s.
        let b = model_bytes(7e9, 16.0);
        assert_eq!(b, 14e9);
        assert!((decode_ceiling(3.35e12, b) - 239.2857).abs() < 1e-3);
        // 70B q4 at 4.5 bits = 39.375 GB; at 256 GB/s: 6.50 tokens/s.
        let b = model_bytes(70e9, 4.5);
        assert_eq!(b, 39.375e9);
        assert!((decode_ceiling(256e9, b) - 6.5016).abs() < 1e-3);
        // VRAM fit keeps 10% for the KV cache: 14 GB fits in 16 GB, not in 15 GB.
        assert!(fits(14e9, 16_000_000_000));
        assert!(!fits(14e9, 15_000_000_000));
        // 14 GB over a 0.8 GB/s riser: 17.5 s.
        assert_eq!(load_seconds(14e9, 0.8e9), 17.5);
        // The bytes the decode kernels read per token: 32 layers of
        // 202.4 M weights, at Q4_0 3642753024 bytes (as the llm rows say).
        assert_eq!(read_bytes_per_token(0, 4.5), 3642753024.0);
    }
}
