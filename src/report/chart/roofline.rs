//! The roofline: per adapter, the f32 FMA roof and the integer roof over
//! the measured bandwidth slope, with the f32 matmul placed against the
//! first, the hash loop against the second and Ethash, whose 64 random
//! 128-byte reads a hash bound it, against the slope. Log on both axes, so a CPU
//! adapter and a large GPU read on one chart.

use anyhow::Result;
use plotters::coord::combinators::LogCoord;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::Series;
use super::labels::{font, Placer};
use super::{e, y_range, OPS_PER_ETHASH, OPS_PER_SHA256D};
use crate::catalogue::Stream;
use crate::reference_cards::ETHASH_BYTES_PER_HASH;
use crate::report::summary::Val;
use crate::units::si;

/// The horizontal axis: operations per byte of memory traffic.
const X0: f64 = 0.01;
const X1: f64 = 10_000.0;
/// Where the hash loop sits: it touches no memory per hash, so at the
/// right, short of the edge so its marker shows whole.
const HASH_X: f64 = X1 / 2.0;
/// Ethash's operations per byte it reads.
const ETHASH_X: f64 = OPS_PER_ETHASH / ETHASH_BYTES_PER_HASH;

/// A label to place once every line and marker is drawn.
struct Label {
    at: (f64, f64),
    text: String,
    color: RGBColor,
    left: bool,
    /// Pixels above the anchor: a roof's label sits over its line.
    lift: i32,
}

/// Points of a roof `min(bw × x, peak)` across the axis, kept under `top`;
/// without a bandwidth the roof is flat, without a peak only the slope.
fn roof(bw: Option<f64>, peak: Option<f64>, top: f64) -> Vec<(f64, f64)> {
    match (bw, peak) {
        (Some(b), Some(p)) => {
            let ridge = (p / b).clamp(X0, X1);
            vec![(X0, (b * X0).min(p)), (ridge, (b * ridge).min(p)), (X1, p)]
        }
        (Some(b), None) => vec![(X0, b * X0), ((top / b).clamp(X0, X1), (b * X1).min(top))],
        (None, Some(p)) => vec![(X0, p), (X1, p)],
        (None, None) => vec![],
    }
}

/// Both axes log: operations per byte across, operations per second up.
type LogLog<'a, DB> = ChartContext<'a, DB, Cartesian2d<LogCoord<f64>, LogCoord<f64>>>;

/// What is drawn so far: labels to place last, and the markers they must
/// not cover; `ymin..ymax` is the vertical axis.
struct Drawn {
    ymin: f64,
    ymax: f64,
    labels: Vec<Label>,
    markers: Vec<(f64, f64)>,
}

impl Drawn {
    /// Everything drawn is kept inside the axes, whatever the files said.
    fn fit(&self, y: f64) -> f64 {
        if y.is_nan() {
            self.ymin
        } else {
            y.clamp(self.ymin, self.ymax)
        }
    }
}

pub fn draw<DB: DrawingBackend>(series: &[Series], area: &DrawingArea<DB, Shift>) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let mut ys: Vec<f64> = Vec::new();
    for s in series {
        let m = &s.metrics;
        ys.extend(m.fp32_fma.map(|v| v.value));
        ys.extend(m.sgemm.map(|v| v.value));
        ys.extend(s.int_peak.map(|(v, _)| v));
        ys.extend(m.hash_rate.map(|v| v.value * OPS_PER_SHA256D));
        ys.extend(bandwidth(s).map(|(b, _)| b * X0 * 10.0));
        ys.extend(ethash(s).map(|(v, _)| v.value * OPS_PER_ETHASH));
    }
    let (ymin, ymax) = y_range(&ys);
    let mut chart = ChartBuilder::on(area)
        .caption(
            "Roofline (measured, log-log): f32 matmul against the f32 FMA roof, SHA-256d against the integer roof, Ethash against the memory slope",
            font(17),
        )
        .margin(12)
        .margin_right(24)
        .x_label_area_size(48)
        .y_label_area_size(100)
        .build_cartesian_2d((X0..X1).log_scale(), (ymin..ymax).log_scale())
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("arithmetic intensity (operations per byte of memory traffic)")
        .y_desc("operations per second")
        .axis_desc_style(font(15))
        .label_style(font(13))
        .y_label_formatter(&|v| si(*v, "OP/s"))
        .x_label_formatter(&|v| format!("{v}"))
        .light_line_style(RGBColor(238, 238, 238))
        .draw()
        .map_err(e)?;
    let mut drawn = Drawn {
        ymin,
        ymax,
        labels: Vec::new(),
        markers: Vec::new(),
    };
    for s in series {
        draw_roofs(&mut chart, s, &mut drawn)?;
        draw_markers(&mut chart, s, &mut drawn)?;
        draw_ethash(&mut chart, s, &mut drawn)?;
    }
    place_labels(&chart, drawn)
}

