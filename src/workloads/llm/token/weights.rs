//! The weights of a decode step: every matrix of each layer a repetition
//! runs, in the format its file stores it, for a batch of sequences
//! (`shaders/llm_token.wgsl`). A dense matrix is read once for the whole
//! batch; each sequence gathers its own active experts out of the held
//! ones, chosen anew for every repetition, layer and sequence.
//!
//! Repetition `r` runs variant `r mod VARIANTS` (activation window
//! `r mod 2`, and the variant's expert choices) and adds its products to
//! outputs zeroed once: an output is Σ over the (copy, window) pairs its
//! product met of that pair's product times the repetitions that chose
//! it, which only every repetition's own choice produces.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use rand::seq::IndexedRandom;

use super::plan::Layers;
use crate::domain::formats::Format;
use crate::domain::models::Model;
use crate::domain::quant::Quant;
use crate::gpu::Gpu;
use crate::harness::{Check, Reps};
use crate::workloads::llm::formats;
use crate::workloads::llm::gpu::{self as g, GpuMatrix, WINDOWS};
use crate::workloads::llm::moe_plan::{index_sets, plan as moe_steps, Part, Step};
use crate::workloads::llm::reference::{check_written, expected, Expect, Tally};
use crate::workloads::Shaders;

pub const TOKEN_WGSL: &str = include_str!("../../../../shaders/llm_token.wgsl");
pub const TOKEN: g::Piece = ("llm_token", TOKEN_WGSL);
/// As in the shader.
const ROWS: u64 = 4;
pub const MAX_COLS: u64 = 16;
/// Expert choices cycle with this period (even: a choice always meets the
/// same window).
pub const VARIANTS: usize = 8;
/// Rows of each checked product compared with the CPU, besides the last.
const SAMPLED_ROWS: usize = 16;
/// Products of a routed matrix compared with the CPU, besides the last.
const SAMPLED_PRODUCTS: usize = 3;

fn x_key(k: u64) -> u32 {
    formats::key(&[0x70c, k as u32])
}

/// One matrix of a held layer: its step, format and pages of copies.
struct Held {
    step: Step,
    format: Format,
    pages: Vec<GpuMatrix>,
    per_page: u64,
}

impl Held {
    /// Products a repetition multiplies: each sequence's slots.
    fn products(&self, batch: u64) -> u64 {
        batch * self.step.slots
    }
}

pub struct Weights<'g> {
    gpu: &'g Gpu,
    batch: u64,
    layers: Layers,
    /// `[held layer][step]`.
    held: Vec<Vec<Held>>,
    /// `[position][step]`: where its outputs start in y.
    outs: Vec<Vec<u64>>,
    /// `[position][sequence][variant]`: each sequence's experts.
    sets: Vec<Vec<Vec<Vec<u32>>>>,
    pipelines: BTreeMap<Format, wgpu::ComputePipeline>,
    bind_groups: Vec<wgpu::BindGroup>,
    /// Variant `v`'s dispatches: (format, bind group, workgroups x, y).
    dispatches: Vec<Vec<(Format, usize, u32, u32)>>,
    y: wgpu::Buffer,
    y_len: u64,
    counts: [u64; VARIANTS],
    _keep: Vec<wgpu::Buffer>,
}

fn page_key(m: &Model, layer: u64, step: usize, page: usize) -> u32 {
    formats::key(&[
        0x70e,
        m.hidden as u32,
        layer as u32,
        step as u32,
        page as u32,
    ])
}

