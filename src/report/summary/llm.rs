//! What the measured bandwidth means for LLM inference: the decode ceiling
//! (every weight read once per token), the VRAM fit and the load time over
//! the host link of 7B / 13B / 70B models, beside the `llm` suite's measured
//! decode and prefill.

use serde::Serialize;

use super::metrics::{KeyMetrics, Val};
use super::render::mark;
use crate::report::{network, ResultRow};
use crate::units::{num, si, tokens_per_s};

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

#[derive(Clone, Debug, Serialize)]
pub struct LlmRow {
    pub model: String,
    pub format: String,
    pub model_bytes: f64,
    pub ceiling_tokens_s: f64,
    pub realistic_tokens_s: (f64, f64),
    pub fits_vram: Option<bool>,
    pub load_s: Option<f64>,
}

/// Every model and format of the table, from the measured bandwidth (none
/// without one).
pub fn ceiling_rows(m: &KeyMetrics, vram_bytes: Option<u64>) -> Vec<LlmRow> {
    let Some(bw) = m.bandwidth() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (model, params) in MODELS {
        for (format, bits) in FORMATS {
            let bytes = model_bytes(params, bits);
            let c = decode_ceiling(bw.value, bytes);
            out.push(LlmRow {
                model: model.into(),
                format: format.into(),
                model_bytes: bytes,
                ceiling_tokens_s: c,
                realistic_tokens_s: (c * REALISTIC.0, c * REALISTIC.1),
                fits_vram: vram_bytes.map(|v| fits(bytes, v)),
                load_s: m.upload.map(|u| load_seconds(bytes, u.value)),
            });
        }
    }
    out
}

/// Measured 7B decode (tokens/s and its share of the stream bandwidth) and
/// prefill from the `llm` suite's rows, one summary line each.
pub fn measured_llm(rows: &[&ResultRow], stream: Option<(&str, Val)>) -> Vec<String> {
    let find = |kernel: &str, metric: &str| {
        rows.iter().find(|r| {
            r.suite == "llm"
                && r.kernel == kernel
                && r.metric == metric
                && r.params.contains("model=llama2-7b;")
        })
    };
    let val = |r: &ResultRow| {
        Some(Val {
            value: r.value,
            verified: r.verified,
        })
    };
    let mut out = Vec::new();
    for f in ["q4_0", "q8_0", "f16"] {
        let (Some(t), Some(b)) = (
            find(&format!("decode_{f}"), "token_rate"),
            find(&format!("decode_{f}"), "bandwidth"),
        ) else {
            continue;
        };
        let share = stream
            .map(|(kernel, s)| {
                format!(
                    ", {}% of stream {kernel}{}",
                    num(100.0 * b.value / s.value),
                    mark(&[Some(s), val(b)])
                )
            })
            .unwrap_or_default();
        out.push(format!(
            "{:<22} {}{} ({}/s of weights{}{share})",
            format!("LLM decode 7B {f}"),
            tokens_per_s(t.value),
            mark(&[val(t)]),
            si(b.value, "B"),
            mark(&[val(b)]),
        ));
    }
    for f in ["q4_0", "q8_0", "f16"] {
        if let Some(t) = find(&format!("prefill_{f}"), "token_rate") {
            out.push(format!(
                "{:<22} {} of prompt{}",
                format!("LLM prefill 7B {f}"),
                tokens_per_s(t.value),
                mark(&[val(t)])
            ));
        }
    }
    out
}

/// The ceiling table with its heading line, indented for the summary; the
/// figures are bounds, marked when the bandwidth or upload behind them is
/// unverified.
pub fn render_ceilings(
    llm: &[LlmRow],
    (kernel, bandwidth): (&str, Val),
    upload: Option<Val>,
) -> String {
    let mut out = format!(
        "  LLM decode ceiling (a bound, not a measurement), single stream: tokens/s <= {}{} (measured stream {kernel}) / model bytes; real runtimes reach {:.0}-{:.0}% of it\n",
        si(bandwidth.value, "B/s"),
        mark(&[Some(bandwidth)]),
        REALISTIC.0 * 100.0,
        REALISTIC.1 * 100.0
    );
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header([
        "model",
        "bytes",
        "ceiling tok/s",
        "realistic tok/s",
        "fits VRAM",
        "load over host link",
    ]);
    let bw_mark = mark(&[Some(bandwidth)]);
    let load_mark = mark(&[upload]);
    for r in llm {
        t.add_row([
            format!("{} {}", r.model, r.format),
            si(r.model_bytes, "B"),
            format!("{}{bw_mark}", num(r.ceiling_tokens_s)),
            format!(
                "{}-{}{bw_mark}",
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
    }
}
