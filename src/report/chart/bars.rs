//! Horizontal bars on log axes, one row per adapter (or reference card),
//! one column per figure: a card of a few GFLOP/s reads beside one of tens
//! of TFLOP/s. The key figures panel; the AI panel draws with the same.

use anyhow::Result;
use plotters::coord::combinators::LogCoord;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::{RefCard, Series};
use super::labels::{bold, fit_text, font, text_size};
use super::roofline::darker;
use super::{e, ref_look};
use crate::reference_cards::Basis;
use crate::units::{num, si};

/// A value with its unit: SI prefixes, except token rates, which read as
/// plain numbers ("0.0094 tok/s", not "9.4 mtok/s").
pub fn value_text(v: f64, unit: &str) -> String {
    if unit != "tok/s" || v >= 1000.0 {
        return si(v, unit);
    }
    let mut s = num(v);
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{s} {unit}")
}

/// How one bar is drawn.
#[derive(Clone, Copy)]
pub enum Look {
    Measured(RGBColor),
    Reference(Basis),
}

#[derive(Clone, Copy)]
pub struct Cell {
    pub value: f64,
    pub look: Look,
    pub unverified: bool,
}

pub struct Row {
    pub name: String,
    pub name_color: RGBColor,
    pub cells: Vec<Option<Cell>>,
    /// The text column at the right, when the panel has one.
    pub note: String,
    /// Said in a column with no value: not measured, not published.
    pub missing: &'static str,
    /// Columns with no value for a reason of their own (a cache-sized
    /// stream rate is measured, but no memory figure).
    pub why_missing: Vec<(usize, &'static str)>,
}

impl Row {
    fn missing_in(&self, column: usize) -> &'static str {
        self.why_missing
            .iter()
            .find(|(c, _)| *c == column)
            .map_or(self.missing, |(_, why)| why)
    }
}

pub struct Column {
    pub title: String,
    pub unit: &'static str,
}

pub const ROW_H: u32 = 24;
/// Caption and axis labels around the rows.
pub const FRAME_H: u32 = 110;
const NAME_W: u32 = 300;

pub fn panel_height(rows: usize) -> u32 {
    if rows == 0 {
        0
    } else {
        FRAME_H + ROW_H * rows as u32
    }
}

fn key_rows(series: &[Series], refs: &[RefCard]) -> Vec<Row> {
    let measured = |s: &Series, v: Option<crate::report::summary::Val>| {
        v.filter(|v| v.value.is_finite() && v.value > 0.0)
            .map(|v| Cell {
                value: v.value,
                look: Look::Measured(s.color),
                unverified: !v.verified,
            })
    };
    let mut rows: Vec<Row> = series
        .iter()
        .map(|s| {
            let m = &s.metrics;
            Row {
                name: format!("{}: {}", s.index, s.label),
                name_color: darker(s.color),
                cells: vec![
                    measured(s, m.hash_rate),
                    measured(s, m.fp32_fma),
                    measured(s, m.stream_triad),
                ],
                note: String::new(),
                missing: "not measured",
                why_missing: match (m.stream_triad, m.stream_triad_cache_sized) {
                    (None, Some(_)) => vec![(2, "cache-sized: no memory figure")],
                    _ => Vec::new(),
                },
            }
        })
        .collect();
    let reference = |f: Option<(f64, Basis)>| {
        f.map(|(value, b)| Cell {
            value,
            look: Look::Reference(b),
            unverified: false,
        })
    };
    rows.extend(
        refs.iter()
            .filter(|r| r.bandwidth.is_some() || r.fp32.is_some() || r.sha256d.is_some())
            .map(|r| Row {
                name: r.name.clone(),
                name_color: RGBColor(90, 90, 90),
                cells: vec![
                    reference(r.sha256d),
                    reference(r.fp32),
                    reference(r.bandwidth),
                ],
                note: String::new(),
                missing: "not published",
                why_missing: Vec::new(),
            }),
    );
    rows
}

pub fn height(series: &[Series], refs: &[RefCard]) -> u32 {
    panel_height(key_rows(series, refs).len())
}

