//! One precision end to end: inputs, autotuning, then the chosen kernel
//! timed by the harness and verified on the C its timed samples wrote.

use anyhow::Result;

use super::autotune::autotune;
use super::kernel::{Matmul, Operands};
use super::shaders::Kernels;
use super::verify::{verify, Coverage};
use super::Precision;
use crate::harness::{self, Check, Reps, Spec, Workload};
use crate::timing::Timed;
use crate::workloads::{Ctx, SuiteOutput};

/// Longest a single dispatch may take before the rows are split into bands.
const MAX_DISPATCH_S: f64 = 0.1;
/// Enough repetitions for ~100 ms samples even on a fast GPU, bounded so
/// that a command buffer stays modest.
const MAX_REPS: u32 = 256;

/// The measured multiplication. Every repetition writes all of C from the
/// same A and B, so the C the last timed sample left is the product that
/// was timed; C is poisoned before the first one, so an element no
/// repetition wrote cannot pass.
struct Gemm<'g> {
    mm: Matmul<'g>,
    /// The inputs as the kernel reads them, for the reference.
    a: Vec<f32>,
    b: Vec<f32>,
    kernel: &'static str,
    params: String,
    encoded: u64,
}

impl Workload for Gemm<'_> {
    fn spec(&self) -> Spec {
        Spec {
            kernel: self.kernel.into(),
            params: self.params.clone(),
            metric: "flops",
            unit: "FLOP/s",
            latency: false,
        }
    }

    fn work_per_rep(&self) -> f64 {
        2.0 * self.mm.m as f64 * self.mm.n as f64 * self.mm.k as f64
    }

    fn max_reps(&self) -> u32 {
        MAX_REPS
    }

    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        let reps = reps.count;
        for _ in 0..reps {
            self.mm.encode(pass);
        }
        self.encoded += reps as u64;
    }

    fn verify(self, _timed: &Timed) -> Result<Check> {
        let mut check = Check::default();
        if self.encoded == 0 {
            check.fail("no multiplication was recorded, so C holds no product to check");
        }
        let (m, n, k) = (self.mm.m, self.mm.n, self.mm.k);
        let c = self.mm.read_c()?;
        let v = verify(m, n, k, &self.a, &self.b, &c, Coverage::Auto, 3);
        check.fact("checked", v.checked);
        check.fact("checked_share", format!("{:.4}", v.share()));
        for p in &v.problems {
            check.fail(format!("{m}x{n}x{k}: {p}"));
        }
        if !v.ok() {
            check.fail(format!(
                "{} of {} checked elements are wrong",
                v.failed, v.checked
            ));
        }
        Ok(check)
    }
}

/// Autotunes, times and verifies one precision into `out`: its row, and a
/// wrong answer for each tile shape that failed its probe.
pub fn measure(
    ctx: &Ctx,
    kernels: &Kernels,
    precision: Precision,
    (m, n, k): (u32, u32, u32),
    out: &mut SuiteOutput,
) -> Result<()> {
    let gpu = ctx.gpu;
    let kernel = precision.kernel();
    ctx.status(&format!("matmul {kernel}: preparing {m}x{n}x{k}"));
    let (ops, a, b) = Operands::random(gpu, precision, (m, n, k), (1, 2))?;
    let tuned = autotune(ctx, kernels, &ops)?;
    out.wrong.extend(tuned.wrong);
    let config = tuned.config;
    let mut mm = Matmul::new(gpu, kernels, config, &ops)?;
    let per_run = mm.quick_time()?;
    if per_run > MAX_DISPATCH_S && mm.groups_y > 1 {
        let bands = (per_run / MAX_DISPATCH_S).ceil() as u32;
        mm.split_rows(mm.groups_y.div_ceil(bands), &ops)?;
    }
    // After the untimed runs above, so only the timed samples can fill it.
    mm.poison();
    let accumulate = match precision {
        Precision::F32 => "f32",
        Precision::F16 => "f16in-f32acc",
    };
    let params = format!(
        "m={m};n={n};k={k};{};loads={};precision={accumulate};dispatches={}",
        config.describe(),
        if mm.vec4 { "vec4" } else { "scalar" },
        mm.bands.len(),
    );
    let gemm = Gemm {
        mm,
        a,
        b,
        kernel,
        params,
        encoded: 0,
    };
    out.measured.extend(harness::measure(ctx, gemm)?);
    Ok(())
}
