//! Attention decode: one new token's attention over a KV cache of
//! `context` positions in every layer (`shaders/llm_attention.wgsl`),
//! grouped-query aware, sliding windows and attention sinks as the model
//! has them. The cache is f16, generated on the GPU from a hash; the CPU
//! reference regenerates the rows of the heads it checks.
//!
//! Repetition `r` reads query window `r mod 2` and adds every head's
//! output to the outputs, zeroed once before timing: the outputs the check
//! reads are Σ_w count_w · attention(q_w), a sum no subset of the
//! repetitions produces.

pub mod plan;
pub mod reference;

use anyhow::{bail, Result};
use rand::Rng;

use super::formats::{activation, key};
use super::gpu::{self as g, WINDOWS};
use super::reference::{Expect, Tally};
use crate::catalogue::{Fact, Kernel, Metric, Params};
use crate::domain::models::Model;
use crate::gpu::Gpu;
use crate::harness::{Check, Derived, Reps, Spec, Workload};
use crate::timing::Timed;
use crate::workloads::{Ctx, Shaders, Skipped, SuiteOutput};
use plan::KvResidency;
use reference::{head_output, CacheShape, K_EXPONENT, V_EXPONENT};

pub const ATTENTION_WGSL: &str = include_str!("../../../../shaders/llm_attention.wgsl");
pub const ATTENTION: g::Piece = ("llm_attention", ATTENTION_WGSL);

/// As in the shader: positions per `attend` workgroup, most query heads
/// per KV head and most of their query elements.
const CHUNK: u64 = 256;
const GROUP_MAX: u64 = 8;
const Q_MAX: u64 = 1024;

/// The query vectors: window `w` is elements `w·heads·head_dim ..` of the
/// vector with this key.
fn q_key(m: &Model) -> u32 {
    key(&[0xa77e, m.heads as u32, m.head_dim as u32])
}

fn sink_key(m: &Model) -> u32 {
    key(&[0x5146, m.heads as u32, m.layers as u32])
}

/// The learned sink logit of `head` in resident layer `layer`: in [0, 8),
/// from no weight to most of it against the scores' spread.
pub fn sink_logit(m: &Model, layer: u64, head: u64) -> f32 {
    4.0 + 4.0 * activation(sink_key(m), (layer * m.heads + head) as u32)
}

/// Measures the plan's models and contexts into `out`, then the decode
/// rate at each context where this run measured decode of the same model.
/// Storage buffers `attend` binds: the most of the kernel's entry points.
const STORAGE_BUFFERS: u32 = 5;

pub fn run(ctx: &Ctx, out: &mut SuiteOutput) -> Result<()> {
    let per_stage = ctx.gpu.limits.max_storage_buffers_per_shader_stage;
    if per_stage < STORAGE_BUFFERS {
        out.skipped.push(Skipped::new(
            Kernel::Attention,
            format!(
                "attention binds {STORAGE_BUFFERS} storage buffers in one stage (queries, keys, values, partial sums, job); the adapter allows {per_stage}"
            ),
        ));
        return Ok(());
    }
    for (model, contexts) in plan::plan(ctx.gpu, ctx.scale) {
        for context in contexts {
            if let Some(why) = plan::too_large(ctx.gpu, &model, context) {
                out.skipped.push(Skipped::new(Kernel::Attention, why));
                continue;
            }
            ctx.status(&format!("llm: attention {} at context {context}", model.id));
            let res = plan::residency_on(ctx.gpu, ctx.scale, &model, context);
            let w = Attention::new(ctx.gpu, ctx.shaders, model, context, res)?;
            out.measured.extend(crate::harness::measure(ctx, w)?);
        }
    }
    out.notes.extend(plan::combined_notes(&out.measured));
    out.notes.extend(plan::software_note(ctx.gpu, ctx.scale));
    Ok(())
}

/// One resident layer's cache.
struct Layer {
    shape: CacheShape,
    k: wgpu::Buffer,
    v: wgpu::Buffer,
}

pub struct Attention<'g> {
    gpu: &'g Gpu,
    model: Model,
    context: u64,
    res: KvResidency,
    layers: Vec<Layer>,
    attend: wgpu::ComputePipeline,
    combine: wgpu::ComputePipeline,
    /// One repetition reading query window `w`: `dispatches[w]`, each
    /// (combine?, bind group, workgroups in x and y).
    dispatches: Vec<Vec<(bool, wgpu::BindGroup, u32, u32)>>,
    y: wgpu::Buffer,
    counts: [u64; WINDOWS],
    _keep: Vec<wgpu::Buffer>,
}

