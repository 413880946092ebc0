//! Published figures for well-known cards (`data/reference_cards.csv`), each
//! with its source, to place a measured card among them. These are
//! published specs and third-party benchmarks, never measurements of ours.

use serde::{Deserialize, Serialize};

const CSV: &str = include_str!("../data/reference_cards.csv");

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
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
    pub bandwidth_bs: Option<f64>,
    pub vram_bytes: Option<f64>,
    pub notes: String,
    pub source: String,
}

/// The built-in table.
pub fn cards() -> Vec<Card> {
    let mut rdr = csv::Reader::from_reader(CSV.as_bytes());
    rdr.deserialize()
        .map(|r| r.expect("data/reference_cards.csv is valid (checked by a test)"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_every_card_names_a_source() {
        let cards = cards();
        for name in [
            "H100 SXM",
            "A100 SXM",
            "RTX 4090",
            "RTX 3090",
            "RTX 3080",
            "RTX 3060 Ti",
            "GTX 1080 Ti",
            "GTX 1070",
            "RX 580",
            "RX 570",
            "RX 6800 XT",
            "CMP 170HX",
            "CMP 90HX",
            "CMP 50HX",
            "CMP 30HX",
        ] {
            let c = cards
                .iter()
                .find(|c| c.card == name)
                .unwrap_or_else(|| panic!("{name} missing"));
            assert!(!c.source.is_empty(), "{name} has no source");
        }
        let h100 = cards.iter().find(|c| c.card == "H100 PCIe").unwrap();
        assert_eq!(h100.sha256d_hs, Some(5528e6));
        let cmp = cards.iter().find(|c| c.card == "CMP 170HX").unwrap();
        assert_eq!(cmp.fp32_fma_flops, Some(0.39e12));
    }
}
