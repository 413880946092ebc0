//! The FMA-bound load: a rotation of many f32 pairs, each repetition from
//! its own starts, summed into one output the CPU recomputes in f64.

use anyhow::Result;
use bytemuck::{Pod, Zeroable};

use super::{bind, spec, Loads, RepGpu, REP_SLOTS, REP_STRIDE};
use crate::catalogue::{Metric, Soak};
use crate::domain::hash::mix32;
use crate::gpu::Gpu;
use crate::harness::{Check, Reps, Spec, Workload};
use crate::timing::Timed;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct SoakParams {
    n: u32,
    iters: u32,
    c: f32,
    s: f32,
}

/// The FMA check's tolerance, absolute. Every repetition adds a vector of
/// length at least 0.5 to each element, so one repetition skipped or kept
/// from before moves it far outside; rounding moves it by about 1e-3 at most
/// over thousands of repetitions.
const FMA_TOL: f64 = 0.1;

const ANGLE: f32 = 0.05;

/// The rotation's pipeline, its input and its summed output.
pub(super) struct FmaLoad {
    pipe: wgpu::ComputePipeline,
    bind: wgpu::BindGroup,
    out: wgpu::Buffer,
    n: u32,
    iters: u32,
    input: Vec<[f32; 2]>,
}

impl FmaLoad {
    pub(super) fn new(gpu: &Gpu, soak_wgsl: &str, reps: &wgpu::Buffer) -> Result<Self> {
        let (n, iters) = if gpu.desc.is_cpu() {
            (1u32 << 14, 1024u32)
        } else {
            (1 << 20, 4096)
        };
        let input: Vec<[f32; 2]> = (0..n)
            .map(|i| {
                let h = mix32(i);
                [
                    1.0 + (h & 0xffff) as f32 / 65536.0,
                    (h >> 16) as f32 / 65536.0 - 0.5,
                ]
            })
            .collect();
        let params = SoakParams {
            n,
            iters,
            c: ANGLE.cos(),
            s: ANGLE.sin(),
        };
        let (bgl, layout) = gpu.storage_layout_at(
            "soak",
            &[
                (0, true, true),
                (1, true, false),
                (2, true, false),
                (3, false, false),
            ],
        );
        let pipe = gpu.pipeline_with_layout("soak", soak_wgsl, "fma_rotate", &[], Some(&layout))?;
        let p_buf = gpu.storage_init("soak params", bytemuck::bytes_of(&params))?;
        let in_buf = gpu.storage_init("soak fma in", bytemuck::cast_slice(&input))?;
        let out = gpu.storage_init("soak fma out", &vec![0u8; n as usize * 8])?;
        let bind = bind(gpu, &bgl, reps, &[(1, &p_buf), (2, &in_buf), (3, &out)]);
        Ok(FmaLoad {
            pipe,
            bind,
            out,
            n,
            iters,
            input,
        })
    }

    /// Records the sums' reset to zero.
    pub(super) fn clear(&self, enc: &mut wgpu::CommandEncoder) {
        enc.clear_buffer(&self.out, 0, None);
    }
}

/// The seed of FMA repetition `k` of `interval`.
fn fma_seed(interval: usize, k: u64) -> u32 {
    mix32(k as u32 ^ mix32(interval as u32 ^ 0x5eed_f3a0))
}

/// The start of FMA element `i` in the repetition with `seed`, exactly as
/// the shader forms it in f32.
fn fma_start(input: [f32; 2], i: u32, seed: u32) -> [f32; 2] {
    let h = mix32(i ^ seed);
    let off = [
        (h & 0xffff) as f32 / 65536.0 - 0.5,
        (h >> 16) as f32 / 65536.0 - 0.5,
    ];
    [input[0] + off[0], input[1] + off[1]]
}

/// One interval of the FMA rotation: each repetition rotates its own
/// starts and adds them to the output.
pub struct FmaInterval<'a, 'g> {
    pub l: &'a Loads<'g>,
    pub interval: usize,
    pub t_s: f64,
    pub corrupt: bool,
}

impl Workload for FmaInterval<'_, '_> {
    fn spec(&self) -> Spec {
        spec(Soak::Fma, self.interval, self.t_s, Metric::Flops)
    }
    fn work_per_rep(&self) -> f64 {
        // Per step: two multiplies and two fused multiply-adds.
        self.l.fma.n as f64 * self.l.fma.iters as f64 * 6.0
    }
    fn max_reps(&self) -> u32 {
        REP_SLOTS
    }
    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        let l = self.l;
        let interval = self.interval;
        l.write_reps(reps, |k| RepGpu {
            index: k as u32,
            seed: fma_seed(interval, k),
            ..Default::default()
        });
        pass.set_pipeline(&l.fma.pipe);
        for (slot, _) in reps.slots() {
            pass.set_bind_group(0, &l.fma.bind, &[(slot as u64 * REP_STRIDE) as u32]);
            pass.dispatch_workgroups(l.fma.n.div_ceil(256), 1, 1);
        }
    }
    fn verify(self, timed: &Timed) -> Result<Check> {
        let l = self.l;
        let fma = &l.fma;
        if self.corrupt {
            // An exponent bit: the FMA check compares within a rounding
            // tolerance, inside which a low mantissa bit can stay.
            l.corrupt(&fma.out, 8 * 1234, 30)?;
        }
        let raw = l.gpu.read(&fma.out, 0, fma.n as u64 * 8)?;
        let got: &[[f32; 2]] = bytemuck::cast_slice(&raw);
        let mut check = Check::default();
        // n steps of the f32 rotation, exactly in f64: (c + i s)^n.
        let (c, s) = (ANGLE.cos() as f64, ANGLE.sin() as f64);
        let (mut zr, mut zi) = (1.0f64, 0.0f64);
        for _ in 0..fma.iters {
            (zr, zi) = (zr * c - zi * s, zr * s + zi * c);
        }
        let total = timed.total_reps;
        let seeds: Vec<u32> = (0..total).map(|k| fma_seed(self.interval, k)).collect();
        let step = 1usize.max(fma.n as usize / 2048);
        let (mut compared, mut bad, mut worst) = (0usize, 0usize, 0.0f64);
        for i in (0..fma.n as usize).step_by(step).chain([1234]) {
            let (mut x, mut y) = (0.0f64, 0.0f64);
            for &seed in &seeds {
                let [sx, sy] = fma_start(fma.input[i], i as u32, seed).map(f64::from);
                x += sx * zr - sy * zi;
                y += sx * zi + sy * zr;
            }
            let [gx, gy] = got[i].map(f64::from);
            let err = (gx - x).abs().max((gy - y).abs());
            worst = worst.max(if err.is_nan() { f64::INFINITY } else { err });
            compared += 1;
            if err.is_nan() || err > FMA_TOL {
                bad += 1;
                if bad <= 4 {
                    check.fail(format!(
                        "fma element {i}: ({gx}, {gy}), but its {total} repetitions sum to ({x:.4}, {y:.4}) on the CPU"
                    ));
                }
            }
        }
        if bad > 0 {
            check.fail(format!(
                "fma: {bad} of {compared} elements checked differ from the CPU's sum over {total} repetitions"
            ));
        }
        // Every element checked is the sum over every recorded repetition.
        check.account(total);
        check.fact(
            "cpu_checked_share",
            format!("{:.4}", compared as f64 / fma.n as f64),
        );
        check.fact("max_abs_error", format!("{worst:.2e}"));
        Ok(check)
    }
}