/// The 1/sqrt(head_dim) the scores are scaled by, in f32 as the kernel
/// multiplies.
fn scale(m: &Model) -> f32 {
    (1.0 / (m.head_dim as f64).sqrt()) as f32
}

impl<'g> Attention<'g> {
    pub fn new(
        gpu: &'g Gpu,
        shaders: &Shaders,
        model: Model,
        context: u64,
        res: KvResidency,
    ) -> Result<Self> {
        Attention::for_sequence(gpu, shaders, (model, context), res, 0)
    }

    /// Sequence `seq` of a batch: its own cache, as every sequence a
    /// runtime serves has.
    pub fn for_sequence(
        gpu: &'g Gpu,
        shaders: &Shaders,
        (model, context): (Model, u64),
        res: KvResidency,
        seq: u32,
    ) -> Result<Self> {
        let group = model.heads / model.kv_heads.max(1);
        if !model.head_dim.is_multiple_of(8)
            || group * model.kv_heads != model.heads
            || group > GROUP_MAX
            || group * model.head_dim > Q_MAX
            || context == 0
        {
            bail!(
                "attention: {} ({} heads, {} KV heads of {}) is outside what the kernel handles",
                model.id,
                model.heads,
                model.kv_heads,
                model.head_dim
            );
        }
        let src = shaders.get(ATTENTION.0, ATTENTION.1)?;
        let shape = [("GROUP", group as f64), ("HEAD_DIM", model.head_dim as f64)];
        let pipe = |entry, constants: &[(&str, f64)]| {
            gpu.pipeline(&format!("attention {entry}"), &src, entry, constants)
        };
        let fill = pipe("fill", &[])?;
        let (attend, combine) = (pipe("attend", &shape)?, pipe("combine", &[])?);
        let layers = (0..res.resident)
            .map(|l| Self::layer(gpu, &fill, (&model, seq), context, l))
            .collect::<Result<Vec<_>>>()?;
        let mut w = Attention {
            gpu,
            model,
            context,
            res,
            layers,
            attend,
            combine,
            dispatches: vec![Vec::new(); WINDOWS],
            y: g::zeroed(
                gpu,
                "attention outputs",
                res.per_rep * model.heads * model.head_dim,
            )?,
            counts: [0; WINDOWS],
            _keep: Vec::new(),
        };
        w.record_dispatches()?;
        gpu.check_errors("setting up the attention kernels")?;
        Ok(w)
    }

    /// Resident layer `l`'s cache, generated on the GPU.
    fn layer(
        gpu: &Gpu,
        fill: &wgpu::ComputePipeline,
        (m, seq): (&Model, u32),
        context: u64,
        l: u64,
    ) -> Result<Layer> {
        let len = match m.is_sliding(l) {
            true => context.min(m.sliding_window),
            false => context,
        };
        let shape = CacheShape {
            k_key: key(&[
                0xcac4e,
                m.kv_rows() as u32,
                context as u32,
                l as u32,
                0,
                seq,
            ]),
            v_key: key(&[
                0xcac4e,
                m.kv_rows() as u32,
                context as u32,
                l as u32,
                1,
                seq,
            ]),
            kv_heads: m.kv_heads,
            head_dim: m.head_dim,
            context,
            len,
            stored: len,
        };
        let words = len * m.kv_rows() / 2;
        if let Some(why) = plan::too_large(gpu, m, len) {
            bail!("attention: {why}");
        }
        let make = |key: u32, exponent: u32| -> Result<wgpu::Buffer> {
            let buf = gpu.buffer(
                "attention cache",
                words * 4,
                wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            )?;
            let (gx, gy) = gpu.dispatch_dims(words.div_ceil(64) as u32);
            let gen = g::storage(
                gpu,
                "attention gen",
                &g::words(&[key, exponent, words as u32, gx]),
            )?;
            let bg = g::bind(gpu, fill, &[(7, &buf), (8, &gen)]);
            gpu.run_pass("generating a KV cache", |pass| {
                pass.set_pipeline(fill);
                pass.set_bind_group(0, &bg, &[]);
                pass.dispatch_workgroups(gx, gy, 1);
            })?;
            Ok(buf)
        };
        let k = make(shape.k_key, K_EXPONENT)?;
        let v = make(shape.v_key, V_EXPONENT)?;
        Ok(Layer { shape, k, v })
    }

