//! What cards mined: each card's typical tuned rate per algorithm
//! (`data/mining_hashrates.csv`, from the 2miners profitability
//! calculator) and, for the Ethash-era cards, stock and tuned Ethash
//! figures with the threads they come from
//! (`data/ethash_cards_detailed.csv`). Community measurements, never ours;
//! every figure keeps its source, and where the reference table
//! (`data/reference_cards.csv`) gives the same card another Ethash figure,
//! both are kept.

use serde::{Deserialize, Serialize};

use crate::card_names::{self, ModelName};
use crate::reference_cards::{self, Basis};

const RATES_CSV: &str = include_str!("../data/mining_hashrates.csv");
const DETAILED_CSV: &str = include_str!("../data/ethash_cards_detailed.csv");

/// How far a reported memory size may fall from a variant's nominal one:
/// drivers report a little less than the box says, and variants differ by
/// half or more.
const MEMORY_SLACK: f64 = 0.15;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

#[derive(Deserialize)]
struct RateLine {
    card: String,
    vendor: String,
    vram_mib: String,
    ethash_mhs: Option<f64>,
    etchash_mhs: Option<f64>,
    kawpow_mhs: Option<f64>,
    autolykos2_mhs: Option<f64>,
    equihash144_5_sols: Option<f64>,
    kheavyhash_ghs: Option<f64>,
    source: String,
}

#[derive(Deserialize)]
struct DetailLine {
    card: String,
    bandwidth_gbs: f64,
    bandwidth_note: String,
    ethash_mhs_2miners: f64,
    stock_mhs: String,
    stock_source: String,
    tuned_mhs: String,
    tuned_source: String,
    notes: String,
}

/// One algorithm's rate on a card.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Rate {
    /// `ethash`, `etchash`, `kawpow`, `autolykos2`, `equihash144_5`,
    /// `kheavyhash`.
    pub algorithm: &'static str,
    /// In base units: hashes (or solutions) per second.
    pub value: f64,
    pub unit: &'static str,
    pub basis: Basis,
    pub source: String,
}

/// Stock and tuned Ethash figures of one card (or memory variant), as
/// miners reported them: ranges, kept as written.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EthashDetail {
    /// As the file names it: `RX 580 8GB`.
    pub card: String,
    pub spec_bandwidth_bs: f64,
    pub bandwidth_note: String,
    /// The 2miners figure this file quotes, H/s.
    pub ethash_2miners_hs: f64,
    /// MH/s, as reported: `17-19`, `~24`.
    pub stock_mhs: String,
    pub stock_source: String,
    pub tuned_mhs: String,
    pub tuned_source: String,
    pub notes: String,
    pub basis: Basis,
}

/// The reference table's Ethash figure of the same card.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TableEthash {
    /// As the table names it.
    pub card: String,
    pub ethash_hs: f64,
    pub basis: Basis,
    pub source: String,
    /// Whether it differs from this record's 2miners rate.
    pub differs: bool,
}

/// One card's mining record.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Record {
    /// As the 2miners calculator names it: `AMD Radeon RX 580`.
    pub card: String,
    /// `amd`, `nvidia` or `asic`.
    pub vendor: String,
    /// Each memory size the card was sold with.
    pub vram_bytes: Vec<u64>,
    pub rates: Vec<Rate>,
    pub ethash_detail: Vec<EthashDetail>,
    pub table_ethash: Vec<TableEthash>,
}

impl Record {
    pub fn rate(&self, algorithm: &str) -> Option<&Rate> {
        self.rates.iter().find(|r| r.algorithm == algorithm)
    }

    /// The card's Ethash rate, which not every card has.
    pub fn ethash(&self) -> Option<&Rate> {
        self.rate(ETHASH)
    }

    fn model(&self) -> ModelName {
        card_names::model(&self.card)
    }
}

/// Each algorithm's id in [`Rate`] and its name for people, in the data
/// file's order.
pub const ALGORITHMS: [(&str, &str); 6] = [
    (ETHASH, "Ethash"),
    ("etchash", "Etchash"),
    ("kawpow", "KawPow"),
    ("autolykos2", "Autolykos2"),
    ("equihash144_5", "Equihash 144,5"),
    ("kheavyhash", "kHeavyHash"),
];

const ETHASH: &str = "ethash";

