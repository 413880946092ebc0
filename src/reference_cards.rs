//! Published figures for well-known cards (`data/reference_cards.csv`), each
//! figure with its own source and basis, to place a measured card among
//! them. These are vendor specifications, community measurements and
//! labelled estimates, never measurements of ours.
//!
//! The file is long-format (one figure per line) so that every figure can
//! name where it comes from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{formats::Format, models::LLAMA2_7B};

const CSV: &str = include_str!("../data/reference_cards.csv");

/// Bytes Ethash reads per hash: 64 accesses of 128 bytes.
pub const ETHASH_BYTES_PER_HASH: f64 = 8192.0;
/// Share of spec bandwidth tuned Ethash miners reached (80-90 %).
pub const ETHASH_BANDWIDTH_SHARE: f64 = 0.85;

/// Where a figure comes from.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// The vendor's specification (or a database of them).
    VendorSpec,
    /// Measured by someone else and published.
    CommunityMeasurement,
    /// Derived by us from other figures, with the rule in its source.
    Estimate,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::VendorSpec => "vendor spec",
            Basis::CommunityMeasurement => "community measurement",
            Basis::Estimate => "estimate",
        }
    }
}

/// One line of the data file.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Figure {
    pub card: String,
    pub kind: String,
    /// `bandwidth_bs`, `fp32_flops`, `fp32_fma_flops`, `fp16_flops`,
    /// `fp64_flops`, `vram_bytes`, `pcie`, `sha256d_hs`, `sha256_hs`,
    /// `ethash_hs`, `llama7b_q4_0_tg`, `llama7b_q4_0_pp512`, `note`.
    pub figure: String,
    pub value: String,
    pub basis: Basis,
    pub source: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Card {
    pub card: String,
    /// datacenter, consumer or mining.
    pub kind: String,
    /// hashcat -m 21400 (sha256(sha256_bin)): SHA-256d work per candidate.
    pub sha256d_hs: Option<f64>,
    /// hashcat -m 1400 (one SHA-256).
    pub sha256_hs: Option<f64>,
    /// FP32 peak (non-tensor); for throttled cards, the rate without FMA.
    pub fp32_flops: Option<f64>,
    /// FP32 with FMA where it differs (throttled cards).
    pub fp32_fma_flops: Option<f64>,
    pub fp16_flops: Option<f64>,
    pub fp64_flops: Option<f64>,
    pub bandwidth_bs: Option<f64>,
    pub vram_bytes: Option<f64>,
    /// PCIe generation x lanes, e.g. `3.0 x16`.
    pub pcie: Option<String>,
    pub ethash_hs: Option<f64>,
    /// llama.cpp Llama-2-7B Q4_0 token generation, tok/s.
    pub llama7b_q4_0_tg: Option<f64>,
    /// llama.cpp Llama-2-7B Q4_0 prompt processing (512 tokens), tok/s.
    pub llama7b_q4_0_pp512: Option<f64>,
    pub notes: String,
    /// Every distinct source of this card's figures, joined.
    pub source: String,
    /// Every figure with its basis and source.
    pub figures: Vec<Figure>,
}

impl Card {
    /// The figure named `name`, with its basis and source.
    pub fn figure(&self, name: &str) -> Option<&Figure> {
        self.figures.iter().find(|f| f.figure == name)
    }
}

/// Every line of the built-in data file.
pub fn figures() -> Vec<Figure> {
    let mut rdr = csv::Reader::from_reader(CSV.as_bytes());
    rdr.deserialize()
        .map(|r| r.expect("data/reference_cards.csv is valid (checked by a test)"))
        .collect()
}

/// The built-in table, one card per entry, in the file's order.
pub fn cards() -> Vec<Card> {
    let mut order: Vec<String> = Vec::new();
    let mut by_card: BTreeMap<String, Vec<Figure>> = BTreeMap::new();
    for f in figures() {
        if !by_card.contains_key(&f.card) {
            order.push(f.card.clone());
        }
        by_card.entry(f.card.clone()).or_default().push(f);
    }
    order
        .into_iter()
        .map(|name| {
            let figures = by_card.remove(&name).unwrap_or_default();
            assemble(name, figures)
        })
        .collect()
}

fn assemble(card: String, figures: Vec<Figure>) -> Card {
    let num = |name: &str| -> Option<f64> {
        figures
            .iter()
            .find(|f| f.figure == name)
            .and_then(|f| f.value.parse::<f64>().ok())
    };
    let text = |name: &str| {
        figures
            .iter()
            .find(|f| f.figure == name)
            .map(|f| f.value.clone())
    };
    let mut sources: Vec<&str> = Vec::new();
    for f in &figures {
        if !sources.contains(&f.source.as_str()) {
            sources.push(&f.source);
        }
    }
    Card {
        kind: figures.first().map(|f| f.kind.clone()).unwrap_or_default(),
        sha256d_hs: num("sha256d_hs"),
        sha256_hs: num("sha256_hs"),
        fp32_flops: num("fp32_flops"),
        fp32_fma_flops: num("fp32_fma_flops"),
        fp16_flops: num("fp16_flops"),
        fp64_flops: num("fp64_flops"),
        bandwidth_bs: num("bandwidth_bs"),
        vram_bytes: num("vram_bytes"),
        pcie: text("pcie"),
        ethash_hs: num("ethash_hs"),
        llama7b_q4_0_tg: num("llama7b_q4_0_tg"),
        llama7b_q4_0_pp512: num("llama7b_q4_0_pp512"),
        notes: text("note").unwrap_or_default(),
        source: sources.join("; "),
        card,
        figures,
    }
}

