//! What attention measures at each scale, how much of a model's cache is
//! kept resident, and the decode rate at a context where the weights and
//! the attention were both measured.

use crate::catalogue::{Kernel, Metric};
use crate::domain::attention::decode_rate_at_context;
use crate::domain::models::{by_id, Model, LLAMA2_7B};
use crate::gpu::Gpu;
use crate::harness::Measured;
use crate::units::tokens_per_s;
use crate::workloads::Scale;

/// Context lengths a GPU measures (and a software adapter with --full).
pub const CONTEXTS: [u64; 3] = [512, 4096, 32768];

/// The catalogue models whose attention differs in kind: grouped-query
/// (Llama-3.1-8B), sliding windows 5 : 1 with wide heads (Gemma-3-12B),
/// alternating 128-token windows and sinks (gpt-oss-20b).
const MODELS: [&str; 3] = ["llama3.1-8b", "gemma3-12b", "gpt-oss-20b"];

/// The shape decode measures on every adapter, so that its rows and these
/// give decode at a context.
fn decode_model() -> Model {
    *LLAMA2_7B
}

fn model(id: &str) -> Model {
    by_id(id).unwrap_or_else(|| panic!("data/models.csv lacks {id}"))
}

/// (model, contexts) to measure: on a software adapter Llama-3.1-8B at the
/// shortest context (--quick), with the decode shape (default), every
/// model at every context (--full); on a GPU every model at every context.
pub fn plan(gpu: &Gpu, scale: Scale) -> Vec<(Model, Vec<u64>)> {
    let mut models = vec![decode_model()];
    models.extend(MODELS.iter().map(|id| model(id)));
    match (gpu.desc.is_cpu(), scale) {
        (true, Scale::Quick) => vec![(models[1], vec![CONTEXTS[0]])],
        (true, Scale::Default) => models[..2]
            .iter()
            .map(|m| (*m, vec![CONTEXTS[0]]))
            .collect(),
        _ => models.iter().map(|m| (*m, CONTEXTS.to_vec())).collect(),
    }
}

/// What a software adapter leaves out of the plan, when it does.
pub fn software_note(gpu: &Gpu, scale: Scale) -> Option<String> {
    if !gpu.desc.is_cpu() || scale == Scale::Full {
        return None;
    }
    let measured: Vec<String> = plan(gpu, scale)
        .iter()
        .map(|(m, c)| format!("{} at context {c:?}", m.name))
        .collect();
    Some(format!(
        "llm: attention on a software adapter measures {} only (--full: every model at every context)",
        measured.join(", ")
    ))
}

/// Bytes of KV cache a run may keep resident: on a software adapter one
/// layer with --quick, a few MiB by default (its time is a CPU's); on a
/// GPU half its memory (unknown: 2 GiB).
pub fn budget(gpu: &Gpu, scale: Scale) -> u64 {
    let usable = gpu.desc.usable_memory();
    if gpu.desc.is_cpu() {
        let b: u64 = match scale {
            Scale::Quick => 0,
            Scale::Default => 4 << 20,
            Scale::Full => 256 << 20,
        };
        return usable.map_or(b, |u| b.min(u / 4));
    }
    usable.map_or(2 << 30, |u| u / 2)
}

/// How a token's attention is timed on this adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KvResidency {
    /// Layers whose caches are held, layers 0 .. resident of the model.
    pub resident: u64,
    /// Layers one repetition runs, layer l on resident layer l % resident.
    pub per_rep: u64,
}

/// As many layers as fit the budget (at least one), cut to whole periods
/// of the model's sliding/global pattern where at least one fits, so that
/// a repeated layer is of the kind it stands for. A GPU runs every layer
/// of a token per repetition; a software adapter the resident ones.
pub fn residency(model: &Model, context: u64, budget_bytes: u64, cpu: bool) -> KvResidency {
    let mut resident = 0;
    let mut bytes = 0;
    while resident < model.layers {
        bytes += model.layer_kv_bytes(resident, context);
        if bytes > budget_bytes {
            break;
        }
        resident += 1;
    }
    let period = model.global_every.max(1);
    if resident >= period {
        resident -= resident % period;
    }
    let resident = resident.max(1);
    KvResidency {
        resident,
        per_rep: if cpu { resident } else { model.layers },
    }
}

