//! `compare --svg`: a roofline per adapter and grouped bars of hash rate,
//! FLOPS and bandwidth, drawn with plotters' SVG back end.

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

/// The chart as SVG text; the caller puts it where it belongs.
pub fn draw(groups: &[Group]) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1100, 1000)).into_drawing_area();
        root.fill(&WHITE).map_err(e)?;
        let (top, bottom) = root.split_vertically(560);
        roofline(groups, &top)?;
        bars(groups, &bottom)?;
        root.present().map_err(e)?;
    }
    Ok(svg)
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
    let (ymin, ymax) = y_range(&ys);
    // Everything drawn is kept inside the axes, whatever the files said.
    let fit = |y: f64| {
        if y.is_nan() {
            ymin
        } else {
            y.clamp(ymin, ymax)
        }
    };
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
                .map(|&x| (x, fit((bw.value * x).min(peak.value))))
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
                    (ai.clamp(x0, x1), fit(mm.value)),
                    6,
                    color.filled(),
                )))
                .map_err(e)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("f32 matmul {}", si(mm.value, "FLOP/s")),
                    (ai.clamp(x0, x1) * 1.2, fit(mm.value * 1.3)),
                    ("sans-serif", 13).into_font().color(&color),
                )))
                .map_err(e)?;
        }
        if let Some(h) = m.hash_rate {
            // The hash loop touches no memory per hash: it sits at the right edge.
            let y = fit(h.value * OPS_PER_SHA256D);
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
                    (x1 / 60.0, fit(y / 1.6)),
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

/// Most decades the roofline's vertical axis spans: plotters places a tick
/// per decade, so the span, not the values, bounds the drawing work.
const MAX_DECADES: f64 = 15.0;

/// The roofline's vertical range, from the finite positive values only, as
/// finite numbers at most [`MAX_DECADES`] apart (lower values sit on the
/// floor). An infinite bound would make plotters place ticks forever.
fn y_range(ys: &[f64]) -> (f64, f64) {
    let ok: Vec<f64> = ys
        .iter()
        .copied()
        .filter(|y| y.is_finite() && *y > 0.0)
        .collect();
    let hi = ok.iter().copied().fold(1e9, f64::max);
    let ymax = (hi * 3.0).min(f64::MAX / 10.0);
    let lo = ok.iter().copied().fold(ymax, f64::min).max(1.0) / 3.0;
    let ymin = lo.max(ymax / 10f64.powf(MAX_DECADES));
    (ymin, ymax)
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
        let best = groups
            .iter()
            .filter_map(get)
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        if best <= 0.0 {
            continue;
        }
        for (gi, g) in groups.iter().enumerate() {
            let Some(v) = get(g).filter(|v| v.is_finite() && *v >= 0.0) else {
                continue;
            };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn y_range_is_finite_and_bounded_in_decades() {
        for ys in [
            vec![],
            vec![0.0],
            vec![f64::INFINITY, f64::NAN, -1.0],
            vec![1e308 * OPS_PER_SHA256D, 1e-300],
            vec![f64::MAX, 1.0],
        ] {
            let (lo, hi) = y_range(&ys);
            assert!(
                lo.is_finite() && hi.is_finite() && lo > 0.0 && lo < hi,
                "{ys:?}"
            );
            assert!((hi / lo).log10() <= MAX_DECADES + 1.0, "{ys:?}: {lo}..{hi}");
        }
    }
}
