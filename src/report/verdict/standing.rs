//! Where the card stands among known cards: between two neighbours by a
//! measured figure (memory bandwidth; hash rate), each neighbour's figure
//! published and named with its source.

use super::figure::{Draft, Figure, Unit};
use super::{Finding, Stance};
use crate::catalogue::Kernel;
use crate::reference_cards::{self, Card};
use crate::report::facts::{verified, Facts};

/// `standing.bandwidth` by the decode bound, `standing.sha256d` by the
/// verified hash rate.
pub fn standing(facts: &Facts) -> Vec<Finding> {
    let cards = reference_cards::cards();
    let mut out = Vec::new();
    if let Some(bw) = &facts.decode_bound {
        let mut d = Draft::new();
        let own = d.put(Figure::measured(
            "memory_bandwidth",
            bw.bytes_per_s,
            Unit::BytesPerS,
            bw.measured_by,
        ));
        if let Some(t) = between(&mut d, &cards, bw.bytes_per_s, BANDWIDTH) {
            let text = format!(
                "memory bandwidth ({}) {own} measured: {t} (spec figures)",
                bw.kernel
            );
            out.push(d.finish("standing.bandwidth", Stance::Standing, text));
        }
    }
    if let Some(h) = verified(facts.metrics.hash_rate) {
        let mut d = Draft::new();
        let own = d.put(Figure::measured(
            "sha256d_rate",
            h,
            Unit::HashPerS,
            Kernel::Sha256d,
        ));
        if let Some(t) = between(&mut d, &cards, h, HASH_RATE) {
            let text = format!("SHA-256d {own} measured: {t} (hashcat -m 21400 figures)");
            out.push(d.finish("standing.sha256d", Stance::Standing, text));
        }
    }
    out
}

/// A published figure of the reference cards: its name in the data file,
/// its unit, and where [`Card`] holds it.
struct Published {
    name: &'static str,
    unit: Unit,
    get: fn(&Card) -> Option<f64>,
}

const BANDWIDTH: Published = Published {
    name: "bandwidth_bs",
    unit: Unit::BytesPerS,
    get: |c| c.bandwidth_bs,
};

const HASH_RATE: Published = Published {
    name: "sha256d_hs",
    unit: Unit::HashPerS,
    get: |c| c.sha256d_hs,
};

/// "between an X and a Y", "below the X", "above the Y" by `figure`, the
/// neighbours' figures kept in `d` (named `below` and `above`).
fn between(d: &mut Draft, cards: &[Card], value: f64, figure: Published) -> Option<String> {
    let mut known: Vec<(&Card, f64)> = cards
        .iter()
        .filter_map(|c| (figure.get)(c).map(|v| (c, v)))
        .collect();
    known.sort_by(|a, b| a.1.total_cmp(&b.1));
    let below = known.iter().rev().find(|(_, v)| *v <= value);
    let above = known.iter().find(|(_, v)| *v > value);
    let mut put = |name, (c, v): &(&Card, f64)| {
        let source = c
            .figure(figure.name)
            .map_or(c.source.clone(), |f| f.source.clone());
        let shown = d.put(Figure::published(
            name,
            *v,
            figure.unit,
            Some(&c.card),
            source,
        ));
        format!("the {} ({shown})", c.card)
    };
    match (below, above) {
        (Some(b), Some(a)) => {
            let b = put("below", b);
            Some(format!("between {b} and {}", put("above", a)))
        }
        (None, Some(a)) => Some(format!("below {}", put("above", a))),
        (Some(b), None) => Some(format!("above {}", put("below", b))),
        (None, None) => None,
    }
}
