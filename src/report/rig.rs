//! The rig with `--all-adapters`: totals, the host links alone and all at
//! once, card to card through the host, and what splitting a model across
//! the cards costs over those links beside NVLink and InfiniBand.

use std::fmt::Write;

use serde::Serialize;

use super::network::{self, Link, NetworkRow};
use super::pipeline::{self, Card, RigPlan};
use super::summary::{render_rig, AdapterSummary, RigTotals, FIT_HEADROOM};
use crate::units::si;
use crate::workloads::transfer::rig::{CardToCard, LinkRate};

#[derive(Clone, Debug, Serialize)]
pub struct Rig {
    pub totals: RigTotals,
    pub bytes_per_transfer: u64,
    pub links_alone: Vec<LinkRate>,
    /// Every card uploading and downloading at once.
    pub links_concurrent: Vec<LinkRate>,
    pub card_to_card: Vec<CardToCard>,
    /// Card to card through the host at the slowest concurrent link.
    pub slowest_link: Option<network::Link>,
    pub network: Vec<NetworkRow>,
    pub verdict: Vec<String>,
    /// Every catalogue model split over the cards by layers; None when a
    /// card's memory is unknown.
    pub pipeline: Option<RigPlan>,
    /// Whether every transfer in this section arrived intact.
    pub verified: bool,
}

impl Rig {
    pub fn new(
        totals: RigTotals,
        bytes: u64,
        alone: Vec<LinkRate>,
        concurrent: Vec<LinkRate>,
        c2c: Vec<CardToCard>,
        round_trip_s: Option<f64>,
        cards: Option<Vec<Card>>,
    ) -> Rig {
        let verified =
            alone.iter().chain(&concurrent).all(|l| l.verified) && c2c.iter().all(|c| c.verified);
        let n = concurrent.len() as u32;
        // The slowest card's concurrent rates bound every collective.
        let slowest = concurrent
            .iter()
            .filter(|l| l.verified)
            .min_by(|a, b| {
                a.upload_bs
                    .min(a.download_bs)
                    .total_cmp(&b.upload_bs.min(b.download_bs))
            })
            .map(|l| {
                network::through_host(l.download_bs, l.upload_bs, round_trip_s.unwrap_or(0.0))
            });
        let (network, verdict) = match &slowest {
            Some(link) if n > 1 => (network::table(n, link), network::verdict(n, link)),
            _ => (Vec::new(), Vec::new()),
        };
        let pipeline = cards.map(|cards| {
            let links = card_links(&cards, &c2c, slowest.as_ref(), round_trip_s);
            pipeline::rig_plan(cards, links)
        });
        Rig {
            totals,
            bytes_per_transfer: bytes,
            links_alone: alone,
            links_concurrent: concurrent,
            card_to_card: c2c,
            slowest_link: slowest,
            network,
            verdict,
            pipeline,
            verified,
        }
    }

    pub fn render(&self) -> String {
        let mut out = render_rig(&self.totals);
        let _ = writeln!(
            out,
            "host links ({} per transfer; alone -> with every card busy)",
            crate::units::bytes(self.bytes_per_transfer as f64)
        );
        for (a, c) in self.links_alone.iter().zip(&self.links_concurrent) {
            let _ = writeln!(
                out,
                "  adapter {}: upload {} -> {}, download {} -> {}{}",
                a.adapter_index,
                si(a.upload_bs, "B/s"),
                si(c.upload_bs, "B/s"),
                si(a.download_bs, "B/s"),
                si(c.download_bs, "B/s"),
                if a.verified && c.verified {
                    ""
                } else {
                    " (UNVERIFIED)"
                }
            );
        }
        for c in &self.card_to_card {
            let _ = writeln!(
                out,
                "  card {} -> card {} through the host: {}{}",
                c.from,
                c.to,
                si(c.bytes_per_s, "B/s"),
                if c.verified { "" } else { " (UNVERIFIED)" }
            );
        }
        if !self.network.is_empty() {
            let _ = writeln!(
                out,
                "splitting a model across {} cards (link time only; compute comes on top)",
                self.links_concurrent.len()
            );
            let _ = writeln!(
                out,
                "  {:<12} {:<42} {:>14} {:>14} {:>16}",
                "model", "link", "pipeline/tok", "tensor/tok", "DP train/step"
            );
            for r in &self.network {
                let _ = writeln!(
                    out,
                    "  {:<12} {:<42} {:>14} {:>14} {:>16}",
                    r.model,
                    r.link,
                    si(r.pipeline_s_per_token, "s"),
                    si(r.tensor_s_per_token, "s"),
                    si(r.data_parallel_s_per_step, "s")
                );
            }
            let _ = writeln!(
                out,
                "  NVLink: {}; InfiniBand: {}",
                network::NVLINK_H100.source,
                network::INFINIBAND_NDR.source
            );
            for v in &self.verdict {
                let _ = writeln!(out, "  - {v}");
            }
        }
        if let Some(p) = &self.pipeline {
            out += &render_plan(p);
        }
        out
    }
}

