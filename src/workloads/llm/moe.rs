//! MoE decode: one token through the experts its router chose, gathered by
//! index out of every expert of the layer held in one buffer (paged by
//! expert where they exceed a binding): `shaders/llm_token.wgsl`, one
//! product (an active expert's) a workgroup.
//!
//! Repetition `r` reads expert set `r mod SETS` (drawn on the host, a new
//! set every repetition) and activation window `r mod 2`, and adds its
//! products to per-slot outputs zeroed once: the outputs the check reads
//! are Σ_r W_(e_r,j) x_(r,j), which only the experts actually chosen, in
//! every repetition, produce.

use anyhow::Result;
use rand::seq::IndexedRandom;

use super::formats::{self, Format};
use super::gpu::{self as g, GpuMatrix, WINDOWS};
use super::moe_plan::{self as p, Part, Step, SETS};
use super::reference::{check_written, expected, Expect, Tally};
use super::shapes::Model;
use super::token::weights::TOKEN;
use crate::catalogue::{Fact, Kernel, Metric, Params};
use crate::domain::models::by_id;
use crate::gpu::Gpu;
use crate::harness::{measure, Check, Derived, Measured, Reps, Spec, Workload};
use crate::timing::Timed;
use crate::workloads::{Ctx, Scale, Shaders};

/// Rows per workgroup, as in `shaders/llm_token.wgsl`, whose kernel with
/// one product a workgroup is the gather.
const ROWS: u64 = 4;
/// Outputs of each step the CPU reference checks, besides its last row.
const SAMPLED_ROWS: usize = 24;

/// The activations of steps with `k` inputs: per window and slot, `k`
/// values.
fn x_key(k: u64) -> u32 {
    formats::key(&[0x3e, k as u32])
}

/// How the experts are held: `resident` of each routed matrix, at most
/// `page` to a buffer (None: as many as a binding holds).
#[derive(Clone, Copy, Debug)]
pub struct Holding {
    pub resident: u64,
    pub page: Option<u64>,
}

/// One step on the GPU: its pages of experts, and where its outputs start.
struct GpuStep {
    step: Step,
    pages: Vec<GpuMatrix>,
    per_page: u64,
    out: u64,
}

pub struct Moe<'g> {
    gpu: &'g Gpu,
    format: Format,
    model: Model,
    part: Part,
    holding: Holding,
    steps: Vec<GpuStep>,
    sets: Vec<Vec<u32>>,
    pipeline: wgpu::ComputePipeline,
    /// One repetition with expert set `s`: `dispatches[s]`.
    dispatches: Vec<Vec<(wgpu::BindGroup, (u32, u32))>>,
    y: wgpu::Buffer,
    y_len: u64,
    /// Repetitions recorded per expert set.
    counts: Vec<u64>,
    _keep: Vec<wgpu::Buffer>,
}

