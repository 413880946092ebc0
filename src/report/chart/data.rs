//! What the chart draws, taken from the compared groups, their rows and the
//! built-in reference cards: only verified figures, as the verdict uses.

use plotters::style::RGBColor;

use super::matmul_intensity;
use crate::catalogue::{Kernel, Metric, Peak};
use crate::reference_cards::{self, Basis, Card};
use crate::report::compare::Group;
use crate::report::facts::{verified, Facts};
use crate::report::summary::rules::{best, Pick};
use crate::report::summary::KeyMetrics;
use crate::report::summary::Memory;
use crate::report::ResultRow;

/// One colour per measured series, told apart in print and by most
/// colour-blind readers (the Tableau 10 order).
pub const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// A measured adapter run, as the chart shows it.
pub struct Series {
    /// Its number in the comparison table, shown beside every mark of it.
    pub index: usize,
    pub label: String,
    pub color: RGBColor,
    pub metrics: KeyMetrics,
    /// FLOP per byte of the measured f32 matmul.
    pub matmul_intensity: f64,
    /// The integer roof: the best verified integer peak, and its kernel.
    pub int_peak: Option<(f64, Peak)>,
    pub llm: Vec<LlmRate>,
    pub vram: Vram,
    /// The epoch of the Ethash figure in `metrics`.
    pub ethash_epoch: Option<u64>,
}

/// Measured decode and prefill of one model in one weight format.
pub struct LlmRate {
    pub model: String,
    pub format: String,
    pub decode: Option<f64>,
    pub prefill: Option<f64>,
}

/// What is known of an adapter's memory for the fit.
pub enum Vram {
    /// From the reference card whose name the adapter's name contains.
    Card {
        bytes: u64,
        card: String,
    },
    /// A CPU adapter: its memory is the host's, not a card's.
    Host,
    Unknown,
}

/// A published card, with the basis of each figure drawn.
pub struct RefCard {
    pub name: String,
    pub bandwidth: Option<(f64, Basis)>,
    pub fp32: Option<(f64, Basis)>,
    pub sha256d: Option<(f64, Basis)>,
    pub decode_7b_q4: Option<(f64, Basis)>,
    pub prefill_7b_q4: Option<(f64, Basis)>,
    pub vram: Option<u64>,
}

/// The integer kernels that bound the hash loop, nearest first: the
/// SHA-256 round has the hash loop's own operation mix.
const INT_KERNELS: [Peak; 2] = [Peak::Sha256Round, Peak::I32Mad];

/// The rows of `g`: the same host, adapter and backend, and its run unless
/// runs were merged.
fn belongs(g: &Group, r: &ResultRow) -> bool {
    r.host == g.host
        && r.adapter_index == g.adapter_index
        && r.adapter == g.adapter
        && r.backend == g.backend
        && g.run_id.as_ref().is_none_or(|id| *id == r.run_id)
}

pub fn series(groups: &[Group], rows: &[ResultRow], cards: &[Card]) -> Vec<Series> {
    groups
        .iter()
        .enumerate()
        .map(|(index, g)| {
            let mine: Vec<ResultRow> = rows.iter().filter(|r| belongs(g, r)).cloned().collect();
            let cpu = is_cpu(g);
            let int_peak = INT_KERNELS.iter().find_map(|&k| {
                best(&mine, Pick::of(Kernel::Peak(k), Metric::PeakRate)).map(|v| (v, k))
            });
            let (m, n, k) = g.matmul_mnk.unwrap_or((4096.0, 4096.0, 4096.0));
            let facts = Facts::from_rows(&mine, Memory::unrecorded(cpu));
            Series {
                index,
                label: g.label.clone(),
                color: COLORS[index % COLORS.len()],
                metrics: g.metrics.clone(),
                matmul_intensity: matmul_intensity(m, n, k),
                int_peak,
                llm: llm_rates(&facts),
                vram: vram_of(g, cards),
                ethash_epoch: facts.ethash.and_then(|r| r.epoch),
            }
        })
        .collect()
}

/// Decode and prefill per (model, format), in the order first measured,
/// as the facts hold them; only verified rates are drawn.
fn llm_rates(facts: &Facts) -> Vec<LlmRate> {
    facts
        .llm_rates
        .iter()
        .map(|l| LlmRate {
            model: l.model.clone(),
            format: l.format.name().to_string(),
            decode: verified(l.decode),
            prefill: verified(l.prefill),
        })
        .filter(|l| l.decode.is_some() || l.prefill.is_some())
        .collect()
}

fn is_cpu(g: &Group) -> bool {
    g.device_type.eq_ignore_ascii_case("cpu")
}

/// The results files do not carry an adapter's memory size; a card whose
/// published name the adapter's name contains lends its VRAM (the longest
/// such name, so "GTX 1070 Ti" wins over "GTX 1070").
fn vram_of(g: &Group, cards: &[Card]) -> Vram {
    if is_cpu(g) {
        return Vram::Host;
    }
    let name = g.adapter.to_lowercase();
    cards
        .iter()
        .filter(|c| name.contains(&c.card.to_lowercase()))
        .filter_map(|c| Some((c, c.vram_bytes? as u64)))
        .max_by_key(|(c, _)| c.card.len())
        .map_or(Vram::Unknown, |(c, bytes)| Vram::Card {
            bytes,
            card: c.card.clone(),
        })
}

pub fn reference_cards(cards: &[Card]) -> Vec<RefCard> {
    cards
        .iter()
        .map(|c| {
            let fig = |name: &str| {
                let f = c.figure(name)?;
                let v = f
                    .value
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v > 0.0)?;
                Some((v, f.basis))
            };
            RefCard {
                name: c.card.clone(),
                bandwidth: fig("bandwidth_bs"),
                // Beside a measured FMA peak, the card's FMA rate (lower on
                // throttled cards) where it is published.
                fp32: fig("fp32_fma_flops").or_else(|| fig("fp32_flops")),
                sha256d: fig("sha256d_hs"),
                decode_7b_q4: fig("llama7b_q4_0_tg"),
                prefill_7b_q4: fig("llama7b_q4_0_pp512"),
                vram: c.vram_bytes.map(|v| v as u64),
            }
        })
        .collect()
}

/// All reference cards, for `--reference`.
pub fn all_cards() -> Vec<Card> {
    reference_cards::cards()
}
