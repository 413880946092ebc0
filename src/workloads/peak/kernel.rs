//! One compiled peak kernel with its buffers: sizing (untimed), the timed
//! dispatches, and the read-back of what the last timed dispatch stored.

use anyhow::Result;
use bytemuck::{Pod, Zeroable};

use super::{replay, verify, Kernel};
use crate::gpu::Gpu;
use crate::harness::{Check, Reps, Spec, Workload};
use crate::timing::Timed;

/// What the output holds before the timed dispatches: NaN as f16, f32 and
/// f64, so an invocation that stores nothing fails every check.
pub const POISON: u32 = 0xffff_dead;
const DISPATCH_TARGET_S: f64 = 0.02;
const MAX_REPS: u32 = 64;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug)]
struct Params {
    iters: u32,
    seed: u32,
    pad: [u32; 2],
    f: [f32; 4],
    k: [u32; 4],
}

pub struct PeakKernel<'g> {
    gpu: &'g Gpu,
    pub kernel: Kernel,
    pub chains: u32,
    pub wg: u32,
    pub groups: u32,
    pub iters: u32,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    out: wgpu::Buffer,
    params: wgpu::Buffer,
    /// Dispatches recorded through the harness (all write the same values).
    encoded: u64,
}

impl<'g> PeakKernel<'g> {
    pub fn new(gpu: &'g Gpu, wgsl: &str, kernel: Kernel, chains: u32, groups: u32) -> Result<Self> {
        let wg = if gpu.desc.is_cpu() { 64 } else { 256 }
            .min(gpu.limits.max_compute_invocations_per_workgroup)
            .min(gpu.limits.max_compute_workgroup_size_x);
        let groups = groups.clamp(1, gpu.limits.max_compute_workgroups_per_dimension);
        let constants = [("WG", wg as f64), ("CHAINS", chains as f64)];
        let pipeline = gpu.pipeline(
            &format!("peak {}", kernel.name()),
            wgsl,
            kernel.entry(),
            &constants,
        )?;
        let (lanes, bytes) = kernel.lanes_and_bytes();
        let size = groups as usize * wg as usize * kernel.stored(chains) as usize * lanes * bytes;
        let out = gpu.storage_init("peak out", &vec![0u8; size])?;
        let params = gpu.storage_init("peak params", bytemuck::bytes_of(&params(kernel, 1)))?;
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("peak"),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: kernel.binding(),
                    resource: out.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: params.as_entire_binding(),
                },
            ],
        });
        gpu.check_errors("setting up a peak kernel")?;
        let mut k = PeakKernel {
            gpu,
            kernel,
            chains,
            wg,
            groups,
            iters: 1,
            pipeline,
            bind_group,
            out,
            params,
            encoded: 0,
        };
        k.poison();
        Ok(k)
    }

    /// The fastest chain count, sized so one dispatch takes about 20 ms
    /// (or runs `max_iters`), its output poisoned for the timed run.
    pub fn sized(gpu: &'g Gpu, wgsl: &str, kernel: Kernel) -> Result<Self> {
        // Enough invocations to fill every core of a big GPU; a CPU adapter
        // only needs a few workgroups per thread.
        let groups = if gpu.desc.is_cpu() { 32 } else { 2048 };
        let mut best: Option<(f64, PeakKernel)> = None;
        for &chains in kernel.chain_options() {
            let mut k = PeakKernel::new(gpu, wgsl, kernel, chains, groups)?;
            let rate = k.size_for(DISPATCH_TARGET_S)?;
            if best.as_ref().is_none_or(|(r, _)| rate > *r) {
                best = Some((rate, k));
            }
        }
        let (_, mut k) = best.expect("at least one chain option");
        k.poison();
        Ok(k)
    }

    pub fn invocations(&self) -> u32 {
        self.groups * self.wg
    }

    /// FLOPs (or operations) in one dispatch.
    pub fn work(&self) -> f64 {
        self.invocations() as f64 * self.iters as f64 * self.kernel.work_per_iter(self.chains)
    }

    pub fn set_iters(&mut self, iters: u32) {
        self.iters = iters.clamp(1, self.kernel.max_iters());
        let p = params(self.kernel, self.iters);
        self.gpu
            .queue
            .write_buffer(&self.params, 0, bytemuck::bytes_of(&p));
    }

    /// Fills the output with [`POISON`].
    pub fn poison(&mut self) {
        let words = self.out.size() as usize / 4;
        self.gpu
            .queue
            .write_buffer(&self.out, 0, bytemuck::cast_slice(&vec![POISON; words]));
    }

    fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        pass.dispatch_workgroups(self.groups, 1, 1);
    }

    /// One dispatch, waited for; wall seconds.
    pub fn run_once(&self) -> Result<f64> {
        self.gpu
            .run_pass("running a peak kernel", |pass| self.dispatch(pass))
    }

    /// Picks `iters` so one dispatch takes about `target_s`; returns the
    /// rate seen at that size.
    pub fn size_for(&mut self, target_s: f64) -> Result<f64> {
        self.set_iters(8);
        self.run_once()?; // compiles on drivers that compile lazily
        let mut t = self.run_once()?;
        for _ in 0..4 {
            if (0.5 * target_s..2.0 * target_s).contains(&t)
                || self.iters == self.kernel.max_iters()
            {
                break;
            }
            let scale = (target_s / t.max(1e-6)).clamp(1.0 / 64.0, 64.0);
            self.set_iters(((self.iters as f64 * scale) as u32).max(8));
            t = self.run_once()?;
        }
        Ok(self.work() / t)
    }

    /// Reads the output back and checks it against the CPU replay.
    pub fn check(&self) -> Result<Check> {
        let raw = self.gpu.read(&self.out, 0, self.out.size())?;
        Ok(verify::check(
            self.kernel,
            self.chains,
            self.iters,
            self.invocations(),
            &raw,
        ))
    }
}

fn params(kernel: Kernel, iters: u32) -> Params {
    let (f, k) = kernel.coefficients();
    Params {
        iters,
        seed: replay::SEED,
        pad: [0; 2],
        f,
        k,
    }
}

impl Workload for PeakKernel<'_> {
    fn spec(&self) -> Spec {
        let shape = if self.kernel == Kernel::Sha256Round {
            "states=vec4".to_string()
        } else {
            let (lanes, bytes) = self.kernel.lanes_and_bytes();
            format!("chains={}x{lanes}x{}bit", self.chains, bytes * 8)
        };
        Spec {
            kernel: self.kernel.name().into(),
            params: format!(
                "{shape};iters={};invocations={};wg={};{}",
                self.iters,
                self.invocations(),
                self.wg,
                self.kernel.counting()
            ),
            metric: "peak_rate",
            unit: self.kernel.unit(),
            latency: false,
        }
    }

    fn work_per_rep(&self) -> f64 {
        self.work()
    }

    fn max_reps(&self) -> u32 {
        MAX_REPS
    }

    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        let reps = reps.count;
        for _ in 0..reps {
            self.dispatch(pass);
        }
        self.encoded += reps as u64;
    }

    fn verify(self, _timed: &Timed) -> Result<Check> {
        let mut check = self.check()?;
        if self.encoded == 0 {
            check.fail("no dispatch was recorded");
        }
        check.fact("dispatches", self.encoded);
        Ok(check)
    }
}
