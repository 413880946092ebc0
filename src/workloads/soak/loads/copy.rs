//! The memory-bound load: an array copied between two buffers, each
//! repetition rotating it by its own offset, checked word for word.

use anyhow::Result;

use super::{bind, spec, Loads, RepGpu, REP_SLOTS, REP_STRIDE};
use crate::catalogue::{Metric, Soak};
use crate::domain::hash::mix32;
use crate::gpu::Gpu;
use crate::harness::{Check, Reps, Spec, Workload};
use crate::timing::Timed;

/// The copy's pipeline, its two buffers and the input they start from.
pub(super) struct CopyLoad {
    pipe: wgpu::ComputePipeline,
    /// `bind[0]` copies buffer 0 to buffer 1, `bind[1]` back.
    bind: [wgpu::BindGroup; 2],
    bufs: [wgpu::Buffer; 2],
    src: Vec<u32>,
    groups: u32,
}

impl CopyLoad {
    pub(super) fn new(gpu: &Gpu, soak_wgsl: &str, reps: &wgpu::Buffer) -> Result<Self> {
        let cpu = gpu.desc.is_cpu();
        let words: u32 = if cpu { 4 << 20 } else { 64 << 20 };
        let src: Vec<u32> = (0..words).map(|i| mix32(i ^ 0x0c0f_fee0)).collect();
        let bufs = [
            gpu.storage_init("soak copy a", bytemuck::cast_slice(&src))?,
            gpu.storage_init("soak copy b", &vec![0u8; words as usize * 4])?,
        ];
        let (bgl, layout) = gpu.storage_layout_at(
            "soak",
            &[(0, true, true), (4, true, false), (5, false, false)],
        );
        let pipe = gpu.pipeline_with_layout("soak", soak_wgsl, "copy", &[], Some(&layout))?;
        let bind = [
            bind(gpu, &bgl, reps, &[(4, &bufs[0]), (5, &bufs[1])]),
            bind(gpu, &bgl, reps, &[(4, &bufs[1]), (5, &bufs[0])]),
        ];
        Ok(CopyLoad {
            pipe,
            bind,
            bufs,
            src,
            groups: if cpu { 64 } else { 8192 },
        })
    }

    /// Puts the input back into the first buffer (at the next submit).
    pub(super) fn restore_input(&self, gpu: &Gpu) {
        gpu.queue
            .write_buffer(&self.bufs[0], 0, bytemuck::cast_slice(&self.src));
    }

    /// Records the second buffer's reset to zero.
    pub(super) fn clear_output(&self, enc: &mut wgpu::CommandEncoder) {
        enc.clear_buffer(&self.bufs[1], 0, None);
    }
}

/// The rotation of copy repetition `k` of `interval`: 1 ..= n - 1 words.
fn copy_offset(interval: usize, k: u64, n: u32) -> u32 {
    1 + mix32(k as u32 ^ mix32(interval as u32 ^ 0xc0b7_0ff5)) % (n - 1)
}

/// One interval of the copy: repetitions alternate between two buffers,
/// each rotating the array by its own offset.
pub struct CopyInterval<'a, 'g> {
    pub l: &'a Loads<'g>,
    pub interval: usize,
    pub t_s: f64,
    pub corrupt: bool,
}

impl Workload for CopyInterval<'_, '_> {
    fn spec(&self) -> Spec {
        spec(Soak::Copy, self.interval, self.t_s, Metric::Bandwidth)
    }
    fn work_per_rep(&self) -> f64 {
        self.l.copy.src.len() as f64 * 8.0
    }
    fn max_reps(&self) -> u32 {
        REP_SLOTS
    }
    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        let l = self.l;
        let interval = self.interval;
        let n = l.copy.src.len() as u32;
        l.write_reps(reps, |k| RepGpu {
            index: k as u32,
            offset: copy_offset(interval, k, n),
            ..Default::default()
        });
        pass.set_pipeline(&l.copy.pipe);
        for (slot, k) in reps.slots() {
            let dir = (k % 2) as usize;
            pass.set_bind_group(0, &l.copy.bind[dir], &[(slot as u64 * REP_STRIDE) as u32]);
            pass.dispatch_workgroups(l.copy.groups, 1, 1);
        }
    }
    fn verify(self, timed: &Timed) -> Result<Check> {
        let l = self.l;
        let src = &l.copy.src;
        let total = timed.total_reps;
        let n = src.len() as u64;
        // Repetition k writes buffer (k + 1) % 2: the last one, this.
        let last = &l.copy.bufs[(total % 2) as usize];
        if self.corrupt {
            l.corrupt(last, 4 * 4321, 9)?;
        }
        let raw = l.gpu.read(last, 0, n * 4)?;
        let got: &[u32] = bytemuck::cast_slice(&raw);
        let shift = (0..total)
            .map(|k| copy_offset(self.interval, k, n as u32) as u64)
            .fold(0u64, |a, o| (a + o) % n);
        let mut check = Check::default();
        // Every element, exactly: word d holds input word d - shift.
        let from = |d: usize| ((d as u64 + n - shift) % n) as usize;
        let bad: Vec<usize> = (0..got.len()).filter(|&d| got[d] != src[from(d)]).collect();
        for &d in bad.iter().take(4) {
            check.fail(format!(
                "copy element {d}: {:08x}, but {total} repetitions rotating by {shift} in all put input word {} ({:08x}) there",
                got[d],
                from(d),
                src[from(d)]
            ));
        }
        if !bad.is_empty() {
            check.fail(format!(
                "copy: {} of {n} words differ from the input rotated by every repetition's offset",
                bad.len()
            ));
        }
        check.account(total);
        check.fact("cpu_checked_share", 1);
        Ok(check)
    }
}
