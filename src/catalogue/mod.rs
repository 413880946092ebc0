//! What every measurement is: its suite, kernel and metric as types, each
//! metric with its unit and direction, and its parameters as typed facts
//! ([`Params`]). The suites emit these; every output reads them. Their
//! names in CSV and JSON are made here and read back here, and nowhere
//! else, so renaming a kernel cannot silently remove a finding.

mod params;

pub use params::{Fact, Params};

use std::fmt;
use std::str::FromStr;

use crate::domain::quant::Quant;
use crate::workloads::llm::formats::{Format, FORMATS};

/// Declares a fieldless enum with its name on the wire, `ALL`, `name()`,
/// [`fmt::Display`] and [`FromStr`] from the same table.
macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $s:literal,)+ }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $v,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v,)+];

            /// As written in result files and on the command line.
            pub fn name(self) -> &'static str {
                match self { $($name::$v => $s,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|x| x.name() == s)
                    .ok_or_else(|| format!(concat!("unknown ", stringify!($name), " {:?}"), s))
            }
        }
    };
}

named_enum!(
    /// A group of kernels measured together (`--suite`).
    Suite {
        Hash => "hash",
        /// The memory-hard hash GPUs mined until 2022.
        Ethash => "ethash",
        Matmul => "matmul",
        Peak => "peak",
        Stream => "stream",
        Transfer => "transfer",
        Llm => "llm",
        Vram => "vram",
        Soak => "soak",
        /// Readings of the card's sensors over a run, not a workload.
        Telemetry => "telemetry",
    }
);

named_enum!(
    /// The arithmetic peaks (suite `peak`).
    Peak {
        Fp64Fma => "fp64_fma",
        Fp32Fma => "fp32_fma",
        /// Separate multiply and add chains: what FMA throttling cannot touch.
        Fp32MulAdd => "fp32_mul_add",
        Fp16Fma => "fp16_fma",
        Int8Dot4 => "int8_dot4",
        I32Mad => "i32_mad",
        Sha256Round => "sha256_round",
    }
);

named_enum!(
    /// BabelStream's kernels (suite `stream`).
    Stream {
        Copy => "copy",
        Mul => "mul",
        Add => "add",
        Triad => "triad",
        Dot => "dot",
    }
);

named_enum!(
    /// Host-device transfers (suite `transfer`).
    Transfer {
        /// `Queue::write_buffer`: wgpu stages the copy itself.
        WriteBuffer => "h2d_write_buffer",
        /// A mapped staging buffer, then a copy.
        Staging => "h2d_staging",
        Download => "d2h",
        RoundTrip => "round_trip",
    }
);

named_enum!(
    /// The sustained loads of suite `soak`.
    Soak {
        Hash => "soak_hash",
        Fma => "soak_fma",
        Copy => "soak_copy",
    }
);

named_enum!(
    /// What the sensors report (suite `telemetry`; kernel and metric alike).
    Quantity {
        Power => "power",
        Energy => "energy",
        Temperature => "temperature",
        CoreClock => "core_clock",
        MemoryClock => "memory_clock",
        Fan => "fan",
        Throttle => "throttle",
        Utilization => "utilization",
        /// The PCIe link as a whole, in the unavailable list only.
        Link => "link",
        PcieLinkGts => "pcie_link_gts",
        PcieLinkWidth => "pcie_link_width",
    }
);

/// Whether a larger value of a metric is the better one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Higher,
    Lower,
    /// A reading, not a score (power, temperature, clocks).
    Neither,
}

/// What a row's value measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    HashRate,
    Flops,
    PeakRate,
    Bandwidth,
    /// A transfer size's rate where it stops growing with size.
    Plateau,
    TokenRate,
    Latency,
    Reading(Quantity),
}

const METRICS: [(Metric, &str); 7] = [
    (Metric::HashRate, "hash_rate"),
    (Metric::Flops, "flops"),
    (Metric::PeakRate, "peak_rate"),
    (Metric::Bandwidth, "bandwidth"),
    (Metric::Plateau, "plateau"),
    (Metric::TokenRate, "token_rate"),
    (Metric::Latency, "latency"),
];

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::Reading(q) => q.name(),
            m => METRICS.iter().find(|(x, _)| *x == m).map_or("", |(_, s)| s),
        }
    }

    pub fn direction(self) -> Direction {
        match self {
            Metric::Latency => Direction::Lower,
            Metric::Reading(_) => Direction::Neither,
            _ => Direction::Higher,
        }
    }

    /// Whether `a` is a better value than `b` of this metric (readings:
    /// the higher, so that a merge keeps one value).
    pub fn better(self, a: f64, b: f64) -> bool {
        match self.direction() {
            Direction::Lower => a < b,
            _ => a > b,
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Metric {
    type Err = String;
    fn from_str(s: &str) -> Result<Metric, String> {
        METRICS
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(m, _)| *m)
            .or_else(|| s.parse().ok().map(Metric::Reading))
            .ok_or_else(|| format!("unknown metric {s:?}"))
    }
}

/// One kernel, named as the suites name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kernel {
    Sha256d,
    Ethash,
    /// f32 matrix multiply.
    Sgemm,
    /// f16 inputs, f32 accumulation.
    Hgemm,
    Peak(Peak),
    Stream(Stream),
    Transfer(Transfer),
    /// Single-stream decode: one token's matrix-vector products.
    Decode(Format),
    /// Prompt processing: a batch of tokens through the same weights.
    Prefill(Format),
    /// One token through the active experts of an MoE layer, gathered by
    /// index from all the layer's experts.
    Moe(Format),
    /// One new token's attention over an f16 KV cache of a context.
    Attention,
    /// Whole decode steps of a catalogue model as a runtime runs them: every
    /// matrix of every layer in its file's format, the active experts
    /// gathered by index, attention over each sequence's KV cache at a
    /// context, for a batch of sequences.
    Token(Quant),
    /// Prompt processing of a catalogue model: a batch of one prompt's
    /// tokens through every matrix of a group of its layers, each in its
    /// file's format, each token's experts gathered.
    Prompt(Quant),
    VramWrite,
    VramCheck,
    Soak(Soak),
    Reading(Quantity),
}