/// A series' float roof (solid) and integer roof (dashed), with labels for
/// the peaks and the bandwidth slope.
fn draw_roofs<DB: DrawingBackend>(
    chart: &mut LogLog<'_, DB>,
    s: &Series,
    d: &mut Drawn,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let m = &s.metrics;
    let c = s.color;
    let bw = bandwidth(s);
    let fp = m.fp32_fma.map(|v| v.value);
    let float_roof: Vec<(f64, f64)> = roof(bw.map(|b| b.0), fp, d.ymax)
        .into_iter()
        .map(|(x, y)| (x, d.fit(y)))
        .collect();
    if !float_roof.is_empty() {
        chart
            .draw_series(LineSeries::new(float_roof, c.stroke_width(2)))
            .map_err(e)?;
    }
    if let Some(p) = fp {
        d.labels.push(Label {
            at: (X1 / 1.2, d.fit(p)),
            text: format!("{}: f32 FMA {}", s.index, si(p, "FLOP/s")),
            color: c,
            left: true,
            lift: 11,
        });
    }
    if let Some((b, kernel)) = bw {
        d.labels.push(Label {
            at: (X0 * 1.5, d.fit(b * X0 * 1.5)),
            text: format!("{}: {kernel} {}", s.index, si(b, "B/s")),
            color: c,
            left: false,
            lift: 11,
        });
    }
    if let Some((p, kernel)) = s.int_peak {
        let pts: Vec<(f64, f64)> = roof(bw.map(|b| b.0), Some(p), d.ymax)
            .into_iter()
            .map(|(x, y)| (x, d.fit(y)))
            .collect();
        chart
            .draw_series(DashedLineSeries::new(pts, 8, 5, c.stroke_width(2)))
            .map_err(e)?;
        d.labels.push(Label {
            at: (X1 / 1.2, d.fit(p)),
            text: format!("{}: integer ({kernel}) {}", s.index, si(p, "OP/s")),
            color: c,
            left: true,
            lift: -11,
        });
    }
    Ok(())
}

/// A series' f32 matmul (a circle) and hash loop (a triangle), labelled.
fn draw_markers<DB: DrawingBackend>(
    chart: &mut LogLog<'_, DB>,
    s: &Series,
    d: &mut Drawn,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let m = &s.metrics;
    let c = s.color;
    if let Some(mm) = m.sgemm {
        let at = (s.matmul_intensity.clamp(X0, X1), d.fit(mm.value));
        chart
            .draw_series(std::iter::once(Circle::new(at, 6, c.filled())))
            .map_err(e)?;
        d.markers.push(at);
        d.labels.push(Label {
            at,
            text: format!("{}: f32 matmul {}", s.index, si(mm.value, "FLOP/s")),
            color: c,
            left: false,
            lift: 0,
        });
    }
    if let Some(h) = m.hash_rate {
        let at = (HASH_X, d.fit(h.value * OPS_PER_SHA256D));
        chart
            .draw_series(std::iter::once(TriangleMarker::new(at, 8, c.filled())))
            .map_err(e)?;
        d.markers.push(at);
        d.labels.push(Label {
            at,
            text: match Some(h.value * OPS_PER_SHA256D).filter(|v| v.is_finite()) {
                Some(ops) => format!(
                    "{}: SHA-256d {} = {}",
                    s.index,
                    si(h.value, "H/s"),
                    si(ops, "OP/s")
                ),
                None => format!("{}: SHA-256d {}", s.index, si(h.value, "H/s")),
            },
            color: c,
            left: true,
            lift: 0,
        });
    }
    Ok(())
}

