//! The compiled Ethash kernels: the dataset in pages (one storage binding
//! each, so a dataset larger than the adapter's binding limit still fits),
//! its generation from the light cache, and the hashimoto search with one
//! job slot per dispatch and a per-invocation fold carried across them.

use anyhow::{bail, Result};
use bytemuck::{Pod, Zeroable};

pub use super::generate::Generator;
use super::reference::{Item, HASH_BYTES, MIX_BYTES};
use crate::gpu::Gpu;

pub const WGSL: &str = include_str!("../../../shaders/ethash.wgsl");
/// The shader's name, for `--shader-dir` (`ethash.wgsl`).
pub const SHADER: &str = "ethash";
/// Dataset bindings the shader declares.
pub const PAGES: u32 = 24;
/// The binding of page 0; page k is at `FIRST_PAGE + k`.
const FIRST_PAGE: u32 = 20;
/// The binding of the per-invocation folds.
const OUT_BINDING: u32 = 9;
pub(super) const WORKGROUP: u32 = 64;
/// Dynamic offsets must be multiples of this on every adapter.
const JOB_STRIDE: u64 = 256;

/// `floor((2^32 - 1) / n)`, which the shader's `mod_n` divides by.
pub fn recip(n: u32) -> u32 {
    u32::MAX / n
}

/// The shader's `mod_n`, for the tests of its bound.
pub fn mod_n(x: u32, n: u32, recip: u32) -> u32 {
    let q = ((x as u64 * recip as u64) >> 32) as u32;
    let mut r = x.wrapping_sub(q.wrapping_mul(n));
    for _ in 0..2 {
        if r >= n {
            r -= n;
        }
    }
    r
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct JobGpu {
    header: [u32; 8],
    nonce: [u32; 4],
    rows: [u32; 4],
}

/// One dispatch of the search: its nonces and geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    /// The nonce of index j is `(hi << 32) | (first + j)`.
    pub hi: u32,
    pub first: u32,
    pub count: u32,
    /// Nonces each invocation hashes at most.
    pub iterations: u32,
}

impl Range {
    pub fn nonce(&self, j: u32) -> u64 {
        ((self.hi as u64) << 32) | self.first.wrapping_add(j) as u64
    }
}

/// How a dataset of `rows` 128-byte rows is split: pages of
/// `2^shift` rows, at most `bound` of them.
pub fn page_shift(rows: u64, max_binding: u64, bound: u32) -> Result<u32> {
    let shift = (max_binding / MIX_BYTES).max(1).ilog2().min(27);
    if rows.div_ceil(1 << shift) > bound as u64 {
        bail!(
            "the dataset ({rows} rows of 128 B) needs more than {bound} storage bindings of {} B",
            (1u64 << shift) * MIX_BYTES
        );
    }
    Ok(shift)
}

/// The dataset on the GPU and the pipelines over it.
pub struct EthashKernel<'g> {
    pub(super) gpu: &'g Gpu,
    /// Dataset pages the search binds (fewer than [`PAGES`] where the
    /// adapter allows fewer storage buffers).
    pub bound: u32,
    search: wgpu::ComputePipeline,
    jobs: wgpu::Buffer,
    pages: Vec<wgpu::Buffer>,
    out: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    slots: u32,
    pub rows: u32,
    pub shift: u32,
    /// Workgroups per search dispatch.
    pub groups: u32,
    /// Invocations of every search dispatch (the whole grid).
    pub invocations: u32,
}