fn rates_of(l: &RateLine) -> Vec<Rate> {
    let per = [
        (l.ethash_mhs, 1e6, "H/s"),
        (l.etchash_mhs, 1e6, "H/s"),
        (l.kawpow_mhs, 1e6, "H/s"),
        (l.autolykos2_mhs, 1e6, "H/s"),
        (l.equihash144_5_sols, 1.0, "Sol/s"),
        (l.kheavyhash_ghs, 1e9, "H/s"),
    ];
    ALGORITHMS
        .into_iter()
        .zip(per)
        .filter_map(|((algorithm, _), (v, scale, unit))| {
            Some(Rate {
                algorithm,
                value: v? * scale,
                unit,
                basis: Basis::CommunityMeasurement,
                source: l.source.clone(),
            })
        })
        .collect()
}

fn details() -> Vec<EthashDetail> {
    csv::Reader::from_reader(DETAILED_CSV.as_bytes())
        .deserialize::<DetailLine>()
        .map(|r| r.expect("data/ethash_cards_detailed.csv is valid (checked by a test)"))
        .map(|l| EthashDetail {
            card: l.card,
            spec_bandwidth_bs: l.bandwidth_gbs * 1e9,
            bandwidth_note: l.bandwidth_note,
            ethash_2miners_hs: l.ethash_mhs_2miners * 1e6,
            stock_mhs: l.stock_mhs,
            stock_source: l.stock_source,
            tuned_mhs: l.tuned_mhs,
            tuned_source: l.tuned_source,
            notes: l.notes,
            basis: Basis::CommunityMeasurement,
        })
        .collect()
}

/// Whether `name` is the record's card: the same model, and the memory
/// its name states (else `memory`, else none, which is the card whose
/// record names no memory) one the record was sold with.
fn same_card(rec: &Record, rec_model: &ModelName, name: &str, memory: Option<f64>) -> bool {
    let m = card_names::model(name);
    if m.words != rec_model.words {
        return false;
    }
    match m.memory_gb.map(|gb| (gb * GIB) as f64).or(memory) {
        Some(b) => rec.vram_bytes.iter().any(|&v| near(b, v)),
        None => rec_model.memory_gb.is_none(),
    }
}

/// Whether `reported` bytes are a card of `nominal` bytes.
fn near(reported: f64, nominal: u64) -> bool {
    (reported / nominal as f64 - 1.0).abs() <= MEMORY_SLACK
}

/// Every record, in the file's order.
pub fn records() -> Vec<Record> {
    let details = details();
    let table = reference_cards::cards();
    csv::Reader::from_reader(RATES_CSV.as_bytes())
        .deserialize::<RateLine>()
        .map(|r| r.expect("data/mining_hashrates.csv is valid (checked by a test)"))
        .map(|l| {
            let mut rec = Record {
                card: l.card.clone(),
                vendor: l.vendor.clone(),
                vram_bytes: l
                    .vram_mib
                    .split('/')
                    .filter_map(|m| m.trim().parse::<u64>().ok())
                    .map(|m| m * MIB)
                    .collect(),
                rates: rates_of(&l),
                ethash_detail: Vec::new(),
                table_ethash: Vec::new(),
            };
            let model = rec.model();
            rec.ethash_detail = details
                .iter()
                .filter(|d| same_card(&rec, &model, &d.card, None))
                .cloned()
                .collect();
            let mined = rec.ethash().map(|r| r.value);
            rec.table_ethash = table
                .iter()
                .filter(|c| same_card(&rec, &model, &c.card, c.vram_bytes))
                .filter_map(|c| {
                    let f = c.figure("ethash_hs")?;
                    let v = c.ethash_hs?;
                    Some(TableEthash {
                        card: c.card.clone(),
                        ethash_hs: v,
                        basis: f.basis,
                        source: f.source.clone(),
                        differs: mined.is_some_and(|m| m != v),
                    })
                })
                .collect();
            rec
        })
        .collect()
}

/// The record of the card an adapter is: named by its model and matched
/// by its memory, with the memory variant's detail when the file has one.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Matched {
    /// How a sentence names the card: `RX 580 8GB`.
    pub label: String,
    /// The matched variant's nominal memory.
    pub vram_bytes: u64,
    pub record: Record,
    pub detail: Option<EthashDetail>,
}

