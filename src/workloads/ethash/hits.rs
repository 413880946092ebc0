//! The search that also names its candidates, for `mine --algo ethash`: the
//! `search_hits` entry folds and counts exactly as `search` does (so the
//! suite's checks apply to it unchanged) and besides writes every nonce
//! whose final hash's top 32-bit word passes the target's into a bounded
//! buffer. The whole 256-bit comparison is the host's, on the CPU.

use anyhow::Result;

use super::kernel::{EthashKernel, Range};

/// The binding of the hit buffer in `ethash.wgsl`.
const HITS_BINDING: u32 = 13;
/// Words before the nonces: counter, target's top word, capacity, padding.
const HEAD_WORDS: u64 = 4;

/// Names a test dataset used instead of the block's epoch: the 1 KiB light
/// cache of an all-zero seed and its 32 KiB dataset (the vectors'
/// `tiny_for_gpu_unit_tests`), so tests search through the binary without
/// generating a real epoch.
pub const TINY_ENV: &str = "HASHFLOPS_ETHASH_TINY";
/// Bytes of that light cache and of its dataset.
pub const TINY_CACHE_BYTES: u64 = 1024;
pub const TINY_DATASET_BYTES: u64 = 32768;

/// What one dispatch reported.
#[derive(Debug, Default)]
pub struct Candidates {
    /// Nonces whose final hash's top word passed, in no particular order.
    pub nonces: Vec<u64>,
    /// How many passed, counting those past the buffer's capacity.
    pub count: u32,
}

impl Candidates {
    /// More passed than the buffer holds: the dispatch must be split.
    pub fn overflowed(&self) -> bool {
        self.count as usize > self.nonces.len()
    }
}

/// The hit-reporting search over a kernel's dataset.
pub struct HitSearch<'k, 'g> {
    kernel: &'k EthashKernel<'g>,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    hits: wgpu::Buffer,
    capacity: u32,
}

impl<'k, 'g> HitSearch<'k, 'g> {
    /// Compiles `search_hits` over `kernel`'s dataset and folds, with room
    /// for `capacity` candidates per dispatch.
    pub fn new(kernel: &'k EthashKernel<'g>, wgsl: &str, capacity: u32) -> Result<Self> {
        let gpu = kernel.gpu;
        // The kernel binds as many pages as leave room for the hits.
        let wgsl = super::pages::fit_pages(wgsl, kernel.bound)?;
        let mut bindings = super::kernel::search_bindings(kernel.bound);
        bindings.push((HITS_BINDING, false, false));
        let (bgl, layout) = gpu.storage_layout_at("ethash search_hits", &bindings);
        let pipeline =
            gpu.pipeline_with_layout("ethash", &wgsl, "search_hits", &[], Some(&layout))?;
        let bytes = (HEAD_WORDS + 2 * capacity as u64) * 4;
        let hits = gpu.storage_init("ethash hits", &vec![0u8; bytes as usize])?;
        let mut entries = kernel.entries();
        entries.push(wgpu::BindGroupEntry {
            binding: HITS_BINDING,
            resource: hits.as_entire_binding(),
        });
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("ethash search_hits"),
            layout: &bgl,
            entries: &entries,
        });
        Ok(HitSearch {
            kernel,
            pipeline,
            bind_group,
            hits,
            capacity,
        })
    }

    /// Hashes `range` (the folds go on from their current values) and
    /// returns the nonces whose final hash's top word is at most
    /// `target_top`.
    pub fn run(&self, header: &[u8; 32], range: Range, target_top: u32) -> Result<Candidates> {
        let k = self.kernel;
        let gpu = k.gpu;
        k.write_job(0, header, range);
        let head = [0u32, target_top, self.capacity, 0];
        gpu.queue
            .write_buffer(&self.hits, 0, bytemuck::cast_slice(&head));
        gpu.run_pass("running the Ethash hit search", |pass| {
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind_group, &[0]);
            let (x, y) = gpu.dispatch_dims(k.groups);
            pass.dispatch_workgroups(x, y, 1);
        })?;
        let raw = gpu.read(&self.hits, 0, 4)?;
        let count = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
        let kept = count.min(self.capacity) as u64;
        if kept == 0 {
            return Ok(Candidates {
                nonces: Vec::new(),
                count,
            });
        }
        let raw = gpu.read(&self.hits, HEAD_WORDS * 4, kept * 8)?;
        let nonces = raw
            .chunks_exact(8)
            .map(|c| {
                let lo = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                let hi = u32::from_le_bytes([c[4], c[5], c[6], c[7]]);
                ((hi as u64) << 32) | lo as u64
            })
            .collect();
        Ok(Candidates { nonces, count })
    }
}
