//! Suite `llm`: LLM inference as it really runs on these cards — weights in
//! llama.cpp's block formats (Q4_0, Q8_0, F16, the K-quants Q4_K, Q5_K and
//! Q6_K, and MXFP4) for the matrix shapes of Llama-2 7B, 13B and 70B,
//! dequantized inside the kernels.
//!
//! - decode: one token's matrix-vector products over every matrix of every
//!   layer (`decode_<format>`, tokens/s and weight bytes/s);
//! - prefill: the same weights times a batch of prompt tokens
//!   (`prefill_<format>`, prompt tokens/s);
//! - moe: one token through the experts chosen out of all of an MoE
//!   layer's, gathered by index (`moe_<format>`, active-expert bytes/s, a
//!   layer's expert FFN time, the model's tok/s);
//! - attention: one token's attention over an f16 KV cache at a context
//!   length (`attention`, tokens/s of attention alone and KV bytes/s);
//! - token: whole decode steps of Llama-3.1-8B and Qwen3-30B-A3B in
//!   Q4_K_M and gpt-oss-20b in MXFP4 (`token_<quant>`): weights, experts
//!   and attention at a context, for a batch of sequences (aggregate
//!   tokens/s).
//!
//! Weights are generated on the GPU from a hash of (matrix, byte index)
//! (`shaders/llm_init.wgsl`); the CPU reference regenerates the bytes of
//! the rows it checks, dequantizes them exactly and accumulates in f64.

pub mod attention;
pub mod decode;
pub mod formats;
pub mod gpu;
pub mod layout;
pub mod moe;
pub mod moe_plan;
pub mod prefill;
pub mod reference;
pub mod shapes;
pub mod token;

use anyhow::Result;

use super::{Ctx, Scale, Skipped, SuiteOutput};
use crate::catalogue::Kernel;
use crate::domain::formats::FILE_FORMATS;
use crate::harness::measure;
use formats::{Format, FORMATS};
use shapes::Model;

/// Every composition the suite compiles, built-in.
pub fn shader_sources() -> Vec<(String, String)> {
    let mut out = gpu::shader_sources();
    out.push((attention::ATTENTION.0.into(), attention::ATTENTION.1.into()));
    out
}

/// The formats decode times: on a software adapter the whole-file formats
/// (Q4_0, Q8_0, F16) unless --full, because there the K-quants take about
/// 2.5 times as long a token as Q4_0 (a 32-weight step reads its
/// super-block's scales and 32 bytes of nibbles, half of them for the
/// other sub-block, and on a CPU adapter loads set the pace) and would
/// double the default run; every format with --full and on a GPU.
fn decode_formats(ctx: &Ctx) -> Vec<Format> {
    if let Some(f) = &ctx.sizes.llm_formats {
        return f.clone();
    }
    match (ctx.gpu.desc.is_cpu(), ctx.scale) {
        (true, Scale::Quick | Scale::Default) => FILE_FORMATS.to_vec(),
        _ => FORMATS.to_vec(),
    }
}

/// What prefill times at each scale: formats, matrices of one layer, batch.
fn prefill_plan(ctx: &Ctx) -> (Vec<Format>, Vec<&'static str>, u64) {
    let all = vec!["q", "k", "v", "o", "gate", "up", "down"];
    match (ctx.gpu.desc.is_cpu(), ctx.scale) {
        (true, Scale::Quick) => (vec![Format::Q4_0], vec!["q"], 64),
        (true, Scale::Default) => (FILE_FORMATS.to_vec(), vec!["q"], 128),
        (true, Scale::Full) => (FORMATS.to_vec(), all, 512),
        (false, _) => (FORMATS.to_vec(), all, 512),
    }
}

/// `run --llm-formats LIST`, parsed: one or more distinct formats.
#[derive(Clone, Debug, PartialEq)]
pub struct Formats(pub Vec<Format>);

pub fn parse_formats(s: &str) -> std::result::Result<Formats, String> {
    let mut out: Vec<Format> = Vec::new();
    for name in s.split(',').map(str::trim) {
        let Some(f) = Format::from_name(name) else {
            let all: Vec<&str> = FORMATS.iter().map(|f| f.name()).collect();
            return Err(format!(
                "{:?} is not a weight format: give some of {}",
                crate::cli::typed(name),
                all.join(", ")
            ));
        };
        if !out.contains(&f) {
            out.push(f);
        }
    }
    Ok(Formats(out))
}

/// `run --suite llm`.
pub fn run(ctx: &Ctx) -> Result<SuiteOutput> {
    let mut out = SuiteOutput::default();
    let models: Vec<Model> = shapes::models(ctx.gpu);
    for model in &models {
        for format in decode_formats(ctx) {
            let res = shapes::residency(ctx.gpu, ctx.scale, model, format);
            ctx.status(&format!(
                "llm: generating {} {} weights ({} layers)",
                model.id,
                format.name(),
                res.resident
            ));
            let w = decode::Decode::new(ctx.gpu, ctx.shaders, format, *model, res)?;
            out.measured.extend(measure(ctx, w)?);
        }
    }
    // The gather binds the weights, activations, outputs, job and the
    // repetition's expert indices: five storage buffers in one stage.
    let per_stage = ctx.gpu.limits.max_storage_buffers_per_shader_stage;
    if per_stage >= 5 {
        out.measured.extend(moe::measure_all(ctx)?);
    } else {
        out.skipped.extend(moe::formats(ctx).into_iter().map(|f| {
            Skipped::new(
                Kernel::Moe(f),
                format!("the expert gather binds 5 storage buffers in one stage; the adapter allows {per_stage}"),
            )
        }));
    }
    let (formats, which, tokens) = prefill_plan(ctx);
    let formats = ctx.sizes.llm_formats.clone().unwrap_or(formats);
    for model in &models {
        for &format in &formats {
            ctx.status(&format!("llm: prefill {} {}", model.id, format.name()));
            let w = prefill::Prefill::new(ctx.gpu, ctx.shaders, format, *model, &which, tokens)?;
            out.measured.extend(measure(ctx, w)?);
        }
    }
    attention::run(ctx, &mut out)?;
    token::run(ctx, &mut out)?;
    if ctx.gpu.desc.is_cpu() {
        out.notes.push(
            "llm: a software adapter measures only the Llama-2-7B shapes, the layers that fit a small budget (params: layers_resident, layers_per_rep)"
                .into(),
        );
    }
    Ok(out)
}
