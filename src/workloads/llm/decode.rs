//! Decode: one token's matrix-vector products over every matrix of every
//! layer, timed as one repetition (or the resident layers' share of it).
//!
//! Repetition `r` multiplies every matrix by activation window `r mod 2`
//! and adds the products to the outputs, zeroed once before timing: the
//! outputs the check reads are Σ_r W·x_r = Σ_w count_w · W·x_w, a sum no
//! subset of the repetitions produces.

use std::collections::BTreeMap;

use anyhow::Result;
use rand::Rng;

use super::formats::{self, Format};
use super::gpu::{self as g, GpuMatrix, WINDOWS};
use super::layout::Layout;
use super::reference::{check_written, expected, Tally};
use super::shapes::{Model, Residency};
use crate::catalogue::{Fact, Kernel, Metric, Params};
use crate::gpu::Gpu;
use crate::harness::{Check, Derived, Reps, Spec, Workload};
use crate::timing::Timed;
use crate::workloads::Shaders;

/// The activation vectors of length `k` (one set per input width): window
/// `w` is elements `w·k .. (w + 1)·k` of the vector with this key.
pub fn x_key(k: u64) -> u32 {
    formats::key(&[0xac7, k as u32])
}

/// The hash key of matrix `index` of resident layer `layer`.
pub fn matrix_key(model: &Model, format: Format, layer: u64, index: usize) -> u32 {
    formats::key(&[
        model.hidden as u32,
        model.ffn as u32,
        format.block_bytes() as u32,
        layer as u32,
        index as u32,
    ])
}

pub struct Decode<'g> {
    gpu: &'g Gpu,
    format: Format,
    model: Model,
    res: Residency,
    layout: &'static str,
    /// Resident layers' matrices, `[layer][matrix]`.
    layers: Vec<Vec<GpuMatrix>>,
    pipeline: wgpu::ComputePipeline,
    /// One repetition reading window `w`: `dispatches[w]`, each (bind
    /// group, workgroups).
    dispatches: Vec<Vec<(wgpu::BindGroup, u32)>>,
    y: wgpu::Buffer,
    y_len: u64,
    /// Repetitions recorded per window.
    counts: [u64; WINDOWS],
    _keep: Vec<wgpu::Buffer>,
}

impl<'g> Decode<'g> {
    pub fn new(
        gpu: &'g Gpu,
        shaders: &Shaders,
        format: Format,
        model: Model,
        res: Residency,
    ) -> Result<Self> {
        let layout = Layout::for_adapter(gpu)?;
        Decode::with_layout(gpu, shaders, format, model, res, layout)
    }

    /// `new` with the kernel layout named (tests run both where they can).
    pub fn with_layout(
        gpu: &'g Gpu,
        shaders: &Shaders,
        format: Format,
        model: Model,
        res: Residency,
        layout: Layout,
    ) -> Result<Self> {
        for m in model.matrices() {
            format.check_row(m.k)?;
        }
        let (body, entry, rows_per_group) = layout.decode();
        let (init, pipeline) = g::pipelines(
            gpu,
            shaders,
            format,
            &format!("decode_{}", format.name()),
            &[g::DECODE_IO, body],
            (entry, &[]),
        )?;
        let mut layers = Vec::new();
        for layer in 0..res.resident {
            let mut ms = Vec::new();
            for (i, m) in model.matrices().into_iter().enumerate() {
                let key = matrix_key(&model, format, layer, i);
                ms.push(g::generate(gpu, &init, format, m, key)?);
            }
            layers.push(ms);
        }
        let mut xs = BTreeMap::new();
        for m in model.matrices() {
            if let std::collections::btree_map::Entry::Vacant(e) = xs.entry(m.k) {
                e.insert(g::activations(gpu, x_key(m.k), WINDOWS as u64 * m.k)?);
            }
        }
        let y_len = res.per_rep * model.layer_outputs();
        let y = g::zeroed(gpu, "llm decode outputs", y_len)?;
        let mut dispatches = vec![Vec::new(); WINDOWS];
        let mut keep = Vec::new();
        for (w, rep) in dispatches.iter_mut().enumerate() {
            for pos in 0..res.per_rep {
                let mut out = pos * model.layer_outputs();
                for m in &layers[(pos % res.resident) as usize] {
                    for part in &m.parts {
                        let job = g::storage(
                            gpu,
                            "llm job",
                            &g::words(&[
                                part.rows as u32,
                                m.shape.k as u32,
                                format.row_bytes(m.shape.k) as u32,
                                (out + part.row0) as u32,
                                (w as u64 * m.shape.k / 4) as u32,
                            ]),
                        )?;
                        let bg = g::bind(
                            gpu,
                            &pipeline,
                            &[(0, &part.buf), (1, &xs[&m.shape.k]), (2, &y), (3, &job)],
                        );
                        rep.push((bg, part.rows.div_ceil(rows_per_group) as u32));
                        keep.push(job);
                    }
                    out += m.shape.rows;
                }
            }
        }
        keep.extend(xs.into_values());
        gpu.check_errors("setting up the decode kernels")?;
        Ok(Decode {
            gpu,
            format,
            model,
            res,
            layout: layout.name(),
            layers,
            pipeline,
            dispatches,
            y,
            y_len,
            counts: [0; WINDOWS],
            _keep: keep,
        })
    }

