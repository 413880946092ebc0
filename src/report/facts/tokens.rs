//! Whole decode steps and prompts of catalogue models (`token_<quant>`,
//! `prompt_<quant>` rows), one per model, quantization, context and batch.

use serde::Serialize;

use crate::catalogue::{Kernel, Metric};
use crate::domain::quant::Quant;
use crate::report::summary::Val;
use crate::report::ResultRow;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TokenRate {
    pub model: String,
    pub quant: Quant,
    /// The KV cache's tokens; None: prompt processing.
    pub context: Option<u64>,
    /// Sequences decoded together, or the prompt's tokens.
    pub batch: u64,
    /// Aggregate tokens/s.
    pub tok_s: Val,
}

/// Every token-rate row of the two kernels, verified ones first where a
/// (model, quantization, context, batch) was measured more than once.
pub fn token_rates(rows: &[ResultRow]) -> Vec<TokenRate> {
    let mut out: Vec<TokenRate> = Vec::new();
    let mut picked: Vec<&ResultRow> = rows
        .iter()
        .filter(|r| r.metric == Metric::TokenRate)
        .filter(|r| matches!(r.kernel, Kernel::Token(_) | Kernel::Prompt(_)))
        .collect();
    picked.sort_by_key(|r| !r.verified);
    for r in picked {
        let (Kernel::Token(quant) | Kernel::Prompt(quant)) = r.kernel else {
            continue;
        };
        let (Some(model), Some(batch)) = (r.params.model(), r.params.batch()) else {
            continue;
        };
        let context = match r.kernel {
            Kernel::Token(_) => match r.params.context() {
                Some(c) => Some(c),
                None => continue,
            },
            _ => None,
        };
        let same = |t: &TokenRate| {
            t.model == model && t.quant == quant && t.context == context && t.batch == batch
        };
        if !out.iter().any(same) {
            out.push(TokenRate {
                model: model.to_string(),
                quant,
                context,
                batch,
                tok_s: Val {
                    value: r.value,
                    verified: r.verified,
                },
            });
        }
    }
    out
}
