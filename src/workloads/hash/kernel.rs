//! The compiled hash loop: job slots (one per dispatch, by dynamic
//! offset), the hit buffer and the coverage buffer.

use anyhow::Result;
use bytemuck::{Pod, Zeroable};

use super::{Dispatched, Hits, NonceRange, JOB_STRIDE, WORKGROUP};
use crate::gpu::Gpu;
use crate::sha::Prepared;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct JobGpu {
    s0: [u32; 4],
    s1: [u32; 4],
    m0: [u32; 4],
    m1: [u32; 4],
    wa: [u32; 4],
    wb: [u32; 4],
    wc: [u32; 4],
}

/// The compiled hash loop with its job slots and hit buffer.
pub struct HashKernel<'g> {
    gpu: &'g Gpu,
    pipeline: wgpu::ComputePipeline,
    jobs: wgpu::Buffer,
    hits: wgpu::Buffer,
    hits_cap: u32,
    cover: wgpu::Buffer,
    /// Words in `cover`: one per invocation of the largest dispatch.
    cover_words: u32,
    bind_group: wgpu::BindGroup,
    slots: u32,
    /// Workgroups per dispatch: enough to fill the adapter.
    pub groups: u32,
    /// Nonces one workgroup tests per loop iteration.
    pub per_group_iter: u64,
    /// Nonces one invocation tests per loop iteration.
    pub lanes: u32,
}

/// Reads `const LANES: u32 = N` (or `Nu`) from the shader source.
pub fn shader_lanes(wgsl: &str) -> Result<u32> {
    for line in wgsl.lines() {
        if let Some(rest) = line.trim().strip_prefix("const LANES: u32 =") {
            let v = rest
                .trim()
                .trim_end_matches(';')
                .trim()
                .trim_end_matches('u');
            if let Ok(n) = v.parse::<u32>() {
                if (1..=4).contains(&n) {
                    return Ok(n);
                }
            }
        }
    }
    anyhow::bail!("the sha256d shader does not declare `const LANES: u32 = N;` with N in 1..=4")
}