impl<'g> Weights<'g> {
    pub fn new(
        gpu: &'g Gpu,
        shaders: &Shaders,
        (model, quant): (Model, Quant),
        layers: Layers,
        batch: u64,
    ) -> Result<Self> {
        if batch == 0 || (batch > MAX_COLS && !batch.is_multiple_of(MAX_COLS)) {
            bail!("token: a batch of {batch}; the kernel takes 1 to {MAX_COLS}, or multiples of {MAX_COLS}");
        }
        let mut pipelines = BTreeMap::new();
        let mut inits = BTreeMap::new();
        let mut held = Vec::new();
        for &layer in &layers.resident {
            let mut steps = Vec::new();
            for (i, step) in moe_steps(&model, Part::Layer, layers.experts)
                .into_iter()
                .enumerate()
            {
                let format = quant.format_of(&model, step.matrix.name, layer);
                format.check_row(step.matrix.k)?;
                if let std::collections::btree_map::Entry::Vacant(e) = inits.entry(format) {
                    let label = format!("token_{}", format.name());
                    let (init, kernel) =
                        g::pipelines(gpu, shaders, format, &label, &[TOKEN], ("token", &[]))?;
                    e.insert(init);
                    pipelines.insert(format, kernel);
                }
                steps.push(generate(
                    gpu,
                    &inits[&format],
                    &model,
                    (layer, i),
                    step,
                    format,
                )?);
            }
            held.push(steps);
        }
        let mut outs = Vec::new();
        let mut y_len = 0;
        for &h in &layers.positions {
            let mut at = Vec::new();
            for s in &held[h] {
                at.push(y_len);
                y_len += s.products(batch) * s.step.matrix.rows;
            }
            outs.push(at);
        }
        let sets: Vec<Vec<Vec<Vec<u32>>>> = (0..layers.positions.len())
            .map(|pos| {
                (0..batch)
                    .map(|t| {
                        let seed = formats::key(&[0x5e7, pos as u32, t as u32]);
                        let all =
                            index_sets(layers.experts.max(1), model.active_experts.max(1), seed);
                        all[..VARIANTS].to_vec()
                    })
                    .collect()
            })
            .collect();
        let y = g::zeroed(gpu, "llm token outputs", y_len)?;
        let mut w = Weights {
            gpu,
            batch,
            layers,
            held,
            outs,
            sets,
            pipelines,
            bind_groups: Vec::new(),
            dispatches: vec![Vec::new(); VARIANTS],
            y,
            y_len,
            counts: [0; VARIANTS],
            _keep: Vec::new(),
        };
        w.record()?;
        gpu.check_errors("setting up the token kernels")?;
        Ok(w)
    }

    /// Every variant's dispatches: dense matrices bound once per window,
    /// routed ones once per variant, for every position.
    fn record(&mut self) -> Result<()> {
        let gpu = self.gpu;
        let b = self.batch;
        let max_products = self
            .held
            .iter()
            .flatten()
            .map(|s| s.products(b))
            .max()
            .unwrap_or(1);
        let widths = self.held.iter().flatten().map(|s| s.step.matrix.k);
        let xs = g::activations_by_width(gpu, widths, WINDOWS as u64 * max_products, x_key)?;
        let zeros: Vec<wgpu::Buffer> = (0..WINDOWS as u32)
            .map(|w| {
                let mut words = vec![w];
                words.extend(std::iter::repeat_n(0, max_products as usize));
                g::storage(gpu, "llm token dense", &g::words(&words))
            })
            .collect::<Result<_>>()?;
        let mut dense_bg = BTreeMap::new();
        for (pos, &h) in self.layers.positions.iter().enumerate() {
            let lists: Vec<wgpu::Buffer> = (0..VARIANTS)
                .map(|v| {
                    let mut words = vec![(v % WINDOWS) as u32];
                    for seq in &self.sets[pos] {
                        words.extend(&seq[v]);
                    }
                    g::storage(gpu, "llm token experts", &g::words(&words))
                })
                .collect::<Result<_>>()?;
            for (i, s) in self.held[h].iter().enumerate() {
                let st = s.step;
                let products = s.products(b);
                let cols = if st.routed { 1 } else { b.min(MAX_COLS) };
                for (page, m) in s.pages.iter().enumerate() {
                    let job = [
                        st.matrix.rows as u32,
                        st.matrix.k as u32,
                        s.format.row_bytes(st.matrix.k) as u32,
                        (st.matrix.rows * s.format.row_bytes(st.matrix.k)) as u32,
                        (page as u64 * s.per_page) as u32,
                        s.per_page as u32,
                        cols as u32,
                        products as u32,
                        self.outs[pos][i] as u32,
                    ];
                    let job = g::storage(gpu, "llm token job", &g::words(&job))?;
                    let groups = (
                        st.matrix.rows.div_ceil(ROWS) as u32,
                        (products / cols) as u32,
                    );
                    let pipeline = &self.pipelines[&s.format];
                    let x = &xs[&st.matrix.k];
                    for v in 0..VARIANTS {
                        let list = if st.routed {
                            &lists[v]
                        } else {
                            &zeros[v % WINDOWS]
                        };
                        let key = (pos, i, page, if st.routed { v } else { v % WINDOWS });
                        let bg = *dense_bg.entry(key).or_insert_with(|| {
                            let entries = [
                                (0, &m.parts[0].buf),
                                (1, x),
                                (2, &self.y),
                                (3, &job),
                                (4, list),
                            ];
                            self.bind_groups.push(g::bind(gpu, pipeline, &entries));
                            self.bind_groups.len() - 1
                        });
                        self.dispatches[v].push((s.format, bg, groups.0, groups.1));
                    }
                    self._keep.push(job);
                }
            }
            self._keep.extend(lists);
        }
        self._keep.extend(zeros);
        self._keep.extend(xs.into_values());
        Ok(())
    }