/// A card of the table whose published Ethash rate is within
/// [`ETHASH_MATCH`] of a remembered one.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EthashMatch {
    pub card: String,
    pub ethash_hs: f64,
    pub ethash_basis: Basis,
    /// The table's bandwidth of the card, and its basis.
    pub bandwidth_bs: f64,
    pub bandwidth_basis: Basis,
}

/// How close a published rate must be to name its card: miners remember
/// rates to a few MH/s.
pub const ETHASH_MATCH: f64 = 0.05;

/// What an Ethash rate a miner remembers says about a card.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EthashEstimate {
    pub ethash_hs: f64,
    /// Bytes per second Ethash moved at that rate.
    pub ethash_traffic_bs: f64,
    /// The cards of the table that mined about this rate, closest first.
    /// Where any did, the closest one's table bandwidth is the answer (the
    /// same figure `cards` lists).
    pub matches: Vec<EthashMatch>,
    /// The memory bandwidth this answer uses: the closest matched card's,
    /// else the traffic at the table's estimate share.
    pub bandwidth_bs: f64,
    /// Whether `bandwidth_bs` is the table's figure of matched cards
    /// (false: estimated at [`ETHASH_BANDWIDTH_SHARE`]).
    pub from_table: bool,
    /// The range the published, measured rates span: the lowest and highest
    /// share of spec bandwidth Ethash reached on the table's cards.
    pub measured_share: Option<(f64, f64)>,
    /// Llama-2-7B Q4_0 decode ceiling at `bandwidth_bs`.
    pub llama7b_q4_0_ceiling_tps: f64,
    /// The 60-85 % of the ceiling that real runtimes reach.
    pub llama7b_q4_0_low_tps: f64,
    pub llama7b_q4_0_high_tps: f64,
}

/// What `ethash_hs` (hashes/s) says about a card, from the table's own
/// figures: the cards that mined that rate and their bandwidth, else an
/// estimate by the rule the table's estimates follow.
pub fn estimate_from_ethash(ethash_hs: f64) -> EthashEstimate {
    estimate_among(&cards(), ethash_hs)
}