pub fn residency_on(gpu: &Gpu, scale: Scale, model: &Model, context: u64) -> KvResidency {
    residency(model, context, budget(gpu, scale), gpu.desc.is_cpu())
}

/// A verified `token_rate` row, as the combination needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Rate {
    pub kernel: Kernel,
    pub model: String,
    /// Of an attention row.
    pub context: Option<u64>,
    pub tok_s: f64,
}

impl Rate {
    fn of(r: &Measured) -> Option<Rate> {
        if r.metric != Metric::TokenRate || !r.verified {
            return None;
        }
        Some(Rate {
            kernel: r.kernel,
            model: r.params.model()?.to_string(),
            context: r.params.context(),
            tok_s: r.summary.median,
        })
    }
}

/// One line per decode row and attention row of the same model measured
/// in this run: the decode rate at the attention row's context.
pub fn combined_notes(rows: &[Measured]) -> Vec<String> {
    combine(&rows.iter().filter_map(Rate::of).collect::<Vec<_>>())
}

fn combine(rates: &[Rate]) -> Vec<String> {
    let mut out = Vec::new();
    for a in rates.iter().filter(|r| r.kernel == Kernel::Attention) {
        let Some(context) = a.context else { continue };
        for d in rates
            .iter()
            .filter(|r| matches!(r.kernel, Kernel::Decode(_)))
        {
            if d.model != a.model {
                continue;
            }
            out.push(format!(
                "llm: {} {} at context {context}: {} ({} of weights, {} of attention)",
                a.model,
                d.kernel,
                tokens_per_s(decode_rate_at_context(d.tok_s, a.tok_s)),
                tokens_per_s(d.tok_s),
                tokens_per_s(a.tok_s),
            ));
        }
    }
    out
}

/// Why one layer's keys (a global layer's: every position) cannot be bound
/// on this adapter, if they cannot.
pub fn too_large(gpu: &Gpu, m: &Model, context: u64) -> Option<String> {
    let bytes = context * m.kv_rows() * 2;
    let limit = gpu.limits.max_storage_buffer_binding_size;
    (bytes > limit).then(|| {
        format!(
            "{} at context {context}: one layer's keys take {bytes} bytes, over the adapter's binding limit of {limit}",
            m.id
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_at_a_context_pairs_rows_of_the_same_model() {
        let rate = |kernel, model: &str, context, tok_s| Rate {
            kernel,
            model: model.into(),
            context,
            tok_s,
        };
        let q4 = Kernel::Decode(crate::domain::formats::Format::Q4_0);
        let rates = [
            rate(q4, "llama2-7b", None, 40.0),
            rate(q4, "llama2-13b", None, 20.0),
            rate(Kernel::Attention, "llama2-7b", Some(4096), 10.0),
            rate(Kernel::Attention, "llama3.1-8b", Some(512), 99.0),
        ];
        let notes = combine(&rates);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("llm: llama2-7b decode_q4_0 at context 4096: 8.00 tok/s"),
            "{}",
            notes[0]
        );
    }

    #[test]
    fn residency_keeps_whole_sliding_periods() {
        let gemma = model("gemma3-12b");
        let one = gemma.layer_kv_bytes(0, 4096);
        let global = gemma.layer_kv_bytes(5, 4096);
        // Seven sliding layers' worth fits five sliding and one global
        // layer only if the global one fits too.
        let r = residency(&gemma, 4096, 5 * one + global + one, false);
        assert_eq!(r.resident, 6);
        assert_eq!(r.per_rep, gemma.layers);
        let r = residency(&gemma, 4096, 3 * one, true);
        assert_eq!((r.resident, r.per_rep), (3, 3));
        let r = residency(&gemma, 4096, 0, true);
        assert_eq!((r.resident, r.per_rep), (1, 1));
        let llama = model("llama3.1-8b");
        let r = residency(&llama, 512, u64::MAX, false);
        assert_eq!((r.resident, r.per_rep), (32, 32));
    }
}