    /// Every repetition's dispatches, per query window: for each layer of
    /// the repetition, `attend` over its chunks and KV heads, then
    /// `combine` over its query heads.
    fn record_dispatches(&mut self) -> Result<()> {
        let m = self.model;
        let max_chunks = self
            .layers
            .iter()
            .map(|l| l.shape.len.div_ceil(CHUNK))
            .max();
        let part_len = max_chunks.unwrap_or(1) * m.heads * (m.head_dim + 2);
        let part = g::zeroed(self.gpu, "attention partials", part_len)?;
        let q: Vec<f32> = (0..(WINDOWS as u64 * m.heads * m.head_dim) as u32)
            .map(|i| activation(q_key(&m), i))
            .collect();
        let q = g::storage(self.gpu, "attention queries", bytemuck::cast_slice(&q))?;
        let sinks: Vec<f32> = (0..self.res.resident * m.heads)
            .map(|i| sink_logit(&m, i / m.heads, i % m.heads))
            .collect();
        let sinks = g::storage(self.gpu, "attention sinks", bytemuck::cast_slice(&sinks))?;
        for w in 0..WINDOWS as u64 {
            for pos in 0..self.res.per_rep {
                let layer = pos % self.res.resident;
                let s = self.layers[layer as usize].shape;
                let job = [
                    m.kv_heads as u32,
                    m.head_dim as u32,
                    self.context as u32,
                    if m.is_sliding(layer) {
                        m.sliding_window as u32
                    } else {
                        0
                    },
                    s.stored as u32,
                    (w * m.heads * m.head_dim) as u32,
                    m.heads as u32,
                    (pos * m.heads * m.head_dim) as u32,
                    (layer * m.heads) as u32,
                    m.attention_sinks as u32,
                    scale(&m).to_bits(),
                ];
                let job = g::storage(self.gpu, "attention job", &g::words(&job))?;
                let l = &self.layers[layer as usize];
                let bg = g::bind(
                    self.gpu,
                    &self.attend,
                    &[(0, &q), (1, &l.k), (2, &l.v), (3, &part), (4, &job)],
                );
                let chunks = s.len.div_ceil(CHUNK) as u32;
                self.dispatches[w as usize].push((false, bg, chunks, m.kv_heads as u32));
                let bg = g::bind(
                    self.gpu,
                    &self.combine,
                    &[(3, &part), (4, &job), (5, &sinks), (6, &self.y)],
                );
                self.dispatches[w as usize].push((true, bg, m.heads as u32, 1));
                self._keep.push(job);
            }
        }
        self._keep.extend([part, q, sinks]);
        Ok(())
    }

    /// KV bytes one repetition reads: each layer's attended positions.
    fn bytes_per_rep(&self) -> u64 {
        (0..self.res.per_rep)
            .map(|pos| {
                self.model
                    .layer_kv_bytes(pos % self.res.resident, self.context)
            })
            .sum()
    }

    /// Tokens one repetition is worth: its share of the bytes a token's
    /// attention reads in every layer (one token where it runs every
    /// layer).
    pub fn tokens_per_rep(&self) -> f64 {
        self.bytes_per_rep() as f64 / self.model.kv_cache_bytes(self.context) as f64
    }
}

/// Most cache elements the reference regenerates to check every resident
/// layer; past it, one random layer of the repetition and the last.
const CHECK_ALL: u64 = 1 << 24;

impl Attention<'_> {
    /// The layers of a repetition the CPU checks.
    fn checked_positions(&self) -> Vec<u64> {
        let resident = self.res.resident.min(self.res.per_rep);
        let elements: u64 = self.layers[..resident as usize]
            .iter()
            .map(|l| l.shape.len * self.model.kv_rows())
            .sum();
        if elements <= CHECK_ALL {
            return (0..resident).collect();
        }
        let last = self.res.per_rep - 1;
        let sampled = rand::rng().random_range(0..self.res.per_rep);
        if sampled == last {
            vec![last]
        } else {
            vec![sampled, last]
        }
    }

    /// Every query head's expected output at layer position `pos`:
    /// `[head][element][window]`.
    fn expected(&self, pos: u64) -> Vec<Vec<Vec<Expect>>> {
        let m = self.model;
        let layer = pos % self.res.resident;
        let shape = self.layers[layer as usize].shape;
        let group = m.heads / m.kv_heads;
        let hd = m.head_dim as usize;
        let q: Vec<f32> = (0..(WINDOWS as u64 * m.heads * m.head_dim) as u32)
            .map(|i| activation(q_key(&m), i))
            .collect();
        let per_kv = |kvh: u64| -> Vec<Vec<Vec<Expect>>> {
            let k = shape.rows(shape.k_key, K_EXPONENT, kvh);
            let v = shape.rows(shape.v_key, V_EXPONENT, kvh);
            (kvh * group..(kvh + 1) * group)
                .map(|h| {
                    let sink = m.attention_sinks.then(|| sink_logit(&m, layer, h));
                    let per_window: Vec<Vec<Expect>> = (0..WINDOWS)
                        .map(|w| {
                            let at = (w as u64 * m.heads + h) as usize * hd;
                            head_output(&q[at..at + hd], scale(&m), &k, &v, sink)
                        })
                        .collect();
                    (0..hd)
                        .map(|d| per_window.iter().map(|e| e[d]).collect())
                        .collect()
                })
                .collect()
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        let kv: Vec<u64> = (0..m.kv_heads).collect();
        let chunk = m.kv_heads.div_ceil(threads).max(1) as usize;
        std::thread::scope(|s| {
            let handles: Vec<_> = kv
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || part.iter().flat_map(|&g| per_kv(g)).collect::<Vec<_>>())
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("reference thread"))
                .collect()
        })
    }
}

