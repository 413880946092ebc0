//! One set of facts, read alike by the verdict, the summary and the energy.

use super::*;
use crate::catalogue::{Quantity, Suite};
use crate::domain::models::LLAMA2_7B;
use crate::report::energy::{energy, Window};
use crate::report::summary::fixtures::{desc, row, row_with};
use crate::report::summary::AdapterSummary;
use crate::report::verdict::{findings, Finding};
use crate::telemetry::{Reading, Telemetry};

const Q4_7B: &str = "model=llama2-7b;format=q4_0";

/// A card whose stream triad reads 1.2 TB/s and whose decode reads its
/// weights at `decode_read` B/s, decoding as fast as that read allows.
fn card(decode_read: f64) -> Vec<ResultRow> {
    let per_token = LLAMA2_7B.weights_read_per_token(Format::Q4_0);
    vec![
        row("stream", "triad", "bandwidth", 1.2e12, true),
        row("stream", "copy", "bandwidth", 1.1e12, true),
        row_with(
            "llm",
            "decode_q4_0",
            "token_rate",
            decode_read / per_token,
            Q4_7B,
        ),
        row_with("llm", "decode_q4_0", "bandwidth", decode_read, Q4_7B),
        row_with("llm", "prefill_q4_0", "token_rate", 900.0, Q4_7B),
        row("transfer", "h2d_staging", "plateau", 0.8e9, true),
        row("transfer", "d2h", "plateau", 12e9, true),
    ]
}

/// 100 W all along, each suite in its own window.
fn telemetry() -> (Telemetry, Vec<Window>) {
    let mut t = Telemetry::default();
    for i in 0..40 {
        t.readings.push(Reading {
            t_s: i as f64 * 0.5,
            quantity: Quantity::Power,
            unit: "W",
            value: 100.0,
            source: "test",
        });
    }
    let windows = [Suite::Stream, Suite::Llm, Suite::Transfer]
        .into_iter()
        .enumerate()
        .map(|(i, suite)| Window {
            suite,
            t0_s: 3.0 * i as f64,
            t1_s: 3.0 * i as f64 + 2.0,
        })
        .collect();
    (t, windows)
}

fn figure(f: &[Finding], code: &str, name: &str) -> f64 {
    let finding = f.iter().find(|x| x.code == code).unwrap();
    finding
        .figures
        .iter()
        .find(|x| x.name == name)
        .unwrap_or_else(|| panic!("{code} has no {name}: {finding:?}"))
        .value
}

/// The bound and the 7B Q4_0 ceiling as the verdict, the summary and the
/// energy state them, all from one set of facts.
fn bound_and_ceiling_everywhere(rows: &[ResultRow]) -> (String, f64, f64) {
    let d = desc(Some(24_000_000_000));
    let facts = Facts::new(&d, rows, None);
    let v = findings(&facts, &[]);
    let (t, w) = telemetry();
    let e = energy(&t, &w, &facts);
    let s = AdapterSummary::from_facts(&d, facts.clone());
    let bound = facts.decode_bound.clone().unwrap();
    let ceiling = facts.ceiling(&LLAMA2_7B, Format::Q4_0).unwrap();
    // The verdict.
    assert_eq!(figure(&v, "llm.decode", "bound"), bound.bytes_per_s);
    assert_eq!(figure(&v, "llm.decode", "ceiling"), ceiling);
    assert_eq!(
        figure(&v, "standing.bandwidth", "memory_bandwidth"),
        bound.bytes_per_s
    );
    // The summary: its bound and its table's 7B Q4_0 row.
    assert_eq!(s.facts.decode_bound.as_ref(), Some(&bound));
    let table = s
        .llm
        .iter()
        .find(|r| r.model == LLAMA2_7B.size && r.format == Format::Q4_0.name())
        .unwrap();
    assert_eq!(table.ceiling_tokens_s, ceiling);
    // The energy line.
    assert_eq!(e.ceiling_bound.as_deref(), Some(bound.kernel.as_str()));
    assert_eq!(e.ceiling_bandwidth_bs, Some(bound.bytes_per_s));
    assert_eq!(e.ceiling_tokens_s, Some(ceiling));
    // No figure above the bound it is printed under.
    let decode = figure(&v, "llm.decode", "decode");
    assert!(decode <= ceiling, "{decode} above {ceiling}");
    assert!(figure(&v, "llm.decode", "share") <= 100.0);
    (bound.kernel, bound.bytes_per_s, ceiling)
}

#[test]
fn verdict_summary_and_energy_state_one_bound_and_one_ceiling() {
    let (kernel, bound, _) = bound_and_ceiling_everywhere(&card(0.9e12));
    assert_eq!((kernel.as_str(), bound), ("stream triad", 1.2e12));
}

#[test]
fn a_decode_reading_faster_than_stream_is_its_own_bound() {
    let (kernel, bound, ceiling) = bound_and_ceiling_everywhere(&card(1.5e12));
    assert_eq!(
        (kernel.as_str(), bound),
        ("decode_q4_0's own weight read", 1.5e12)
    );
    // Its decode is then at its ceiling, never above it.
    let per_token = LLAMA2_7B.weights_read_per_token(Format::Q4_0);
    assert!((ceiling - 1.5e12 / per_token).abs() < 1e-9 * ceiling);
}

#[test]
fn the_facts_hold_each_rate_and_the_links_faster_direction() {
    let mut rows = card(0.9e12);
    // An unverified, faster decode is shown marked and judges nothing.
    rows.push(ResultRow {
        verified: false,
        ..row_with("llm", "decode_q4_0", "token_rate", 1e6, Q4_7B)
    });
    let f = Facts::new(&desc(None), &rows, None);
    let l = f.llm(&LLAMA2_7B, Format::Q4_0).unwrap();
    assert_eq!(f.llm_rates.len(), 1);
    assert!(l.decode.unwrap().verified);
    assert_eq!(l.decode_read.unwrap().value, 0.9e12);
    assert_eq!(l.prefill.unwrap().value, 900.0);
    let link = f.host_link.unwrap();
    assert_eq!((link.kernel, link.bytes_per_s), (Transfer::Download, 12e9));
    // Rows of another adapter are not this one's.
    let other: Vec<ResultRow> = rows
        .iter()
        .map(|r| ResultRow {
            adapter_index: 1,
            ..r.clone()
        })
        .collect();
    assert_eq!(Facts::new(&desc(None), &other, None).decode_bound, None);
}
