//! The memory under test: its buffers, the pipelines over them and the
//! state the host keeps of what they hold. The canaries, the passes and
//! the read-back of findings each have a module of their own.

mod canaries;
mod passes;
mod readback;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use anyhow::Result;
use bytemuck::{Pod, Zeroable};
use rand::{Rng, SeedableRng};

use super::pattern::{self, State};
use crate::gpu::Gpu;
use canaries::Canary;

/// Words in one block: the unit of the CPU cross-check and of the canary
/// strata; every buffer is a whole number of blocks.
pub const BLOCK_WORDS: u64 = 4096;
pub const BLOCK_BYTES: u64 = BLOCK_WORDS * 4;
/// Dynamic offsets must be multiples of this on every adapter.
const SLOT: u64 = 256;
/// Most passes one timed sample may record (one parameter slot each).
pub const MAX_REPS: u32 = 32;
/// Most canaries planted per repetition (one per stratum of the memory).
const MAX_CANARIES: u64 = 1024;
/// Mismatches beyond the canaries one report slot records in full.
const SPARE_RECORDS: u32 = 64;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    key: u32,
    words4: u32,
    mul: u32,
    add: u32,
    slot: u32,
    run: u32,
    chunk: u32,
    recs: u32,
}

/// What a check repetition's report slot must say.
struct Expect {
    canaries: Vec<Canary>,
    states: Vec<State>,
    run: u64,
}

/// One buffer of the tested memory.
pub struct Chunk {
    pub base: u64,
    pub words: u32,
    pub buf: wgpu::Buffer,
    bind: wgpu::BindGroup,
    plant_bind: wgpu::BindGroup,
}

pub struct TestMemory<'g> {
    pub gpu: &'g Gpu,
    pub chunks: Vec<Chunk>,
    write: wgpu::ComputePipeline,
    check: wgpu::ComputePipeline,
    plant: wgpu::ComputePipeline,
    params: wgpu::Buffer,
    canary_buf: wgpu::Buffer,
    canary_slot: u64,
    report: wgpu::Buffer,
    report_slots: u32,
    recs: u32,
    groups: u32,
    salt: u32,
    /// What each buffer holds now (buffer 0: its setup pattern, kept from
    /// setup to the end: retention).
    states: RefCell<Vec<State>>,
    /// Canaries in memory now.
    live: RefCell<Vec<Canary>>,
    /// Canaries planted per repetition.
    pub per_rep: u32,
    rng: RefCell<rand::rngs::StdRng>,
    /// Report slot -> what it must say, for the check repetitions since the
    /// last reset.
    expect: RefCell<HashMap<u32, Expect>>,
    /// Write passes so far.
    pub passes: Cell<u64>,
    /// Check repetitions so far (each reads every buffer once).
    pub runs: Cell<u64>,
}

impl<'g> TestMemory<'g> {
    /// Builds pipelines around already allocated buffers and fills every
    /// buffer with its setup pattern. `report_slots` bounds the check
    /// repetitions of one measurement.
    pub fn new(
        gpu: &'g Gpu,
        wgsl: &str,
        bufs: Vec<(u64, wgpu::Buffer)>,
        report_slots: u32,
    ) -> Result<Self> {
        let (bgl, layout) =
            gpu.storage_layout("vram", &[(false, false), (true, true), (false, false)]);
        let fill = gpu.pipeline_with_layout("vram", wgsl, "fill", &[], Some(&layout))?;
        let write = gpu.pipeline_with_layout("vram", wgsl, "write", &[], Some(&layout))?;
        let check = gpu.pipeline_with_layout("vram", wgsl, "check", &[], Some(&layout))?;
        let (pbgl, plant) = canaries::plant_pipeline(gpu)?;
        let total_words: u64 = bufs.iter().map(|(b, _)| b / 4).sum();
        let per_rep = (total_words / BLOCK_WORDS).clamp(1, MAX_CANARIES) as u32;
        let recs = per_rep + SPARE_RECORDS;
        let shared = Shared::new(gpu, bufs.len(), per_rep, recs, report_slots)?;
        let mut base = 0;
        let chunks = bufs
            .into_iter()
            .map(|(bytes, buf)| {
                let c = shared.chunk(gpu, (&bgl, &pbgl), base, bytes, buf);
                base += bytes;
                c
            })
            .collect::<Vec<_>>();
        let mut rng = rand::rngs::StdRng::from_os_rng();
        let seed: u32 = rng.random();
        let states = (0..chunks.len())
            .map(|c| State {
                key: pattern::chunk_key(seed, c as u32),
                mul: 1,
                add: 0,
            })
            .collect();
        let Shared {
            params,
            canary_buf,
            canary_slot,
            report,
        } = shared;
        let t = TestMemory {
            gpu,
            chunks,
            write,
            check,
            plant,
            params,
            canary_buf,
            canary_slot,
            report,
            report_slots,
            recs,
            // A GPU needs a million invocations in flight; a CPU adapter runs
            // a workgroup per thread.
            groups: if gpu.desc.is_cpu() { 64 } else { 16384 },
            salt: rng.random(),
            states: RefCell::new(states),
            live: RefCell::new(Vec::new()),
            per_rep,
            rng: RefCell::new(rng),
            expect: RefCell::new(HashMap::new()),
            passes: Cell::new(0),
            runs: Cell::new(0),
        };
        gpu.check_errors("setting up the VRAM test")?;
        t.fill(&fill)?;
        t.reset_report()?;
        Ok(t)
    }