impl Workload for Attention<'_> {
    fn spec(&self) -> Spec {
        let m = self.model;
        Spec {
            kernel: Kernel::Attention,
            params: Params::new()
                .with(Fact::Model(m.id.into()))
                .with(Fact::Context(self.context))
                .detail("kv", "f16")
                .detail("query_heads_per_kv_head", m.heads / m.kv_heads)
                .detail("sliding_window", m.sliding_window)
                .detail("sinks", if m.attention_sinks { "yes" } else { "no" })
                .detail("layers_resident", self.res.resident)
                .detail("layers_per_rep", self.res.per_rep)
                .detail("layers_per_token", m.layers)
                .detail("kv_bytes_per_token", m.kv_cache_bytes(self.context)),
            metric: Metric::TokenRate,
            latency: false,
        }
    }

    fn work_per_rep(&self) -> f64 {
        self.tokens_per_rep()
    }

    fn max_reps(&self) -> u32 {
        1024
    }

    fn derived(&self) -> Vec<Derived> {
        vec![Derived {
            metric: Metric::Bandwidth,
            factor: self.model.kv_cache_bytes(self.context) as f64,
        }]
    }

    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        for index in reps.indices() {
            let w = g::window(index);
            for (combine, bg, x, y) in &self.dispatches[w] {
                pass.set_pipeline(if *combine {
                    &self.combine
                } else {
                    &self.attend
                });
                pass.set_bind_group(0, bg, &[]);
                pass.dispatch_workgroups(*x, *y, 1);
            }
            self.counts[w] += 1;
        }
    }

    fn verify(self, _timed: &Timed) -> Result<Check> {
        let mut check = Check::default();
        let per_layer = (self.model.heads * self.model.head_dim) as usize;
        let y = g::read_f32(self.gpu, &self.y, self.res.per_rep * per_layer as u64)?;
        if let Some(i) = y.iter().position(|v| !v.is_finite() || *v == 0.0) {
            check.fail(format!(
                "output {i} of {} is {} (never written, or not a number)",
                y.len(),
                y[i]
            ));
        }
        // Repeated layers read the same cache and queries in every
        // repetition: their sums must be the resident layer's, bit for bit.
        let resident = self.res.resident as usize;
        let differ = (resident..self.res.per_rep as usize)
            .filter(|&pos| {
                let src = (pos % resident) * per_layer;
                y[pos * per_layer..(pos + 1) * per_layer] != y[src..src + per_layer]
            })
            .count();
        if differ > 0 {
            check.fail(format!(
                "{differ} repeated layers gave outputs unlike their resident layer's"
            ));
        }
        let mut tally = Tally::default();
        // How much of the tolerance the worst output used: the margin a
        // reader can judge the tolerance by.
        let mut worst = 0.0f64;
        let checked = self.checked_positions();
        for &pos in &checked {
            let base = pos as usize * per_layer;
            for (h, per_elem) in self.expected(pos).iter().enumerate() {
                for (d, per_window) in per_elem.iter().enumerate() {
                    let got = y[base + h * self.model.head_dim as usize + d];
                    let e = Expect::accumulated(per_window, &self.counts);
                    worst = worst.max((got as f64 - e.want).abs() / e.tol);
                    tally.record_sum(got, per_window, &self.counts, || {
                        format!("layer {pos} head {h} element {d}")
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
            "checked_layers",
            checked
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join("+"),
        );
        check.fact(
            "outputs_vs_cpu_pct",
            format!("{:.1}", 100.0 * tally.compared as f64 / y.len() as f64),
        );
        check.fact(
            "worst_error_pct_of_tolerance",
            format!("{:.1}", 100.0 * worst),
        );
        check.fact("outputs_finite_nonzero_and_repeats_equal_pct", 100);
        Ok(check)
    }
}