impl<'g> EthashKernel<'g> {
    /// Allocates the dataset for `rows` rows and compiles the kernels;
    /// `groups` workgroups per search dispatch, `slots` dispatches per pass.
    pub fn new(gpu: &'g Gpu, wgsl: &str, rows: u32, groups: u32, slots: u32) -> Result<Self> {
        let per_stage = gpu.limits.max_storage_buffers_per_shader_stage;
        let Some(bound) = super::pages::bound_pages(per_stage) else {
            bail!("the search binds at least 4 storage buffers; the adapter allows {per_stage}");
        };
        let shift = page_shift(
            rows as u64,
            gpu.limits.max_storage_buffer_binding_size,
            bound,
        )?;
        // Only the pages the dataset fills are declared and bound: fewer
        // cases in the search's switch over them.
        let bound = (rows as u64).div_ceil(1 << shift) as u32;
        let wgsl = super::pages::fit_pages(wgsl, bound)?;
        let (bgl, layout) = gpu.storage_layout_at("ethash search", &search_bindings(bound));
        let search = gpu.pipeline_with_layout("ethash", &wgsl, "search", &[], Some(&layout))?;
        let usage = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_SRC
            | wgpu::BufferUsages::COPY_DST;
        let page_rows = 1u64 << shift;
        let pages = (0..(rows as u64).div_ceil(page_rows))
            .map(|p| {
                let n = (rows as u64 - p * page_rows).min(page_rows);
                gpu.buffer(&format!("ethash dataset page {p}"), n * MIX_BYTES, usage)
            })
            .collect::<Result<Vec<_>>>()?;
        let jobs = gpu.buffer("ethash jobs", JOB_STRIDE * slots as u64, usage)?;
        let (x, y) = gpu.dispatch_dims(groups);
        let invocations = x * y * WORKGROUP;
        let out = gpu.storage_init("ethash folds", &vec![0u8; 8 * invocations as usize])?;
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("ethash search"),
            layout: &bgl,
            entries: &search_entries(&jobs, &pages, &out, bound),
        });
        Ok(EthashKernel {
            gpu,
            bound,
            search,
            jobs,
            pages,
            out,
            bind_group,
            slots,
            rows,
            shift,
            groups,
            invocations,
        })
    }

    /// Computes the whole dataset from `cache` on the GPU; returns the
    /// seconds it took (submit to completion, summed over dispatches).
    pub fn generate(&self, wgsl: &str, cache: &[Item]) -> Result<f64> {
        self.generate_with(wgsl, cache, |_, _| {})
    }

    /// As [`EthashKernel::generate`], telling `progress` (items done, of
    /// how many) after every dispatch: a whole epoch takes minutes on a
    /// CPU adapter.
    pub fn generate_with(
        &self,
        wgsl: &str,
        cache: &[Item],
        mut progress: impl FnMut(u64, u64),
    ) -> Result<f64> {
        let g = Generator::new(self.gpu, wgsl, cache)?;
        let items_per_page = 2u64 << self.shift;
        let total = 2 * self.rows as u64;
        let mut seconds = 0.0;
        for (p, page) in self.pages.iter().enumerate() {
            let first = p as u64 * items_per_page;
            let count = (page.size() / HASH_BYTES) as u32;
            seconds += g.fill_with(page, first as u32, count, &mut |done| {
                progress(first + done as u64, total)
            })?;
        }
        Ok(seconds)
    }

    /// Computes only dataset rows `rows` (both items of each, in place):
    /// the rows known hashes read, so that a dataset too large to generate
    /// in a test's time is still searched at its full size.
    pub fn generate_rows(&self, wgsl: &str, cache: &[Item], rows: &[u32]) -> Result<()> {
        let g = Generator::new(self.gpu, wgsl, cache)?;
        for &row in rows {
            if row >= self.rows {
                bail!("row {row} of a dataset of {} rows", self.rows);
            }
            let page = &self.pages[(row >> self.shift) as usize];
            let within = row & ((1 << self.shift) - 1);
            g.fill_at(page, 2 * row, 2, 2 * within)?;
        }
        Ok(())
    }

    /// The bindings of the search, as a bind group's entries.
    pub(super) fn entries(&self) -> Vec<wgpu::BindGroupEntry<'_>> {
        search_entries(&self.jobs, &self.pages, &self.out, self.bound)
    }

    /// Reads 64-byte items `first..first + count` of the dataset back.
    pub fn read_items(&self, first: u64, count: u64) -> Result<Vec<Item>> {
        let mut out = Vec::with_capacity(count as usize);
        let per_page = 2u64 << self.shift;
        let mut at = first;
        while at < first + count {
            let page = &self.pages[(at / per_page) as usize];
            let within = at % per_page;
            let n = (first + count - at).min(per_page - within).min(1 << 20);
            let raw = self.gpu.read(page, within * HASH_BYTES, n * HASH_BYTES)?;
            out.extend(to_items(&raw));
            at += n;
        }
        Ok(out)
    }

    /// Writes the job of `range` into `slot` (takes effect at the next
    /// submit).
    pub fn write_job(&self, slot: u32, header: &[u8; 32], range: Range) {
        let mut h = [0u32; 8];
        for (w, c) in h.iter_mut().zip(header.chunks_exact(4)) {
            *w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        let job = JobGpu {
            header: h,
            nonce: [range.first, range.count, range.hi, range.iterations],
            rows: [
                self.rows,
                recip(self.rows),
                self.shift,
                (1 << self.shift) - 1,
            ],
        };
        self.gpu.queue.write_buffer(
            &self.jobs,
            slot as u64 * JOB_STRIDE,
            bytemuck::bytes_of(&job),
        );
    }

    pub fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, slot: u32) {
        assert!(slot < self.slots, "job slot {slot} of {}", self.slots);
        pass.set_pipeline(&self.search);
        pass.set_bind_group(0, &self.bind_group, &[(slot as u64 * JOB_STRIDE) as u32]);
        let (x, y) = self.gpu.dispatch_dims(self.groups);
        pass.dispatch_workgroups(x, y, 1);
    }

    /// Iterations per invocation so one dispatch covers `count` nonces.
    pub fn iterations(&self, count: u32) -> u32 {
        count.div_ceil(self.invocations).max(1)
    }

    pub fn reset_out(&self) {
        let zeros = vec![0u8; 8 * self.invocations as usize];
        self.gpu.queue.write_buffer(&self.out, 0, &zeros);
    }

    /// Per invocation: (fold, nonces hashed).
    pub fn read_out(&self) -> Result<Vec<[u32; 2]>> {
        let raw = self.gpu.read(&self.out, 0, 8 * self.invocations as u64)?;
        Ok(raw
            .chunks_exact(8)
            .map(|c| {
                let w = |i: usize| u32::from_le_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
                [w(0), w(4)]
            })
            .collect())
    }

    /// Hashes `ranges` (one dispatch each, in order) in one submission.
    pub fn run(&self, header: &[u8; 32], ranges: &[Range]) -> Result<f64> {
        for (i, r) in ranges.iter().enumerate() {
            self.write_job(i as u32, header, *r);
        }
        self.gpu.run_pass("running the Ethash search", |pass| {
            for i in 0..ranges.len() {
                self.dispatch(pass, i as u32);
            }
        })
    }
}

