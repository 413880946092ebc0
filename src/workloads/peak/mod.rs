//! Suite `peak`: peak arithmetic rates from register-only dependent chains,
//! clpeak/vkpeak style, down the precision ladder: f64, f32, f16 FMA, int8
//! dot products, i32 multiply-add, and SHA-256 rounds.
//!
//! `fp32_fma` against `fp32_mul_add` is the FMA cripple detector: a healthy
//! GPU issues a fused multiply-add as fast as a multiply or an add, so the
//! FMA kernel reaches twice the FLOP rate of the unfused one.
//!
//! One shader body (`peak_body`) holds every kernel; a short header per
//! float format (`peak_f32`, `peak_f16`, `peak_f64`) names the element type,
//! so `enable f16;` and f64 only reach adapters that have them.
//!
//! Verification replays chains on the CPU bit for bit ([`replay`]): every
//! chain of every repetition starts from a hash of its invocation, its
//! index, the repetition's index and what it stored in the previous
//! repetition, so the output is the joint result of every repetition and
//! the check replays them all, for chains picked at random after the
//! read-back. No recurrence reaches a fixed point or returns to its start
//! within the iteration counts allowed ([`Kernel::max_iters`]), and the
//! replay itself proves, for each chain it checks, that fewer iterations
//! would have left another value.

mod kernel;
pub mod replay;
pub mod unfused;
mod verify;

use anyhow::Result;

use super::{Ctx, Skipped, SuiteOutput};
use crate::harness;

pub use kernel::PeakKernel;

pub const BODY: &str = include_str!("../../../shaders/peak_body.wgsl");
pub const HEAD_F32: &str = include_str!("../../../shaders/peak_f32.wgsl");
pub const HEAD_F16: &str = include_str!("../../../shaders/peak_f16.wgsl");
pub const HEAD_F64: &str = include_str!("../../../shaders/peak_f64.wgsl");

/// u32 operations in one SHA-256 round as the shader writes it, a rotate
/// counted as one: Sigma0 and Sigma1 5 each, Ch 3, Maj 4, 7 additions.
pub const SHA_OPS_PER_ROUND: u32 = 23;
const SHA_K: [u32; 4] = [0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5];
/// FMA chains: x = fma(x, a, b). a = 1 + 2^-20 moves an x in [1, 2^24) by
/// at least 8 ulp of f32 per step, b = 2^-12 keeps it growing; both exact
/// in f32 and f64.
const FMA_AB: [f32; 2] = [1.0 + 1.0 / 1048576.0, 1.0 / 4096.0];
/// f16 has 10 fraction bits: a = 1 + 2^-10 moves x by at least one ulp.
const FMA_AB_F16: [f32; 2] = [1.0 + 1.0 / 1024.0, 1.0 / 256.0];
/// fp32_mul_add: multiply chains by m, add chains by d (exact adds).
const MUL_ADD: [f32; 2] = [1.0 + 1.0 / 1048576.0, 1.0 / 4096.0];
/// i32_mad: a full-period LCG modulo 2^32 (Numerical Recipes).
const LCG: [u32; 2] = [1_664_525, 1_013_904_223];
/// int8_dot4: the bytes (-91, 17, -13, 7).
const DOT_W: u32 = 0x07f3_11a5;
/// int8_dot4: added at every step; odd and larger than any dot product
/// with DOT_W (at most 128 * (91 + 17 + 13 + 7) = 16384 in magnitude), so
/// x and y move forward by 49153 to 81921 per step and cannot come back
/// to a value within 2^32 / 81921 > 52000 steps.
pub const DOT_C: u32 = 0x0001_0001;

/// The suite's kernels are the catalogue's; what measuring them takes is
/// said here.
pub use crate::catalogue::Peak as Kernel;