impl<'g> HashKernel<'g> {
    pub fn new(gpu: &'g Gpu, wgsl: &str, slots: u32, hits_cap: u32) -> Result<Self> {
        let lanes = shader_lanes(wgsl)?;
        // The job (read-only, one slot per dispatch by dynamic offset) and
        // the hit buffer.
        let (bgl, layout) =
            gpu.storage_layout("sha256d", &[(true, true), (false, false), (false, false)]);
        let pipeline = gpu.pipeline_with_layout("sha256d", wgsl, "main", &[], Some(&layout))?;
        let jobs = gpu.buffer(
            "sha256d jobs",
            JOB_STRIDE * slots as u64,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        )?;
        let hits = gpu.storage_init("sha256d hits", &vec![0u8; 8 + 8 * hits_cap as usize])?;
        // A CPU adapter runs a few workgroups per core at once; a GPU needs
        // hundreds of thousands of invocations in flight.
        let groups: u32 = if gpu.desc.is_cpu() { 256 } else { 8192 };
        let (gx, gy) = gpu.dispatch_dims(groups);
        let cover_words = gx * gy * WORKGROUP;
        let cover = gpu.storage_init("sha256d coverage", &vec![0u8; 4 * cover_words as usize])?;
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("sha256d"),
            layout: &bgl,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &jobs,
                        offset: 0,
                        size: wgpu::BufferSize::new(std::mem::size_of::<JobGpu>() as u64),
                    }),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: hits.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: cover.as_entire_binding(),
                },
            ],
        });
        Ok(HashKernel {
            gpu,
            pipeline,
            jobs,
            hits,
            hits_cap,
            cover,
            cover_words,
            bind_group,
            slots,
            groups,
            per_group_iter: (WORKGROUP * lanes) as u64,
            lanes,
        })
    }

    /// Loop iterations per invocation so one dispatch covers `count` nonces.
    pub fn geometry(&self, count: u32) -> (u32, u32) {
        let groups = (count as u64)
            .div_ceil(self.per_group_iter)
            .clamp(1, self.groups as u64) as u32;
        let iters = (count as u64).div_ceil(groups as u64 * self.per_group_iter) as u32;
        (groups, iters.max(1))
    }

    /// Writes the job for `range` into `slot` (takes effect at the next
    /// submit); returns the workgroups to dispatch and what the dispatch
    /// will do, for the coverage check.
    pub fn write_job(
        &self,
        slot: u32,
        p: &Prepared,
        range: NonceRange,
        target_top: u32,
    ) -> (u32, Dispatched) {
        let (groups, iters) = self.geometry(range.count);
        let m = &p.midstate;
        let s = &p.state3;
        let job = JobGpu {
            s0: [s[0], s[1], s[2], s[3]],
            s1: [s[4], s[5], s[6], s[7]],
            m0: [m[0], m[1], m[2], m[3]],
            m1: [m[4], m[5], m[6], m[7]],
            wa: [p.w[0], p.w[1], p.w[2], p.w16],
            wb: [p.w17, range.first, range.count, range.variant],
            wc: [target_top, iters, 0, 0],
        };
        self.gpu.queue.write_buffer(
            &self.jobs,
            slot as u64 * JOB_STRIDE,
            bytemuck::bytes_of(&job),
        );
        let (x, y) = self.gpu.dispatch_dims(groups);
        let done = Dispatched {
            range,
            invocations: x * y * WORKGROUP,
            iterations: iters,
            lanes: self.lanes,
        };
        (groups, done)
    }

    pub fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, slot: u32, groups: u32) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[(slot as u64 * JOB_STRIDE) as u32]);
        let (x, y) = self.gpu.dispatch_dims(groups);
        pass.dispatch_workgroups(x, y, 1);
    }

    pub fn reset_cover(&self) {
        self.gpu
            .queue
            .write_buffer(&self.cover, 0, &vec![0u8; 4 * self.cover_words as usize]);
    }

    /// One word per invocation: the sums of top words the dispatches added.
    pub fn read_cover(&self) -> Result<Vec<u32>> {
        let raw = self.gpu.read(&self.cover, 0, 4 * self.cover_words as u64)?;
        Ok(bytemuck::cast_slice::<u8, u32>(&raw).to_vec())
    }

    pub fn reset_hits(&self) {
        self.gpu.queue.write_buffer(&self.hits, 0, &[0u8; 8]);
    }

    pub fn read_hits(&self) -> Result<Hits> {
        let head = self.gpu.read(&self.hits, 0, 8)?;
        let counted = u32::from_le_bytes(head[0..4].try_into().unwrap());
        let n = counted.min(self.hits_cap);
        let items = if n > 0 {
            let raw = self.gpu.read(&self.hits, 8, 8 * n as u64)?;
            bytemuck::cast_slice::<u8, u32>(&raw)
                .chunks_exact(2)
                .map(|c| (c[0], c[1]))
                .collect()
        } else {
            Vec::new()
        };
        Ok(Hits { counted, items })
    }

    /// Searches `ranges` (at most `slots` of them, each <= 2^31 nonces) of
    /// the given header variants in one submission and returns the hits.
    pub fn search(
        &self,
        preps: &[Prepared],
        ranges: &[NonceRange],
        target_top: u32,
    ) -> Result<Hits> {
        Ok(self.search_with_cover(preps, ranges, target_top)?.0)
    }

    /// As [`HashKernel::search`], also returning the coverage words and
    /// what each dispatch did, for [`super::check_coverage`].
    pub fn search_with_cover(
        &self,
        preps: &[Prepared],
        ranges: &[NonceRange],
        target_top: u32,
    ) -> Result<(Hits, Vec<u32>, Vec<Dispatched>)> {
        assert!(ranges.len() as u32 <= self.slots);
        self.reset_hits();
        self.reset_cover();
        let jobs: Vec<(u32, Dispatched)> = ranges
            .iter()
            .enumerate()
            .map(|(i, r)| self.write_job(i as u32, &preps[r.variant as usize], *r, target_top))
            .collect();
        self.gpu.run_pass("running the hash loop", |pass| {
            for (i, (g, _)) in jobs.iter().enumerate() {
                self.dispatch(pass, i as u32, *g);
            }
        })?;
        let hits = self.read_hits()?;
        let cover = self.read_cover()?;
        Ok((hits, cover, jobs.into_iter().map(|(_, d)| d).collect()))
    }
}
