//! The dataset's generation on the GPU: each 64-byte item from the light
//! cache (256 parents, FNV), as the shader's `generate` computes it.

use anyhow::{bail, Result};
use bytemuck::{Pod, Zeroable};

use super::kernel::{entry, recip, to_items, WORKGROUP};
use super::reference::{Item, HASH_BYTES};
use crate::gpu::Gpu;

/// Items one generation dispatch computes: short enough for a desktop
/// driver's watchdog on a slow card.
const GEN_CHUNK: u32 = 1 << 16;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GenJobGpu {
    a: [u32; 4],
    b: [u32; 4],
}

/// The generation kernel with the light cache uploaded.
pub struct Generator<'g> {
    gpu: &'g Gpu,
    pipeline: wgpu::ComputePipeline,
    bgl: wgpu::BindGroupLayout,
    cache: wgpu::Buffer,
    job: wgpu::Buffer,
    items: u32,
}

impl<'g> Generator<'g> {
    pub fn new(gpu: &'g Gpu, wgsl: &str, cache: &[Item]) -> Result<Self> {
        let cache_bytes = cache.len() as u64 * HASH_BYTES;
        if cache_bytes > gpu.limits.max_storage_buffer_binding_size {
            bail!("the light cache ({cache_bytes} B) exceeds the adapter's storage binding");
        }
        let (bgl, layout) = gpu.storage_layout_at(
            "ethash generate",
            &[(10, true, false), (11, true, false), (12, false, false)],
        );
        let pipeline = gpu.pipeline_with_layout("ethash", wgsl, "generate", &[], Some(&layout))?;
        let words: Vec<u32> = cache.iter().flatten().copied().collect();
        Ok(Generator {
            gpu,
            pipeline,
            bgl,
            cache: gpu.storage_init("ethash cache", bytemuck::cast_slice(&words))?,
            job: gpu.storage_init("ethash generate job", &[0u8; 32])?,
            items: cache.len() as u32,
        })
    }

    /// Writes items `first..first + count` to the start of `page`, a
    /// chunk per submission; returns the seconds the GPU took.
    pub fn fill(&self, page: &wgpu::Buffer, first: u32, count: u32) -> Result<f64> {
        self.fill_with(page, first, count, &mut |_| {})
    }

    /// Writes items `first..first + count` at item `at` of `page`.
    pub fn fill_at(&self, page: &wgpu::Buffer, first: u32, count: u32, at: u32) -> Result<f64> {
        self.fill_from(page, (first, count, at), &mut |_| {})
    }

    /// As [`Generator::fill`], telling `done` how many items are written
    /// after every submission.
    pub fn fill_with(
        &self,
        page: &wgpu::Buffer,
        first: u32,
        count: u32,
        done_so_far: &mut dyn FnMut(u32),
    ) -> Result<f64> {
        self.fill_from(page, (first, count, 0), done_so_far)
    }

    /// Items `first..first + count` written from item `at` of `page`.
    fn fill_from(
        &self,
        page: &wgpu::Buffer,
        (first, count, at): (u32, u32, u32),
        done_so_far: &mut dyn FnMut(u32),
    ) -> Result<f64> {
        let gpu = self.gpu;
        let bind = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("ethash generate"),
            layout: &self.bgl,
            entries: &[
                entry(10, &self.job),
                entry(11, &self.cache),
                entry(12, page),
            ],
        });
        let n = self.items;
        let mut seconds = 0.0;
        let mut done = 0u32;
        while done < count {
            let chunk = (count - done).min(GEN_CHUNK);
            let g = GenJobGpu {
                a: [first + done, chunk, n, recip(n)],
                b: [(at + done) * 4, 0, 0, 0],
            };
            gpu.queue.write_buffer(&self.job, 0, bytemuck::bytes_of(&g));
            let (x, y) = gpu.dispatch_dims(chunk.div_ceil(WORKGROUP));
            seconds += gpu.run_pass("generating the Ethash dataset", |pass| {
                pass.set_pipeline(&self.pipeline);
                pass.set_bind_group(0, &bind, &[]);
                pass.dispatch_workgroups(x, y, 1);
            })?;
            done += chunk;
            done_so_far(done);
        }
        Ok(seconds)
    }

    /// Items `first..first + count` computed on the GPU and read back
    /// (explicit indices anywhere in an epoch, without its dataset).
    pub fn items(&self, first: u32, count: u32) -> Result<Vec<Item>> {
        let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC;
        let page = self
            .gpu
            .buffer("ethash items", count as u64 * HASH_BYTES, usage)?;
        self.fill(&page, first, count)?;
        let raw = self.gpu.read(&page, 0, count as u64 * HASH_BYTES)?;
        Ok(to_items(&raw))
    }
}
