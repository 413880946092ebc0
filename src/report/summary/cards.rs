//! The nearest published cards to the measured figures.

use serde::Serialize;

use super::metrics::{KeyMetrics, Val};
use crate::reference_cards::Card;
use crate::units::si;

#[derive(Clone, Debug, Serialize)]
pub struct Neighbour {
    pub card: String,
    pub basis: String,
    pub published: f64,
    pub measured: f64,
    pub source: String,
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

/// Bases whose standing the verdict states (`standing.sha256d`,
/// `standing.bandwidth`, printed first): the terminal summary leaves them
/// out rather than place the card a second time. The JSON keeps them.
pub const PLACED_BY_VERDICT: [&str; 2] = ["SHA-256d", "memory bandwidth"];

/// The neighbours the verdict has not placed, one line each, under their
/// heading (nothing when none).
pub fn render_neighbours(neighbours: &[Neighbour]) -> String {
    let shown: Vec<&Neighbour> = neighbours
        .iter()
        .filter(|n| !PLACED_BY_VERDICT.contains(&n.basis.as_str()))
        .collect();
    if shown.is_empty() {
        return String::new();
    }
    let mut out =
        "nearest published cards (published spec, beside this card measured)\n".to_string();
    for n in shown {
        out += &format!(
            "  {:<14} {:<18} published {:>12}   measured here {:>12}   [{}]\n",
            n.card,
            n.basis,
            si(n.published, basis_unit(&n.basis)),
            si(n.measured, basis_unit(&n.basis)),
            n.source
        );
    }
    out
}
