//! The facts of one adapter: every quantity an output states about it,
//! taken from its rows once, by the rules ([`super::summary::rules`]). The
//! verdict, the summary, the energy line and the charts read these, so a
//! figure has one value wherever it is printed or written.

use serde::Serialize;

use crate::domain::llama_cpp::{Backend, Vendor};

use super::energy::SuiteWatts;
use super::summary::rules::{best, shown, Pick};
use super::summary::{
    adapter_memory, decode_bound, decode_ceiling, fma_judgment, DecodeBound, FmaJudgment,
    KeyMetrics, Memory, Val,
};
use super::ResultRow;
use crate::catalogue::{Kernel, Metric, Suite, Transfer};
use crate::domain::formats::Format;
use crate::domain::models::Model;
use crate::gpu::AdapterDesc;

/// Measured rates of one model in one weight format, each the value of its
/// kernel by the one rule ([`shown`]: verified, else marked unverified).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LlmRate {
    /// The model's id, as rows name it: `llama2-7b`.
    pub model: String,
    pub format: Format,
    /// Single-stream decode, tokens/s.
    pub decode: Option<Val>,
    /// The bytes of weights decode read per second.
    pub decode_read: Option<Val>,
    /// Batched prompt processing, tokens/s.
    pub prefill: Option<Val>,
}

/// The host link's plateau: the best verified of the transfer kernels, and
/// which one. Judged by its faster direction, since an upload includes the
/// host writing the data.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct HostLink {
    pub kernel: Transfer,
    pub bytes_per_s: f64,
}

/// The transfer kernels whose plateau is the link's, in the order
/// preferred on a tie.
/// What the Ethash rows measured over: the epoch and, where the dataset was
/// cut short, why; and the adapter's name, which names its card.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EthashRun {
    pub adapter: String,
    pub epoch: Option<u64>,
    /// Why the dataset was cut, when every Ethash row's was.
    pub cut: Option<String>,
}

impl EthashRun {
    /// From the rows of the figure shown: the whole dataset's when any
    /// measured it.
    fn of(rows: &[ResultRow]) -> Option<EthashRun> {
        let ethash: Vec<&ResultRow> = rows
            .iter()
            .filter(|r| r.kernel == Kernel::Ethash && r.metric == Metric::HashRate)
            .collect();
        let r = ethash
            .iter()
            .find(|r| r.params.cache_sized().is_none())
            .or(ethash.first())?;
        Some(EthashRun {
            adapter: r.adapter.clone(),
            epoch: r.params.epoch(),
            cut: r.params.cache_sized().map(str::to_string),
        })
    }
}

const LINK_KERNELS: [Transfer; 3] = [Transfer::Staging, Transfer::WriteBuffer, Transfer::Download];

/// Everything the outputs say of one adapter, computed once.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Facts {
    /// One figure per kind of work (hash rate, matmul, the FMA peaks of
    /// every precision, stream, host link), verified else marked.
    pub metrics: KeyMetrics,
    /// What models must fit in: VRAM, or the host's memory for a CPU adapter.
    pub memory: Memory,
    /// The bandwidth behind every decode ceiling and share, named.
    pub decode_bound: Option<DecodeBound>,
    /// FMA against separate multiply and add, from verified rows.
    pub fma: Option<FmaJudgment>,
    pub host_link: Option<HostLink>,
    /// Per (model, format), in the order first measured.
    pub llm_rates: Vec<LlmRate>,
    /// Whole decode steps and prompts of catalogue models.
    pub token_rates: Vec<TokenRate>,
    pub ethash: Option<EthashRun>,
    /// The Ethash rate, H/s, the card's owner remembers it mined (`run
    /// --expect-ethash`): given, not measured, and compared against
    /// instead of the card's record.
    pub expected_ethash_hs: Option<f64>,
    /// The mean power while each suite ran; None where power was not read.
    pub power: Option<Vec<SuiteWatts>>,
    /// The price of a kWh (`run --power-price`): given, not measured.
    pub power_price: Option<f64>,
    /// The llama.cpp backend and vendor whose share estimates llama.cpp's
    /// rates on this adapter; None where the vendor is unknown.
    #[serde(skip)]
    pub llama_cpp_kind: Option<(Backend, Vendor)>,
}

/// A figure's value when it passed verification: judgments rest on
/// verified figures only.
pub fn verified(v: Option<Val>) -> Option<f64> {
    v.filter(|v| v.verified).map(|v| v.value)
}

