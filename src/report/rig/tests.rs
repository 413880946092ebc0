use super::*;
use crate::domain::models::catalogue;
use crate::report::pipeline::Bound;
use crate::report::summary::fixtures::{desc, row};

const GIB: u64 = 1 << 30;
const ROUND_TRIP_S: f64 = 20e-6;
/// Card to card through the host on x1 risers: 0.8 GB/s each way.
const C2C_BS: f64 = 0.4e9;

fn totals() -> RigTotals {
    RigTotals {
        adapters: 6,
        hash_rate: 0.0,
        sgemm: 0.0,
        bandwidth: 6.0 * 250e9,
        vram_bytes: Some(48 * GIB),
    }
}

fn cards() -> Vec<Card> {
    (0..6)
        .map(|i| Card {
            adapter_index: i,
            name: format!("card {i}"),
            memory_bytes: 8 * GIB,
            decode: Some(Bound {
                bytes_per_s: 250e9,
                kernel: "stream copy".into(),
            }),
        })
        .collect()
}

/// Six cards, each linked to the next (a ring); `broken` arrives damaged.
fn rig(broken: Option<usize>) -> Rig {
    let link = |i| LinkRate {
        adapter_index: i,
        upload_bs: 0.8e9,
        download_bs: 0.8e9,
        verified: true,
        problems: Vec::new(),
    };
    let links: Vec<LinkRate> = (0..6).map(link).collect();
    let c2c = (0..6)
        .map(|i| CardToCard {
            from: i,
            to: (i + 1) % 6,
            bytes_per_s: C2C_BS,
            verified: broken != Some(i),
        })
        .collect();
    Rig::new(
        totals(),
        64 << 20,
        links.clone(),
        links,
        c2c,
        Some(ROUND_TRIP_S),
        Some(cards()),
    )
}

#[test]
fn every_catalogue_model_gets_one_line_its_best_fitting_format_first() {
    let r = rig(None);
    let plan = r.pipeline.as_ref().unwrap();
    assert_eq!(plan.models.len(), catalogue().len());
    let text = r.render();
    let (_, table) = text.split_once("the rig as one machine").unwrap();
    for (m, p) in catalogue().iter().zip(&plan.models) {
        assert_eq!(p.model, m.id);
        let lines: Vec<&str> = table
            .lines()
            .filter(|l| l.contains(&format!(" {} ", m.name)))
            .collect();
        assert_eq!(lines.len(), 1, "{}: {table}", m.name);
        let best = &p.formats[0];
        assert!(lines[0].contains(best.format.label()), "{}", lines[0]);
        let layers: Vec<String> = best.stages.iter().map(|s| s.layers.to_string()).collect();
        if best.fits {
            assert!(lines[0].contains(&layers.join("+")), "{}", lines[0]);
        }
    }
    let json = serde_json::to_value(&r).unwrap();
    let models = json["pipeline"]["models"].as_array().unwrap();
    assert_eq!(models.len(), catalogue().len());
    assert!(json["pipeline"]["context"].as_u64().unwrap() > 0);
}

#[test]
fn each_link_is_the_measured_card_to_card_copy_else_the_slowest() {
    let r = rig(Some(2));
    let plan = r.pipeline.as_ref().unwrap();
    assert_eq!(plan.links.len(), 6);
    for (i, l) in plan.links.iter().enumerate() {
        let want = if i == 2 {
            r.slowest_link.unwrap()
        } else {
            Link {
                name: l.name,
                bytes_per_s: C2C_BS,
                latency_s: ROUND_TRIP_S,
                source: "measured",
            }
        };
        assert_eq!(*l, want, "link {i}");
    }
}

#[test]
fn cards_come_from_the_summaries_and_none_without_every_memory() {
    let rows = [row("stream", "copy", "bandwidth", 250e9, true)];
    let known = AdapterSummary::new(&desc(Some(8 * GIB)), &rows);
    let cs = cards_of(&[known.clone(), known.clone()]).unwrap();
    assert_eq!(cs.len(), 2);
    assert_eq!(cs[0].memory_bytes, 8 * GIB);
    let bound = known.facts.decode_bound.as_ref().unwrap();
    assert_eq!(cs[0].decode.as_ref().unwrap().kernel, bound.kernel);
    assert_eq!(cs[0].decode.as_ref().unwrap().bytes_per_s, 250e9);
    let unknown = AdapterSummary::new(&desc(None), &rows);
    assert!(cards_of(&[known, unknown]).is_none());
}