/// The record of `adapter` with `memory` bytes reported: of the records
/// its name names (the longest model name first, so an "RTX 3070 Ti" is
/// never an "RTX 3070"), the one sold with about that memory. `None` when
/// none is, since variants of one name mined differently.
pub fn for_adapter(adapter: &str, memory: u64) -> Option<Matched> {
    let mut candidates: Vec<(usize, Record)> = records()
        .into_iter()
        .filter_map(|r| {
            let m = r.model();
            card_names::names(adapter, &m).then_some((m.words.len(), r))
        })
        .collect();
    candidates.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    let longest = candidates.first()?.0;
    candidates
        .into_iter()
        .take_while(|(n, _)| *n == longest)
        .find_map(|(_, r)| {
            let vram = *r.vram_bytes.iter().find(|&&b| near(memory as f64, b))?;
            Some(matched(r, vram))
        })
}

fn matched(record: Record, vram: u64) -> Matched {
    let gb = (vram as f64 / GIB as f64).round() as u64;
    let detail = record
        .ethash_detail
        .iter()
        .find(|d| card_names::model(&d.card).memory_gb.is_none_or(|g| g == gb))
        .cloned();
    // "AMD Radeon RX 580" reads "RX 580"; "AMD Radeon VII" keeps its brand.
    let all: Vec<&str> = record.card.split_whitespace().collect();
    let words: Vec<&str> = all
        .iter()
        .enumerate()
        .filter(|(i, w)| match w.to_lowercase().as_str() {
            "amd" | "nvidia" | "geforce" => false,
            "radeon" => all.get(i + 1) != Some(&"RX"),
            _ => true,
        })
        .map(|(_, w)| *w)
        .collect();
    let mut label = match &detail {
        Some(d) => d.card.clone(),
        None => words.join(" "),
    };
    if detail.is_none() && record.vram_bytes.len() > 1 {
        label = format!("{label} {gb}GB");
    }
    Matched {
        label,
        vram_bytes: vram,
        record,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_has_a_source_and_a_memory_size() {
        let all = records();
        assert_eq!(all.len(), 90);
        for r in &all {
            assert!(!r.vram_bytes.is_empty(), "{}", r.card);
            for x in &r.rates {
                assert!(!x.source.trim().is_empty() && x.value > 0.0, "{}", r.card);
            }
        }
        assert_eq!(details().len(), 34);
    }

    #[test]
    fn every_detailed_card_belongs_to_a_record() {
        let all = records();
        for d in details() {
            assert!(
                all.iter().any(|r| r.ethash_detail.contains(&d)),
                "{} has no record",
                d.card
            );
        }
    }

    #[test]
    fn an_adapter_is_matched_by_name_and_memory() {
        let m = for_adapter("AMD Radeon RX 580 Series (RADV POLARIS10)", 8 * GIB).unwrap();
        assert_eq!(m.label, "RX 580 8GB");
        assert_eq!(m.record.rate("ethash").unwrap().value, 30e6);
        let m4 = for_adapter("Radeon RX 580 Series", 4 * GIB - 200 * MIB).unwrap();
        assert_eq!(m4.label, "RX 580 4GB");
        // The 12 GB RTX 3080 mined more than the 10 GB one.
        let m = for_adapter("NVIDIA GeForce RTX 3080", 12 * GIB).unwrap();
        assert_eq!(m.record.rate("ethash").unwrap().value, 120e6);
        let m = for_adapter("NVIDIA GeForce RTX 3080", 10 * GIB).unwrap();
        assert_eq!(m.record.rate("ethash").unwrap().value, 98e6);
        let ti = for_adapter("NVIDIA GeForce RTX 3070 Ti", 8 * GIB).unwrap();
        assert_eq!(ti.record.card, "Nvidia GeForce RTX 3070 Ti");
        // No variant of that memory: no claim.
        assert_eq!(for_adapter("AMD Radeon RX 580", 2 * GIB), None);
        assert_eq!(
            for_adapter("llvmpipe (LLVM 17.0.6, 256 bits)", 8 * GIB),
            None
        );
    }

    #[test]
    fn the_tables_other_ethash_figure_is_kept_beside() {
        let all = records();
        let get = |n: &str| all.iter().find(|r| r.card == n).unwrap();
        // The table estimated 20 MH/s for a GTX 1060 6GB; 2miners says 22.
        let t = &get("Nvidia GeForce GTX 1060").table_ethash;
        assert_eq!(t.len(), 1);
        assert!(t[0].differs && t[0].basis == Basis::Estimate);
        let rx580 = get("AMD Radeon RX 580");
        assert_eq!(rx580.ethash_detail.len(), 2);
        assert!(rx580.table_ethash.iter().all(|t| !t.differs));
    }
}
