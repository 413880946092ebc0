//! One precision end to end: inputs, autotuning, then the chosen kernel
//! timed by the harness and verified on the C its timed samples wrote.

use anyhow::Result;

use super::autotune::autotune;
use super::kernel::{Matmul, Operands, WINDOWS};
use super::shaders::Kernels;
use super::verify::{verify_sum, Coverage};
use super::Precision;
use crate::catalogue::{Fact, Kernel, Metric, Params};
use crate::harness::{self, Check, Reps, Spec, Workload};
use crate::timing::Timed;
use crate::workloads::{Ctx, SuiteOutput};

/// Longest a single dispatch may take before the rows are split into bands.
const MAX_DISPATCH_S: f64 = 0.1;
/// Enough repetitions for ~100 ms samples even on a fast GPU, bounded so
/// that a command buffer stays modest.
const MAX_REPS: u32 = 256;

/// The measured multiplication. Repetition r adds A_(r mod 2)·B to C, so
/// consecutive repetitions read different inputs and C after the timed
/// samples is the sum of every product that was timed: a repetition
/// skipped, or one that keeps C because C is already written, leaves C a
/// product short. C is zeroed before the first one, so an element no
/// repetition wrote cannot pass.
struct Gemm<'g> {
    mm: Matmul<'g>,
    /// The inputs as the kernel reads them, for the reference: A per
    /// input window, and B.
    a: Vec<Vec<f32>>,
    b: Vec<f32>,
    kernel: Kernel,
    params: Params,
}

impl Workload for Gemm<'_> {
    fn spec(&self) -> Spec {
        Spec {
            kernel: self.kernel,
            params: self.params.clone(),
            metric: Metric::Flops,
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
        let windows = self.mm.windows() as u64;
        for rep in reps.indices() {
            self.mm.encode(pass, (rep % windows) as usize);
        }
    }

    fn verify(self, timed: &Timed) -> Result<Check> {
        let mut check = Check::default();
        let (m, n, k) = (self.mm.m, self.mm.n, self.mm.k);
        let c = self.mm.read_c()?;
        // Repetitions 0..N took window r mod W: the first N mod W windows
        // once more than the rest.
        let w = self.a.len() as u64;
        let total = timed.total_reps;
        let windows: Vec<(u64, &[f32])> = (0..w)
            .map(|i| {
                (
                    total / w + u64::from(i < total % w),
                    self.a[i as usize].as_slice(),
                )
            })
            .collect();
        let v = verify_sum(
            (m, n, k),
            &windows,
            &self.b,
            &c,
            Coverage::Auto,
            rand::random(),
        );
        check.account(total);
        check.fact("input_windows", w);
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
    let (ops, a, b) = Operands::random(gpu, precision, (m, n, k), (1, 2), WINDOWS)?;
    let tuned = autotune(ctx, kernels, &ops)?;
    out.wrong.extend(tuned.wrong);
    let config = tuned.config;
    let mut mm = Matmul::new(gpu, kernels, config, &ops)?;
    let per_run = mm.quick_time()?;
    if per_run > MAX_DISPATCH_S && mm.groups_y > 1 {
        let bands = (per_run / MAX_DISPATCH_S).ceil() as u32;
        mm.split_rows(mm.groups_y.div_ceil(bands), &ops)?;
    }
    // After the untimed runs above, so only the timed samples add to it.
    mm.clear();
    let accumulate = match precision {
        Precision::F32 => "f32",
        Precision::F16 => "f16in-f32acc",
    };
    let mut params = Params::new()
        .with(Fact::GemmM(m.into()))
        .with(Fact::GemmN(n.into()))
        .with(Fact::GemmK(k.into()));
    params.0.extend(config.params().0);
    let params = params
        .detail("loads", if mm.vec4 { "vec4" } else { "scalar" })
        .detail("precision", accumulate)
        .detail("dispatches", mm.bands.len());
    let gemm = Gemm {
        mm,
        a,
        b,
        kernel,
        params,
    };
    out.measured.extend(harness::measure(ctx, gemm)?);
    Ok(())
}