    /// Writes every buffer's setup pattern.
    fn fill(&self, fill: &wgpu::ComputePipeline) -> Result<()> {
        self.gpu.run_pass("filling the tested memory", |pass| {
            for c in 0..self.chunks.len() {
                let st = self.states.borrow()[c];
                let slot = self.set_params(0, c, st.mul, st.add, 0, 0);
                self.dispatch(pass, fill, c, slot);
            }
        })?;
        Ok(())
    }

    pub fn bytes(&self) -> u64 {
        self.chunks.iter().map(|c| c.words as u64 * 4).sum()
    }

    /// Writes the parameters of buffer `c` into slot `rep`; returns its offset.
    fn set_params(&self, rep: u32, c: usize, mul: u32, add: u32, slot: u32, run: u64) -> u32 {
        let ch = &self.chunks[c];
        let p = Params {
            key: self.states.borrow()[c].key,
            words4: ch.words / 4,
            mul,
            add,
            slot,
            run: run as u32,
            chunk: c as u32,
            recs: self.recs,
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
        let groups = (self.chunks[c].words / 4 / 64).clamp(1, self.groups);
        pass.set_pipeline(pipe);
        pass.set_bind_group(0, &self.chunks[c].bind, &[slot]);
        pass.dispatch_workgroups(groups, 1, 1);
    }
}

/// The buffers every chunk's bind groups share: the pass parameters, the
/// canary lists and the check shader's report.
struct Shared {
    params: wgpu::Buffer,
    canary_buf: wgpu::Buffer,
    canary_slot: u64,
    report: wgpu::Buffer,
}

impl Shared {
    fn new(gpu: &Gpu, chunks: usize, per_rep: u32, recs: u32, report_slots: u32) -> Result<Shared> {
        let slots = MAX_REPS as u64 * chunks as u64 + chunks as u64;
        let params = gpu.buffer(
            "vram params",
            slots * SLOT,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        )?;
        // A repetition plants its canaries and restores the previous ones.
        let canary_slot = (16 + 2 * per_rep as u64 * 8).div_ceil(SLOT) * SLOT;
        let canary_buf = gpu.buffer(
            "vram canaries",
            slots * canary_slot,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        )?;
        let report_words =
            pattern::HEADER_WORDS + report_slots as usize * pattern::slot_words(recs);
        let report = gpu.buffer(
            "vram report",
            report_words as u64 * 4,
            wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC,
        )?;
        Ok(Shared {
            params,
            canary_buf,
            canary_slot,
            report,
        })
    }

    /// Buffer `buf` of `bytes` bytes, at byte `base` of the tested memory,
    /// bound for the test (`layouts.0`) and for planting (`layouts.1`).
    fn chunk(
        &self,
        gpu: &Gpu,
        layouts: (&wgpu::BindGroupLayout, &wgpu::BindGroupLayout),
        base: u64,
        bytes: u64,
        buf: wgpu::Buffer,
    ) -> Chunk {
        let bind = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("vram"),
            layout: layouts.0,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: buf.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &self.params,
                        offset: 0,
                        size: wgpu::BufferSize::new(std::mem::size_of::<Params>() as u64),
                    }),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: self.report.as_entire_binding(),
                },
            ],
        });
        let plant_bind = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("vram plant"),
            layout: layouts.1,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: buf.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &self.canary_buf,
                        offset: 0,
                        size: wgpu::BufferSize::new(self.canary_slot),
                    }),
                },
            ],
        });
        Chunk {
            base,
            words: (bytes / 4) as u32,
            buf,
            bind,
            plant_bind,
        }
    }
}
