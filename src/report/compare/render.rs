//! The comparison table, and the measured adapters beside published cards.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use super::{Figure, Group, MAX_COLUMNS};
use crate::reference_cards::{self, Card};
use crate::units::si;

/// The note under a table with a baseline: which way a ratio reads.
pub const RATIO_NOTE: &str = "ratios are to the baseline adapter, above 1.00x is better: this / baseline for rates, baseline / this for times (lower is better)";

/// A row of the table: its label, unit and which way is better.
struct Line<'a> {
    order: usize,
    label: &'a str,
    unit: &'static str,
    lower_is_better: bool,
}

impl Line<'_> {
    fn title(&self) -> String {
        if self.lower_is_better {
            format!("{} (lower is better)", self.label)
        } else {
            self.label.to_string()
        }
    }

    fn of<'g>(&self, g: &'g Group) -> Option<&'g Figure> {
        g.figures.iter().find(|f| f.order == self.order)
    }
}

/// The value, UNVERIFIED where it disagreed with the CPU, and its ratio to
/// `base` oriented so that above 1 is better.
fn cell(f: Option<&Figure>, line: &Line, base: Option<&Figure>, unverified: &mut bool) -> String {
    let Some(f) = f else {
        return "-".into();
    };
    let mut s = si(f.val.value, line.unit);
    if !f.val.verified {
        s.push_str(" UNVERIFIED");
        *unverified = true;
    }
    if let Some(b) = base {
        let (v, b) = (f.val.value, b.val.value);
        let ratio = if line.lower_is_better { b / v } else { v / b };
        if v > 0.0 && b > 0.0 && ratio.is_finite() {
            s.push_str(&format!(" ({ratio:.2}x)"));
        }
    }
    s
}

pub fn render(groups: &[Group], baseline: Option<usize>) -> String {
    let mut lines: Vec<Line> = Vec::new();
    for f in groups.iter().flat_map(|g| &g.figures) {
        if !lines.iter().any(|l| l.order == f.order) {
            lines.push(Line {
                order: f.order,
                label: &f.label,
                unit: f.unit,
                lower_is_better: f.lower_is_better,
            });
        }
    }
    lines.sort_by_key(|l| l.order);
    let base_of = |l: &Line| baseline.and_then(|b| l.of(&groups[b]));
    let mut unverified = false;
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    let mark = |i: usize| {
        if baseline == Some(i) {
            " [baseline]"
        } else {
            ""
        }
    };
    let first = if baseline.is_some() {
        "metric (ratio to baseline, >1x better)"
    } else {
        "metric"
    };
    if groups.len() <= MAX_COLUMNS {
        let mut header = vec![first.to_string()];
        for (i, g) in groups.iter().enumerate() {
            header.push(format!("{i}: {}{}", g.label, mark(i)));
        }
        t.set_header(header);
        for l in &lines {
            let base = base_of(l);
            let mut row = vec![Cell::new(l.title())];
            for g in groups {
                row.push(
                    Cell::new(cell(l.of(g), l, base, &mut unverified))
                        .set_alignment(CellAlignment::Right),
                );
            }
            t.add_row(row);
        }
    } else {
        // Many adapters: one row each, so hundreds still read top to bottom.
        let mut header = vec!["#".to_string(), "adapter".to_string()];
        header.extend(lines.iter().map(Line::title));
        t.set_header(header);
        for (i, g) in groups.iter().enumerate() {
            let mut row = vec![Cell::new(i), Cell::new(format!("{}{}", g.label, mark(i)))];
            for l in &lines {
                row.push(
                    Cell::new(cell(l.of(g), l, base_of(l), &mut unverified))
                        .set_alignment(CellAlignment::Right),
                );
            }
            t.add_row(row);
        }
    }
    let mut out = t.to_string();
    out.push('\n');
    if baseline.is_some() {
        out.push_str(RATIO_NOTE);
        out.push('\n');
    }
    if unverified {
        out.push_str("UNVERIFIED values disagreed with the CPU reference\n");
    }
    out
}

/// Measured adapters beside the built-in published cards.
pub fn render_reference(groups: &[Group]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "card",
        "figures",
        "SHA-256d",
        "f32 peak",
        "bandwidth",
        "VRAM",
        "notes / source",
    ]);
    let opt = |v: Option<f64>, unit: &str| v.map(|x| si(x, unit)).unwrap_or_else(|| "-".into());
    for g in groups {
        let m = &g.metrics;
        t.add_row([
            g.label.clone(),
            "measured".into(),
            opt(m.hash_rate.map(|v| v.value), "H/s"),
            opt(m.fp32_fma.map(|v| v.value), "FLOP/s"),
            opt(m.bandwidth().map(|v| v.value), "B/s"),
            "-".into(),
            "this tool".into(),
        ]);
    }
    for c in reference_cards::cards() {
        t.add_row(reference_row(&c));
    }
    t.to_string()
}

fn reference_row(c: &Card) -> [String; 7] {
    let opt = |v: Option<f64>, unit: &str| v.map(|x| si(x, unit)).unwrap_or_else(|| "-".into());
    let fp32 = match (c.fp32_fma_flops, c.fp32_flops) {
        (Some(fma), Some(plain)) => format!(
            "{} FMA / {} without",
            si(fma, "FLOP/s"),
            si(plain, "FLOP/s")
        ),
        (None, p) => opt(p, "FLOP/s"),
        (f, None) => opt(f, "FLOP/s"),
    };
    let hash = match (c.sha256d_hs, c.sha256_hs) {
        (Some(d), _) => si(d, "H/s"),
        (None, Some(s)) => format!("- (SHA-256 {})", si(s, "H/s")),
        _ => "-".into(),
    };
    let notes = if c.notes.is_empty() {
        c.source.clone()
    } else {
        format!("{}; {}", c.notes, c.source)
    };
    [
        c.card.clone(),
        "published spec".into(),
        hash,
        fp32,
        opt(c.bandwidth_bs, "B/s"),
        opt(c.vram_bytes, "B"),
        notes,
    ]
}