    /// Weight bytes a repetition reads: every position's matrices, a dense
    /// one once for the batch, each product's expert.
    pub fn bytes_per_rep(&self) -> u64 {
        self.layers
            .positions
            .iter()
            .flat_map(|&h| &self.held[h])
            .map(|s| {
                let reads = if s.step.routed {
                    s.products(self.batch)
                } else {
                    1
                };
                reads * s.step.matrix.rows * s.format.row_bytes(s.step.matrix.k)
            })
            .sum()
    }

    pub fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        for index in reps.indices() {
            let v = (index % VARIANTS as u64) as usize;
            let mut current = None;
            for (f, bg, gx, gy) in &self.dispatches[v] {
                if current != Some(*f) {
                    pass.set_pipeline(&self.pipelines[f]);
                    current = Some(*f);
                }
                pass.set_bind_group(0, &self.bind_groups[*bg], &[]);
                pass.dispatch_workgroups(*gx, *gy, 1);
            }
            self.counts[v] += 1;
        }
    }
}

/// Step `step` of held layer `layer`: its copies generated on the GPU,
/// as many to a buffer as a binding holds.
fn generate(
    gpu: &Gpu,
    init: &wgpu::ComputePipeline,
    model: &Model,
    (layer, index): (u64, usize),
    step: Step,
    format: Format,
) -> Result<Held> {
    let (pages, per_page) = g::generate_copies(
        gpu,
        init,
        format,
        (step.matrix, step.stored, None),
        model.id,
        |page| page_key(model, layer, index, page),
    )?;
    Ok(Held {
        step,
        format,
        pages,
        per_page,
    })
}

