//! The rig with `--all-adapters`: totals, the host links alone and all at
//! once, card to card through the host, and what splitting a model across
//! the cards costs over those links beside NVLink and InfiniBand.

use std::fmt::Write;

use serde::Serialize;

use super::network::{self, NetworkRow};
use super::summary::{render_rig, RigTotals};
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
        Rig {
            totals,
            bytes_per_transfer: bytes,
            links_alone: alone,
            links_concurrent: concurrent,
            card_to_card: c2c,
            slowest_link: slowest,
            network,
            verdict,
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
        out
    }
}
