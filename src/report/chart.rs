//! `compare --svg`: a roofline per adapter and grouped bars of hash rate,
//! FLOPS and bandwidth, drawn with plotters' SVG back end.

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::prelude::*;

use super::compare::Group;
use crate::units::si;

/// 32-bit integer operations in one SHA-256d as the hash loop runs it,
/// counting a rotate as one operation (as GPUs with a funnel shift do):
/// 121 rounds of about 22 operations and 92 schedule words of about 13.
/// Used only to place the hash loop on the roofline's vertical axis.
pub const OPS_PER_SHA256D: f64 = 121.0 * 22.0 + 92.0 * 13.0;

/// FLOP per byte of DRAM traffic of an M×N×K f32 matmul that reads A and B
/// once and writes C once: its position on the roofline's horizontal axis.
pub fn matmul_intensity(m: f64, n: f64, k: f64) -> f64 {
    2.0 * m * n * k / (4.0 * (m * k + k * n + m * n))
}

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

fn e<E: std::fmt::Debug>(err: E) -> anyhow::Error {
    anyhow!("drawing the chart: {err:?}")
}

pub fn draw(groups: &[Group], path: &Path) -> Result<()> {
    let root = SVGBackend::new(path, (1100, 1000)).into_drawing_area();
    root.fill(&WHITE).map_err(e)?;
    let (top, bottom) = root.split_vertically(560);
    roofline(groups, &top)?;
    bars(groups, &bottom)?;
    root.present().map_err(e)?;
    Ok(())
}

fn roofline<DB: DrawingBackend>(
    groups: &[Group],
    area: &DrawingArea<DB, plotters::coord::Shift>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (x0, x1) = (0.01f64, 10_000f64);
    let mut ys: Vec<f64> = Vec::new();
    for g in groups {
        let m = &g.metrics;
        ys.extend(m.fp32_fma.map(|v| v.value));
        ys.extend(m.sgemm.map(|v| v.value));
        ys.extend(m.hash_rate.map(|v| v.value * OPS_PER_SHA256D));
        ys.extend(m.bandwidth().map(|b| b.value * x0));
    }
    let ymax = ys.iter().cloned().fold(1e9, f64::max) * 3.0;
    let ymin = ys.iter().cloned().fold(ymax, f64::min).max(1.0) / 3.0;
    let mut chart = ChartBuilder::on(area)
        .caption(
            "Roofline: f32 FMA peak and memory bandwidth (measured), workloads placed on it",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(80)
        .build_cartesian_2d((x0..x1).log_scale(), (ymin..ymax).log_scale())
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("arithmetic intensity (operations per byte of memory traffic)")
        .y_desc("operations per second")
        .y_label_formatter(&|v| si(*v, "OP/s"))
        .x_label_formatter(&|v| format!("{v}"))
        .draw()
        .map_err(e)?;
    let mut roofs = 0;
    for (i, g) in groups.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let m = &g.metrics;
        if let (Some(peak), Some(bw)) = (m.fp32_fma, m.bandwidth()) {
            roofs += 1;
            let ridge = peak.value / bw.value;
            let pts: Vec<(f64, f64)> = [x0, ridge.clamp(x0, x1), x1]
                .iter()
                .map(|&x| (x, (bw.value * x).min(peak.value)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                .map_err(e)?
                .label(format!("{} roof", g.label))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        if let Some(mm) = m.sgemm {
            let ai = g
                .matmul_mnk
                .map(|(m, n, k)| matmul_intensity(m, n, k))
                .unwrap_or_else(|| matmul_intensity(4096.0, 4096.0, 4096.0));
            chart
                .draw_series(std::iter::once(Circle::new(
                    (ai.clamp(x0, x1), mm.value),
                    6,
                    color.filled(),
                )))
                .map_err(e)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("f32 matmul {}", si(mm.value, "FLOP/s")),
                    (ai.clamp(x0, x1) * 1.2, mm.value * 1.3),
                    ("sans-serif", 13).into_font().color(&color),
                )))
                .map_err(e)?;
        }
        if let Some(h) = m.hash_rate {
            // The hash loop touches no memory per hash: it sits at the right edge.
            let y = h.value * OPS_PER_SHA256D;
            chart
                .draw_series(std::iter::once(TriangleMarker::new(
                    (x1 / 1.5, y),
                    7,
                    color.filled(),
                )))
                .map_err(e)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("SHA-256d {} (int ops)", si(h.value, "H/s")),
                    (x1 / 60.0, y / 1.6),
                    ("sans-serif", 13).into_font().color(&color),
                )))
                .map_err(e)?;
        }
    }
    if roofs == 0 {
        return Ok(());
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    Ok(())
}

fn bars<DB: DrawingBackend>(
    groups: &[Group],
    area: &DrawingArea<DB, plotters::coord::Shift>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    type Get = fn(&Group) -> Option<f64>;
    let metrics: [(&str, &str, Get); 3] = [
        ("SHA-256d hash rate", "H/s", |g| {
            g.metrics.hash_rate.map(|v| v.value)
        }),
        ("f32 matmul", "FLOP/s", |g| g.metrics.sgemm.map(|v| v.value)),
        ("memory bandwidth", "B/s", |g| {
            g.metrics.bandwidth().map(|v| v.value)
        }),
    ];
    let n = groups.len().max(1) as f64;
    // Room above the bars for the metric names and the legend.
    let mut chart = ChartBuilder::on(area)
        .caption("Hash rate vs FLOPS vs bandwidth (bar height: % of the best adapter; label: measured value)", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..3.0, 0f64..135.0)
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("% of best")
        .draw()
        .map_err(e)?;
    for (mi, (name, unit, get)) in metrics.iter().enumerate() {
        chart
            .draw_series(std::iter::once(Text::new(
                name.to_string(),
                (mi as f64 + 0.1, 112.0),
                ("sans-serif", 16).into_font().color(&BLACK),
            )))
            .map_err(e)?;
        let best = groups.iter().filter_map(get).fold(0.0, f64::max);
        if best <= 0.0 {
            continue;
        }
        for (gi, g) in groups.iter().enumerate() {
            let Some(v) = get(g) else { continue };
            let color = COLORS[gi % COLORS.len()];
            let w = 0.8 / n;
            let x = mi as f64 + 0.1 + gi as f64 * w;
            let h = 100.0 * v / best;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x, 0.0), (x + w * 0.9, h)],
                    color.filled(),
                )))
                .map_err(e)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    si(v, unit),
                    (x, h + 4.0),
                    ("sans-serif", 13).into_font().color(&BLACK),
                )))
                .map_err(e)?;
        }
    }
    for (gi, g) in groups.iter().enumerate() {
        let color = COLORS[gi % COLORS.len()];
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, 0.0), (0.0, 0.0)],
                color.filled(),
            )))
            .map_err(e)?
            .label(g.label.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    Ok(())
}
