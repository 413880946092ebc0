//! The answer: per adapter, the measured figures side by side, what follows
//! from them (FLOP per hash, LLM decode ceilings, model load times), plain
//! flags, and the nearest published cards.

use serde::Serialize;

use super::ResultRow;
use crate::gpu::AdapterDesc;
use crate::reference_cards::{self, Card};
use crate::units::si;

/// One measured figure and whether it passed verification.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Val {
    pub value: f64,
    pub verified: bool,
}

/// The metrics the summary and `compare` are built from.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct KeyMetrics {
    pub hash_rate: Option<Val>,
    pub sgemm: Option<Val>,
    pub hgemm: Option<Val>,
    pub fp32_fma: Option<Val>,
    pub fp32_mul_add: Option<Val>,
    pub fp16_fma: Option<Val>,
    pub stream_triad: Option<Val>,
    pub stream_copy: Option<Val>,
    pub upload: Option<Val>,
    pub download: Option<Val>,
    pub round_trip_s: Option<Val>,
}

/// (label, unit, accessor) for every key metric, in display order.
pub type Field = (&'static str, &'static str, fn(&KeyMetrics) -> Option<Val>);
pub const FIELDS: [Field; 11] = [
    ("SHA-256d hash rate", "H/s", |k| k.hash_rate),
    ("f32 matmul", "FLOP/s", |k| k.sgemm),
    ("f16 matmul", "FLOP/s", |k| k.hgemm),
    ("f32 FMA peak", "FLOP/s", |k| k.fp32_fma),
    ("f32 mul+add peak", "FLOP/s", |k| k.fp32_mul_add),
    ("f16 FMA peak", "FLOP/s", |k| k.fp16_fma),
    ("stream triad", "B/s", |k| k.stream_triad),
    ("stream copy", "B/s", |k| k.stream_copy),
    ("host link upload", "B/s", |k| k.upload),
    ("host link download", "B/s", |k| k.download),
    ("round trip", "s", |k| k.round_trip_s),
];

impl KeyMetrics {
    /// Picks the key metrics from one adapter's rows. Where a metric appears
    /// more than once (several sizes, several runs) the best verified value
    /// wins; an unverified value is used only when nothing verified exists,
    /// and stays marked.
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = &'a ResultRow> + Clone) -> KeyMetrics {
        let pick = |suite: &str, kernels: &[&str], metric: &str, lower_is_better: bool| {
            let mut best: Option<Val> = None;
            for r in rows.clone() {
                if r.suite != suite || r.metric != metric || !kernels.contains(&r.kernel.as_str()) {
                    continue;
                }
                // A cache's rate says nothing about the memory behind it.
                if r.params.contains("comparable=no") {
                    continue;
                }
                let v = Val {
                    value: r.value,
                    verified: r.verified,
                };
                best = match best {
                    None => Some(v),
                    Some(b) if v.verified && !b.verified => Some(v),
                    Some(b) if v.verified == b.verified => {
                        let better = if lower_is_better {
                            v.value < b.value
                        } else {
                            v.value > b.value
                        };
                        Some(if better { v } else { b })
                    }
                    Some(b) => Some(b),
                };
            }
            best
        };
        KeyMetrics {
            hash_rate: pick("hash", &["sha256d"], "hash_rate", false),
            sgemm: pick("matmul", &["sgemm"], "flops", false),
            hgemm: pick("matmul", &["hgemm"], "flops", false),
            fp32_fma: pick("peak", &["fp32_fma"], "peak_rate", false),
            fp32_mul_add: pick("peak", &["fp32_mul_add"], "peak_rate", false),
            fp16_fma: pick("peak", &["fp16_fma"], "peak_rate", false),
            stream_triad: pick("stream", &["triad"], "bandwidth", false),
            stream_copy: pick("stream", &["copy"], "bandwidth", false),
            upload: pick(
                "transfer",
                &["h2d_write_buffer", "h2d_staging"],
                "plateau",
                false,
            ),
            download: pick("transfer", &["d2h"], "plateau", false),
            round_trip_s: pick("transfer", &["round_trip"], "latency", true),
        }
    }

    /// Memory bandwidth for the derived figures: the better of triad and copy.
    pub fn bandwidth(&self) -> Option<Val> {
        best_of(self.stream_triad, self.stream_copy)
    }
}

