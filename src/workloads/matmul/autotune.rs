//! Picks the tile shape to measure: each candidate must first get a small
//! awkward problem right, then the fastest at the real N and K wins.
//! A candidate that answers wrongly is a finding, not a detail: it is
//! reported as a wrong answer (stderr, JSON, exit 1), never dropped quietly.

use anyhow::Result;

use super::kernel::{Matmul, Operands};
use super::shaders::Kernels;
use super::tiles::{Layout, TileConfig};
use super::verify::{verify, Coverage};
use crate::workloads::Ctx;

/// What autotuning found.
#[derive(Debug)]
pub struct Tuned {
    /// The shape to measure: the fastest correct one, or, when none was
    /// correct, the first that ran, so that its row shows the failure.
    pub config: TileConfig,
    /// `shape=rate`, `shape=wrong` or `shape=failed`, one per shape tried.
    pub notes: Vec<String>,
    /// One line per shape that disagreed with the CPU reference.
    pub wrong: Vec<String>,
}

/// Names the one matmul variant (as `describe()` prints it, e.g. in the
/// row's params) that autotuning may choose.
pub const FORCE_VARIANT: &str = "HASHFLOPS_MATMUL_VARIANT";

/// Tries every candidate shape that can take the problem `ops` on this
/// adapter. The probe has the real problem's divisibility (so the same
/// entry point) and sizes that are multiples of no tile.
pub fn autotune(ctx: &Ctx, kernels: &Kernels, ops: &Operands) -> Result<Tuned> {
    let gpu = ctx.gpu;
    let kernel = ops.precision.kernel();
    let sm = 67;
    let sn = if ops.n.is_multiple_of(4) { 132 } else { 131 };
    let sk = if ops.k.is_multiple_of(4) { 44 } else { 45 };
    let (small, sa, sb) = Operands::random(gpu, ops.precision, (sm, sn, sk), (11, 12), 1)?;
    let tune_rows = tune_rows(ctx, ops);
    let candidates = candidates(ctx, ops)?;
    let mut best: Option<(f64, TileConfig)> = None;
    let mut fallback = None;
    let mut notes = Vec::new();
    let mut wrong = Vec::new();
    for (i, cfg) in candidates.iter().enumerate() {
        ctx.status(&format!(
            "matmul {kernel}: autotuning {}/{} ({})",
            i + 1,
            candidates.len(),
            cfg.describe()
        ));
        let attempt = (|| -> Result<Option<f64>> {
            let c = Matmul::new(gpu, kernels, *cfg, &small)?.compute()?;
            let v = verify(sm, sn, sk, &sa[0], &sb, &c, Coverage::Full, 1);
            if !v.ok() {
                wrong.push(format!(
                    "{kernel} autotune variant {}: {} of {} elements wrong on a {sm}x{sn}x{sk} probe; first: {}",
                    cfg.describe(),
                    v.failed,
                    v.checked,
                    v.problems.first().map_or("none recorded", String::as_str)
                ));
                return Ok(None);
            }
            Ok(Some(
                Matmul::first_rows(gpu, kernels, *cfg, ops, tune_rows)?.quick_time()?,
            ))
        })();
        match attempt {
            Ok(Some(t)) => {
                let flop = 2.0 * tune_rows as f64 * ops.n as f64 * ops.k as f64;
                notes.push(format!("{}={:.1}GFLOP/s", cfg.describe(), flop / t / 1e9));
                if best.is_none_or(|(bt, _)| t < bt) {
                    best = Some((t, *cfg));
                }
            }
            Ok(None) => {
                notes.push(format!("{}=wrong", cfg.describe()));
                fallback.get_or_insert(*cfg);
            }
            Err(e) => {
                if e.downcast_ref::<crate::error::UsageError>().is_some() {
                    return Err(e);
                }
                notes.push(format!("{}=failed", cfg.describe()));
            }
        }
    }
    match best.map(|(_, c)| c).or(fallback) {
        Some(config) => Ok(Tuned {
            config,
            notes,
            wrong,
        }),
        None => anyhow::bail!(
            "no matmul tile shape ran on this adapter ({})",
            notes.join(", ")
        ),
    }
}

/// Rows of the real problem each candidate is timed on. Slow shapes are
/// timed on a band of rows, so no trial dispatch runs long (a tiled kernel
/// on a CPU adapter can be ten times slower than the best one); a multiple
/// of every shape's rows per workgroup.
fn tune_rows(ctx: &Ctx, ops: &Operands) -> u32 {
    let budget = if ctx.gpu.desc.is_cpu() {
        2f64.powi(27)
    } else {
        2f64.powi(36)
    };
    let tune_rows = (budget / (2.0 * ops.n as f64 * ops.k as f64) / 128.0).ceil() as u32 * 128;
    tune_rows.clamp(1, ops.m)
}

/// The shapes that can take the problem `ops` on this adapter, or the one
/// [`FORCE_VARIANT`] names.
fn candidates(ctx: &Ctx, ops: &Operands) -> Result<Vec<TileConfig>> {
    let mut candidates: Vec<TileConfig> = TileConfig::candidates(ctx.gpu)
        .into_iter()
        .filter(|c| c.entry(ops.k, ops.n).is_some())
        .filter(|c| {
            !matches!(c.layout, Layout::RowsTex | Layout::RowsSubgroup) || ops.textures.is_some()
        })
        .collect();
    // For kernel development and the mutation tests: one variant only, so
    // that any layout can be timed and verified on any adapter.
    if let Some(forced) = std::env::var_os(FORCE_VARIANT) {
        let forced = forced.to_string_lossy().into_owned();
        let names: Vec<String> = candidates.iter().map(|c| c.describe()).collect();
        candidates.retain(|c| c.describe() == forced);
        if candidates.is_empty() {
            crate::usage_bail!(
                "{FORCE_VARIANT}={}: no such matmul variant for this problem here; variants: {}",
                crate::cli::typed(&forced),
                names.join(", ")
            );
        }
    }
    Ok(candidates)
}