impl Kernel {
    /// Every kernel of the suite, in the order measured.
    pub fn all() -> &'static [Kernel] {
        Kernel::ALL
    }

    /// The device feature the kernel needs beyond the baseline.
    pub fn feature(self) -> Option<(wgpu::Features, &'static str)> {
        match self {
            Kernel::Fp64Fma => Some((wgpu::Features::SHADER_F64, "SHADER_F64")),
            Kernel::Fp16Fma => Some((wgpu::Features::SHADER_F16, "SHADER_F16")),
            _ => None,
        }
    }

    /// The variant header the kernel is compiled with.
    pub fn header(self) -> (&'static str, &'static str) {
        match self {
            Kernel::Fp64Fma => ("peak_f64", HEAD_F64),
            Kernel::Fp16Fma => ("peak_f16", HEAD_F16),
            _ => ("peak_f32", HEAD_F32),
        }
    }

    pub fn entry(self) -> &'static str {
        match self {
            Kernel::Fp64Fma | Kernel::Fp32Fma | Kernel::Fp16Fma => "fma_chain",
            k => k.name(),
        }
    }

    /// The output binding the entry point writes.
    pub fn binding(self) -> u32 {
        match self {
            Kernel::Fp64Fma | Kernel::Fp32Fma | Kernel::Fp16Fma => 0,
            Kernel::Fp32MulAdd => 2,
            _ => 3,
        }
    }

    /// Scalars per stored vector and bytes per scalar.
    pub fn lanes_and_bytes(self) -> (usize, usize) {
        match self {
            Kernel::Fp64Fma => (2, 8),
            Kernel::Fp16Fma => (2, 2),
            _ => (4, 4),
        }
    }

    /// Vectors one invocation stores.
    pub fn stored(self, chains: u32) -> u32 {
        match self {
            Kernel::Fp32MulAdd | Kernel::Int8Dot4 => 2 * chains,
            Kernel::Sha256Round => 8,
            _ => chains,
        }
    }

    pub fn chain_options(self) -> &'static [u32] {
        match self {
            Kernel::Fp64Fma | Kernel::Fp32Fma | Kernel::Fp16Fma => &[4, 8, 16],
            Kernel::Sha256Round => &[8],
            _ => &[4, 8],
        }
    }

    /// Most loop iterations allowed: within them no chain reaches a fixed
    /// point, returns to its start or overflows (tests/peak.rs replays
    /// every f16 start value, and random starts of every kernel, this far).
    /// Also below 65535, the most iterations Mesa's llvmpipe runs a loop.
    pub fn max_iters(self) -> u32 {
        match self {
            Kernel::Fp16Fma => 4096,
            _ => 32768,
        }
    }

    /// Steps of each chain per loop iteration.
    pub fn steps_per_iter(self) -> u32 {
        match self {
            Kernel::Int8Dot4 | Kernel::Sha256Round => 1,
            _ => 2,
        }
    }

    /// FLOPs (or integer operations) one invocation does per loop iteration.
    pub fn work_per_iter(self, chains: u32) -> f64 {
        let (lanes, _) = self.lanes_and_bytes();
        let c = chains as f64 * lanes as f64;
        match self {
            Kernel::Fp64Fma | Kernel::Fp32Fma | Kernel::Fp16Fma | Kernel::I32Mad => c * 2.0 * 2.0,
            // 2 * chains vectors, each one 1-FLOP step twice.
            Kernel::Fp32MulAdd => 2.0 * c * 2.0,
            // Two dp4a per pair, 8 operations each.
            Kernel::Int8Dot4 => c * 2.0 * 8.0,
            Kernel::Sha256Round => 8.0 * lanes as f64 * SHA_OPS_PER_ROUND as f64,
        }
    }

    /// How the row's work is counted, for its params.
    pub fn counting(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Kernel::Fp64Fma | Kernel::Fp32Fma | Kernel::Fp16Fma => &[("flop_per_fma", "2")],
            Kernel::Fp32MulAdd => &[
                ("flop_per_op", "1"),
                ("unfused", "separate_mul_and_add_chains"),
            ],
            Kernel::Int8Dot4 => &[("ops_per_dot4", "8")],
            Kernel::I32Mad => &[("ops_per_mad", "2")],
            Kernel::Sha256Round => &[("ops_per_round", "23"), ("rotate_counts", "1")],
        }
    }

    /// `f` and `k` of the shader's Params.
    pub fn coefficients(self) -> ([f32; 4], [u32; 4]) {
        match self {
            Kernel::Fp16Fma => ([FMA_AB_F16[0], FMA_AB_F16[1], 0.0, 0.0], [0; 4]),
            Kernel::Fp64Fma | Kernel::Fp32Fma => ([FMA_AB[0], FMA_AB[1], 0.0, 0.0], [0; 4]),
            Kernel::Fp32MulAdd => ([0.0, 0.0, MUL_ADD[0], MUL_ADD[1]], [0; 4]),
            Kernel::I32Mad => ([0.0; 4], [LCG[0], LCG[1], 0, 0]),
            Kernel::Int8Dot4 => ([0.0; 4], [DOT_W, DOT_C, 0, 0]),
            Kernel::Sha256Round => ([0.0; 4], SHA_K),
        }
    }
}

/// The WGSL a kernel compiles: its variant header, then the body, each
/// fetched by name so `--shader-dir` can replace either.
pub fn composition(ctx: &Ctx, kernel: Kernel) -> Result<String> {
    let (name, builtin) = kernel.header();
    let head = ctx.shaders.get(name, builtin)?;
    let body = ctx.shaders.get("peak_body", BODY)?;
    Ok(compose(&head, &body))
}

pub fn compose(head: &str, body: &str) -> String {
    format!("{head}\n{body}")
}

/// `run --suite peak`: every kernel the adapter supports.
pub fn run(ctx: &Ctx) -> Result<SuiteOutput> {
    let mut out = SuiteOutput::default();
    for &kernel in Kernel::all() {
        if let Some((feature, name)) = kernel.feature() {
            if !ctx.gpu.has(feature) {
                out.skipped.push(Skipped::new(
                    crate::catalogue::Kernel::Peak(kernel),
                    format!("unsupported: adapter lacks {name}"),
                ));
                continue;
            }
        }
        let wgsl = composition(ctx, kernel)?;
        ctx.status(&format!("peak {}: sizing", kernel.name()));
        let mut k = PeakKernel::sized(ctx.gpu, &wgsl, kernel)?;
        if kernel == Kernel::Fp32MulAdd {
            k.refused.extend(unfused::refusal(&wgsl, kernel.entry()));
        }
        out.measured.extend(harness::measure(ctx, k)?);
    }
    Ok(out)
}

/// Every composition the suite compiles, for validation without a GPU.
pub fn shader_sources() -> Vec<(String, String)> {
    [
        ("peak_f32", HEAD_F32),
        ("peak_f16", HEAD_F16),
        ("peak_f64", HEAD_F64),
    ]
    .into_iter()
    .map(|(name, head)| (format!("{name}+peak_body"), compose(head, BODY)))
    .collect()
}