fn best_of(a: Option<Val>, b: Option<Val>) -> Option<Val> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y.value > x.value { y } else { x }),
        (x, y) => x.or(y),
    }
}

/// Measured 7B decode (tokens/s and its share of the stream bandwidth) and
/// prefill from the `llm` suite's rows.
fn measured_llm(rows: &[&ResultRow], stream: Option<Val>) -> Vec<String> {
    let find = |kernel: &str, metric: &str| {
        rows.iter().find(|r| {
            r.suite == "llm"
                && r.kernel == kernel
                && r.metric == metric
                && r.params.contains("model=llama2-7b;")
        })
    };
    let mark = |r: &ResultRow| if r.verified { "" } else { " UNVERIFIED" };
    let mut out = Vec::new();
    for f in ["q4_0", "q8_0", "f16"] {
        let (Some(t), Some(b)) = (
            find(&format!("decode_{f}"), "token_rate"),
            find(&format!("decode_{f}"), "bandwidth"),
        ) else {
            continue;
        };
        let share = stream
            .map(|s| format!(", {:.0}% of stream bandwidth", 100.0 * b.value / s.value))
            .unwrap_or_default();
        out.push(format!(
            "LLM decode 7B {f}, measured: {:.2} tok/s ({}/s of weights{share}){}",
            t.value,
            si(b.value, "B"),
            mark(t)
        ));
    }
    for f in ["q4_0", "q8_0", "f16"] {
        if let Some(t) = find(&format!("prefill_{f}"), "token_rate") {
            out.push(format!(
                "LLM prefill 7B {f}, measured: {:.1} prompt tok/s{}",
                t.value,
                mark(t)
            ));
        }
    }
    out
}

/// Bits per weight of the model formats in the LLM table: fp16 exactly;
/// q8 and q4 with the per-block scales of llama.cpp's Q8_0 / Q4 formats.
pub const FORMATS: [(&str, f64); 3] = [("fp16", 16.0), ("q8", 8.5), ("q4", 4.5)];
pub const MODELS: [(&str, f64); 3] = [("7B", 7e9), ("13B", 13e9), ("70B", 70e9)];
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

/// FMA throughput under this share of unfused multiply+add marks a card
/// whose FP32 FMA is throttled (a CMP 170HX shows 0.06).
pub const FMA_CRIPPLE_RATIO: f64 = 0.5;
/// Host links slower than this make model loading and multi-GPU work slow
/// (PCIe 3.0 x4 is about 3.9 GB/s).
pub const NARROW_LINK_BS: f64 = 3.0e9;
/// Less than this cannot hold a 7B model at fp16 (14 GB) or much context.
pub const SMALL_VRAM_BYTES: u64 = 12_000_000_000;
/// Antminer S19 (2020), for scale: about 95 TH/s at about 3,250 W.
pub const ASIC_S19_HS: f64 = 95e12;

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