impl<'g> Moe<'g> {
    pub fn new(
        gpu: &'g Gpu,
        shaders: &Shaders,
        format: Format,
        model: Model,
        part: Part,
        holding: Holding,
    ) -> Result<Self> {
        let plan = p::plan(&model, part, holding.resident);
        for s in &plan {
            format.check_row(s.matrix.k)?;
        }
        let (init, pipeline) = g::pipelines(
            gpu,
            shaders,
            format,
            &format!("moe_{}", format.name()),
            &[TOKEN],
            ("token", &[]),
        )?;
        let mut steps = Vec::new();
        let mut out = 0;
        for (i, step) in plan.into_iter().enumerate() {
            steps.push(generate(gpu, &init, format, &model, holding, i, step, out)?);
            out += step.slots * step.matrix.rows;
        }
        let max_slots = steps.iter().map(|s| s.step.slots).max().unwrap_or(1);
        let sets = p::index_sets(holding.resident, model.active_experts, x_key(0));
        let mut keep = Vec::new();
        let widths = steps.iter().map(|s| s.step.matrix.k);
        let xs = g::activations_by_width(gpu, widths, WINDOWS as u64 * max_slots, x_key)?;
        let y = g::zeroed(gpu, "llm moe outputs", out)?;
        let reps = rep_buffers(gpu, &sets)?;
        // [step][page]: the same for every repetition
        let jobs = jobs(gpu, format, &steps)?;
        let mut dispatches = Vec::new();
        for (set, routed) in reps.routed.iter().enumerate() {
            let dense = &reps.dense[set % WINDOWS];
            let mut rep = Vec::new();
            for (s, jobs) in steps.iter().zip(&jobs) {
                let st = s.step;
                let list = if st.routed { routed } else { dense };
                for (m, job) in s.pages.iter().zip(jobs) {
                    let x = &xs[&st.matrix.k];
                    let bg = bind(gpu, &pipeline, &m.parts[0].buf, x, &y, job, list);
                    let groups = (st.matrix.rows.div_ceil(ROWS) as u32, st.slots as u32);
                    rep.push((bg, groups));
                }
            }
            dispatches.push(rep);
        }
        keep.extend(jobs.into_iter().flatten());
        keep.extend(xs.into_values());
        keep.extend(reps.routed);
        keep.extend(reps.dense);
        gpu.check_errors("setting up the moe kernels")?;
        Ok(Moe {
            gpu,
            format,
            model,
            part,
            holding,
            steps,
            sets,
            pipeline,
            dispatches,
            y,
            y_len: out,
            counts: vec![0; SETS],
            _keep: keep,
        })
    }

    /// Weight bytes one repetition reads.
    fn bytes_per_rep(&self) -> f64 {
        let s = self.steps.iter().map(|s| s.step.bytes_read(self.format));
        s.sum::<u64>() as f64
    }
}

/// Step `step`'s experts generated on the GPU, `per_page` to a buffer.
#[allow(clippy::too_many_arguments)]
fn generate(
    gpu: &Gpu,
    init: &wgpu::ComputePipeline,
    format: Format,
    model: &Model,
    holding: Holding,
    index: usize,
    step: Step,
    out: u64,
) -> Result<GpuStep> {
    let (pages, per_page) = g::generate_copies(
        gpu,
        init,
        format,
        (step.matrix, step.stored, holding.page),
        model.id,
        |page| page_key(model, format, index, page),
    )?;
    Ok(GpuStep {
        step,
        pages,
        per_page,
        out,
    })
}

/// Each step's and page's job: its shape, its experts and its outputs.
fn jobs(gpu: &Gpu, format: Format, steps: &[GpuStep]) -> Result<Vec<Vec<wgpu::Buffer>>> {
    let mut out = Vec::new();
    for s in steps {
        let st = s.step;
        let mut pages = Vec::new();
        for page in 0..s.pages.len() as u64 {
            let words = [
                st.matrix.rows as u32,
                st.matrix.k as u32,
                format.row_bytes(st.matrix.k) as u32,
                st.expert_bytes(format) as u32,
                (page * s.per_page) as u32,
                s.per_page as u32,
                // one product a workgroup, each slot its own
                1,
                st.slots as u32,
                s.out as u32,
            ];
            pages.push(g::storage(gpu, "llm moe job", &g::words(&words))?);
        }
        out.push(pages);
    }
    Ok(out)
}

fn page_key(model: &Model, format: Format, step: usize, page: usize) -> u32 {
    formats::key(&[
        0x30e,
        model.hidden as u32,
        model.ffn as u32,
        format.block_bytes() as u32,
        step as u32,
        page as u32,
    ])
}

/// Per-repetition lists `[window, expert of slot 0, ...]`: one per expert
/// set, and one per window for the dense steps (their only copy, 0).
struct RepBuffers {
    routed: Vec<wgpu::Buffer>,
    dense: Vec<wgpu::Buffer>,
}

fn rep_buffers(gpu: &Gpu, sets: &[Vec<u32>]) -> Result<RepBuffers> {
    let mut routed = Vec::new();
    for (s, set) in sets.iter().enumerate() {
        let mut words = vec![(s % WINDOWS) as u32];
        words.extend(set);
        routed.push(g::storage(gpu, "llm moe experts", &g::words(&words))?);
    }
    let mut dense = Vec::new();
    for w in 0..WINDOWS as u32 {
        dense.push(g::storage(gpu, "llm moe dense", &g::words(&[w, 0]))?);
    }
    Ok(RepBuffers { routed, dense })
}

