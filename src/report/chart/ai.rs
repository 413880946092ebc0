//! The AI panel: measured decode and prefill tokens/s per model and weight
//! format, whether each model fits the adapter's memory, and with
//! `--reference` the published Llama-2-7B Q4_0 rates of known cards.

use crate::domain::quant::Quant;
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::bars::{self, Cell, Column, Look, Row};
use super::data::{LlmRate, RefCard, Series, Vram};
use super::roofline::darker;
use crate::domain::formats::Format;
use crate::domain::models;
use crate::report::models::bytes_needed;
use crate::report::summary::{fits, FIT_HEADROOM};
use crate::report::verdict::{largest_q4_fit, q4_needed};
use crate::units::si;

/// Whether one measured model and format fits the adapter's memory, by the
/// rule the verdict uses (the model and its KV cache within
/// [`FIT_HEADROOM`] of VRAM).
fn fit_note(l: &LlmRate, vram: &Vram) -> String {
    let (Some(m), Some(f)) = (models::by_id(&l.model), Format::from_name(&l.format)) else {
        return "not a model or format this build knows".into();
    };
    let w = bytes_needed(&m, Quant::Uniform(f));
    let weights = format!("{} with its KV cache", si(w, "B"));
    match vram {
        Vram::Card { bytes, card } => {
            if fits(w, *bytes) {
                format!("fits: {weights} in {} ({card})", si(*bytes as f64, "B"))
            } else {
                format!(
                    "does not fit: {weights} > {:.0} % of {}",
                    FIT_HEADROOM * 100.0,
                    si(*bytes as f64, "B")
                )
            }
        }
        Vram::Host => format!("{weights}; CPU adapter: host memory"),
        Vram::Unknown => format!("{weights}; VRAM not in the results"),
    }
}

/// What a card's VRAM holds, by the verdict's rule.
fn card_fit(vram: Option<u64>) -> String {
    match vram {
        Some(v) => match largest_q4_fit(v) {
            Some(m) => format!(
                "VRAM {}: up to {} Q4_0 ({}) fits",
                si(v as f64, "B"),
                m.size,
                q4_needed(&m)
            ),
            None => format!("VRAM {}: 7B Q4_0 does not fit", si(v as f64, "B")),
        },
        None => "VRAM not published".into(),
    }
}

fn rows(series: &[Series], refs: &[RefCard]) -> Vec<Row> {
    let mut out = Vec::new();
    for s in series {
        let cell = |v: Option<f64>| {
            v.map(|value| Cell {
                value,
                look: Look::Measured(s.color),
                unverified: false,
            })
        };
        if s.llm.is_empty() {
            out.push(Row {
                name: format!("{}: {}", s.index, s.label),
                name_color: darker(s.color),
                cells: vec![None, None],
                note: match &s.vram {
                    Vram::Card { bytes, .. } => card_fit(Some(*bytes)),
                    Vram::Host => "CPU adapter: host memory".into(),
                    Vram::Unknown => "VRAM not in the results".into(),
                },
                missing: "llm suite not run",
                why_missing: Vec::new(),
            });
        }
        for l in &s.llm {
            out.push(Row {
                name: format!("{}: {} {}", s.index, l.model, l.format),
                name_color: darker(s.color),
                cells: vec![cell(l.decode), cell(l.prefill)],
                note: fit_note(l, &s.vram),
                missing: "not measured",
                why_missing: Vec::new(),
            });
        }
    }
    for r in refs
        .iter()
        .filter(|r| r.decode_7b_q4.is_some() || r.prefill_7b_q4.is_some())
    {
        let cell = |f: Option<(f64, crate::reference_cards::Basis)>| {
            f.map(|(value, b)| Cell {
                value,
                look: Look::Reference(b),
                unverified: false,
            })
        };
        out.push(Row {
            name: format!("{} llama2-7b q4_0", r.name),
            name_color: RGBColor(90, 90, 90),
            cells: vec![cell(r.decode_7b_q4), cell(r.prefill_7b_q4)],
            note: card_fit(r.vram),
            missing: "not published",
            why_missing: Vec::new(),
        });
    }
    out
}

pub fn height(series: &[Series], refs: &[RefCard]) -> u32 {
    bars::panel_height(rows(series, refs).len())
}

pub fn draw<DB: DrawingBackend>(
    series: &[Series],
    refs: &[RefCard],
    area: &DrawingArea<DB, Shift>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let columns = [
        Column {
            title: "decode (tokens/s, one stream)".into(),
            unit: "tok/s",
        },
        Column {
            title: "prefill (prompt tokens/s)".into(),
            unit: "tok/s",
        },
    ];
    let caption = if refs.is_empty() {
        "LLM decode and prefill (measured): Llama-2 shapes per weight format; log scale".to_string()
    } else {
        "LLM decode and prefill: measured per model and format, then published llama.cpp Llama-2-7B Q4_0 rates (grey; prefill: pp512); log scale".to_string()
    };
    let note = format!(
        "VRAM fit (weights within {:.0} % of VRAM)",
        FIT_HEADROOM * 100.0
    );
    bars::draw(area, &caption, &columns, &rows(series, refs), Some(&note))
}