impl Kernel {
    pub fn suite(self) -> Suite {
        match self {
            Kernel::Sha256d => Suite::Hash,
            Kernel::Ethash => Suite::Ethash,
            Kernel::Sgemm | Kernel::Hgemm => Suite::Matmul,
            Kernel::Peak(_) => Suite::Peak,
            Kernel::Stream(_) => Suite::Stream,
            Kernel::Transfer(_) => Suite::Transfer,
            Kernel::Decode(_)
            | Kernel::Prefill(_)
            | Kernel::Moe(_)
            | Kernel::Attention
            | Kernel::Token(_)
            | Kernel::Prompt(_) => Suite::Llm,
            Kernel::VramWrite | Kernel::VramCheck => Suite::Vram,
            Kernel::Soak(_) => Suite::Soak,
            Kernel::Reading(_) => Suite::Telemetry,
        }
    }

    /// The unit of `metric` measured by this kernel (base SI).
    pub fn unit(self, metric: Metric) -> &'static str {
        match (self, metric) {
            (_, Metric::HashRate) => "H/s",
            (Kernel::Peak(p), Metric::PeakRate) if p.is_float() => "FLOP/s",
            (_, Metric::PeakRate) => "OP/s",
            (_, Metric::Flops) => "FLOP/s",
            (_, Metric::Bandwidth | Metric::Plateau) => "B/s",
            (_, Metric::TokenRate) => "tok/s",
            (_, Metric::Latency) => "s",
            (_, Metric::Reading(q)) => q.unit(),
        }
    }

    /// The weight format of an `llm` kernel.
    pub fn format(self) -> Option<Format> {
        match self {
            Kernel::Decode(f) | Kernel::Prefill(f) | Kernel::Moe(f) => Some(f),
            _ => None,
        }
    }

    /// The labels a row of this kernel is told apart by, beyond its
    /// adapter, suite and kernel: only facts that take a handful of values
    /// on a card, the same on every run with the same flags (a farm's
    /// Prometheus keeps one series per label set). Nothing else of the
    /// params: repetitions, what the check covered, timings and the VRAM
    /// test's size (what was free on the card) change from run to run.
    pub fn dimensions(self, p: &Params) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        match self {
            // A fixed ladder of sizes (1 MiB times 4 up to a cap set by
            // --quick/--full, the adapter kind and its buffer limit), and
            // 256 B for the round trip.
            Kernel::Transfer(_) => out.extend(p.bytes().map(|b| ("bytes", b.to_string()))),
            // A rate over arrays that may fit a cache is the cache's, kept
            // apart from the memory's (whether arrays fit is the same on
            // every run of a card with the same flags).
            Kernel::Stream(_) => out.extend(p.cache_sized().map(|_| ("cache_sized", "yes".into()))),
            Kernel::Decode(_) | Kernel::Prefill(_) | Kernel::Moe(_) => {
                // A model shape and weight format compiled in, and prompt
                // tokens per batch, fixed per scale and adapter kind.
                out.extend(p.model().map(|m| ("model", m.to_string())));
                out.extend(p.format().map(|f| ("format", f.name().to_string())));
                out.extend(p.batch().map(|b| ("batch", b.to_string())));
            }
            // A model shape compiled in and a context from a fixed ladder.
            Kernel::Attention => {
                out.extend(p.model().map(|m| ("model", m.to_string())));
                out.extend(p.context().map(|c| ("context", c.to_string())));
            }
            // A catalogue model, a context from the same ladder and a batch
            // of 1, 4 or 16 sequences.
            Kernel::Token(_) => {
                out.extend(p.model().map(|m| ("model", m.to_string())));
                out.extend(p.context().map(|c| ("context", c.to_string())));
                out.extend(p.batch().map(|b| ("batch", b.to_string())));
            }
            Kernel::Prompt(_) => {
                out.extend(p.model().map(|m| ("model", m.to_string())));
                out.extend(p.batch().map(|b| ("batch", b.to_string())));
            }
            // The epoch sets the dataset's size; a dataset cut to fit a
            // slow adapter is another series.
            Kernel::Ethash => {
                out.extend(p.epoch().map(|e| ("epoch", e.to_string())));
                out.extend(p.cache_sized().map(|_| ("cache_sized", "yes".into())));
            }
            _ => {}
        }
        out
    }

    /// Whether the kernel uploads from the host.
    pub fn is_upload(self) -> bool {
        matches!(
            self,
            Kernel::Transfer(Transfer::WriteBuffer | Transfer::Staging)
        )
    }
}

