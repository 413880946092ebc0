//! Prefill: the same generated weights times a batch of activation vectors
//! (the prompt), timed over a set of one layer's matrices; prompt tokens/s
//! counts that set's share of a whole token's weights.
//!
//! The activation buffer holds one vector more than the batch; repetition
//! `r` multiplies the batch starting at vector `r mod 2` and adds the
//! products to the outputs, zeroed once before timing, so output (token t,
//! row) ends as Σ_w count_w · W·x_(t + w): a sum no subset of the
//! repetitions produces.

use anyhow::Result;
use rand::seq::index::sample;

use super::decode::matrix_key;
use super::formats::{self, Format};
use super::gpu::{self as g, GpuMatrix, WINDOWS};
use super::layout::Layout;
use super::reference::{check_written, expected, Tally};
use super::shapes::{Matrix, Model};
use crate::catalogue::{Fact, Kernel, Metric, Params};
use crate::gpu::Gpu;
use crate::harness::{Check, Derived, Reps, Spec, Workload};
use crate::timing::Timed;
use crate::workloads::Shaders;

/// Multiply-adds the CPU reference spends per matrix at most (rows are
/// sampled beyond it; the share is stated).
const CHECK_BUDGET: u64 = 150_000_000;

/// The prompt's activations for input width `k`: `tokens + WINDOWS - 1`
/// vectors of `k`, token-major.
pub fn x_key(k: u64) -> u32 {
    formats::key(&[0x9e3, k as u32])
}

pub struct Prefill<'g> {
    gpu: &'g Gpu,
    format: Format,
    model: Model,
    tokens: u64,
    layout: Layout,
    matrices: Vec<GpuMatrix>,
    pipeline: wgpu::ComputePipeline,
    /// One repetition reading window `w`: `dispatches[w]`, each (bind
    /// group, workgroups in x and y).
    dispatches: Vec<Vec<(wgpu::BindGroup, u32, u32)>>,
    ys: Vec<wgpu::Buffer>,
    /// Repetitions recorded per window.
    counts: [u64; WINDOWS],
    _keep: Vec<wgpu::Buffer>,
}

impl<'g> Prefill<'g> {
    /// `which` picks matrices of the model's first layer by name.
    pub fn new(
        gpu: &'g Gpu,
        shaders: &Shaders,
        format: Format,
        model: Model,
        which: &[&str],
        tokens: u64,
    ) -> Result<Self> {
        let layout = Layout::for_adapter(gpu)?;
        Prefill::with_layout(gpu, shaders, format, model, which, tokens, layout)
    }

    /// `new` with the kernel layout named (tests run both where they can).
    pub fn with_layout(
        gpu: &'g Gpu,
        shaders: &Shaders,
        format: Format,
        model: Model,
        which: &[&str],
        tokens: u64,
        layout: Layout,
    ) -> Result<Self> {
        let (body, entry, (tile_rows, tile_tokens)) = layout.prefill();
        // The tiled kernel's rows follow the device's limits.
        let (tile_rows, constants) = match layout {
            Layout::LanesPerRow => {
                let rows = g::prefill_rows(gpu);
                (rows, vec![("ROWS", rows as f64)])
            }
            Layout::RowPerLane => (tile_rows, Vec::new()),
        };
        let (init, pipeline) = g::pipelines(
            gpu,
            shaders,
            format,
            &format!("prefill_{}", format.name()),
            &[g::PREFILL_IO, body],
            (entry, &constants),
        )?;
        let chosen: Vec<(usize, Matrix)> = model
            .matrices()
            .into_iter()
            .enumerate()
            .filter(|(_, m)| which.contains(&m.name))
            .collect();
        anyhow::ensure!(!chosen.is_empty(), "no prefill matrix chosen");
        for (_, m) in &chosen {
            format.check_row(m.k)?;
        }
        let mut matrices = Vec::new();
        let mut dispatches = vec![Vec::new(); WINDOWS];
        let mut ys = Vec::new();
        let mut keep = Vec::new();
        for (i, m) in chosen {
            let gm = g::generate(gpu, &init, format, m, matrix_key(&model, format, 0, i))?;
            let vectors = tokens + WINDOWS as u64 - 1;
            let x = g::activations(gpu, x_key(m.k), vectors * m.k)?;
            let y = g::zeroed(gpu, "llm prefill outputs", tokens * m.rows)?;
            for (w, rep) in dispatches.iter_mut().enumerate() {
                for part in &gm.parts {
                    let job = g::storage(
                        gpu,
                        "llm job",
                        &g::words(&[
                            part.rows as u32,
                            m.k as u32,
                            format.row_bytes(m.k) as u32,
                            tokens as u32,
                            m.rows as u32,
                            part.row0 as u32,
                            (w as u64 * m.k / 4) as u32,
                            0,
                        ]),
                    )?;
                    let bg = g::bind(
                        gpu,
                        &pipeline,
                        &[(0, &part.buf), (1, &x), (2, &y), (3, &job)],
                    );
                    rep.push((
                        bg,
                        part.rows.div_ceil(tile_rows) as u32,
                        tokens.div_ceil(tile_tokens) as u32,
                    ));
                    keep.push(job);
                }
            }
            keep.push(x);
            ys.push(y);
            matrices.push(gm);
        }
        gpu.check_errors("setting up the prefill kernels")?;
        Ok(Prefill {
            gpu,
            format,
            model,
            tokens,
            layout,
            matrices,
            pipeline,
            dispatches,
            ys,
            counts: [0; WINDOWS],
            _keep: keep,
        })
    }