#[derive(Clone, Debug, Serialize)]
pub struct Neighbour {
    pub card: String,
    pub basis: String,
    pub published: f64,
    pub measured: f64,
    pub source: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct AdapterSummary {
    pub adapter_index: usize,
    pub adapter: String,
    pub backend: String,
    pub device_type: String,
    pub metrics: KeyMetrics,
    pub vram_bytes: Option<u64>,
    pub vram_source: String,
    pub matmul_efficiency: Option<f64>,
    pub fma_unfused_ratio: Option<f64>,
    pub flop_per_hash: Option<f64>,
    pub llm: Vec<LlmRow>,
    /// Measured decode and prefill of the `llm` suite (7B), one line each.
    pub llm_measured: Vec<String>,
    pub flags: Vec<String>,
    pub neighbours: Vec<Neighbour>,
}

impl AdapterSummary {
    pub fn new(desc: &AdapterDesc, rows: &[ResultRow]) -> AdapterSummary {
        let mine: Vec<&ResultRow> = rows
            .iter()
            .filter(|r| r.adapter_index == desc.index)
            .collect();
        let m = KeyMetrics::from_rows(mine.iter().copied());
        let llm_measured = measured_llm(&mine, m.bandwidth());
        let ratio = |a: Option<Val>, b: Option<Val>| match (a, b) {
            (Some(x), Some(y)) if y.value > 0.0 => Some(x.value / y.value),
            _ => None,
        };
        let matmul_efficiency = ratio(m.sgemm, m.fp32_fma);
        let fma_unfused_ratio = ratio(m.fp32_fma, m.fp32_mul_add);
        let flop_per_hash = ratio(m.sgemm, m.hash_rate);
        let mut llm = Vec::new();
        if let Some(bw) = m.bandwidth() {
            for (model, params) in MODELS {
                for (format, bits) in FORMATS {
                    let bytes = model_bytes(params, bits);
                    let c = decode_ceiling(bw.value, bytes);
                    llm.push(LlmRow {
                        model: model.into(),
                        format: format.into(),
                        model_bytes: bytes,
                        ceiling_tokens_s: c,
                        realistic_tokens_s: (c * REALISTIC.0, c * REALISTIC.1),
                        fits_vram: desc.vram_bytes.map(|v| fits(bytes, v)),
                        load_s: m.upload.map(|u| load_seconds(bytes, u.value)),
                    });
                }
            }
        }
        let mut flags = Vec::new();
        if let Some(r) = fma_unfused_ratio {
            if r < FMA_CRIPPLE_RATIO {
                flags.push(format!(
                    "FP32 FMA CRIPPLED: fused multiply-add runs at {:.2}x the unfused rate ({} vs {}); NVIDIA's CMP mining cards are throttled this way, and most AI kernels use FMA",
                    r,
                    si(m.fp32_fma.unwrap().value, "FLOP/s"),
                    si(m.fp32_mul_add.unwrap().value, "FLOP/s")
                ));
            }
        }
        // The link is judged by its faster direction: uploads also include the
        // host writing the data, which can be slower than a healthy link.
        if let (Some(link), Some(u)) = (best_of(m.upload, m.download), m.upload) {
            if link.value < NARROW_LINK_BS && desc.device_type != "cpu" {
                flags.push(format!(
                    "NARROW HOST LINK: {} at best (PCIe 3.0 x4 is about 3.9 GB/s); a 14 GB model takes {:.0} s to load, and multi-GPU training over this link is impractical",
                    si(link.value, "B/s"),
                    load_seconds(14e9, u.value)
                ));
            }
        }
        if let Some(v) = desc.vram_bytes {
            if v < SMALL_VRAM_BYTES && desc.device_type != "cpu" {
                flags.push(format!(
                    "SMALL VRAM: {} holds a 7B model only quantised (7B fp16 needs 14 GB)",
                    si(v as f64, "B")
                ));
            }
        }
        if let Some(h) = m.hash_rate {
            flags.push(format!(
                "for scale: an Antminer S19 (2020) does about 95 TH/s, {:.0}x this card's SHA-256d rate, which is why nobody mines Bitcoin on GPUs",
                ASIC_S19_HS / h.value
            ));
        }
        let neighbours = nearest_cards(&m, &reference_cards::cards());
        AdapterSummary {
            adapter_index: desc.index,
            adapter: desc.name.clone(),
            backend: desc.backend.clone(),
            device_type: desc.device_type.clone(),
            metrics: m,
            vram_bytes: desc.vram_bytes,
            vram_source: desc.vram_source.clone(),
            matmul_efficiency,
            fma_unfused_ratio,
            flop_per_hash,
            llm,
            flags,
            neighbours,
            llm_measured,
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let m = &self.metrics;
        let v = |x: Option<Val>, unit: &str| match x {
            Some(x) if x.verified => si(x.value, unit),
            Some(x) => format!("{} (UNVERIFIED)", si(x.value, unit)),
            None => "not measured".to_string(),
        };
        out += &format!(
            "\n== Summary: adapter {} {} ({}, {}) ==\nmeasured\n",
            self.adapter_index, self.adapter, self.backend, self.device_type
        );
        let line = |out: &mut String, k: &str, val: String| {
            *out += &format!("  {k:<22} {val}\n");
        };
        line(&mut out, "SHA-256d (mining)", v(m.hash_rate, "H/s"));
        let eff = self
            .matmul_efficiency
            .map(|e| format!(", {:.0}% of this card's f32 FMA peak", 100.0 * e))
            .unwrap_or_default();
        line(
            &mut out,
            "f32 matmul",
            format!("{}{eff}", v(m.sgemm, "FLOP/s")),
        );
        line(&mut out, "f16 matmul", v(m.hgemm, "FLOP/s"));
        line(
            &mut out,
            "f32 peak",
            format!(
                "FMA {}, mul+add {}",
                v(m.fp32_fma, "FLOP/s"),
                v(m.fp32_mul_add, "FLOP/s")
            ),
        );
        if let Some(r) = self.fma_unfused_ratio {
            let verdict = if r < FMA_CRIPPLE_RATIO {
                "CRIPPLED"
            } else {
                "normal"
            };
            line(&mut out, "FMA : unfused", format!("{r:.2} ({verdict})"));
        }
        line(
            &mut out,
            "memory bandwidth",
            format!(
                "triad {}, copy {}",
                v(m.stream_triad, "B/s"),
                v(m.stream_copy, "B/s")
            ),
        );
        line(
            &mut out,
            "host link",
            format!(
                "upload {}, download {}, round trip {}",
                v(m.upload, "B/s"),
                v(m.download, "B/s"),
                v(m.round_trip_s, "s")
            ),
        );
        line(
            &mut out,
            "VRAM",
            match self.vram_bytes {
                Some(b) => format!("{} ({})", si(b as f64, "B"), self.vram_source),
                None => self.vram_source.clone(),
            },
        );
        out += "derived\n";
        if let Some(f) = self.flop_per_hash {
            line(
                &mut out,
                "FLOP per hash",
                format!("{f:.0} (f32 matmul FLOP/s / SHA-256d H/s)"),
            );
        }
        for l in &self.llm_measured {
            out += &format!("  {l}\n");
        }
        if !self.llm.is_empty() {
            let bw = m.bandwidth().unwrap();
            out += &format!(
                "  LLM decode ceiling (the bound, not a measurement), single stream: tokens/s <= {} (measured bandwidth) / model bytes; real runtimes reach {:.0}-{:.0}% of it\n",
                si(bw.value, "B/s"),
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
            for r in &self.llm {
                t.add_row([
                    format!("{} {}", r.model, r.format),
                    si(r.model_bytes, "B"),
                    format!("{:.1}", r.ceiling_tokens_s),
                    format!(
                        "{:.1}-{:.1}",
                        r.realistic_tokens_s.0, r.realistic_tokens_s.1
                    ),
                    match r.fits_vram {
                        Some(true) => "yes".into(),
                        Some(false) => "no".into(),
                        None => "unknown".into(),
                    },
                    r.load_s
                        .map(|s| format!("{s:.1} s"))
                        .unwrap_or_else(|| "not measured".into()),
                ]);
            }
            for l in t.to_string().lines() {
                out += &format!("  {l}\n");
            }
        }
        if !self.flags.is_empty() {
            out += "flags\n";
            for f in &self.flags {
                out += &format!("  - {f}\n");
            }
        }
        if !self.neighbours.is_empty() {
            out += "nearest published cards (published spec, beside this card measured)\n";
            for n in &self.neighbours {
                out += &format!(
                    "  {:<14} {:<18} published {:>12}   measured here {:>12}   [{}]\n",
                    n.card,
                    n.basis,
                    si(n.published, basis_unit(&n.basis)),
                    si(n.measured, basis_unit(&n.basis)),
                    n.source
                );
            }
        }
        out
    }
}

fn basis_unit(basis: &str) -> &'static str {
    match basis {
        "SHA-256d" => "H/s",
        "f32 FMA peak" => "FLOP/s",
        _ => "B/s",
    }
}

/// For each of hash rate, f32 peak and bandwidth, the published card whose
/// figure is closest (on a log scale) to the measured one.
pub fn nearest_cards(m: &KeyMetrics, cards: &[Card]) -> Vec<Neighbour> {
    let mut out = Vec::new();
    type Published = fn(&Card) -> Option<f64>;
    let bases: [(&str, Option<Val>, Published, &str); 3] = [
        ("SHA-256d", m.hash_rate, |c| c.sha256d_hs, "sha256d_hs"),
        (
            "f32 FMA peak",
            m.fp32_fma,
            |c| c.fp32_fma_flops.or(c.fp32_flops),
            "fp32_flops",
        ),
        (
            "memory bandwidth",
            m.bandwidth(),
            |c| c.bandwidth_bs,
            "bandwidth_bs",
        ),
    ];
    for (basis, measured, get, figure) in bases {
        let Some(measured) = measured.filter(|v| v.verified && v.value > 0.0) else {
            continue;
        };
        let best = cards
            .iter()
            .filter_map(|c| get(c).map(|p| (c, p)))
            .min_by(|a, b| {
                let da = (a.1 / measured.value).ln().abs();
                let db = (b.1 / measured.value).ln().abs();
                da.total_cmp(&db)
            });
        if let Some((c, p)) = best {
            out.push(Neighbour {
                card: c.card.clone(),
                basis: basis.into(),
                published: p,
                measured: measured.value,
                // The figure's own source, not every source of the card.
                source: c
                    .figure(figure)
                    .map_or_else(|| c.source.clone(), |f| f.source.clone()),
            });
        }
    }
    out
}

/// Sums over every measured adapter: what a whole rig adds up to.
#[derive(Clone, Debug, Serialize)]
pub struct RigTotals {
    pub adapters: usize,
    pub hash_rate: f64,
    pub sgemm: f64,
    pub bandwidth: f64,
    pub vram_bytes: Option<u64>,
}

pub fn rig_totals(summaries: &[AdapterSummary]) -> RigTotals {
    let sum = |f: fn(&KeyMetrics) -> Option<Val>| {
        summaries
            .iter()
            .filter_map(|s| f(&s.metrics))
            .filter(|v| v.verified)
            .map(|v| v.value)
            // From +0: an empty f64 sum is -0.0, which would print as "-0".
            .fold(0.0, |a, b| a + b)
    };
    RigTotals {
        adapters: summaries.len(),
        hash_rate: sum(|k| k.hash_rate),
        sgemm: sum(|k| k.sgemm),
        bandwidth: sum(|k| k.bandwidth()),
        vram_bytes: summaries.iter().map(|s| s.vram_bytes).sum(),
    }
}

pub fn render_rig(t: &RigTotals) -> String {
    format!(
        "\n== Rig: {} adapters ==\n  SHA-256d {}, f32 matmul {}, memory bandwidth {} (each card's own; a model split across cards is limited by the host link), VRAM {}\n",
        t.adapters,
        si(t.hash_rate, "H/s"),
        si(t.sgemm, "FLOP/s"),
        si(t.bandwidth, "B/s"),
        t.vram_bytes.map(|b| si(b as f64, "B")).unwrap_or_else(|| "unknown".into())
    )
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

    fn row(suite: &str, kernel: &str, metric: &str, value: f64, verified: bool) -> ResultRow {
        ResultRow {
            run_id: "r".into(),
            timestamp_utc: "t".into(),
            tool_version: "0".into(),
            host: "h".into(),
            adapter_index: 0,
            adapter: "card".into(),
            vendor_id: "0x10de".into(),
            device_id: "0x0001".into(),
            device_type: "discrete".into(),
            backend: "vulkan".into(),
            driver: "d".into(),
            driver_info: "i".into(),
            suite: suite.into(),
            kernel: kernel.into(),
            params: String::new(),
            metric: metric.into(),
            unit: "x".into(),
            value,
            min: value,
            max: value,
            cv_pct: 0.0,
            samples: 5,
            timing: "wall".into(),
            verified,
            bus_id: String::new(),
            device_uuid: String::new(),
        }
    }

    #[test]
    fn key_metrics_prefer_verified_then_best() {
        let rows = [
            row("matmul", "sgemm", "flops", 9e12, false),
            row("matmul", "sgemm", "flops", 5e12, true),
            row("matmul", "sgemm", "flops", 6e12, true),
            row("transfer", "round_trip", "latency", 30e-6, true),
            row("transfer", "round_trip", "latency", 20e-6, true),
        ];
        let k = KeyMetrics::from_rows(rows.iter());
        assert_eq!(
            k.sgemm,
            Some(Val {
                value: 6e12,
                verified: true
            })
        );
        assert_eq!(k.round_trip_s.unwrap().value, 20e-6);
        assert_eq!(k.hash_rate, None);
    }

    #[test]
    fn crippled_fma_narrow_link_and_small_vram_are_flagged() {
        let desc_rows = vec![
            row("peak", "fp32_fma", "peak_rate", 0.39e12, true),
            row("peak", "fp32_mul_add", "peak_rate", 6.25e12, true),
            row("transfer", "h2d_staging", "plateau", 0.8e9, true),
            row("transfer", "d2h", "plateau", 0.9e9, true),
        ];
        let desc = AdapterDesc {
            index: 0,
            name: "CMP".into(),
            backend: "vulkan".into(),
            device_type: "discrete".into(),
            vendor_id: 0,
            device_id: 0,
            driver: String::new(),
            driver_info: String::new(),
            pci_bus_id: String::new(),
            device_uuid: String::new(),
            timestamps: true,
            f16: true,
            subgroups: true,
            int64: true,
            subgroup_min_size: 32,
            subgroup_max_size: 32,
            max_buffer_size: 1 << 30,
            max_storage_binding_size: 1 << 30,
            max_compute_workgroups_per_dimension: 65535,
            max_compute_invocations_per_workgroup: 1024,
            max_compute_workgroup_storage_size: 49152,
            vram_bytes: Some(8_000_000_000),
            vram_source: "test".into(),
        };
        let s = AdapterSummary::new(&desc, &desc_rows);
        assert!((s.fma_unfused_ratio.unwrap() - 0.0624).abs() < 1e-9);
        assert!(s.flags.iter().any(|f| f.contains("FMA CRIPPLED")));
        assert!(s.flags.iter().any(|f| f.contains("SMALL VRAM")));
        // Judged by the faster direction; the load time uses the upload.
        let narrow = s
            .flags
            .iter()
            .find(|f| f.contains("NARROW HOST LINK"))
            .unwrap();
        assert!(
            narrow.contains("900 MB/s") && narrow.contains("takes 18 s"),
            "{narrow}"
        );
        let text = s.render();
        assert!(text.contains("CRIPPLED"));
    }

    #[test]
    fn rig_totals_add_up_verified_figures() {
        let mk = |hash: f64, verified: bool| AdapterSummary {
            adapter_index: 0,
            adapter: "card".into(),
            backend: "vulkan".into(),
            device_type: "discrete".into(),
            metrics: KeyMetrics {
                hash_rate: Some(Val {
                    value: hash,
                    verified,
                }),
                stream_triad: Some(Val {
                    value: 400e9,
                    verified: true,
                }),
                ..Default::default()
            },
            vram_bytes: Some(8_000_000_000),
            vram_source: "test".into(),
            matmul_efficiency: None,
            fma_unfused_ratio: None,
            flop_per_hash: None,
            llm: Vec::new(),
            llm_measured: Vec::new(),
            flags: Vec::new(),
            neighbours: Vec::new(),
        };
        let t = rig_totals(&[mk(1e9, true), mk(2e9, true), mk(5e9, false)]);
        assert_eq!(t.adapters, 3);
        // The unverified card's hash rate is not added to the rig's.
        assert_eq!(t.hash_rate, 3e9);
        assert_eq!(t.bandwidth, 1200e9);
        assert_eq!(t.vram_bytes, Some(24_000_000_000));
        assert!(render_rig(&t).contains("3 adapters"));
    }
}
