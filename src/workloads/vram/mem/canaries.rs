//! The canaries: words the host sets to values the pattern does not give
//! them between repetitions, through a pipeline of its own, so that every
//! check must report exactly them.

use std::collections::HashSet;

use anyhow::Result;
use rand::Rng;

use super::TestMemory;
use crate::gpu::Gpu;

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

/// A word set to a value the pattern does not give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Canary {
    pub chunk: u32,
    pub word: u32,
    pub value: u32,
}

/// The planting pipeline and the layout of its bind groups.
pub(super) fn plant_pipeline(gpu: &Gpu) -> Result<(wgpu::BindGroupLayout, wgpu::ComputePipeline)> {
    let (pbgl, playout) = gpu.storage_layout("vram plant", &[(false, false), (true, true)]);
    let plant = gpu.pipeline_with_layout(
        "vram plant",
        PLANT_WGSL,
        "plant_canaries",
        &[],
        Some(&playout),
    )?;
    Ok((pbgl, plant))
}

impl TestMemory<'_> {
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
    pub(super) fn plant(&self, pass: &mut wgpu::ComputePass<'_>, rep: u32) {
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
}