impl Facts {
    /// The facts of `desc` from its rows among `rows`; a CPU adapter's
    /// memory is the host's, read now.
    pub fn of(desc: &AdapterDesc, rows: &[ResultRow]) -> Facts {
        let host = desc.is_cpu().then(crate::gpu::host_available).flatten();
        Facts::new(desc, rows, host)
    }

    /// [`Facts::of`] with the host's available memory given.
    pub fn new(desc: &AdapterDesc, rows: &[ResultRow], host_available: Option<u64>) -> Facts {
        let mine: Vec<ResultRow> = rows
            .iter()
            .filter(|r| r.adapter_index == desc.index && r.adapter == desc.name)
            .cloned()
            .collect();
        let vendor = Vendor::from_adapter(desc.vendor_id, desc.is_cpu());
        Facts {
            llama_cpp_kind: vendor.map(|v| (Backend::usual_for(v), v)),
            ..Facts::from_rows(&mine, adapter_memory(desc, host_available))
        }
    }

    /// The facts of rows that are all one adapter's, whose memory is known
    /// apart from them (the results files do not carry it).
    pub fn from_rows(rows: &[ResultRow], memory: Memory) -> Facts {
        let link = LINK_KERNELS
            .into_iter()
            .filter_map(|k| {
                best(rows, Pick::of(Kernel::Transfer(k), Metric::Plateau)).map(|b| (k, b))
            })
            .fold(None, |acc: Option<HostLink>, (kernel, b)| match acc {
                Some(a) if a.bytes_per_s >= b => acc,
                _ => Some(HostLink {
                    kernel,
                    bytes_per_s: b,
                }),
            });
        Facts {
            metrics: KeyMetrics::from_rows(rows.iter()),
            memory,
            decode_bound: decode_bound(rows),
            fma: fma_judgment(rows),
            host_link: link,
            llm_rates: llm_rates(rows),
            token_rates: tokens::token_rates(rows),
            ethash: EthashRun::of(rows),
            expected_ethash_hs: None,
            power: None,
            power_price: None,
            llama_cpp_kind: None,
        }
    }

    /// The facts with the Ethash rate the owner remembers.
    pub fn expecting_ethash(self, hs: Option<f64>) -> Facts {
        Facts {
            expected_ethash_hs: hs,
            ..self
        }
    }

    /// The facts with the power read while each suite ran (None where it
    /// was not read) and the price of a kWh.
    pub fn with_power(self, power: Option<Vec<SuiteWatts>>, price: Option<f64>) -> Facts {
        Facts {
            power,
            power_price: price,
            ..self
        }
    }

    /// The mean power while `suite` ran, where it was read then.
    pub fn watts(&self, suite: Suite) -> Option<f64> {
        self.power
            .as_ref()?
            .iter()
            .find(|w| w.suite == suite)
            .map(|w| w.watts)
    }

    /// The measured rates of `model` in `format`, if any were measured.
    pub fn llm(&self, model: &Model, format: Format) -> Option<&LlmRate> {
        self.llm_rates
            .iter()
            .find(|l| l.model == model.id && l.format == format)
    }

    /// The decode ceiling of `model` in `format`: the bound over the bytes
    /// of weights it reads per token.
    pub fn ceiling(&self, model: &Model, format: Format) -> Option<f64> {
        let b = self.decode_bound.as_ref()?;
        Some(decode_ceiling(
            b.bytes_per_s,
            model.weights_read_per_token(format),
        ))
    }
}

/// Decode and prefill per (model, format) the rows measured, in the order
/// first measured.
fn llm_rates(rows: &[ResultRow]) -> Vec<LlmRate> {
    let mut seen: Vec<(&str, Format)> = Vec::new();
    for r in rows {
        let (Some(format), Some(model)) = (r.kernel.format(), r.params.model()) else {
            continue;
        };
        if !seen.contains(&(model, format)) {
            seen.push((model, format));
        }
    }
    seen.into_iter()
        .map(|(model, format)| {
            let get = |kernel, metric| shown(rows, Pick::of(kernel, metric).model(model));
            LlmRate {
                model: model.to_string(),
                format,
                decode: get(Kernel::Decode(format), Metric::TokenRate),
                decode_read: get(Kernel::Decode(format), Metric::Bandwidth),
                prefill: get(Kernel::Prefill(format), Metric::TokenRate),
            }
        })
        .collect()
}

mod tokens;
pub use tokens::TokenRate;

#[cfg(test)]
mod tests;
