//! Whole decode steps of a catalogue model as a runtime runs them
//! (`token_<quant>`): for a batch of sequences, every matrix of every layer
//! in the format its file stores it (llama.cpp's Q4_K_M mix, or gpt-oss'
//! MXFP4), the experts each sequence's router chose gathered by index, and
//! attention over each sequence's own f16 KV cache at a context. One
//! repetition times all of it; the row is aggregate tokens/s of the batch.
//!
//! Both parts are checked against the CPU on the outputs the timed
//! repetitions left ([`weights::Weights::verify`], the attention
//! kernel's own check per sequence), and both must account for every
//! repetition. The router's choice is drawn on the host (the gather is
//! what is timed); embedding, norms, the output head and sampling are
//! left out, as `weight_bytes_per_token` counts.

pub mod plan;
pub mod weights;

use anyhow::{bail, Result};

use super::attention::plan::{budget as kv_budget, residency, KvResidency};
use super::attention::Attention;
use crate::catalogue::{Fact, Kernel, Metric, Params};
use crate::gpu::Gpu;
use crate::harness::{measure, Check, Derived, Reps, Spec, Workload};
use crate::timing::Timed;
use crate::workloads::{Ctx, Scale, Shaders, Skipped, SuiteOutput};
use plan::{Case, Layers};
use weights::Weights;

/// Storage buffers the token kernel binds in one stage (weights,
/// activations, outputs, job, expert list), as attention does.
const STORAGE_BUFFERS: u32 = 5;

pub struct Token<'g> {
    case: Case,
    layers: Layers,
    weights: Weights<'g>,
    /// One per sequence, for decode; none for a prompt.
    attention: Vec<Attention<'g>>,
    kv: Option<KvResidency>,
}

impl<'g> Token<'g> {
    pub fn new(gpu: &'g Gpu, shaders: &Shaders, case: Case, scale: Scale) -> Result<Self> {
        let m = case.model;
        // A GPU's caches first (each sequence its share of the cache
        // budget), then the weights in what is left; a software adapter
        // holds one group of both.
        let gpu_kv = case
            .context
            .filter(|_| !gpu.desc.is_cpu())
            .map(|c| residency(&m, c, kv_budget(gpu, scale) / case.batch, false));
        let reserved = match (gpu_kv, case.context) {
            (Some(kv), Some(c)) => {
                case.batch
                    * (0..kv.resident)
                        .map(|l| m.layer_kv_bytes(l, c))
                        .sum::<u64>()
            }
            _ => 0,
        };
        let layers = plan::layers(
            gpu,
            scale,
            &m,
            case.quant,
            (case.context.is_none(), reserved),
        );
        let per_rep = layers.positions.len() as u64;
        let kv = gpu_kv.or(case.context.map(|_| KvResidency {
            resident: per_rep,
            per_rep,
        }));
        let weights = Weights::new(gpu, shaders, (m, case.quant), layers.clone(), case.batch)?;
        let mut attention = Vec::new();
        if let (Some(context), Some(kv)) = (case.context, kv) {
            for seq in 0..case.batch {
                attention.push(Attention::for_sequence(
                    gpu,
                    shaders,
                    (m, context),
                    kv,
                    seq as u32,
                )?);
            }
        }
        // The attention's share of a token is its share of the cache's
        // bytes; the held layers were chosen so that it is their share of
        // the layers too.
        if let Some(share) = attention.first().map(Attention::tokens_per_rep) {
            if (share - layers.tokens_per_rep()).abs() > 1e-9 {
                bail!(
                    "token: {} layers {:?} are {} of a token's weights but {share} of its attention",
                    m.id,
                    layers.resident,
                    layers.tokens_per_rep()
                );
            }
        }
        Ok(Token {
            case,
            layers,
            weights,
            attention,
            kv,
        })
    }

    /// Bytes a repetition reads: the weights (a dense matrix once for the
    /// batch) and every sequence's share of its cache.
    fn bytes_per_rep(&self) -> f64 {
        let kv = self
            .case
            .context
            .map_or(0, |c| self.case.model.kv_cache_bytes(c)) as f64;
        self.weights.bytes_per_rep() as f64 + self.work_per_rep() * kv
    }
}

