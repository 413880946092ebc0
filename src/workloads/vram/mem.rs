//! The memory under test: its buffers, the write and check pipelines, and
//! the report the check shader fills.

use std::cell::Cell;

use anyhow::Result;
use bytemuck::{Pod, Zeroable};

use super::pattern::{self, Findings};
use crate::gpu::Gpu;

/// Words in one block of the check's scattered read order; every buffer is
/// a whole number of blocks.
pub const BLOCK_WORDS: u64 = 4096;
pub const BLOCK_BYTES: u64 = BLOCK_WORDS * 4;
/// Dynamic offsets must be multiples of this on every adapter.
const SLOT: u64 = 256;
/// Most passes one timed sample may record (one parameter slot each).
pub const MAX_REPS: u32 = 32;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    seed: u32,
    chunk: u32,
    base16: u32,
    words: u32,
    rot: u32,
    run: u32,
    pad: [u32; 2],
}

/// One buffer of the tested memory.
pub struct Chunk {
    pub base: u64,
    pub words: u32,
    pub buf: wgpu::Buffer,
    bind: wgpu::BindGroup,
}

pub struct TestMemory<'g> {
    pub gpu: &'g Gpu,
    pub chunks: Vec<Chunk>,
    write: wgpu::ComputePipeline,
    check: wgpu::ComputePipeline,
    params: wgpu::Buffer,
    report: wgpu::Buffer,
    groups: u32,
    /// Seed of the pattern buffer 0 holds from setup to the end (retention).
    pub retention_seed: u32,
    base_seed: u32,
    /// Write passes so far; the last one's pattern is in buffers 1...
    pub passes: Cell<u32>,
    /// Check runs so far (each reads every buffer once).
    pub runs: Cell<u32>,
}

