//! The measured Ethash rate beside what the card mined: the rate its owner
//! remembers (`run --expect-ethash`), else the tuned rate miners reached
//! on the same card (named by the adapter's name and its memory, since
//! memory variants mined differently).

use super::figure::{Draft, Figure, Unit};
use super::{Finding, Stance};
use crate::catalogue::Kernel;
use crate::mining_records::{self, Matched};
use crate::reference_cards::{self, ETHASH_BANDWIDTH_SHARE};
use crate::report::facts::{verified, EthashRun, Facts};

/// What miners did that a benchmark does not: the reason a tuned rate is
/// above what a stock card reaches.
const TUNED: &str = "miners ran memory overclocks and timing straps";

/// `ethash.expected` against the owner's figure, else `ethash.record`
/// against the card's; nothing when there is neither, or no verified rate.
pub fn record(facts: &Facts) -> Option<Finding> {
    let run = facts.ethash.as_ref()?;
    let full = verified(facts.metrics.ethash);
    let cut = verified(facts.metrics.ethash_cut);
    let mut d = Draft::new();
    let (code, against) = match facts.expected_ethash_hs {
        Some(hs) => ("ethash.expected", Against::Owner(hs)),
        None => {
            let memory = facts.memory.bytes.filter(|_| !facts.memory.host)?;
            let m = mining_records::for_adapter(&run.adapter, memory)?;
            m.record.ethash()?;
            ("ethash.record", Against::Card(Box::new(m)))
        }
    };
    let text = match (full, cut) {
        (Some(v), _) => {
            let own = d.put(measured(v));
            let (theirs, whose) = against.put(&mut d);
            let share = d.put(Figure::derived(
                "share",
                100.0 * v / against.value(),
                Unit::Percent,
                "measured rate / mined rate",
            ));
            format!("{}: {share} of the {theirs} {whose}", head(&own, run))
        }
        (None, Some(v)) => {
            let own = d.put(measured(v));
            let (theirs, whose) = against.put(&mut d);
            let why = run.cut.as_deref().unwrap_or("dataset cut");
            format!(
                "{} over a cut dataset ({why}): not set beside the {theirs} {whose}, since a cut dataset may sit in caches and miners read the whole DAG",
                head(&own, run)
            )
        }
        (None, None) => return None,
    };
    let text = match against {
        Against::Owner(hs) => format!("{text}{}", for_decode(&mut d, hs)),
        Against::Card(_) => text,
    };
    Some(d.finish(code, Stance::Standing, text))
}

/// What a remembered rate says of decode, by the one rule `cards --ethash`
/// answers with: the bandwidth of the card of the table that mined closest
/// to it, else the table's estimate share, over the weights read a token.
fn for_decode(d: &mut Draft, hs: f64) -> String {
    let e = reference_cards::estimate_from_ethash(hs);
    let basis = match e.matches.first() {
        Some(m) if e.from_table => format!("the {}'s, which mined closest to it", m.card),
        _ => format!(
            "its reads at {:.0} % of spec bandwidth",
            ETHASH_BANDWIDTH_SHARE * 100.0
        ),
    };
    let bw = d.put(Figure::derived(
        "bandwidth_for_expected",
        e.bandwidth_bs,
        Unit::BytesPerS,
        format!("cards --ethash: {basis}"),
    ));
    let ceiling = d.put(Figure::derived(
        "decode_ceiling_for_expected",
        e.llama7b_q4_0_ceiling_tps,
        Unit::TokensPerS,
        "that bandwidth / Llama-2-7B Q4_0's weights read per token",
    ));
    format!(
        "; a card that mined that reads memory at about {bw} ({basis}, as `cards --ethash` answers), so Llama-2-7B Q4_0 decodes at most {ceiling} on it"
    )
}

fn measured(v: f64) -> Figure {
    Figure::measured("ethash_rate", v, Unit::HashPerS, Kernel::Ethash)
}

/// "Ethash 29.1 MH/s (epoch 517)".
fn head(own: &str, run: &EthashRun) -> String {
    match run.epoch {
        Some(e) => format!("Ethash {own} (epoch {e})"),
        None => format!("Ethash {own}"),
    }
}

/// What the measured rate is set beside.
enum Against {
    /// The owner's remembered rate, H/s.
    Owner(f64),
    Card(Box<Matched>),
}

impl Against {
    fn value(&self) -> f64 {
        match self {
            Against::Owner(hs) => *hs,
            Against::Card(m) => m.record.ethash().map_or(f64::NAN, |r| r.value),
        }
    }