impl Workload for Token<'_> {
    fn spec(&self) -> Spec {
        let (m, q) = (self.case.model, self.case.quant);
        let mut params = Params::new().with(Fact::Model(m.id.into()));
        if let Some(c) = self.case.context {
            params = params.with(Fact::Context(c));
        }
        params = params
            .with(Fact::Batch(self.case.batch))
            .detail("layers_resident", self.layers.resident.len())
            .detail("layers_per_rep", self.layers.positions.len())
            .detail("layers_per_token", m.layers)
            .detail("experts_resident", self.layers.experts);
        if let (Some(c), Some(kv)) = (self.case.context, self.kv) {
            params = params
                .detail("kv", "f16")
                .detail("kv_layers_resident", kv.resident)
                .detail("kv_bytes_per_sequence", m.kv_cache_bytes(c));
        }
        let params = params
            .detail("activations", "f32")
            .with(Fact::WeightBytesPerToken(q.weights_read_per_token(&m)));
        Spec {
            kernel: match self.case.context {
                Some(_) => Kernel::Token(q),
                None => Kernel::Prompt(q),
            },
            params,
            metric: Metric::TokenRate,
            latency: false,
        }
    }

    fn work_per_rep(&self) -> f64 {
        self.case.batch as f64 * self.layers.tokens_per_rep()
    }

    fn max_reps(&self) -> u32 {
        1024
    }

    /// Decode: bytes read per token. A prompt: its multiply-adds, two
    /// FLOPs each, per token.
    fn derived(&self) -> Vec<Derived> {
        let m = self.case.model;
        vec![match self.case.context {
            Some(_) => Derived {
                metric: Metric::Bandwidth,
                factor: self.bytes_per_rep() / self.work_per_rep(),
            },
            None => Derived {
                metric: Metric::Flops,
                factor: 2.0 * (m.layers * m.layer_weights()) as f64,
            },
        }]
    }

    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        self.weights.encode(pass, reps);
        for a in &mut self.attention {
            a.encode(pass, reps);
        }
    }

    fn verify(self, timed: &Timed) -> Result<Check> {
        let mut check = Check::default();
        let reps = self.weights.verify(&mut check)?;
        let sequences = self.attention.len();
        for (seq, a) in self.attention.into_iter().enumerate() {
            let part = a.verify(timed)?;
            for p in part.problems {
                check.fail(format!("attention of sequence {seq}: {p}"));
            }
        }
        // Every attention part recorded the same repetitions as the
        // weights (one encode call feeds them all), and checked them.
        check.account(reps);
        check.fact("attention_sequences_vs_cpu", sequences);
        Ok(check)
    }
}

/// Why `case` is not run on this adapter, if it is not: the batch's KV
/// caches of the layers it holds over what the run may keep, or one
/// layer's keys over a binding.
fn too_large(gpu: &Gpu, scale: Scale, case: &Case) -> Option<String> {
    let (m, context) = (case.model, case.context?);
    let held = match gpu.desc.is_cpu() {
        true => plan::layers(gpu, scale, &m, case.quant, (false, 0))
            .positions
            .len() as u64,
        false => m.layers,
    };
    let bytes: u64 = (0..held).map(|l| m.layer_kv_bytes(l, context)).sum::<u64>() * case.batch;
    // A software adapter holds a group of layers, and its caches share the
    // weights' budget; a GPU holds every layer's cache in its half.
    let limit = match gpu.desc.is_cpu() {
        true => super::shapes::weight_budget(gpu, scale),
        false => kv_budget(gpu, scale),
    };
    if bytes > limit {
        return Some(format!(
            "{} at context {context} for {} sequences: their KV caches take {bytes} bytes, over the {limit} this run keeps",
            m.id, case.batch
        ));
    }
    super::attention::plan::too_large(gpu, &m, context)
}

/// `run --suite llm`'s `token_<quant>` rows.
pub fn run(ctx: &Ctx, out: &mut SuiteOutput) -> Result<()> {
    let cases = plan::cases(ctx.gpu, ctx.scale);
    let per_stage = ctx.gpu.limits.max_storage_buffers_per_shader_stage;
    for case in cases {
        let kernel = match case.context {
            Some(_) => Kernel::Token(case.quant),
            None => Kernel::Prompt(case.quant),
        };
        if per_stage < STORAGE_BUFFERS {
            out.skipped.push(Skipped::new(
                kernel,
                format!("a decode step binds {STORAGE_BUFFERS} storage buffers in one stage; the adapter allows {per_stage}"),
            ));
            continue;
        }
        if let Some(why) = too_large(ctx.gpu, ctx.scale, &case) {
            out.skipped.push(Skipped::new(kernel, why));
            continue;
        }
        let what = match case.context {
            Some(c) => format!("decode at context {c}, batch {}", case.batch),
            None => format!("a {}-token prompt", case.batch),
        };
        ctx.status(&format!(
            "llm: {} {} {what}",
            case.model.id,
            case.quant.label()
        ));
        let w = Token::new(ctx.gpu, ctx.shaders, case, ctx.scale)?;
        out.measured.extend(measure(ctx, w)?);
    }
    Ok(())
}
