//! How much of a memory rate llama.cpp turns into decoded tokens, per kind of
//! adapter (`data/llama_cpp_shares.csv`): a published llama-bench result
//! beside the card's spec bandwidth, or our own llama-bench run beside
//! hashflops' measured weight-read rate on the same adapter in the same run
//! (`bench/peer-llama-bench.sh`). A share times a measured rate, divided by
//! a model's bytes per token, estimates llama.cpp's tokens per second there.

use std::sync::OnceLock;

use serde::Deserialize;

const CSV: &str = include_str!("../../data/llama_cpp_shares.csv");

/// The llama.cpp backend a figure was measured with.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum Backend {
    #[serde(rename = "CUDA")]
    Cuda,
    #[serde(rename = "ROCm")]
    Rocm,
    Vulkan,
}

/// Who made the adapter; `CPU` is a software Vulkan driver (lavapipe).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum Vendor {
    #[serde(rename = "NVIDIA")]
    Nvidia,
    #[serde(rename = "AMD")]
    Amd,
    #[serde(rename = "Intel")]
    Intel,
    #[serde(rename = "CPU")]
    Cpu,
}

impl Vendor {
    /// The vendor of an adapter from its PCI vendor id; a CPU adapter is
    /// `Cpu` whatever id its driver reports (lavapipe reports Mesa's).
    pub fn from_adapter(vendor_id: u32, is_cpu: bool) -> Option<Vendor> {
        match (is_cpu, vendor_id) {
            (true, _) => Some(Vendor::Cpu),
            (false, 0x10de) => Some(Vendor::Nvidia),
            (false, 0x1002) => Some(Vendor::Amd),
            (false, 0x8086) => Some(Vendor::Intel),
            _ => None,
        }
    }
}

/// What a share's rate is.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RateBasis {
    /// The card's spec memory bandwidth.
    Spec,
    /// hashflops' measured decode weight-read rate, in the same run.
    Hashflops,
}

/// One line of the data file.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Share {
    pub backend: Backend,
    pub vendor: Vendor,
    pub card: String,
    pub model: String,
    /// The weight bytes one token reads (llama-bench's model size for the
    /// published runs).
    pub bytes_per_token: f64,
    /// llama-bench token generation, tok/s.
    pub tg_tok_s: f64,
    /// The rate the share is of, bytes/s.
    pub rate_bs: f64,
    pub rate_basis: RateBasis,
    pub pp_tokens: Option<u32>,
    /// llama-bench prompt processing of `pp_tokens`, tok/s.
    pub pp_tok_s: Option<f64>,
    /// Matrix FLOPs per prompt token, where a prefill rate is given.
    pub flop_per_token: Option<f64>,
    /// hashflops' measured prefill rate, FLOP/s, in the same run.
    pub prefill_flops: Option<f64>,
    pub source: String,
}

impl Share {
    /// Token generation's share of the rate: tg × bytes per token ÷ rate.
    pub fn decode(&self) -> f64 {
        self.tg_tok_s * self.bytes_per_token / self.rate_bs
    }

    /// Prompt processing's share of hashflops' prefill rate, where measured.
    pub fn prefill(&self) -> Option<f64> {
        Some(self.pp_tok_s? * self.flop_per_token? / self.prefill_flops?)
    }

    pub fn basis(&self) -> String {
        let of = match self.rate_basis {
            RateBasis::Spec => "spec bandwidth",
            RateBasis::Hashflops => "hashflops' decode rate in the same run",
        };
        format!(
            "llama.cpp {:?} reaches {:.0} % of {of} on the {} (llama-bench tg {} tok/s, {}; {})",
            self.backend,
            self.decode() * 100.0,
            self.card,
            self.tg_tok_s,
            self.model,
            self.source
        )
    }

    fn check(&self) -> Result<(), String> {
        let positive = [self.bytes_per_token, self.tg_tok_s, self.rate_bs];
        if positive.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(format!(
                "{}: bytes, tg and rate must be positive",
                self.card
            ));
        }
        let pp = [self.pp_tokens.is_some(), self.pp_tok_s.is_some()];
        if pp[0] != pp[1] {
            return Err(format!("{}: pp_tokens and pp_tok_s go together", self.card));
        }
        let prefill = [self.flop_per_token.is_some(), self.prefill_flops.is_some()];
        if prefill[0] != prefill[1] || (prefill[0] && !pp[0]) {
            return Err(format!(
                "{}: a prefill share needs pp_tok_s, flop_per_token and prefill_flops",
                self.card
            ));
        }
        // A runtime beyond the spec bandwidth is a typo; beyond hashflops'
        // rate it is a finding, so only spec-based shares are bounded.
        if self.rate_basis == RateBasis::Spec && self.decode() > 1.0 {
            return Err(format!("{}: decode share above spec bandwidth", self.card));
        }
        if self.source.trim().is_empty() {
            return Err(format!("{}: no source", self.card));
        }
        Ok(())
    }
}

fn parse(text: &str) -> Result<Vec<Share>, String> {
    let mut rows = Vec::new();
    for (i, rec) in csv::Reader::from_reader(text.as_bytes())
        .deserialize::<Share>()
        .enumerate()
    {
        let row = rec.map_err(|e| format!("llama_cpp_shares.csv line {}: {e}", i + 2))?;
        row.check()
            .map_err(|e| format!("llama_cpp_shares.csv line {}: {e}", i + 2))?;
        rows.push(row);
    }
    Ok(rows)
}

/// Every line of the data file, parsed once. The file is compiled in and
/// its tests parse it, so a malformed line fails `cargo test`.
pub fn shares() -> &'static [Share] {
    static SHARES: OnceLock<Vec<Share>> = OnceLock::new();
    SHARES.get_or_init(|| parse(CSV).expect("data/llama_cpp_shares.csv"))
}

/// llama.cpp's decode rate on an adapter of this backend and vendor whose
/// weight-read rate hashflops measured, for a model reading
/// `bytes_per_token`: the share of the line of that kind whose rate is
/// nearest the measured one (fixed per-token costs weigh more on a faster
/// card, so a 7B model reaches a smaller share of a large card) times the
/// measured rate. `None` where no line is of that kind.
pub fn llama_cpp_estimate(
    backend: Backend,
    vendor: Vendor,
    measured_rate: f64,
    bytes_per_token: f64,
) -> Option<(f64, String)> {
    if bytes_per_token.is_nan() || bytes_per_token <= 0.0 {
        return None;
    }
    let s = nearest(backend, vendor, measured_rate)?;
    Some((s.decode() * measured_rate / bytes_per_token, s.basis()))
}

/// The line of this backend and vendor whose rate is nearest `measured_rate`
/// (on a log scale): the share [`llama_cpp_estimate`] applies.
pub fn nearest(backend: Backend, vendor: Vendor, measured_rate: f64) -> Option<&'static Share> {
    if measured_rate.is_nan() || measured_rate <= 0.0 {
        return None;
    }
    let distance = |s: &&Share| (s.rate_bs / measured_rate).ln().abs();
    shares()
        .iter()
        .filter(|s| s.backend == backend && s.vendor == vendor)
        .min_by(|a, b| distance(a).total_cmp(&distance(b)))
}

impl Backend {
    /// The backend owners of this vendor's cards run llama.cpp on: CUDA on
    /// NVIDIA, Vulkan elsewhere (ROCm dropped the Polaris and Vega mining
    /// cards; a software adapter is Vulkan).
    pub fn usual_for(vendor: Vendor) -> Backend {
        match vendor {
            Vendor::Nvidia => Backend::Cuda,
            _ => Backend::Vulkan,
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod q4_k_m;