pub fn draw_key_figures<DB: DrawingBackend>(
    series: &[Series],
    refs: &[RefCard],
    area: &DrawingArea<DB, Shift>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let columns = [
        Column {
            title: "SHA-256d hash rate".into(),
            unit: "H/s",
        },
        Column {
            title: "f32 FMA peak".into(),
            unit: "FLOP/s",
        },
        Column {
            title: "memory bandwidth (stream triad)".into(),
            unit: "B/s",
        },
    ];
    let caption = if refs.is_empty() {
        "Key figures (measured; log scale, so small and large cards read side by side)"
    } else {
        "Key figures: measured adapters, then published cards (grey; hashcat -m 21400, FP32 peak, memory bandwidth); log scale"
    };
    draw(area, caption, &columns, &key_rows(series, refs), None)
}

/// A log range for one column: from under its smallest value to far enough
/// past its largest that the value's text fits after the longest bar.
fn range(values: &[f64]) -> (f64, f64) {
    let ok: Vec<f64> = values
        .iter()
        .copied()
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let hi = ok
        .iter()
        .copied()
        .fold(f64::MIN_POSITIVE, f64::max)
        .min(1e250);
    let lo = ok.iter().copied().fold(hi, f64::min).max(hi / 1e12);
    let lo = lo / 2.0;
    let span = (hi / lo).log10().max(0.5);
    // The longest bar ends at about 62 % of the width.
    (lo, lo * 10f64.powf(span / 0.62))
}

/// A column's chart: log values across, one band per row.
type LogChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<LogCoord<f64>, RangedCoordf64>>;

/// Draws `rows` as bars in `columns` under `caption`; with `note_title`, a
/// text column at the right holds each row's note.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    columns: &[Column],
    rows: &[Row],
    note_title: Option<&str>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    if rows.is_empty() {
        return Ok(());
    }
    let (w, _) = area.dim_in_pixel();
    area.draw(&Text::new(caption.to_string(), (12, 8), font(17)))
        .map_err(e)?;
    let body = area.margin(36, 8, 8, 8);
    let note_w = if note_title.is_some() { 330 } else { 0 };
    let (names, rest) = body.split_horizontally(NAME_W);
    let (cols_area, note_area) = rest.split_horizontally(w - 16 - NAME_W - note_w);
    let col_areas = cols_area.split_evenly((1, columns.len()));
    // The rows' heights in pixels, as the first column placed them.
    let mut centers: Vec<i32> = Vec::new();
    for (ci, (col, sub)) in columns.iter().zip(col_areas.iter()).enumerate() {
        let at = draw_column(sub, col, ci, rows)?;
        if ci == 0 {
            centers = at;
        }
    }
    draw_names(&names, rows, &centers)?;
    if let Some(title) = note_title {
        draw_notes(&note_area, title, rows, &centers, note_w as i32)?;
    }
    Ok(())
}

/// Column `ci` of every row: a bar with its value, or why it is missing.
/// Returns each row's middle, in pixels of the backend.
fn draw_column<DB: DrawingBackend>(
    sub: &DrawingArea<DB, Shift>,
    col: &Column,
    ci: usize,
    rows: &[Row],
) -> Result<Vec<i32>>
where
    DB::ErrorType: 'static,
{
    let value_font = font(12);
    let n = rows.len() as f64;
    let values: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.cells[ci].map(|c| c.value))
        .collect();
    let (lo, hi) = range(&values);
    let mut chart = ChartBuilder::on(sub)
        .caption(&col.title, bold(14))
        .margin_left(6)
        .margin_right(10)
        .x_label_area_size(36)
        .build_cartesian_2d((lo..hi).log_scale(), 0f64..n)
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_labels(4)
        .label_style(font(12))
        .x_label_formatter(&|v| value_text(*v, col.unit))
        .light_line_style(RGBColor(238, 238, 238))
        .draw()
        .map_err(e)?;
    let plot = chart.plotting_area();
    let (bx, by) = plot.get_base_pixel();
    let (pw, _) = plot.dim_in_pixel();
    let text_area = plot.strip_coord_spec();
    let mut centers = Vec::new();
    for (ri, row) in rows.iter().enumerate() {
        let y_mid = n - ri as f64 - 0.5;
        let (_, py) = chart.backend_coord(&(lo, y_mid));
        centers.push(py);
        let Some(cell) = row.cells[ci] else {
            let missing = row.missing_in(ci);
            let (_, th) = text_size(missing, &value_font);
            text_area
                .draw(&Text::new(
                    missing,
                    (6, py - by - th / 2),
                    value_font.clone().color(&RGBColor(150, 150, 150)),
                ))
                .map_err(e)?;
            continue;
        };
        let v = cell.value.clamp(lo, hi);
        draw_bar(
            &mut chart,
            [(lo, y_mid - 0.36), (v, y_mid + 0.36)],
            cell.look,
        )?;
        let mut text = value_text(cell.value, col.unit);
        if cell.unverified {
            text += " UNVERIFIED";
        }
        let (tw, th) = text_size(&text, &value_font);
        let (ex, _) = chart.backend_coord(&(v, y_mid));
        let x = (ex - bx + 5).min(pw as i32 - tw - 2).max(2);
        text_area
            .draw(&Text::new(text, (x, py - by - th / 2), value_font.clone()))
            .map_err(e)?;
    }
    Ok(centers)
}