    /// The figure, kept in `d`, and whose it is: "30.0 MH/s", "a tuned
    /// RX 580 8GB mined (2miners; ...)".
    fn put(&self, d: &mut Draft) -> (String, String) {
        match self {
            Against::Owner(hs) => (
                d.put(Figure::reported(
                    "expected",
                    *hs,
                    Unit::HashPerS,
                    "the card's owner (--expect-ethash)",
                )),
                "its owner remembers it mined (--expect-ethash)".to_string(),
            ),
            Against::Card(m) => {
                let source = m
                    .record
                    .ethash()
                    .map_or(String::new(), |r| r.source.clone());
                let shown = d.put(Figure::published(
                    "mined",
                    self.value(),
                    Unit::HashPerS,
                    Some(&m.label),
                    source,
                ));
                (
                    shown,
                    format!("a tuned {} mined (2miners; {TUNED})", m.label),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::fixtures::{desc, row_with};
    use crate::report::verdict::Basis;
    use crate::report::ResultRow;

    const GIB: u64 = 1 << 30;

    fn rx580(rows: Vec<ResultRow>, vram: u64) -> Facts {
        let rows: Vec<ResultRow> = rows
            .into_iter()
            .map(|r| ResultRow {
                adapter: "AMD Radeon RX 580 Series (RADV POLARIS10)".into(),
                ..r
            })
            .collect();
        let d = crate::gpu::AdapterDesc {
            name: rows[0].adapter.clone(),
            ..desc(Some(vram))
        };
        Facts::new(&d, &rows, None)
    }

    #[test]
    fn the_measured_rate_stands_beside_the_same_cards_tuned_rate() {
        let f = rx580(
            vec![row_with(
                "ethash",
                "ethash",
                "hash_rate",
                29.1e6,
                "epoch=517",
            )],
            8 * GIB,
        );
        let x = record(&f).unwrap();
        assert_eq!(x.code, "ethash.record");
        assert_eq!(
            x.text,
            "Ethash 29.1 MH/s (epoch 517): 97.0 % of the 30.0 MH/s a tuned RX 580 8GB mined (2miners; miners ran memory overclocks and timing straps)"
        );
        let mined = x.figures.iter().find(|g| g.name == "mined").unwrap();
        assert_eq!(mined.basis, Basis::Published);
        assert_eq!(mined.of.as_deref(), Some("RX 580 8GB"));
        assert!(mined.source.contains("2miners"), "{}", mined.source);
        let own = &x.figures[0];
        assert_eq!(
            (own.basis, own.source.as_str()),
            (Basis::Measured, "ethash")
        );
        // The 4 GB card is its own variant.
        let f4 = rx580(
            vec![row_with(
                "ethash",
                "ethash",
                "hash_rate",
                29.1e6,
                "epoch=517",
            )],
            4 * GIB,
        );
        assert!(record(&f4).unwrap().text.contains("RX 580 4GB"));
    }

    #[test]
    fn the_owners_figure_replaces_the_cards_and_a_cut_dataset_claims_nothing() {
        let rows = vec![row_with("ethash", "ethash", "hash_rate", 24e6, "epoch=0")];
        let f = rx580(rows, 8 * GIB).expecting_ethash(Some(32e6));
        let x = record(&f).unwrap();
        assert_eq!(x.code, "ethash.expected");
        assert!(
            x.text
                .starts_with("Ethash 24.0 MH/s (epoch 0): 75.0 % of the 32.0 MH/s its owner"),
            "{}",
            x.text
        );
        assert_eq!(x.figures[1].basis, Basis::Reported);
        // The remembered rate read as decode, by cards --ethash's rule.
        let e = reference_cards::estimate_from_ethash(32e6);
        let ceiling = x
            .figures
            .iter()
            .find(|g| g.name == "decode_ceiling_for_expected")
            .expect("the decode ceiling of the remembered rate");
        assert_eq!(ceiling.value, e.llama7b_q4_0_ceiling_tps);
        assert!(
            x.text.contains("so Llama-2-7B Q4_0 decodes at most"),
            "{}",
            x.text
        );
        let cut = vec![row_with(
            "ethash",
            "ethash",
            "hash_rate",
            24e6,
            "epoch=0;comparable=no(dataset cut to its first 2 MiB)",
        )];
        let x = record(&rx580(cut, 8 * GIB)).unwrap();
        assert!(
            x.text
                .contains("over a cut dataset (dataset cut to its first 2 MiB): not set beside"),
            "{}",
            x.text
        );
        assert!(x.figures.iter().all(|g| g.name != "share"));
        // An adapter no record names, or with no memory reported: no claim.
        let rows = vec![row_with("ethash", "ethash", "hash_rate", 1e6, "epoch=0")];
        assert_eq!(record(&Facts::new(&desc(Some(8 * GIB)), &rows, None)), None);
        let f = rx580(rows, 8 * GIB);
        let none = Facts {
            memory: crate::report::summary::Memory::unrecorded(false),
            ..f
        };
        assert_eq!(record(&none), None);
    }
}