/// The search's layout: the job (binding 0, at a dynamic offset), the
/// folds, and `bound` pages.
pub(super) fn search_bindings(bound: u32) -> Vec<(u32, bool, bool)> {
    let mut bindings = vec![(0, true, true), (OUT_BINDING, false, false)];
    bindings.extend((0..bound).map(|b| (FIRST_PAGE + b, true, false)));
    bindings
}

/// Binding 0 (the job, at a dynamic offset), the folds and the pages.
fn search_entries<'a>(
    jobs: &'a wgpu::Buffer,
    pages: &'a [wgpu::Buffer],
    out: &'a wgpu::Buffer,
    bound: u32,
) -> Vec<wgpu::BindGroupEntry<'a>> {
    let mut entries = vec![wgpu::BindGroupEntry {
        binding: 0,
        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: jobs,
            offset: 0,
            size: wgpu::BufferSize::new(std::mem::size_of::<JobGpu>() as u64),
        }),
    }];
    entries.push(entry(OUT_BINDING, out));
    for (b, page) in pages.iter().take(bound as usize).enumerate() {
        entries.push(entry(FIRST_PAGE + b as u32, page));
    }
    entries
}

pub(super) fn to_items(raw: &[u8]) -> Vec<Item> {
    raw.chunks_exact(64)
        .map(|c| {
            let mut it = [0u32; 16];
            for (w, b) in it.iter_mut().zip(c.chunks_exact(4)) {
                *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
            it
        })
        .collect()
}

pub(super) fn entry(binding: u32, buf: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: buf.as_entire_binding(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reciprocal_modulo_is_exact() {
        let mut x = 0x9e37_79b9u32;
        for n in [
            1u32,
            2,
            3,
            16,
            256,
            8_388_593,
            262_139,
            1 << 27,
            u32::MAX / 3,
        ] {
            let r = recip(n);
            for edge in [0, 1, n - 1, n, n.wrapping_add(1), u32::MAX, u32::MAX - 1] {
                assert_eq!(mod_n(edge, n, r), edge % n, "{edge} mod {n}");
            }
            for _ in 0..100_000 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                assert_eq!(mod_n(x, n, r), x % n, "{x} mod {n}");
            }
        }
    }

    #[test]
    fn pages_split_on_row_boundaries() {
        // lavapipe: 128 MiB bindings; epoch 0 needs eight pages, and 24
        // hold 3 GiB.
        let s = page_shift(8_388_593, 128 << 20, PAGES).unwrap();
        assert_eq!(s, 20);
        assert!(page_shift(8_388_609, 128 << 20, 8).is_err());
        assert!(page_shift(24 << 20, 128 << 20, PAGES).is_ok());
        assert!(page_shift((24 << 20) + 1, 128 << 20, PAGES).is_err());
        assert_eq!(page_shift(256, 128 << 20, PAGES).unwrap(), 20);
    }
}