/// One bar: filled in the adapter's colour, or a reference card's look
/// with a grey outline.
fn draw_bar<DB: DrawingBackend>(
    chart: &mut LogChart<'_, DB>,
    bar: [(f64, f64); 2],
    look: Look,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    match look {
        Look::Measured(c) => {
            chart
                .draw_series(std::iter::once(Rectangle::new(bar, c.filled())))
                .map_err(e)?;
        }
        Look::Reference(b) => {
            let (c, hollow) = ref_look(b);
            let fill = if hollow { WHITE.filled() } else { c.filled() };
            chart
                .draw_series(std::iter::once(Rectangle::new(bar, fill)))
                .map_err(e)?;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    bar,
                    RGBColor(110, 110, 110).stroke_width(1),
                )))
                .map_err(e)?;
        }
    }
    Ok(())
}

/// The rows' names at the left, at the rows' heights.
fn draw_names<DB: DrawingBackend>(
    names: &DrawingArea<DB, Shift>,
    rows: &[Row],
    centers: &[i32],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let name_font = font(13);
    let (_, ny) = names.get_base_pixel();
    for (row, py) in rows.iter().zip(centers) {
        let name = fit_text(&row.name, &name_font, NAME_W as i32 - 12);
        let (_, th) = text_size(&name, &name_font);
        names
            .draw(&Text::new(
                name,
                (4, py - ny - th / 2),
                name_font.clone().color(&row.name_color),
            ))
            .map_err(e)?;
    }
    Ok(())
}

/// The notes column at the right under `title`, at the rows' heights.
fn draw_notes<DB: DrawingBackend>(
    note_area: &DrawingArea<DB, Shift>,
    title: &str,
    rows: &[Row],
    centers: &[i32],
    note_w: i32,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let value_font = font(12);
    let (_, ty) = note_area.get_base_pixel();
    let top = centers.first().copied().unwrap_or(ty + 40) - ty - ROW_H as i32;
    note_area
        .draw(&Text::new(title.to_string(), (8, top.max(0) - 6), bold(14)))
        .map_err(e)?;
    for (row, py) in rows.iter().zip(centers) {
        let note = fit_text(&row.note, &value_font, note_w - 12);
        let (_, th) = text_size(&note, &value_font);
        note_area
            .draw(&Text::new(note, (8, py - ty - th / 2), value_font.clone()))
            .map_err(e)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::range;

    #[test]
    fn ranges_are_finite_and_leave_room_for_the_text() {
        for vs in [
            vec![],
            vec![5.0],
            vec![1e9, 5e13],
            vec![f64::MAX, 1e-300, f64::NAN],
        ] {
            let (lo, hi) = range(&vs);
            assert!(
                lo.is_finite() && hi.is_finite() && 0.0 < lo && lo < hi,
                "{vs:?}"
            );
            assert!((hi / lo).log10() < 40.0, "{vs:?}: {lo}..{hi}");
        }
    }
}
