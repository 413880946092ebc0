//! The three loads of the soak. Every repetition does distinct work (its
//! own nonce range, its own FMA starts, its own copy rotation) and each
//! interval's check replays every repetition it recorded on the CPU.

mod copy;
mod fma;
mod hash;

use anyhow::Result;
use bytemuck::{Pod, Zeroable};

use crate::catalogue::{Fact, Kernel, Metric, Params, Soak};
use crate::gpu::Gpu;
use crate::harness::{Reps, Spec};
use copy::CopyLoad;
use fma::FmaLoad;
use hash::HashLoad;

pub use copy::CopyInterval;
pub use fma::FmaInterval;
pub use hash::HashInterval;

/// Which result a test corrupts once (library-level fault injection).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Load {
    Hash,
    Fma,
    Copy,
}

/// One repetition's slot, as the shader's `Rep` reads it.
#[derive(Clone, Copy, Pod, Zeroable, Default)]
#[repr(C)]
struct RepGpu {
    index: u32,
    seed: u32,
    offset: u32,
    pad: u32,
}

/// Dynamic offsets must be multiples of this (WebGPU's largest alignment).
const REP_STRIDE: u64 = 256;
/// Repetition slots: the most repetitions one FMA or copy sample records.
const REP_SLOTS: u32 = 4096;

/// Buffers and pipelines of the three loads, built once.
pub struct Loads<'g> {
    gpu: &'g Gpu,
    /// One [`RepGpu`] per slot, `REP_STRIDE` apart.
    reps: wgpu::Buffer,
    fma: FmaLoad,
    copy: CopyLoad,
    hash: HashLoad<'g>,
}

impl<'g> Loads<'g> {
    pub fn new(gpu: &'g Gpu, soak_wgsl: &str, sha_wgsl: &str) -> Result<Self> {
        let reps = gpu.buffer(
            "soak repetitions",
            REP_STRIDE * REP_SLOTS as u64,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        )?;
        let fma = FmaLoad::new(gpu, soak_wgsl, &reps)?;
        let copy = CopyLoad::new(gpu, soak_wgsl, &reps)?;
        let hash = HashLoad::new(gpu, sha_wgsl)?;
        Ok(Loads {
            gpu,
            reps,
            fma,
            copy,
            hash,
        })
    }

    /// Resets every load to its start: the FMA sums and the second copy
    /// buffer to zero, the first copy buffer to the input, the hash hits
    /// and coverage words to none. An interval's check replays its own
    /// repetitions from there, so one that did nothing cannot pass on the
    /// previous interval's results.
    pub fn clear(&self) -> Result<()> {
        self.copy.restore_input(self.gpu);
        self.hash.reset();
        let mut enc = self.gpu.device.create_command_encoder(&Default::default());
        self.fma.clear(&mut enc);
        self.copy.clear_output(&mut enc);
        self.gpu.queue.submit([enc.finish()]);
        self.gpu.wait()?;
        self.gpu.check_errors("clearing the soak outputs")
    }

    /// Writes repetition slots `0..reps.count` (in effect at the next submit).
    fn write_reps(&self, reps: Reps, slot: impl Fn(u64) -> RepGpu) {
        let mut bytes = vec![0u8; REP_STRIDE as usize * reps.count as usize];
        for (s, k) in reps.slots() {
            let at = s as usize * REP_STRIDE as usize;
            bytes[at..at + 16].copy_from_slice(bytemuck::bytes_of(&slot(k)));
        }
        self.gpu.queue.write_buffer(&self.reps, 0, &bytes);
    }

    /// Flips bit `bit` of one output word, as a faulty card would.
    fn corrupt(&self, buf: &wgpu::Buffer, at: u64, bit: u32) -> Result<()> {
        let raw = self.gpu.read(buf, at, 4)?;
        let w = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) ^ (1 << bit);
        self.gpu.queue.write_buffer(buf, at, &w.to_le_bytes());
        self.gpu.queue.submit([]);
        self.gpu.wait()
    }
}

/// Binding 0 is one repetition slot of `reps` (by dynamic offset).
fn bind(
    gpu: &Gpu,
    bgl: &wgpu::BindGroupLayout,
    reps: &wgpu::Buffer,
    bufs: &[(u32, &wgpu::Buffer)],
) -> wgpu::BindGroup {
    let mut entries = vec![wgpu::BindGroupEntry {
        binding: 0,
        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: reps,
            offset: 0,
            size: wgpu::BufferSize::new(std::mem::size_of::<RepGpu>() as u64),
        }),
    }];
    entries.extend(bufs.iter().map(|(b, buf)| wgpu::BindGroupEntry {
        binding: *b,
        resource: buf.as_entire_binding(),
    }));
    gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("soak"),
        layout: bgl,
        entries: &entries,
    })
}

fn spec(kernel: Soak, interval: usize, t_s: f64, metric: Metric) -> Spec {
    Spec {
        kernel: Kernel::Soak(kernel),
        params: Params::new()
            .with(Fact::Interval(interval as u64))
            .with(Fact::StartS(t_s)),
        metric,
        latency: false,
    }
}