impl Peak {
    /// Floating-point work (FLOP/s) rather than integer operations (OP/s).
    pub fn is_float(self) -> bool {
        matches!(
            self,
            Peak::Fp64Fma | Peak::Fp32Fma | Peak::Fp32MulAdd | Peak::Fp16Fma
        )
    }
}

impl Quantity {
    /// The usual unit; a source may report its own (hwmon fans in RPM),
    /// which its rows carry.
    pub fn unit(self) -> &'static str {
        match self {
            Quantity::Power => "W",
            Quantity::Energy => "J",
            Quantity::Temperature => "°C",
            Quantity::CoreClock | Quantity::MemoryClock => "Hz",
            Quantity::Fan | Quantity::Utilization => "%",
            Quantity::Throttle => "mask",
            Quantity::Link => "",
            Quantity::PcieLinkGts => "GT/s",
            Quantity::PcieLinkWidth => "lanes",
        }
    }
}

const DECODE: &str = "decode_";
const PREFILL: &str = "prefill_";
const MOE: &str = "moe_";
const TOKEN: &str = "token_";
const PROMPT: &str = "prompt_";

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kernel::Sha256d => f.write_str("sha256d"),
            Kernel::Ethash => f.write_str("ethash"),
            Kernel::Sgemm => f.write_str("sgemm"),
            Kernel::Hgemm => f.write_str("hgemm"),
            Kernel::Peak(k) => k.fmt(f),
            Kernel::Stream(k) => k.fmt(f),
            Kernel::Transfer(k) => k.fmt(f),
            Kernel::Decode(x) => write!(f, "{DECODE}{}", x.name()),
            Kernel::Prefill(x) => write!(f, "{PREFILL}{}", x.name()),
            Kernel::Moe(x) => write!(f, "{MOE}{}", x.name()),
            Kernel::Attention => f.write_str("attention"),
            Kernel::Token(q) => write!(f, "{TOKEN}{q}"),
            Kernel::Prompt(q) => write!(f, "{PROMPT}{q}"),
            Kernel::VramWrite => f.write_str("vram_write"),
            Kernel::VramCheck => f.write_str("vram_check"),
            Kernel::Soak(k) => k.fmt(f),
            Kernel::Reading(q) => q.fmt(f),
        }
    }
}

impl serde::Serialize for Kernel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl serde::Serialize for Metric {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A weight format by its name in kernel names (`q4_0`).
pub fn format_named(s: &str) -> Option<Format> {
    FORMATS.into_iter().find(|f| f.name() == s)
}

impl Kernel {
    /// Every kernel there is.
    pub fn all() -> Vec<Kernel> {
        let mut out = vec![
            Kernel::Sha256d,
            Kernel::Ethash,
            Kernel::Sgemm,
            Kernel::Hgemm,
        ];
        out.extend(Peak::ALL.iter().map(|&k| Kernel::Peak(k)));
        out.extend(Stream::ALL.iter().map(|&k| Kernel::Stream(k)));
        out.extend(Transfer::ALL.iter().map(|&k| Kernel::Transfer(k)));
        out.extend(FORMATS.iter().map(|&f| Kernel::Decode(f)));
        out.extend(FORMATS.iter().map(|&f| Kernel::Prefill(f)));
        out.extend(FORMATS.iter().map(|&f| Kernel::Moe(f)));
        out.push(Kernel::Attention);
        out.extend(Quant::all().into_iter().map(Kernel::Token));
        out.extend(Quant::all().into_iter().map(Kernel::Prompt));
        out.extend([Kernel::VramWrite, Kernel::VramCheck]);
        out.extend(Soak::ALL.iter().map(|&k| Kernel::Soak(k)));
        out.extend(Quantity::ALL.iter().map(|&q| Kernel::Reading(q)));
        out
    }
}

/// Kernel names are unique across suites, so a name alone is a kernel.
impl FromStr for Kernel {
    type Err = String;
    fn from_str(name: &str) -> Result<Kernel, String> {
        Kernel::all()
            .into_iter()
            .find(|k| k.to_string() == name)
            .ok_or_else(|| format!("unknown kernel {name:?}"))
    }
}

/// Serde through the text form, for the CSV and JSON columns.
pub mod as_text {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr<Err = String>,
        D: Deserializer<'de>,
    {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
