//! One compiled peak kernel with its buffers: sizing (untimed), the timed
//! dispatches, and the read-back of what they stored together.
//!
//! Each dispatch is one repetition and reads its own `Params` slot (one
//! bind group per slot), which carries the repetition's index; every chain
//! starts from a hash of that index and of what the chain stored in the
//! previous repetition. The output is zeroed once before timing.

use anyhow::Result;
use bytemuck::{Pod, Zeroable};

use super::{replay, verify, Kernel};
use crate::catalogue::{self, Metric};
use crate::gpu::Gpu;
use crate::harness::{Check, Reps, Spec, Workload};
use crate::timing::Timed;

const DISPATCH_TARGET_S: f64 = 0.02;
const MAX_REPS: u32 = 64;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug)]
struct Params {
    iters: u32,
    seed: u32,
    rep: u32,
    pad: u32,
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
    /// One per params slot.
    bind_groups: Vec<wgpu::BindGroup>,
    out: wgpu::Buffer,
    params: wgpu::Buffer,
    stride: u64,
    /// Repetitions recorded through the harness since the output was
    /// zeroed, in order of their indices.
    encoded: Vec<u64>,
    /// Reasons the row may not be reported (e.g. an fma in the unfused
    /// kernel as loaded).
    pub refused: Vec<String>,
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
        let psize = std::mem::size_of::<Params>() as u64;
        let align = (gpu.limits.min_storage_buffer_offset_alignment as u64).max(1);
        let stride = psize.div_ceil(align) * align;
        let slots = vec![0u8; (stride * MAX_REPS as u64) as usize];
        let params_buf = gpu.storage_init("peak params", &slots)?;
        let layout = pipeline.get_bind_group_layout(0);
        let bind_groups = (0..MAX_REPS as u64)
            .map(|slot| {
                gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("peak"),
                    layout: &layout,
                    entries: &[
                        wgpu::BindGroupEntry {
                            binding: kernel.binding(),
                            resource: out.as_entire_binding(),
                        },
                        wgpu::BindGroupEntry {
                            binding: 1,
                            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                                buffer: &params_buf,
                                offset: slot * stride,
                                size: wgpu::BufferSize::new(psize),
                            }),
                        },
                    ],
                })
            })
            .collect();
        gpu.check_errors("setting up a peak kernel")?;
        let mut k = PeakKernel {
            gpu,
            kernel,
            chains,
            wg,
            groups,
            iters: 1,
            pipeline,
            bind_groups,
            out,
            params: params_buf,
            stride,
            encoded: Vec::new(),
            refused: Vec::new(),
        };
        k.set_iters(1);
        k.prime();
        Ok(k)
    }

    /// The fastest chain count, sized so one dispatch takes about 20 ms
    /// (or runs `max_iters`), its output zeroed for the timed run.
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
        k.prime();
        Ok(k)
    }

    pub fn invocations(&self) -> u32 {
        self.groups * self.wg
    }

    /// FLOPs (or operations) in one dispatch.
    pub fn work(&self) -> f64 {
        self.invocations() as f64 * self.iters as f64 * self.kernel.work_per_iter(self.chains)
    }

    /// Sets the iteration count (slot 0 serves the untimed sizing runs).
    pub fn set_iters(&mut self, iters: u32) {
        self.iters = iters.clamp(1, self.kernel.max_iters());
        self.write_slot(0, 0);
    }

    fn write_slot(&self, slot: u32, rep: u32) {
        let p = params(self.kernel, self.iters, rep);
        self.gpu.queue.write_buffer(
            &self.params,
            slot as u64 * self.stride,
            bytemuck::bytes_of(&p),
        );
    }

    /// Zeroes the output: the value every chain's first repetition links
    /// to. Repetitions recorded from here on are the ones verified.
    pub fn prime(&mut self) {
        let size = self.out.size() as usize;
        self.gpu.queue.write_buffer(&self.out, 0, &vec![0u8; size]);
        self.encoded.clear();
    }

    fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, slot: u32) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_groups[slot as usize], &[]);
        pass.dispatch_workgroups(self.groups, 1, 1);
    }

    /// One dispatch, waited for; wall seconds.
    pub fn run_once(&self) -> Result<f64> {
        self.gpu
            .run_pass("running a peak kernel", |pass| self.dispatch(pass, 0))
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

    /// Reads the output back and checks it against the CPU replay of the
    /// repetitions recorded since [`PeakKernel::prime`].
    pub fn check(&self) -> Result<Check> {
        let raw = self.gpu.read(&self.out, 0, self.out.size())?;
        let reps: Vec<u32> = self.encoded.iter().map(|&r| r as u32).collect();
        Ok(verify::check(
            &verify::Shape {
                kernel: self.kernel,
                chains: self.chains,
                iters: self.iters,
                invocations: self.invocations(),
            },
            &reps,
            &raw,
        ))
    }
}

fn params(kernel: Kernel, iters: u32, rep: u32) -> Params {
    let (f, k) = kernel.coefficients();
    Params {
        iters,
        seed: replay::SEED,
        rep,
        pad: 0,
        f,
        k,
    }
}

impl Workload for PeakKernel<'_> {
    fn spec(&self) -> Spec {
        let shape = if self.kernel == Kernel::Sha256Round {
            ("states", "vec4".to_string())
        } else {
            let (lanes, bytes) = self.kernel.lanes_and_bytes();
            (
                "chains",
                format!("{}x{lanes}x{}bit", self.chains, bytes * 8),
            )
        };
        let mut params = catalogue::Params::new()
            .detail(shape.0, shape.1)
            .detail("iters", self.iters)
            .detail("invocations", self.invocations())
            .detail("wg", self.wg);
        for (k, v) in self.kernel.counting() {
            params = params.detail(k, v);
        }
        Spec {
            kernel: catalogue::Kernel::Peak(self.kernel),
            params,
            metric: Metric::PeakRate,
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
        // The harness keeps a run within max_reps, so each repetition of
        // one pass has its own params slot (written before the submit).
        for (slot, index) in reps.slots() {
            let slot = slot.min(MAX_REPS - 1);
            self.write_slot(slot, index as u32);
            self.dispatch(pass, slot);
            self.encoded.push(index);
        }
    }

    fn verify(self, timed: &Timed) -> Result<Check> {
        let mut check = self.check()?;
        for r in &self.refused {
            check.fail(r.clone());
        }
        let n = self.encoded.len() as u64;
        let in_order = self.encoded.iter().copied().eq(0..n);
        if n != timed.total_reps || !in_order {
            check.fail(format!(
                "{n} dispatches were recorded, not repetitions 0..{} in order",
                timed.total_reps
            ));
        } else {
            // The replay above ran every recorded repetition in order.
            check.account(n);
        }
        check.fact("dispatches", n);
        Ok(check)
    }
}