/// The planner's view of each card: all of them, or none when any card's
/// memory is unknown (a split that skipped one would misplace the links).
pub fn cards_of(summaries: &[AdapterSummary]) -> Option<Vec<Card>> {
    summaries
        .iter()
        .map(|s| {
            Some(Card {
                adapter_index: s.adapter_index,
                name: s.adapter.clone(),
                memory_bytes: s.facts.memory.bytes?,
                decode: s.facts.decode_bound.as_ref().map(Into::into),
            })
        })
        .collect()
}

/// The link out of each card to the next: its measured copy through the
/// host when that arrived intact, else the slowest concurrent link; each
/// hop pays the measured round trip.
fn card_links(
    cards: &[Card],
    c2c: &[CardToCard],
    slowest: Option<&Link>,
    round_trip_s: Option<f64>,
) -> Vec<Link> {
    cards
        .iter()
        .map_while(|card| {
            let measured = c2c
                .iter()
                .find(|c| c.from == card.adapter_index && c.verified);
            match measured {
                Some(c) => Some(Link {
                    name: "card to card through the host",
                    bytes_per_s: c.bytes_per_s,
                    latency_s: round_trip_s.unwrap_or(0.0),
                    source: "measured",
                }),
                None => slowest.copied(),
            }
        })
        .collect()
}

/// One line per catalogue model: its best fitting format over the cards.
fn render_plan(p: &RigPlan) -> String {
    let mut out = format!(
        "the rig as one machine: each model split over the cards by layers (pipeline) in its best fitting format \
         (the most bits per weight that fit; the JSON has every format); \
         each card holds its layers and their KV cache for {} tokens within {:.0}% of its memory\n",
        p.context,
        FIT_HEADROOM * 100.0
    );
    let kernels: Vec<String> = p
        .cards
        .iter()
        .filter_map(|c| c.decode.as_ref().map(|b| b.kernel.clone()))
        .fold(Vec::new(), |mut v, k| {
            if !v.contains(&k) {
                v.push(k);
            }
            v
        });
    let _ = writeln!(
        out,
        "  decode tok/s is a bound, not a measurement: each card's layers read at its measured bandwidth ({}), \
         then one fp16 activation vector over each measured link; tensor parallel over as many cards pays two all-reduces a layer a token",
        if kernels.is_empty() { "none measured".to_string() } else { kernels.join(", ") }
    );
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header([
        "model",
        "format",
        "fits",
        "layers per card",
        "decode tok/s (bound)",
        "pipeline link/token",
        "tensor-parallel link/token",
    ]);
    for m in &p.models {
        if let Some(s) = m.formats.first() {
            t.add_row(plan_row(s));
        }
    }
    let _ = writeln!(out, "{t}");
    out
}

/// A split's cells, as the table's header names them.
fn plan_row(s: &pipeline::Split) -> [String; 7] {
    let room = s.memory_bytes as f64 * FIT_HEADROOM;
    let fit = match (s.fits, s.fits_summed) {
        (true, _) => format!("yes, {}", si(s.bytes_needed, "B")),
        (false, true) => format!("no, {} in whole layers", si(s.bytes_needed, "B")),
        (false, false) => format!("no, {} > {}", si(s.bytes_needed, "B"), si(room, "B")),
    };
    let layers: Vec<String> = s.stages.iter().map(|x| x.layers.to_string()).collect();
    let or_dash = |v: Option<f64>, unit: &str| v.map_or("-".to_string(), |v| si(v, unit));
    [
        s.model.to_string(),
        s.format.label().to_string(),
        fit,
        if layers.is_empty() {
            "-".into()
        } else {
            layers.join("+")
        },
        or_dash(s.tokens_per_s, crate::units::TOKENS_PER_S),
        or_dash(s.link_s_per_token, "s"),
        or_dash(s.tensor_link_s_per_token, "s"),
    ]
}

#[cfg(test)]
mod tests;