impl<'g> TestMemory<'g> {
    /// Builds pipelines around already allocated buffers and writes the
    /// retention pattern into buffer 0.
    pub fn new(gpu: &'g Gpu, wgsl: &str, bufs: Vec<(u64, wgpu::Buffer)>) -> Result<Self> {
        let (bgl, layout) =
            gpu.storage_layout("vram", &[(false, false), (true, true), (false, false)]);
        let write = gpu.pipeline_with_layout("vram", wgsl, "write", &[], Some(&layout))?;
        let check = gpu.pipeline_with_layout("vram", wgsl, "check", &[], Some(&layout))?;
        let slots = MAX_REPS as u64 * bufs.len() as u64 + bufs.len() as u64;
        let params = gpu.buffer(
            "vram params",
            slots * SLOT,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        )?;
        let report = gpu.storage_init(
            "vram report",
            bytemuck::cast_slice(&pattern::fresh_report()),
        )?;
        let mut base = 0;
        let chunks = bufs
            .into_iter()
            .map(|(bytes, buf)| {
                let bind = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("vram"),
                    layout: &bgl,
                    entries: &[
                        wgpu::BindGroupEntry {
                            binding: 0,
                            resource: buf.as_entire_binding(),
                        },
                        wgpu::BindGroupEntry {
                            binding: 1,
                            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                                buffer: &params,
                                offset: 0,
                                size: wgpu::BufferSize::new(std::mem::size_of::<Params>() as u64),
                            }),
                        },
                        wgpu::BindGroupEntry {
                            binding: 2,
                            resource: report.as_entire_binding(),
                        },
                    ],
                });
                let c = Chunk {
                    base,
                    words: (bytes / 4) as u32,
                    buf,
                    bind,
                };
                base += bytes;
                c
            })
            .collect();
        let base_seed: u32 = rand::random();
        let t = TestMemory {
            gpu,
            chunks,
            write,
            check,
            params,
            report,
            // A GPU needs a million invocations in flight; a CPU adapter runs
            // a few workgroups per core.
            groups: if gpu.desc.is_cpu() { 128 } else { 4096 },
            retention_seed: pattern::mix32(base_seed ^ 0x5a5a_5a5a),
            base_seed,
            passes: Cell::new(0),
            runs: Cell::new(0),
        };
        gpu.check_errors("setting up the VRAM test")?;
        let slot = t.set_params(0, 0, t.retention_seed, 0);
        t.gpu.run_pass("writing the retention region", |pass| {
            t.dispatch(pass, &t.write, 0, slot)
        })?;
        Ok(t)
    }

    pub fn bytes(&self) -> u64 {
        self.chunks.iter().map(|c| c.words as u64 * 4).sum()
    }

    pub fn bases(&self) -> Vec<u64> {
        self.chunks.iter().map(|c| c.base).collect()
    }

    /// The seed of write pass `n` (counted from 1).
    pub fn pass_seed(&self, n: u32) -> u32 {
        pattern::mix32(self.base_seed.wrapping_add(n))
    }

    /// The seed buffer `c` holds now.
    pub fn seed_of(&self, c: usize) -> u32 {
        if c == 0 {
            self.retention_seed
        } else {
            self.pass_seed(self.passes.get())
        }
    }

    /// Writes the parameters of buffer `c` into slot `rep`; returns its offset.
    fn set_params(&self, rep: u32, c: usize, seed: u32, run: u32) -> u32 {
        let ch = &self.chunks[c];
        let p = Params {
            seed,
            chunk: c as u32,
            base16: (ch.base / 16) as u32,
            words: ch.words,
            rot: pattern::mix32(run) & (BLOCK_WORDS as u32 - 1),
            run,
            pad: [0; 2],
        };
        let offset = (rep as u64 * self.chunks.len() as u64 + c as u64) * SLOT;
        self.gpu
            .queue
            .write_buffer(&self.params, offset, bytemuck::bytes_of(&p));
        offset as u32
    }

    fn dispatch(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        pipe: &wgpu::ComputePipeline,
        c: usize,
        slot: u32,
    ) {
        let groups = (self.chunks[c].words / 256).clamp(1, self.groups);
        pass.set_pipeline(pipe);
        pass.set_bind_group(0, &self.chunks[c].bind, &[slot]);
        pass.dispatch_workgroups(groups, 1, 1);
    }

    /// Records `reps` write passes over buffers 1.., each with a new seed.
    pub fn encode_writes(&self, pass: &mut wgpu::ComputePass<'_>, reps: u32) {
        for r in 0..reps {
            let n = self.passes.get() + 1;
            self.passes.set(n);
            for c in 1..self.chunks.len() {
                let slot = self.set_params(r, c, self.pass_seed(n), 0);
                self.dispatch(pass, &self.write, c, slot);
            }
        }
    }

    /// Records `reps` check runs over every buffer.
    pub fn encode_checks(&self, pass: &mut wgpu::ComputePass<'_>, reps: u32) {
        for r in 0..reps {
            let run = self.runs.get();
            self.runs.set(run + 1);
            for c in 0..self.chunks.len() {
                let slot = self.set_params(r, c, self.seed_of(c), run);
                self.dispatch(pass, &self.check, c, slot);
            }
        }
    }

    /// One untimed check run of everything, as its own submission.
    pub fn check_once(&self) -> Result<()> {
        self.gpu
            .run_pass("checking VRAM", |pass| self.encode_checks(pass, 1))?;
        Ok(())
    }

    pub fn reset_report(&self) {
        self.gpu.queue.write_buffer(
            &self.report,
            0,
            bytemuck::cast_slice(&pattern::fresh_report()),
        );
        self.runs.set(0);
    }

    pub fn findings(&self) -> Result<Findings> {
        let raw = self
            .gpu
            .read(&self.report, 0, (pattern::REPORT_WORDS * 4) as u64)?;
        Ok(Findings::decode(bytemuck::cast_slice(&raw), &self.bases()))
    }

    /// What the check's running sum must be after `runs` clean runs.
    pub fn expected_sum(&self, runs: u32) -> u32 {
        let seeds: Vec<(u32, u32, u32)> = (0..self.chunks.len())
            .map(|c| (c as u32, self.chunks[c].words, self.seed_of(c)))
            .collect();
        // Gigabytes of pattern: spread over the host's cores.
        let per_run = std::thread::scope(|s| {
            let hs: Vec<_> = seeds
                .iter()
                .map(|&(c, w, seed)| s.spawn(move || pattern::pattern_sum(c, w, seed)))
                .collect();
            hs.into_iter()
                .map(|h| h.join().unwrap_or(0))
                .fold(0u32, u32::wrapping_add)
        });
        per_run.wrapping_mul(runs)
    }

    /// Reads `windows` blocks per buffer back to the host and compares
    /// them with the host's pattern. Returns (words compared, mismatches).
    pub fn cpu_sample(&self, windows: u32) -> Result<(u64, Vec<String>)> {
        let mut compared = 0;
        let mut bad = Vec::new();
        for (c, ch) in self.chunks.iter().enumerate() {
            let blocks = ch.words as u64 / BLOCK_WORDS;
            let seed = self.seed_of(c);
            for i in 0..windows as u64 {
                // First and last block, and others spread between them.
                let b = if windows > 1 {
                    (blocks - 1) * i / (windows as u64 - 1)
                } else {
                    0
                };
                let raw = self.gpu.read(&ch.buf, b * BLOCK_BYTES, BLOCK_BYTES)?;
                for (j, &got) in bytemuck::cast_slice::<u8, u32>(&raw).iter().enumerate() {
                    let w = (b * BLOCK_WORDS) as u32 + j as u32;
                    let want = pattern::pattern(c as u32, w, seed);
                    compared += 1;
                    if got != want && bad.len() < 8 {
                        bad.push(format!(
                            "CPU cross-check: word at byte {} reads {got:08x}, expected {want:08x}",
                            ch.base + w as u64 * 4
                        ));
                    }
                }
            }
        }
        Ok((compared, bad))
    }
}
