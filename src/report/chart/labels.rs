//! Text on the chart: the embedded font, labels placed beside their
//! markers without covering each other, and the legend of marks.

use std::sync::Once;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, RGBColor};

use super::e;

/// The one family the chart names; registered from the embedded font.
pub const FAMILY: &str = "sans-serif";

/// Registers DejaVu Sans (compiled in) as the chart's font, so a machine
/// with no fonts installed draws the same chart.
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font shipped by the crate; were
        // they not, every text would fail to draw and say so.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FAMILY, FontStyle::Bold, dejavu::sans::bold());
    });
}

pub fn font(size: u32) -> FontDesc<'static> {
    (FAMILY, size).into_font()
}

pub fn bold(size: u32) -> FontDesc<'static> {
    (FAMILY, size).into_font().style(FontStyle::Bold)
}

/// Width and height of `text` in pixels.
pub fn text_size(text: &str, f: &FontDesc<'_>) -> (i32, i32) {
    f.box_size(text)
        .map(|(w, h)| (w as i32, h as i32))
        .unwrap_or((text.chars().count() as i32 * 8, 16))
}

/// `text` cut to at most `width` pixels, ending in an ellipsis if cut.
pub fn fit_text(text: &str, f: &FontDesc<'_>, width: i32) -> String {
    if text_size(text, f).0 <= width {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let s: String = chars.iter().collect::<String>() + "…";
        if text_size(&s, f).0 <= width {
            return s;
        }
    }
    String::new()
}

type Rect = (i32, i32, i32, i32);

fn overlaps(a: Rect, b: Rect) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// Finds room for labels in one drawing area: each label goes beside its
/// anchor, moved up or down a line at a time past the labels and marks
/// already placed.
pub struct Placer {
    taken: Vec<Rect>,
    size: (i32, i32),
}

impl Placer {
    pub fn new(size: (u32, u32)) -> Placer {
        Placer {
            taken: Vec::new(),
            size: (size.0 as i32, size.1 as i32),
        }
    }

    /// Marks a square of half-size `r` around `at` as taken (a marker).
    pub fn reserve(&mut self, at: (i32, i32), r: i32) {
        self.taken.push((at.0 - r, at.1 - r, at.0 + r, at.1 + r));
    }

    /// The top-left corner for a `w`×`h` label beside `at`: to its right
    /// (or left when `left`), the nearest free line up or down; when no
    /// spot is free, the first one tried.
    pub fn place(&mut self, at: (i32, i32), (w, h): (i32, i32), left: bool) -> (i32, i32) {
        let gap = 9;
        let sides = if left { [true, false] } else { [false, true] };
        let mut first = None;
        for step in 0..12 {
            let dy = if step % 2 == 0 {
                step / 2
            } else {
                -(step + 1) / 2
            } * (h + 2);
            for &l in &sides {
                let x = if l { at.0 - gap - w } else { at.0 + gap };
                let x = x.clamp(0, (self.size.0 - w).max(0));
                let y = (at.1 - h / 2 + dy).clamp(0, (self.size.1 - h).max(0));
                let r = (x, y, x + w, y + h);
                first.get_or_insert(r);
                if !self.taken.iter().any(|t| overlaps(*t, r)) {
                    self.taken.push(r);
                    return (x, y);
                }
            }
        }
        let r = first.unwrap_or((0, 0, w, h));
        self.taken.push(r);
        (r.0, r.1)
    }
}

/// One entry of the legend.
pub enum Mark {
    /// A measured series: a filled swatch in its colour.
    Swatch(RGBColor),
    /// A reference basis: its bar style.
    RefBar(RGBColor, bool),
    Circle,
    Triangle,
    Line,
    Dashed,
}

const LEGEND_LINE: i32 = 22;

/// Where each legend entry goes in an area `width` pixels wide: left to
/// right, wrapping; the texts cut to fit. Returns the entries' top-left
/// corners, texts and the height used.
fn legend_layout(items: &[(Mark, String)], width: i32) -> (Vec<(i32, i32, String)>, i32) {
    let f = font(14);
    let (mut x, mut y) = (12, 0);
    let mut out = Vec::new();
    for (_, text) in items {
        let text = fit_text(text, &f, width - 60);
        let w = 26 + text_size(&text, &f).0 + 22;
        if x > 12 && x + w > width {
            x = 12;
            y += LEGEND_LINE;
        }
        out.push((x, y, text));
        x += w;
    }
    let h = if items.is_empty() { 0 } else { y + LEGEND_LINE };
    (out, h)
}

/// The height the legend of `items` takes in an area `width` wide.
pub fn legend_height(items: &[(Mark, String)], width: u32) -> i32 {
    legend_layout(items, width as i32).1
}

/// Draws `items` left to right, wrapping to new lines, from `top` in `area`.
pub fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[(Mark, String)],
    top: i32,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let f = font(14);
    let (spots, _) = legend_layout(items, area.dim_in_pixel().0 as i32);
    let dark = RGBColor(60, 60, 60);
    for ((mark, _), (x, y, text)) in items.iter().zip(spots) {
        let y = y + top;
        let c = (x + 9, y + LEGEND_LINE / 2 - 2);
        let square = [(c.0 - 8, c.1 - 6), (c.0 + 8, c.1 + 6)];
        match mark {
            Mark::Swatch(col) => area
                .draw(&Rectangle::new(square, col.filled()))
                .map_err(e)?,
            Mark::RefBar(col, hollow) => {
                let fill = if *hollow {
                    WHITE.filled()
                } else {
                    col.filled()
                };
                area.draw(&Rectangle::new(square, fill)).map_err(e)?;
                area.draw(&Rectangle::new(square, dark.stroke_width(1)))
                    .map_err(e)?;
            }
            Mark::Circle => area.draw(&Circle::new(c, 6, dark.filled())).map_err(e)?,
            Mark::Triangle => area
                .draw(&TriangleMarker::new(c, 7, dark.filled()))
                .map_err(e)?,
            Mark::Line => area
                .draw(&PathElement::new(
                    vec![(c.0 - 10, c.1), (c.0 + 10, c.1)],
                    dark.stroke_width(2),
                ))
                .map_err(e)?,
            Mark::Dashed => {
                for s in [-10, -3, 4] {
                    area.draw(&PathElement::new(
                        vec![(c.0 + s, c.1), (c.0 + s + 5, c.1)],
                        dark.stroke_width(2),
                    ))
                    .map_err(e)?;
                }
            }
        }
        area.draw(&Text::new(text, (x + 24, y + 3), f.clone()))
            .map_err(e)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_do_not_cover_each_other() {
        let mut p = Placer::new((400, 300));
        let a = p.place((100, 100), (80, 16), false);
        let b = p.place((100, 100), (80, 16), false);
        let c = p.place((100, 104), (80, 16), false);
        let rects: Vec<Rect> = [a, b, c]
            .iter()
            .map(|&(x, y)| (x, y, x + 80, y + 16))
            .collect();
        for i in 0..3 {
            for j in i + 1..3 {
                assert!(!overlaps(rects[i], rects[j]), "{rects:?}");
            }
        }
        // A label near the edge stays inside.
        let (x, y) = p.place((395, 295), (80, 16), false);
        assert!(x + 80 <= 400 && y + 16 <= 300, "{x},{y}");
    }
}