fn bind(
    gpu: &Gpu,
    pipeline: &wgpu::ComputePipeline,
    w: &wgpu::Buffer,
    x: &wgpu::Buffer,
    y: &wgpu::Buffer,
    job: &wgpu::Buffer,
    rep: &wgpu::Buffer,
) -> wgpu::BindGroup {
    g::bind(gpu, pipeline, &[(0, w), (1, x), (2, y), (3, job), (4, rep)])
}

impl Workload for Moe<'_> {
    fn spec(&self) -> Spec {
        let routed = p::plan(&self.model, Part::Experts, self.holding.resident);
        let expert_bytes: u64 = routed.iter().map(|s| s.bytes_read(self.format)).sum();
        let pages = self.steps.iter().map(|s| s.pages.len()).max().unwrap_or(1);
        let params = Params::new()
            .with(Fact::Model(self.model.id.into()))
            .with(Fact::Format(self.format))
            .detail("part", self.part.name())
            .detail("experts", self.model.experts)
            .detail("active", self.model.active_experts)
            .detail("experts_resident", self.holding.resident)
            .detail("expert_pages", pages)
            .detail("expert_sets", SETS)
            .detail("active_expert_bytes_per_layer", expert_bytes)
            .detail("activations", "f32")
            .with(Fact::Layout("lanes_per_row".into()));
        let metric = match self.part {
            Part::Experts => Metric::Bandwidth,
            Part::Layer => Metric::TokenRate,
        };
        Spec {
            kernel: Kernel::Moe(self.format),
            params,
            metric,
            latency: false,
        }
    }

    fn work_per_rep(&self) -> f64 {
        match self.part {
            Part::Experts => self.bytes_per_rep(),
            Part::Layer => p::tokens_per_rep(&self.model),
        }
    }

    fn max_reps(&self) -> u32 {
        1024
    }

    fn derived(&self) -> Vec<Derived> {
        match self.part {
            // Seconds of one layer's expert FFN for one token.
            Part::Experts => vec![Derived {
                metric: Metric::Latency,
                factor: 1.0 / self.bytes_per_rep(),
            }],
            Part::Layer => Vec::new(),
        }
    }

    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        pass.set_pipeline(&self.pipeline);
        for index in reps.indices() {
            let s = (index % SETS as u64) as usize;
            for (bg, (gx, gy)) in &self.dispatches[s] {
                pass.set_bind_group(0, bg, &[]);
                pass.dispatch_workgroups(*gx, *gy, 1);
            }
            self.counts[s] += 1;
        }
    }

    fn verify(self, _timed: &Timed) -> Result<Check> {
        let mut check = Check::default();
        let y = g::read_f32(self.gpu, &self.y, self.y_len)?;
        check_written(&y, None, &mut check);
        let mut tally = Tally::default();
        for s in &self.steps {
            self.check_step(s, &y, &mut tally);
        }
        if let Some(failure) = tally.failure() {
            check.fail(failure);
        }
        check.account(self.counts.iter().sum());
        check.fact("windows", WINDOWS);
        check.fact("rows_vs_cpu_per_matrix", SAMPLED_ROWS + 1);
        check.fact(
            "outputs_vs_cpu_pct",
            format!("{:.1}", 100.0 * tally.compared as f64 / y.len() as f64),
        );
        Ok(check)
    }
}

