//! How the llm kernels map rows to invocations: LANES invocations per row
//! (GPUs), or one row per SIMD lane with the activations shared by subgroup
//! broadcast (CPU adapters, where a load whose address differs between
//! lanes is done lane by lane).

use anyhow::Result;

use super::gpu::{self as g, Piece, DECODE_ROWS, PREFILL_TILE};
use crate::gpu::Gpu;

/// Names the layout every llm kernel uses instead of the adapter's own
/// choice (`lanes_per_row` or `row_per_lane`), so that tests run and
/// sabotage layouts through the binary that the adapter would not choose.
pub const LAYOUT_ENV: &str = "HASHFLOPS_LLM_LAYOUT";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `llm_decode` / `llm_prefill`: any adapter.
    LanesPerRow,
    /// `llm_decode_sg` / `llm_prefill_sg`: subgroups of exactly 8.
    RowPerLane,
}

/// Rows (and prefill tokens) per workgroup of the subgroup kernels.
const SG_ROWS: u64 = 8;
const SG_TOKENS: u64 = 16;

impl Layout {
    /// The row-per-lane kernels for a CPU adapter whose subgroups are 8
    /// lanes; the lanes-per-row kernels for every other adapter; or the
    /// layout [`LAYOUT_ENV`] names, if the adapter runs it.
    pub fn for_adapter(gpu: &Gpu) -> Result<Layout> {
        if let Some(v) = std::env::var_os(LAYOUT_ENV) {
            let v = v.to_string_lossy();
            let Some(layout) = Layout::named(&v) else {
                crate::usage_bail!(
                    "{LAYOUT_ENV}={}: the llm layouts are lanes_per_row and row_per_lane",
                    crate::cli::typed(&v)
                );
            };
            if !layout.runs_on(gpu) {
                crate::usage_bail!("{LAYOUT_ENV}={v}: this adapter cannot run that layout");
            }
            return Ok(layout);
        }
        Ok(if Layout::RowPerLane.runs_on(gpu) && gpu.desc.is_cpu() {
            Layout::RowPerLane
        } else {
            Layout::LanesPerRow
        })
    }

    /// The layout called `name` (as in `params`), if any.
    pub fn named(name: &str) -> Option<Layout> {
        [Layout::LanesPerRow, Layout::RowPerLane]
            .into_iter()
            .find(|l| l.name() == name)
    }

    /// Whether this adapter can run the layout at all.
    pub fn runs_on(self, gpu: &Gpu) -> bool {
        let d = &gpu.desc;
        match self {
            Layout::LanesPerRow => true,
            Layout::RowPerLane => {
                d.subgroups
                    && d.subgroup_min_size == SG_ROWS as u32
                    && d.subgroup_max_size == SG_ROWS as u32
            }
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Layout::LanesPerRow => "lanes_per_row",
            Layout::RowPerLane => "row_per_lane",
        }
    }

    /// (body, entry point, rows per workgroup).
    pub fn decode(self) -> (Piece, &'static str, u64) {
        match self {
            Layout::LanesPerRow => (("llm_decode", g::DECODE_WGSL), "decode", DECODE_ROWS),
            Layout::RowPerLane => (("llm_decode_sg", g::DECODE_SG_WGSL), "decode_sg", SG_ROWS),
        }
    }

    /// (body, entry point, rows and tokens per workgroup).
    pub fn prefill(self) -> (Piece, &'static str, (u64, u64)) {
        match self {
            Layout::LanesPerRow => (
                ("llm_prefill", g::PREFILL_WGSL),
                "prefill",
                (PREFILL_TILE, PREFILL_TILE),
            ),
            Layout::RowPerLane => (
                ("llm_prefill_sg", g::PREFILL_SG_WGSL),
                "prefill_sg",
                (SG_ROWS, SG_TOKENS),
            ),
        }
    }
}