    fn weight_bytes_per_rep(&self) -> f64 {
        (self.res.per_rep * self.model.layer_bytes(self.format)) as f64
    }
}

impl Workload for Decode<'_> {
    fn spec(&self) -> Spec {
        Spec {
            kernel: Kernel::Decode(self.format),
            params: self
                .res
                .params(
                    Params::new()
                        .with(Fact::Model(self.model.id.into()))
                        .with(Fact::Format(self.format))
                        .detail("activations", "f32")
                        .with(Fact::Layout(self.layout.into())),
                )
                .with(Fact::WeightBytesPerToken(
                    self.model.layers * self.model.layer_bytes(self.format),
                )),
            metric: Metric::TokenRate,
            latency: false,
        }
    }

    fn work_per_rep(&self) -> f64 {
        self.res.tokens_per_rep()
    }

    fn max_reps(&self) -> u32 {
        1024
    }

    fn derived(&self) -> Vec<Derived> {
        vec![Derived {
            metric: Metric::Bandwidth,
            factor: self.weight_bytes_per_rep() / self.res.tokens_per_rep(),
        }]
    }

    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        pass.set_pipeline(&self.pipeline);
        for index in reps.indices() {
            let w = g::window(index);
            for (bg, groups) in &self.dispatches[w] {
                pass.set_bind_group(0, bg, &[]);
                pass.dispatch_workgroups(*groups, 1, 1);
            }
            self.counts[w] += 1;
        }
    }

    fn verify(self, _timed: &Timed) -> Result<Check> {
        let mut check = Check::default();
        let y = g::read_f32(self.gpu, &self.y, self.y_len)?;
        let per_layer = self.model.layer_outputs() as usize;
        check_written(&y, None, &mut check);
        // Repeated layers read the same weights and window in every
        // repetition, so the sums they accumulate must be the resident
        // layer's, bit for bit.
        let resident = self.res.resident as usize;
        let mut repeats_differ = 0;
        for pos in resident..self.res.per_rep as usize {
            let src = (pos % resident) * per_layer;
            let here = pos * per_layer;
            if y[here..here + per_layer] != y[src..src + per_layer] {
                repeats_differ += 1;
            }
        }
        if repeats_differ > 0 {
            check.fail(format!(
                "{repeats_differ} repeated layers gave outputs unlike their resident layer's"
            ));
        }
        // The CPU reference: every output of one randomly chosen layer, and
        // of the last matrix of the last layer.
        let sampled = rand::rng().random_range(0..self.res.per_rep as usize);
        let last = self.res.per_rep as usize - 1;
        let mut tally = Tally::default();
        let mut matrices_checked = 0;
        for (pos, which) in [(sampled, 0..7), (last, 6..7)] {
            if pos == sampled && pos == last && which.start == 6 {
                continue;
            }
            let layer = &self.layers[pos % resident];
            let mut out = pos * per_layer;
            for (i, m) in layer.iter().enumerate() {
                let s = m.shape;
                if which.contains(&i) {
                    let xs: Vec<Vec<f32>> = (0..WINDOWS as u64)
                        .map(|w| {
                            (w * s.k..(w + 1) * s.k)
                                .map(|j| formats::activation(x_key(s.k), j as u32))
                                .collect()
                        })
                        .collect();
                    let rows: Vec<u64> = (0..s.rows).collect();
                    let want = expected(self.format, m.key, s.k, &rows, &xs);
                    for (r, per_window) in want.iter().enumerate() {
                        tally.record_sum(y[out + r], per_window, &self.counts, || {
                            format!("layer {pos} {} row {r}", s.name)
                        });
                    }
                    matrices_checked += 1;
                }
                out += s.rows as usize;
            }
        }
        if let Some(failure) = tally.failure() {
            check.fail(failure);
        }
        check.account(self.counts.iter().sum());
        check.fact("windows", WINDOWS);
        check.fact("checked_layer", sampled);
        check.fact("matrices_vs_cpu", matrices_checked);
        check.fact(
            "outputs_vs_cpu_pct",
            format!("{:.1}", 100.0 * tally.compared as f64 / y.len() as f64),
        );
        check.fact("outputs_finite_nonzero_and_repeats_equal_pct", 100);
        Ok(check)
    }
}