impl Weights<'_> {
    /// Every output written; repeated layers' dense outputs equal their
    /// first run's bit for bit (same weights, same windows); a random
    /// position's and the last one's sampled rows against the CPU.
    /// Returns the repetitions the outputs account for.
    pub fn verify(&self, check: &mut Check) -> Result<u64> {
        let y = g::read_f32(self.gpu, &self.y, self.y_len)?;
        check_written(&y, None, check);
        let positions = &self.layers.positions;
        let mut first_of: BTreeMap<usize, usize> = BTreeMap::new();
        let mut differ = 0;
        for (pos, &h) in positions.iter().enumerate() {
            let src = *first_of.entry(h).or_insert(pos);
            for (i, s) in self.held[h].iter().enumerate() {
                let len = (s.products(self.batch) * s.step.matrix.rows) as usize;
                let (a, b) = (self.outs[src][i] as usize, self.outs[pos][i] as usize);
                if !s.step.routed && y[a..a + len] != y[b..b + len] {
                    differ += 1;
                }
            }
        }
        if differ > 0 {
            check.fail(format!(
                "{differ} dense matrices of repeated layers gave outputs unlike their first run's"
            ));
        }
        let last = positions.len() - 1;
        let sampled = rand::random_range(0..positions.len());
        let mut tally = Tally::default();
        for pos in if sampled == last {
            vec![last]
        } else {
            vec![sampled, last]
        } {
            for i in 0..self.held[positions[pos]].len() {
                self.check_step(pos, i, &y, &mut tally);
            }
        }
        if let Some(failure) = tally.failure() {
            check.fail(failure);
        }
        check.fact("windows", WINDOWS);
        check.fact("expert_variants", VARIANTS);
        check.fact("checked_positions", format!("{sampled}+{last}"));
        check.fact(
            "outputs_vs_cpu_pct",
            format!("{:.2}", 100.0 * tally.compared as f64 / y.len() as f64),
        );
        Ok(self.counts.iter().sum())
    }

    /// Sampled rows of sampled products of step `i` at position `pos`.
    fn check_step(&self, pos: usize, i: usize, y: &[f32], tally: &mut Tally) {
        let s = &self.held[self.layers.positions[pos]][i];
        let st = s.step;
        let (rows, k, products) = (st.matrix.rows, st.matrix.k, s.products(self.batch));
        let mut sample: Vec<u64> = (0..rows - 1)
            .collect::<Vec<_>>()
            .choose_multiple(&mut rand::rng(), SAMPLED_ROWS)
            .copied()
            .collect();
        sample.push(rows - 1);
        let mut chosen: Vec<u64> = match st.routed || products > MAX_COLS {
            false => (0..products).collect(),
            true => (0..products - 1)
                .collect::<Vec<_>>()
                .choose_multiple(&mut rand::rng(), SAMPLED_PRODUCTS)
                .copied()
                .collect(),
        };
        if st.routed || products > MAX_COLS {
            chosen.push(products - 1);
        }
        let x = |w: usize, p: u64| -> Vec<f32> {
            let start = (w as u64 * products + p) * k;
            (start..start + k)
                .map(|e| formats::activation(x_key(k), e as u32))
                .collect()
        };
        for p in chosen {
            let (t, j) = ((p / st.slots) as usize, (p % st.slots) as usize);
            // (copy, window) -> repetitions
            let mut met = BTreeMap::<(u32, usize), u64>::new();
            for (v, &c) in self.counts.iter().enumerate() {
                if c > 0 {
                    let copy = if st.routed {
                        self.sets[pos][t][v][j]
                    } else {
                        0
                    };
                    *met.entry((copy, v % WINDOWS)).or_default() += c;
                }
            }
            let counts: Vec<u64> = met.values().copied().collect();
            let per_pair: Vec<Vec<Expect>> = met
                .keys()
                .map(|&(copy, w)| {
                    let page = &s.pages[(copy as u64 / s.per_page) as usize];
                    let local = (copy as u64 % s.per_page) * rows;
                    let at: Vec<u64> = sample.iter().map(|r| local + r).collect();
                    let want = expected(s.format, page.key, k, &at, &[x(w, p)]);
                    want.into_iter().map(|v| v[0]).collect()
                })
                .collect();
            for (n, &r) in sample.iter().enumerate() {
                let pairs: Vec<Expect> = per_pair.iter().map(|v| v[n]).collect();
                let got = y[(self.outs[pos][i] + p * rows + r) as usize];
                tally.record_sum(got, &pairs, &counts, || {
                    format!("position {pos} {} product {p} row {r}", st.matrix.name)
                });
            }
        }
    }
}
