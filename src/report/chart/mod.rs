//! `compare --svg/--png`: the chart, top to bottom: a legend of every
//! series and mark, a roofline (float and integer roofs, the workloads on
//! them), log-scale bars of the key figures (with `--reference`, the
//! published cards beside them) and the AI panel (decode and prefill
//! tokens/s per model and format, VRAM fit). One layout, drawn by plotters
//! on an SVG or a bitmap back end, its text in a font compiled in.

mod ai;
mod bars;
pub mod data;
mod labels;
mod roofline;

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::compare::Group;
use super::ResultRow;
use crate::reference_cards::Basis;
use labels::Mark;

/// 32-bit integer operations in one SHA-256d as the hash loop runs it,
/// counting a rotate as one operation (as GPUs with a funnel shift do):
/// 121 rounds of about 22 operations and 92 schedule words of about 13.
/// Used only to place the hash loop on the roofline's vertical axis.
pub const OPS_PER_SHA256D: f64 = 121.0 * 22.0 + 92.0 * 13.0;

/// 32-bit integer operations in one Ethash hash as the kernel runs it:
/// two Keccak-f[1600] permutations on pairs of u32 (24 rounds of about
/// 400 operations each) and 64 accesses of a 32-word FNV mix (2
/// operations a word) plus the index. Used only to place the Ethash point
/// on the roofline: its height over the memory roof is its random reads
/// (64 × 128 B a hash) over the bandwidth, whatever this count.
pub const OPS_PER_ETHASH: f64 = 2.0 * 24.0 * 400.0 + 64.0 * (32.0 * 2.0 + 4.0);

/// FLOP per byte of DRAM traffic of an M×N×K f32 matmul that reads A and B
/// once and writes C once: its position on the roofline's horizontal axis.
pub fn matmul_intensity(m: f64, n: f64, k: f64) -> f64 {
    2.0 * m * n * k / (4.0 * (m * k + k * n + m * n))
}

/// Most measured series one chart draws: past this it is unreadable. The
/// rest are named as left out in the title.
pub const MAX_SERIES: usize = 16;

const WIDTH: u32 = 1400;
const TITLE_H: u32 = 40;
const ROOFLINE_H: u32 = 600;

fn e<E: std::fmt::Debug>(err: E) -> anyhow::Error {
    anyhow!("drawing the chart: {err:?}")
}

/// How a reference figure's bar looks, by its basis.
fn ref_look(b: Basis) -> (RGBColor, bool) {
    match b {
        Basis::VendorSpec => (RGBColor(150, 150, 150), false),
        Basis::CommunityMeasurement => (RGBColor(205, 205, 205), false),
        Basis::Estimate => (RGBColor(150, 150, 150), true),
    }
}

/// The chart of one comparison, ready to draw on either back end.
pub struct Chart {
    series: Vec<data::Series>,
    refs: Vec<data::RefCard>,
    left_out: usize,
}

impl Chart {
    /// `rows` are every row the groups were made from; `reference` adds the
    /// built-in cards.
    pub fn new(groups: &[Group], rows: &[ResultRow], reference: bool) -> Chart {
        labels::register_font();
        let cards = data::all_cards();
        let shown = &groups[..groups.len().min(MAX_SERIES)];
        Chart {
            series: data::series(shown, rows, &cards),
            refs: if reference {
                data::reference_cards(&cards)
            } else {
                Vec::new()
            },
            left_out: groups.len() - shown.len(),
        }
    }

    fn legend_items(&self) -> Vec<(Mark, String)> {
        let mut items: Vec<(Mark, String)> = self
            .series
            .iter()
            .map(|s| (Mark::Swatch(s.color), format!("{}: {}", s.index, s.label)))
            .collect();
        items.extend([
            (
                Mark::Line,
                "f32 FMA roof (peak, then bandwidth)".to_string(),
            ),
            (
                Mark::Dashed,
                "integer roof (sha256_round or i32_mad peak)".to_string(),
            ),
            (Mark::Circle, "f32 matmul".to_string()),
            (
                Mark::Triangle,
                "SHA-256d hash loop (hash rate × integer ops per hash)".to_string(),
            ),
        ]);
        if !self.refs.is_empty() {
            for b in [
                Basis::VendorSpec,
                Basis::CommunityMeasurement,
                Basis::Estimate,
            ] {
                let (c, hollow) = ref_look(b);
                items.push((
                    Mark::RefBar(c, hollow),
                    format!("reference: {}", b.as_str()),
                ));
            }
        }
        items
    }

    /// Heights of the title with legend, roofline, bars and AI panel.
    fn heights(&self) -> [u32; 4] {
        let legend = labels::legend_height(&self.legend_items(), WIDTH) as u32;
        [
            TITLE_H + legend + 8,
            ROOFLINE_H,
            bars::height(&self.series, &self.refs),
            ai::height(&self.series, &self.refs),
        ]
    }

    pub fn size(&self) -> (u32, u32) {
        (WIDTH, self.heights().iter().sum())
    }

    pub fn svg(&self) -> Result<String> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, self.size()).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(e)?;
        }
        Ok(svg)
    }

    /// The chart as PNG bytes (8-bit RGB).
    pub fn png(&self) -> Result<Vec<u8>> {
        let (w, h) = self.size();
        let mut rgb = vec![255u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(e)?;
        }
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Best);
        enc.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
        let mut writer = enc.write_header().map_err(e)?;
        writer.write_image_data(&rgb).map_err(e)?;
        writer.finish().map_err(e)?;
        Ok(out)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(e)?;
        let [head, roof, bars_h, _] = self.heights();
        let (top, rest) = root.split_vertically(head);
        let mut title = format!(
            "hashflops compare: {} measured adapter run{}",
            self.series.len(),
            if self.series.len() == 1 { "" } else { "s" }
        );
        if self.left_out > 0 {
            title += &format!(" (the first {MAX_SERIES}; {} more left out)", self.left_out);
        }
        if !self.refs.is_empty() {
            title += &format!(", {} published reference cards", self.refs.len());
        }
        title += "; verified figures only";
        top.draw(&Text::new(title, (12, 10), labels::bold(20)))
            .map_err(e)?;
        labels::legend(&top, &self.legend_items(), TITLE_H as i32)?;
        let (roof_area, rest) = rest.split_vertically(roof);
        roofline::draw(&self.series, &roof_area)?;
        let (bar_area, ai_area) = rest.split_vertically(bars_h);
        bars::draw_key_figures(&self.series, &self.refs, &bar_area)?;
        ai::draw(&self.series, &self.refs, &ai_area)?;
        Ok(())
    }
}

/// Most decades a log axis spans: plotters places a tick per decade, so
/// the span, not the values, bounds the drawing work.
const MAX_DECADES: f64 = 15.0;

/// A log axis' range, from the finite positive values only, as finite
/// numbers at most [`MAX_DECADES`] apart (lower values sit on the floor).
/// An infinite bound would make plotters place ticks forever.
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