    fn weights(&self) -> u64 {
        self.matrices.iter().map(|m| m.shape.rows * m.shape.k).sum()
    }

    /// Share of one token's weights this set of matrices holds.
    fn token_share(&self) -> f64 {
        self.weights() as f64 / (self.model.layers * self.model.layer_weights()) as f64
    }
}

impl Workload for Prefill<'_> {
    fn spec(&self) -> Spec {
        let names: Vec<&str> = self.matrices.iter().map(|m| m.shape.name).collect();
        Spec {
            kernel: Kernel::Prefill(self.format),
            params: Params::new()
                .with(Fact::Model(self.model.id.into()))
                .with(Fact::Format(self.format))
                .detail("activations", "f32")
                .with(Fact::Layout(self.layout.name().into()))
                .with(Fact::Batch(self.tokens))
                .detail("matrices", names.join("+"))
                .detail("token_share", format!("{:.5}", self.token_share()))
                .detail("scaled_to_all_layers", true),
            metric: Metric::TokenRate,
            latency: false,
        }
    }

    fn work_per_rep(&self) -> f64 {
        self.tokens as f64 * self.token_share()
    }

    fn max_reps(&self) -> u32 {
        256
    }

    fn derived(&self) -> Vec<Derived> {
        vec![Derived {
            metric: Metric::Flops,
            factor: 2.0 * (self.model.layers * self.model.layer_weights()) as f64,
        }]
    }

    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        pass.set_pipeline(&self.pipeline);
        for index in reps.indices() {
            let w = g::window(index);
            for (bg, gx, gy) in &self.dispatches[w] {
                pass.set_bind_group(0, bg, &[]);
                pass.dispatch_workgroups(*gx, *gy, 1);
            }
            self.counts[w] += 1;
        }
    }

    fn verify(self, _timed: &Timed) -> Result<Check> {
        let mut check = Check::default();
        let mut tally = Tally::default();
        let mut outputs = 0u64;
        let mut rng = rand::rng();
        for (m, ybuf) in self.matrices.iter().zip(&self.ys) {
            let s = m.shape;
            let y = g::read_f32(self.gpu, ybuf, self.tokens * s.rows)?;
            outputs += y.len() as u64;
            check_written(&y, Some(s.name), &mut check);
            // Every token of the sampled rows; always the first and last row.
            let n = (CHECK_BUDGET / (self.tokens * s.k)).clamp(2, s.rows) as usize;
            let mut rows: Vec<u64> = sample(&mut rng, s.rows as usize - 1, n - 1)
                .into_iter()
                .map(|r| r as u64)
                .collect();
            if !rows.contains(&0) {
                rows[0] = 0;
            }
            rows.push(s.rows - 1);
            let xs: Vec<Vec<f32>> = (0..self.tokens + WINDOWS as u64 - 1)
                .map(|t| {
                    (0..s.k)
                        .map(|j| formats::activation(x_key(s.k), (t * s.k + j) as u32))
                        .collect()
                })
                .collect();
            let want = expected(self.format, m.key, s.k, &rows, &xs);
            for (r, per_vector) in rows.iter().zip(&want) {
                for t in 0..self.tokens as usize {
                    let got = y[t * s.rows as usize + *r as usize];
                    let per_window = &per_vector[t..t + WINDOWS];
                    tally.record_sum(got, per_window, &self.counts, || {
                        format!("{} row {r} token {t}", s.name)
                    });
                }
            }
        }
        if let Some(failure) = tally.failure() {
            check.fail(failure);
        }
        check.account(self.counts.iter().sum());
        check.fact("windows", WINDOWS);
        check.fact(
            "outputs_vs_cpu_pct",
            format!("{:.2}", 100.0 * tally.compared as f64 / outputs as f64),
        );
        check.fact("outputs_finite_nonzero_pct", 100);
        Ok(check)
    }
}