impl Moe<'_> {
    /// The copy slot `j` of a step read in expert set `s`.
    fn copy(&self, step: &Step, s: usize, j: usize) -> u32 {
        if step.routed {
            self.sets[s][j]
        } else {
            0
        }
    }

    /// Sampled rows of every slot of `gs` against the CPU: each output is
    /// the sum, over the (copy, window) pairs its slot met, of that pair's
    /// product times the repetitions that chose it.
    fn check_step(&self, gs: &GpuStep, y: &[f32], tally: &mut Tally) {
        let st = gs.step;
        let (rows, k) = (st.matrix.rows, st.matrix.k);
        let mut sample: Vec<u64> = (0..rows - 1)
            .collect::<Vec<_>>()
            .choose_multiple(&mut rand::rng(), SAMPLED_ROWS)
            .copied()
            .collect();
        sample.push(rows - 1);
        let x = |w: usize, j: u64| -> Vec<f32> {
            let start = (w as u64 * st.slots + j) * k;
            (start..start + k)
                .map(|i| formats::activation(x_key(k), i as u32))
                .collect()
        };
        for j in 0..st.slots {
            // (copy, window) -> repetitions
            let mut met = std::collections::BTreeMap::<(u32, usize), u64>::new();
            for (s, &c) in self.counts.iter().enumerate() {
                if c > 0 {
                    *met.entry((self.copy(&st, s, j as usize), s % WINDOWS))
                        .or_default() += c;
                }
            }
            let counts: Vec<u64> = met.values().copied().collect();
            // [pair][row]
            let per_pair: Vec<Vec<Expect>> = met
                .keys()
                .map(|&(e, w)| {
                    let page = e as u64 / gs.per_page;
                    let local = (e as u64 % gs.per_page) * rows;
                    let m = &gs.pages[page as usize];
                    let at: Vec<u64> = sample.iter().map(|r| local + r).collect();
                    let want = expected(self.format, m.key, k, &at, &[x(w, j)]);
                    want.into_iter().map(|v| v[0]).collect()
                })
                .collect();
            for (i, &r) in sample.iter().enumerate() {
                let pairs: Vec<Expect> = per_pair.iter().map(|v| v[i]).collect();
                let got = y[(gs.out + j * rows + r) as usize];
                tally.record_sum(got, &pairs, &counts, || {
                    format!("{} slot {j} row {r}", st.matrix.name)
                });
            }
        }
    }
}

/// The MoE models, formats and parts a run times: on a software adapter
/// Qwen3-30B-A3B in Q4_0 (none with --quick, which stays a smoke run of
/// the dense kernels), with --full gpt-oss-20b in MXFP4 too; on a GPU both
/// models in both formats.
fn runs(ctx: &Ctx) -> Vec<(Model, Format, Vec<Part>)> {
    let model = |id| by_id(id).expect("the catalogue has the MoE models");
    let (qwen, oss) = (model("qwen3-30b-a3b"), model("gpt-oss-20b"));
    let both = vec![Part::Experts, Part::Layer];
    match (ctx.gpu.desc.is_cpu(), ctx.scale) {
        (true, Scale::Quick) => Vec::new(),
        (true, Scale::Default) => vec![(qwen, Format::Q4_0, both)],
        (true, Scale::Full) => vec![
            (qwen, Format::Q4_0, both.clone()),
            (oss, Format::MXFP4, both),
        ],
        (false, _) => [qwen, oss]
            .into_iter()
            .flat_map(|m| [Format::Q4_0, Format::MXFP4].map(|f| (m, f, both.clone())))
            .collect(),
    }
}

/// The formats `measure_all` times on this adapter at this scale, once
/// each, in order.
pub fn formats(ctx: &Ctx) -> Vec<Format> {
    let mut out: Vec<Format> = Vec::new();
    for (_, f, _) in runs(ctx) {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// `run --suite llm`'s `moe_<format>` rows.
pub fn measure_all(ctx: &Ctx) -> Result<Vec<Measured>> {
    let mut out = Vec::new();
    for (model, format, parts) in runs(ctx) {
        let resident = p::experts_resident(ctx.gpu, ctx.scale, &model, format);
        let holding = Holding {
            resident,
            page: None,
        };
        for part in parts {
            ctx.status(&format!(
                "llm: moe {} {} {} ({resident} experts resident)",
                model.id,
                format.name(),
                part.name()
            ));
            let w = Moe::new(ctx.gpu, ctx.shaders, format, model, part, holding)?;
            out.extend(measure(ctx, w)?);
        }
    }
    Ok(out)
}
