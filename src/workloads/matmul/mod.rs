//! Suite `matmul`: C = A·B in f32 (`sgemm`) and with f16 inputs (`hgemm`),
//! tiled in workgroup memory with register blocking, or in row layouts on
//! CPU adapters (`shaders/matmul*.wgsl`: one body, per-precision headers).
//!
//! Before measuring, the candidate tile shapes are tried on the adapter
//! ([`autotune`]); any that answers wrongly is reported as a wrong answer.
//! The chosen one is then timed through the harness into a poisoned C, and
//! the C the timed samples left behind is checked against an f64 CPU
//! reference ([`verify`]): every element at small sizes; at large ones 16
//! whole rows, 16 whole columns and 4096 random elements, the share stated
//! in the row's params.

mod autotune;
mod kernel;
mod measure;
mod shaders;
mod tiles;
mod verify;

use anyhow::Result;

use super::{Ctx, Scale, Skipped, SuiteOutput};
use crate::catalogue::Kernel;
use crate::gpu::Gpu;

pub use autotune::{autotune, Tuned, FORCE_VARIANT};
pub use kernel::{multiply, multiply_f16, Matmul, Operands};
pub use shaders::{shader_sources, Kernels};
pub use tiles::{Layout, TileConfig};
pub use verify::{random_matrix, verify, Coverage, Verdict};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    F32,
    F16,
}

impl Precision {
    pub fn kernel(self) -> Kernel {
        match self {
            Precision::F32 => Kernel::Sgemm,
            Precision::F16 => Kernel::Hgemm,
        }
    }
}

/// Default problem sizes: large enough to fill a GPU, small enough for a
/// software adapter to finish in seconds.
fn default_size(ctx: &Ctx) -> u32 {
    match (ctx.gpu.desc.is_cpu(), ctx.scale) {
        (true, Scale::Quick) => 256,
        (true, Scale::Default) => 512,
        (true, Scale::Full) => 1024,
        (false, Scale::Quick) => 2048,
        (false, Scale::Default) => 4096,
        (false, Scale::Full) => 8192,
    }
}

/// The largest single buffer a kernel can bind.
fn max_binding(gpu: &Gpu) -> u64 {
    gpu.limits
        .max_storage_buffer_binding_size
        .min(gpu.limits.max_buffer_size)
}

fn fits(gpu: &Gpu, m: u32, n: u32, k: u32, in_bytes: u64) -> bool {
    let max = max_binding(gpu);
    let (m, n, k) = (m as u64, n as u64, k as u64);
    m * k * in_bytes <= max && k * n * in_bytes <= max && m * n * 4 <= max
}

/// M, N, K for this run: the command line's values, the default for the
/// rest, shrunk (only where not given) to what the adapter can bind.
pub fn problem_size(ctx: &Ctx) -> Result<(u32, u32, u32)> {
    let s = ctx.sizes;
    for (name, v) in [("m", s.m), ("n", s.n), ("k", s.k)] {
        if v == Some(0) {
            crate::usage_bail!("--{name} must be at least 1");
        }
    }
    let def = default_size(ctx);
    let (mut m, mut n, mut k) = (s.m.unwrap_or(def), s.n.unwrap_or(def), s.k.unwrap_or(def));
    while !fits(ctx.gpu, m, n, k, 4) {
        let before = (m, n, k);
        if s.m.is_none() && m > 1 {
            m /= 2;
        }
        if s.n.is_none() && n > 1 {
            n /= 2;
        }
        if s.k.is_none() && k > 1 {
            k /= 2;
        }
        if before == (m, n, k) {
            crate::usage_bail!(
                "matmul {m}x{n}x{k} needs buffers of {} (A), {} (B) and {} (C), but adapter {} binds at most {} per buffer; choose smaller --m/--n/--k",
                crate::units::bytes(m as f64 * k as f64 * 4.0),
                crate::units::bytes(k as f64 * n as f64 * 4.0),
                crate::units::bytes(m as f64 * n as f64 * 4.0),
                ctx.gpu.desc.name,
                crate::units::bytes(max_binding(ctx.gpu) as f64)
            );
        }
    }
    Ok((m, n, k))
}

/// `run --suite matmul`: sgemm, then hgemm where the adapter has f16.
pub fn run(ctx: &Ctx) -> Result<SuiteOutput> {
    let (m, n, k) = problem_size(ctx)?;
    let mut out = SuiteOutput::default();
    for precision in [Precision::F32, Precision::F16] {
        if precision == Precision::F16 && !ctx.gpu.has(wgpu::Features::SHADER_F16) {
            out.skipped.push(Skipped::new(
                precision.kernel(),
                "unsupported: adapter lacks SHADER_F16",
            ));
            continue;
        }
        let kernels = Kernels::load(ctx.shaders, precision)?;
        measure::measure(ctx, &kernels, precision, (m, n, k), &mut out)?;
    }
    Ok(out)
}
