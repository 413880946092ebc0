//! What a measured host-link plateau says about the link: which PCIe
//! generations (the domain's table) and lane counts fit it, the class of
//! link, and the plain-words note for the terminal.

use std::sync::LazyLock;

use crate::domain::formats::Format;
use crate::domain::models::{Model, LLAMA2_7B};
use crate::domain::pcie::{self, GENERATIONS};
use crate::units::si;

const GB: f64 = 1e9;

/// Lane counts of the slots and risers GPUs are found on.
pub const PCIE_LANES: [u32; 4] = [1, 4, 8, 16];

/// A link sustains 70-90% of its table figure in practice; a measured
/// plateau is consistent with a link whose table figure lies between the
/// plateau and the plateau divided by this.
pub const PCIE_MIN_EFFICIENCY: f64 = 0.5;

/// How narrow a host link is, judged from its plateau in GB/s: the first
/// row whose bound the plateau is under applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkClass {
    /// Under 2 GB/s: at or below PCIe 4.0 x1, 3.0 x2, 2.0 x4, 1.0 x8; the
    /// x1 risers of mining rigs land here.
    Riser,
    /// Under 7 GB/s: an x4 slot, or x8 of an old generation (CMP cards run
    /// PCIe 1.0 x4 = 1 GB/s and land in the row above).
    Narrow,
    /// 7 GB/s and more: PCIe 3.0 x8 / 4.0 x4 or better.
    Full,
}

/// Upper bounds (exclusive, GB/s) of each class but the last.
pub const LINK_THRESHOLDS_GB: [(LinkClass, f64); 2] =
    [(LinkClass::Riser, 2.0), (LinkClass::Narrow, 7.0)];

/// The example model whose load time the notes quote, and its format.
pub static EXAMPLE_MODEL: LazyLock<(Model, Format)> = LazyLock::new(|| (*LLAMA2_7B, Format::F16));

pub fn link_class(bytes_per_s: f64) -> LinkClass {
    let gb = bytes_per_s / GB;
    LINK_THRESHOLDS_GB
        .iter()
        .find(|(_, bound)| gb < *bound)
        .map(|(c, _)| *c)
        .unwrap_or(LinkClass::Full)
}

/// Theoretical bandwidth of a PCIe link in B/s.
pub fn pcie_bytes_per_s(gen: &str, lanes: u32) -> Option<f64> {
    pcie::by_name(gen).map(|g| g.bytes_per_s(lanes))
}

/// The links from the table a measured plateau is consistent with, slowest
/// first, as "PCIe 3.0 x1" strings.
pub fn likely_links(bytes_per_s: f64) -> Vec<String> {
    let mut hits: Vec<(f64, String)> = Vec::new();
    for g in &GENERATIONS {
        for lanes in PCIE_LANES {
            let link = g.bytes_per_s(lanes);
            if bytes_per_s <= link && bytes_per_s >= link * PCIE_MIN_EFFICIENCY {
                hits.push((link, format!("PCIe {} x{lanes}", g.name)));
            }
        }
    }
    hits.sort_by(|a, b| a.0.total_cmp(&b.0));
    hits.into_iter().map(|(_, s)| s).collect()
}

/// The smallest table link at least as fast as the plateau, for "at or
/// below" wording.
fn ceiling_link(bytes_per_s: f64) -> Option<String> {
    let mut best: Option<(f64, String)> = None;
    for g in &GENERATIONS {
        for lanes in PCIE_LANES {
            let link = g.bytes_per_s(lanes);
            if link >= bytes_per_s && best.as_ref().is_none_or(|(b, _)| link < *b) {
                best = Some((link, format!("PCIe {} x{lanes}", g.name)));
            }
        }
    }
    best.map(|(_, s)| s)
}

/// The note for a host-link plateau, or `None` when the link is not a
/// bottleneck. A CPU adapter's "transfers" are copies within host memory.
pub fn link_note(bytes_per_s: f64, is_cpu: bool, adapter: &str) -> Option<String> {
    let gb = bytes_per_s / GB;
    if is_cpu {
        return Some(format!(
            "host link {gb:.1} GB/s: {adapter} is a CPU adapter, so transfers are copies within host memory (no PCIe link to judge)"
        ));
    }
    let (model, format) = *EXAMPLE_MODEL;
    let file = model.file_size(format);
    let load = format!(
        "{} {} (a {} file) takes about {:.0} s to load",
        model.name,
        format.label(),
        si(file, "B"),
        file / bytes_per_s
    );
    let consistent = likely_links(bytes_per_s);
    let links = if consistent.is_empty() {
        String::new()
    } else {
        format!(" (consistent with {})", consistent.join(", "))
    };
    let ceiling = ceiling_link(bytes_per_s)
        .map(|l| format!("at or below {l}"))
        .unwrap_or_else(|| {
            let newest = GENERATIONS[GENERATIONS.len() - 1].name;
            format!("below PCIe {newest} x16")
        });
    match link_class(bytes_per_s) {
        LinkClass::Riser => Some(format!(
            "host link {gb:.1} GB/s: looks like a PCIe x1 riser or a Gen1/Gen2 link, {ceiling}{links}; {load}"
        )),
        LinkClass::Narrow => Some(format!(
            "host link {gb:.1} GB/s: a narrow link, {ceiling}{links}; {load}"
        )),
        LinkClass::Full => None,
    }
}
