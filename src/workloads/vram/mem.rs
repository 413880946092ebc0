//! The memory under test: its buffers, the write, check and canary
//! pipelines, the report the check shader fills, and the canaries the host
//! plants between repetitions.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use anyhow::Result;
use bytemuck::{Pod, Zeroable};
use rand::{Rng, SeedableRng};

use super::pattern::{self, Findings, Mismatch, Slot, State};
use crate::gpu::Gpu;

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

/// Plants canaries: writes (word, value) pairs into one buffer. Not part of
/// the replaceable shaders, and the check pipeline never sees its list.
const PLANT_WGSL: &str = r#"
struct Plant { count: u32, _p0: u32, _p1: u32, _p2: u32, entries: array<vec2<u32>> }
@group(0) @binding(0) var<storage, read_write> mem: array<u32>;
@group(0) @binding(1) var<storage, read> plant: Plant;
@compute @workgroup_size(64)
fn plant_canaries(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x < plant.count) {
        let e = plant.entries[id.x];
        mem[e.x] = e.y;
    }
}
"#;

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

/// A word set to a value the pattern does not give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Canary {
    pub chunk: u32,
    pub word: u32,
    pub value: u32,
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
        let (pbgl, playout) = gpu.storage_layout("vram plant", &[(false, false), (true, true)]);
        let plant = gpu.pipeline_with_layout(
            "vram plant",
            PLANT_WGSL,
            "plant_canaries",
            &[],
            Some(&playout),
        )?;
        let total_words: u64 = bufs.iter().map(|(b, _)| b / 4).sum();
        let per_rep = (total_words / BLOCK_WORDS).clamp(1, MAX_CANARIES) as u32;
        let recs = per_rep + SPARE_RECORDS;
        let slots = MAX_REPS as u64 * bufs.len() as u64 + bufs.len() as u64;
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
                let plant_bind = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("vram plant"),
                    layout: &pbgl,
                    entries: &[
                        wgpu::BindGroupEntry {
                            binding: 0,
                            resource: buf.as_entire_binding(),
                        },
                        wgpu::BindGroupEntry {
                            binding: 1,
                            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                                buffer: &canary_buf,
                                offset: 0,
                                size: wgpu::BufferSize::new(canary_slot),
                            }),
                        },
                    ],
                });
                let c = Chunk {
                    base,
                    words: (bytes / 4) as u32,
                    buf,
                    bind,
                    plant_bind,
                };
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
        t.gpu.run_pass("filling the tested memory", |pass| {
            for c in 0..t.chunks.len() {
                let st = t.states.borrow()[c];
                let slot = t.set_params(0, c, st.mul, st.add, 0, 0);
                t.dispatch(pass, &fill, c, slot);
            }
        })?;
        t.reset_report()?;
        Ok(t)
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

    /// New canaries, one at a random word of each stratum of the tested
    /// memory, each a random value other than the pattern's.
    fn draw_canaries(&self) -> Vec<Canary> {
        let total: u64 = self.chunks.iter().map(|c| c.words as u64).sum();
        let k = self.per_rep as u64;
        let states = self.states.borrow();
        let mut rng = self.rng.borrow_mut();
        (0..k)
            .map(|i| {
                let lo = total * i / k;
                let hi = total * (i + 1) / k;
                let mut g = rng.random_range(lo..hi);
                let mut c = 0;
                while g >= self.chunks[c].words as u64 {
                    g -= self.chunks[c].words as u64;
                    c += 1;
                }
                let want = states[c].word(g as u32);
                let mut value: u32 = rng.random();
                while value == want {
                    value = rng.random();
                }
                Canary {
                    chunk: c as u32,
                    word: g as u32,
                    value,
                }
            })
            .collect()
    }

    /// Records into slot `rep` of the pass: the live canaries restored to
    /// the pattern, then new ones planted.
    fn plant(&self, pass: &mut wgpu::ComputePass<'_>, rep: u32) {
        let new = self.draw_canaries();
        let at: HashSet<(u32, u32)> = new.iter().map(|c| (c.chunk, c.word)).collect();
        let states = self.states.borrow().clone();
        let mut lists: Vec<Vec<[u32; 2]>> = vec![Vec::new(); self.chunks.len()];
        for c in self.live.borrow().iter() {
            if !at.contains(&(c.chunk, c.word)) {
                lists[c.chunk as usize].push([c.word, states[c.chunk as usize].word(c.word)]);
            }
        }
        for c in &new {
            lists[c.chunk as usize].push([c.word, c.value]);
        }
        for (c, list) in lists.iter().enumerate() {
            if list.is_empty() {
                continue;
            }
            let offset = (rep as u64 * self.chunks.len() as u64 + c as u64) * self.canary_slot;
            let mut data = vec![list.len() as u32, 0, 0, 0];
            data.extend(list.iter().flatten());
            self.gpu
                .queue
                .write_buffer(&self.canary_buf, offset, bytemuck::cast_slice(&data));
            pass.set_pipeline(&self.plant);
            pass.set_bind_group(0, &self.chunks[c].plant_bind, &[offset as u32]);
            pass.dispatch_workgroups((list.len() as u32).div_ceil(64), 1, 1);
        }
        *self.live.borrow_mut() = new;
    }

    /// Records write passes `indices` over buffers 1.., each adding the step
    /// of its own index, then planting new canaries.
    pub fn encode_writes(&self, pass: &mut wgpu::ComputePass<'_>, reps: crate::harness::Reps) {
        for (r, index) in reps.slots() {
            let (m, a) = pattern::write_step(self.salt, index);
            for c in 1..self.chunks.len() {
                let slot = self.set_params(r, c, m, a, 0, index);
                self.dispatch(pass, &self.write, c, slot);
                let mut st = self.states.borrow_mut();
                st[c] = st[c].step(m, a);
            }
            self.plant(pass, r);
            self.passes.set(self.passes.get() + 1);
        }
    }

    /// Records check repetitions `indices` over every buffer, each after
    /// planting new canaries, each into its own report slot.
    pub fn encode_checks(&self, pass: &mut wgpu::ComputePass<'_>, reps: crate::harness::Reps) {
        for (r, index) in reps.slots() {
            self.plant(pass, r);
            self.check_now(pass, r, index);
        }
    }

    /// Records one check of what memory holds now into report slot `index`.
    fn check_now(&self, pass: &mut wgpu::ComputePass<'_>, r: u32, index: u64) {
        let states = self.states.borrow().clone();
        if index < self.report_slots as u64 {
            for (c, st) in states.iter().enumerate() {
                let slot = self.set_params(r, c, st.mul, st.add, index as u32, index);
                self.dispatch(pass, &self.check, c, slot);
            }
            self.expect.borrow_mut().insert(
                index as u32,
                Expect {
                    canaries: self.live.borrow().clone(),
                    states,
                    run: index,
                },
            );
        }
        self.runs.set(self.runs.get() + 1);
    }

    /// One untimed check of everything as it is (canaries unchanged), into
    /// report slot 0 of a fresh report.
    pub fn check_once(&self) -> Result<()> {
        self.reset_report()?;
        self.gpu
            .run_pass("checking VRAM", |pass| self.check_now(pass, 0, 0))?;
        Ok(())
    }

    /// Clears the report and what its slots must say.
    pub fn reset_report(&self) -> Result<()> {
        let mut enc = self.gpu.device.create_command_encoder(&Default::default());
        enc.clear_buffer(&self.report, 0, None);
        self.gpu.queue.submit([enc.finish()]);
        self.gpu.wait()?;
        self.expect.borrow_mut().clear();
        self.runs.set(0);
        Ok(())
    }

    /// Reads the report back and compares every slot checked since the last
    /// reset with the canaries planted before it.
    pub fn findings(&self) -> Result<Findings> {
        let expect = self.expect.borrow();
        let used = expect.keys().max().map_or(0, |&s| s as usize + 1);
        let sw = pattern::slot_words(self.recs);
        let words = pattern::HEADER_WORDS + used * sw;
        let raw = self.gpu.read(&self.report, 0, words as u64 * 4)?;
        let raw: &[u32] = bytemuck::cast_slice(&raw);
        let mut f = Findings::default();
        let mut slots: Vec<_> = expect.iter().collect();
        slots.sort_by_key(|(s, _)| **s);
        for (&s, e) in slots {
            let at = pattern::HEADER_WORDS + s as usize * sw;
            let slot = Slot::decode(&raw[at..at + sw]);
            self.judge_slot(&slot, e, &mut f);
            f.runs += 1;
        }
        if f.errors > 0 {
            // Exact when every mismatch was recorded; else among the recorded.
            f.lowest = f.records.iter().map(|m| m.address).min();
            f.highest = f.records.iter().map(|m| m.address).max();
        }
        Ok(f)
    }

    fn judge_slot(&self, slot: &Slot, e: &Expect, f: &mut Findings) {
        let planted: HashMap<(u32, u32), u32> = e
            .canaries
            .iter()
            .map(|c| ((c.chunk, c.word), c.value))
            .collect();
        let mut seen = HashSet::new();
        let mut unexplained = 0u64;
        let mut digest = 0u32;
        for &(chunk, word, got) in &slot.records {
            let is_canary = planted.get(&(chunk, word)) == Some(&got) && seen.insert((chunk, word));
            if is_canary {
                digest = digest.wrapping_add(pattern::digest_term(chunk, word, got));
                continue;
            }
            unexplained += 1;
            let want = e.states.get(chunk as usize).map_or(0, |s| s.word(word));
            for (b, n) in f.bits.iter_mut().enumerate() {
                *n += ((want ^ got) >> b & 1) as u64;
            }
            if f.records.len() < 64 {
                let base = self.chunks.get(chunk as usize).map_or(0, |c| c.base);
                f.records.push(Mismatch {
                    address: base + word as u64 * 4,
                    expected: want,
                    got,
                    run: e.run as u32,
                });
            }
        }
        let found = seen.len() as u64;
        let recorded = slot.records.len() as u64;
        // Mismatches past the records are counted only.
        let beyond = (slot.count as u64).saturating_sub(recorded);
        let missing = planted.len() as u64 - found;
        // Unrecorded mismatches may be the missing canaries.
        f.errors += unexplained + beyond - beyond.min(missing);
        f.canaries += found;
        if missing > 0 {
            let at: Vec<String> = e
                .canaries
                .iter()
                .filter(|c| !seen.contains(&(c.chunk, c.word)))
                .take(2)
                .map(|c| {
                    let base = self.chunks[c.chunk as usize].base;
                    format!("byte {}", base + c.word as u64 * 4)
                })
                .collect();
            if beyond == 0 {
                f.problems.push(format!(
                    "VRAM check: repetition {} did not report {} of the {} planted canaries (e.g. at {}): it did not read what memory holds",
                    e.run,
                    missing,
                    planted.len(),
                    at.join(", ")
                ));
            }
        } else if unexplained == 0 && beyond == 0 {
            let want: u32 = e.canaries.iter().fold(0u32, |s, c| {
                s.wrapping_add(pattern::digest_term(c.chunk, c.word, c.value))
            });
            if slot.digest != want || digest != want {
                f.problems.push(format!(
                    "VRAM check: repetition {}'s digest of its mismatches disagrees with the planted canaries",
                    e.run
                ));
            }
        }
    }

    /// Reads `blocks` blocks per buffer, chosen at random now (after the
    /// report's read-back), back to the host and compares them with the
    /// host's pattern and canaries. Returns (words compared, mismatches).
    pub fn cpu_sample(&self, blocks: u32) -> Result<(u64, Vec<String>)> {
        let mut compared = 0;
        let mut bad = Vec::new();
        let states = self.states.borrow().clone();
        let live: HashMap<(u32, u32), u32> = self
            .live
            .borrow()
            .iter()
            .map(|c| ((c.chunk, c.word), c.value))
            .collect();
        for (c, ch) in self.chunks.iter().enumerate() {
            let n = ch.words as u64 / BLOCK_WORDS;
            let mut picked = HashSet::new();
            while picked.len() < (blocks as u64).min(n) as usize {
                picked.insert(self.rng.borrow_mut().random_range(0..n));
            }
            for b in picked {
                let raw = self.gpu.read(&ch.buf, b * BLOCK_BYTES, BLOCK_BYTES)?;
                for (j, &got) in bytemuck::cast_slice::<u8, u32>(&raw).iter().enumerate() {
                    let w = (b * BLOCK_WORDS) as u32 + j as u32;
                    let want = live
                        .get(&(c as u32, w))
                        .copied()
                        .unwrap_or_else(|| states[c].word(w));
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