/// The Ethash figure: the whole dataset's, else a cut one's (marked).
fn ethash(s: &Series) -> Option<(Val, bool)> {
    let m = &s.metrics;
    m.ethash
        .map(|v| (v, false))
        .or(m.ethash_cut.map(|v| (v, true)))
        .filter(|(v, _)| v.value.is_finite() && v.value > 0.0)
}

/// A series' Ethash (a cross, on or under the memory slope): its random
/// reads set against the roof's bandwidth.
fn draw_ethash<DB: DrawingBackend>(
    chart: &mut LogLog<'_, DB>,
    s: &Series,
    d: &mut Drawn,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let Some((h, cut)) = ethash(s) else {
        return Ok(());
    };
    let at = (ETHASH_X, d.fit(h.value * OPS_PER_ETHASH));
    chart
        .draw_series(std::iter::once(Cross::new(at, 7, s.color.stroke_width(3))))
        .map_err(e)?;
    d.markers.push(at);
    let reads = h.value * ETHASH_BYTES_PER_HASH;
    let epoch = s
        .ethash_epoch
        .map_or(String::new(), |e| format!(" (epoch {e})"));
    let cut = if cut { ", cut dataset" } else { "" };
    let share = bandwidth(s)
        .map(|(b, kernel)| format!(", {:.2}x {kernel}", reads / b))
        .unwrap_or_default();
    d.labels.push(Label {
        at,
        text: format!(
            "{}: Ethash {}{epoch}{cut} = {} random reads{share}",
            s.index,
            si(h.value, "H/s"),
            si(reads, "B/s")
        ),
        color: s.color,
        left: false,
        lift: 0,
    });
    Ok(())
}

/// Labels in pixels of the plotting area, beside their anchors, placed
/// after every marker so that none is covered.
fn place_labels<DB: DrawingBackend>(chart: &LogLog<'_, DB>, d: Drawn) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let plot = chart.plotting_area();
    let (bx, by) = plot.get_base_pixel();
    let px = |p: (f64, f64)| {
        let (x, y) = chart.backend_coord(&p);
        (x - bx, y - by)
    };
    let text_area = plot.strip_coord_spec();
    let mut placer = Placer::new(text_area.dim_in_pixel());
    for &m in &d.markers {
        placer.reserve(px(m), 8);
    }
    let f = font(13);
    for l in d.labels {
        let size = super::labels::text_size(&l.text, &f);
        let (ax, ay) = px(l.at);
        let (x, y) = placer.place((ax, ay - l.lift), size, l.left);
        text_area
            .draw(&Rectangle::new(
                [(x - 1, y - 1), (x + size.0 + 1, y + size.1 + 1)],
                WHITE.mix(0.8).filled(),
            ))
            .map_err(e)?;
        text_area
            .draw(&Text::new(
                l.text,
                (x, y),
                f.clone().color(&darker(l.color)),
            ))
            .map_err(e)?;
    }
    Ok(())
}

/// The roof's memory slope: stream triad, else copy, named by kernel so a
/// label never passes one off as the other.
fn bandwidth(s: &Series) -> Option<(f64, &'static str)> {
    let m = &s.metrics;
    m.stream_triad
        .map(|v| (v.value, Stream::Triad.name()))
        .or(m.stream_copy.map(|v| (v.value, Stream::Copy.name())))
        .filter(|(v, _)| v.is_finite() && *v > 0.0)
}

/// Text in a series' colour, darkened to read on white.
pub fn darker(c: RGBColor) -> RGBColor {
    RGBColor(
        (c.0 as f64 * 0.75) as u8,
        (c.1 as f64 * 0.75) as u8,
        (c.2 as f64 * 0.75) as u8,
    )
}