fn estimate_among(cards: &[Card], ethash_hs: f64) -> EthashEstimate {
    let traffic = ethash_hs * ETHASH_BYTES_PER_HASH;
    let basis = |c: &Card, name: &str| c.figure(name).map(|f| f.basis);
    let matches: Vec<EthashMatch> = cards
        .iter()
        .filter_map(|c| {
            let (e, b) = (c.ethash_hs?, c.bandwidth_bs?);
            if (e - ethash_hs).abs() > ETHASH_MATCH * ethash_hs {
                return None;
            }
            Some(EthashMatch {
                card: c.card.clone(),
                ethash_hs: e,
                ethash_basis: basis(c, "ethash_hs")?,
                bandwidth_bs: b,
                bandwidth_basis: basis(c, "bandwidth_bs")?,
            })
        })
        .collect();
    let shares: Vec<f64> = cards
        .iter()
        .filter(|c| basis(c, "ethash_hs") == Some(Basis::CommunityMeasurement))
        .filter_map(|c| Some(c.ethash_hs? * ETHASH_BYTES_PER_HASH / c.bandwidth_bs?))
        .collect();
    let measured_share = shares
        .iter()
        .copied()
        .reduce(f64::min)
        .zip(shares.iter().copied().reduce(f64::max));
    let mut matches = matches;
    matches.sort_by(|a, b| {
        (a.ethash_hs - ethash_hs)
            .abs()
            .total_cmp(&(b.ethash_hs - ethash_hs).abs())
    });
    let (bandwidth, from_table) = match matches.first() {
        Some(closest) => (closest.bandwidth_bs, true),
        None => (traffic / ETHASH_BANDWIDTH_SHARE, false),
    };
    // Over the weights decode reads per token, as every ceiling divides.
    let ceiling = bandwidth / LLAMA2_7B.weights_read_per_token(Format::Q4_0);
    EthashEstimate {
        ethash_hs,
        ethash_traffic_bs: traffic,
        matches,
        bandwidth_bs: bandwidth,
        from_table,
        measured_share,
        llama7b_q4_0_ceiling_tps: ceiling,
        llama7b_q4_0_low_tps: ceiling * 0.60,
        llama7b_q4_0_high_tps: ceiling * 0.85,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cards people own or buy from mining farms, and the anchors.
    const REQUIRED: [&str; 36] = [
        "GTX 1060 6GB",
        "GTX 1070",
        "GTX 1070 Ti",
        "GTX 1080",
        "GTX 1080 Ti",
        "P102-100",
        "P104-100",
        "P106-100",
        "RTX 2060",
        "RTX 2070",
        "RTX 2080 Ti",
        "RTX 3060 12GB",
        "RTX 3060 Ti",
        "RTX 3070",
        "RTX 3080",
        "RTX 3090",
        "RTX 4090",
        "RX 470",
        "RX 480",
        "RX 570",
        "RX 580 8GB",
        "Vega 56",
        "Vega 64",
        "Radeon VII",
        "RX 5700 XT",
        "RX 6600 XT",
        "RX 6700 XT",
        "RX 6800 XT",
        "CMP 30HX",
        "CMP 40HX",
        "CMP 50HX",
        "CMP 90HX",
        "CMP 170HX",
        "Tesla P40",
        "A100 SXM",
        "H100 SXM",
    ];

    #[test]
    fn every_required_card_has_the_core_figures_each_with_a_source() {
        let cards = cards();
        assert!(cards.len() >= 35, "{} cards", cards.len());
        for name in REQUIRED {
            let c = cards
                .iter()
                .find(|c| c.card == name)
                .unwrap_or_else(|| panic!("{name} missing"));
            for fig in [
                "bandwidth_bs",
                "fp32_flops",
                "fp16_flops",
                "vram_bytes",
                "pcie",
            ] {
                assert!(c.figure(fig).is_some(), "{name} has no {fig}");
            }
            assert!(c.bandwidth_bs.unwrap() > 1e11, "{name} bandwidth");
            assert!(
                c.ethash_hs.is_some() || c.kind == "datacenter",
                "{name} Ethash"
            );
        }
        for f in figures() {
            assert!(
                !f.source.trim().is_empty(),
                "{} {} has no source",
                f.card,
                f.figure
            );
            assert!(
                !f.value.trim().is_empty(),
                "{} {} has no value",
                f.card,
                f.figure
            );
            if !matches!(f.figure.as_str(), "pcie" | "note") {
                let v: f64 = f.value.parse().unwrap_or_else(|_| {
                    panic!("{} {}: {:?} is not a number", f.card, f.figure, f.value)
                });
                assert!(v.is_finite() && v > 0.0, "{} {}", f.card, f.figure);
            }
        }
    }

    #[test]
    fn published_figures_match_their_sources() {
        let cards = cards();
        let get = |n: &str| cards.iter().find(|c| c.card == n).unwrap();
        assert_eq!(get("H100 PCIe").sha256d_hs, Some(5528e6));
        assert_eq!(get("CMP 170HX").fp32_fma_flops, Some(0.39e12));
        assert_eq!(get("RTX 3090").llama7b_q4_0_tg, Some(121.8));
        assert_eq!(
            get("RTX 3090").figure("ethash_hs").unwrap().basis,
            Basis::CommunityMeasurement
        );
        // Without a published Ethash rate the table says it estimated one.
        assert_eq!(
            get("Vega 56").figure("ethash_hs").unwrap().basis,
            Basis::Estimate
        );
    }

    #[test]
    fn a_rate_no_card_mined_is_estimated_by_the_tables_rule() {
        // 12 MH/s moves 98.3 GB/s; at 85 % that is a 116 GB/s card.
        let e = estimate_from_ethash(12e6);
        assert!(e.matches.is_empty() && !e.from_table);
        assert!((e.ethash_traffic_bs - 98.304e9).abs() < 1e6);
        assert!((e.bandwidth_bs - 98.304e9 / ETHASH_BANDWIDTH_SHARE).abs() < 1e6);
        let (lo, hi) = e.measured_share.unwrap();
        assert!(lo < ETHASH_BANDWIDTH_SHARE && ETHASH_BANDWIDTH_SHARE < hi);
        assert!(
            (e.llama7b_q4_0_ceiling_tps
                - e.bandwidth_bs / LLAMA2_7B.weights_read_per_token(Format::Q4_0))
            .abs()
                < 1e-9
        );
        assert!(e.llama7b_q4_0_low_tps < e.llama7b_q4_0_high_tps);
    }

    #[test]
    fn every_card_with_a_rate_is_named_by_it_with_the_tables_bandwidth() {
        for c in cards() {
            let (Some(e), Some(b)) = (c.ethash_hs, c.bandwidth_bs) else {
                continue;
            };
            let est = estimate_from_ethash(e);
            assert!(est.from_table, "{}", c.card);
            let m = est.matches.iter().find(|m| m.card == c.card).unwrap();
            assert_eq!((m.ethash_hs, m.bandwidth_bs), (e, b), "{}", c.card);
            // The answer is a bandwidth the table lists for a card that
            // mined this rate, never a figure of its own.
            assert!(est
                .matches
                .iter()
                .any(|m| m.bandwidth_bs == est.bandwidth_bs));
        }
    }
}
