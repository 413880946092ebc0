//! A measurement's parameters as typed facts, in the order the suite gave
//! them. Outputs read the typed facts; the `params` column (`k=v;k=v`) is
//! rendered from them, and read back into them only when a results file is
//! loaded.

use std::fmt;
use std::str::FromStr;

use crate::workloads::llm::formats::Format;

/// One parameter of a measurement.
#[derive(Clone, Debug, PartialEq)]
pub enum Fact {
    /// The model whose shapes an `llm` kernel measured (`llama2-7b`).
    Model(String),
    Format(Format),
    /// A kernel layout chosen for the adapter (matmul, llm).
    Layout(String),
    /// Bytes one repetition moves or tests (a transfer's size; the VRAM
    /// tested).
    Bytes(u64),
    /// Bytes of one stream array.
    ArrayBytes(u64),
    /// Prompt tokens per prefill batch.
    Batch(u64),
    /// Tokens of context a new token attends over.
    Context(u64),
    /// Weight bytes one decoded token reads.
    WeightBytesPerToken(u64),
    /// The arrays may fit a cache: a rate of the cache, not of the memory
    /// (why, e.g. `working set 3 MiB under 4x a 32 MiB cache`).
    CacheSized(String),
    /// A matrix multiply's M, N and K (rows of C, columns of C, the inner
    /// dimension), each its own `m=`, `n=`, `k=`.
    GemmM(u64),
    GemmN(u64),
    GemmK(u64),
    /// The soak interval the row is.
    Interval(u64),
    /// Seconds into the soak when the interval started.
    StartS(f64),
    /// The Ethash epoch whose cache (and dataset size, unless cut) was used.
    Epoch(u64),
    /// A description nothing is derived from (shapes, workgroups, what the
    /// check covered, repetition counts).
    Detail(String, String),
}

/// Every typed key, as written in the `params` column.
#[cfg(test)]
pub(super) const TYPED_KEYS: [&str; 15] = [
    MODEL,
    FORMAT,
    LAYOUT,
    BYTES,
    ARRAY_BYTES,
    BATCH,
    CONTEXT,
    WEIGHT_BYTES,
    COMPARABLE,
    INTERVAL,
    START_S,
    GEMM_M,
    GEMM_N,
    GEMM_K,
    EPOCH,
];

const MODEL: &str = "model";
const FORMAT: &str = "format";
const LAYOUT: &str = "layout";
const BYTES: &str = "bytes";
const ARRAY_BYTES: &str = "array_bytes";
const BATCH: &str = "batch";
const CONTEXT: &str = "context";
const WEIGHT_BYTES: &str = "weight_bytes_per_token";
const COMPARABLE: &str = "comparable";
const INTERVAL: &str = "interval";
const GEMM_M: &str = "m";
const GEMM_N: &str = "n";
const GEMM_K: &str = "k";
const START_S: &str = "t_s";
const EPOCH: &str = "epoch";

impl Fact {
    /// A descriptive fact.
    pub fn detail(key: &str, value: impl fmt::Display) -> Fact {
        Fact::Detail(key.to_string(), value.to_string())
    }

    fn key(&self) -> &str {
        match self {
            Fact::Model(_) => MODEL,
            Fact::Format(_) => FORMAT,
            Fact::Layout(_) => LAYOUT,
            Fact::Bytes(_) => BYTES,
            Fact::ArrayBytes(_) => ARRAY_BYTES,
            Fact::Batch(_) => BATCH,
            Fact::Context(_) => CONTEXT,
            Fact::WeightBytesPerToken(_) => WEIGHT_BYTES,
            Fact::CacheSized(_) => COMPARABLE,
            Fact::Interval(_) => INTERVAL,
            Fact::GemmM(_) => GEMM_M,
            Fact::GemmN(_) => GEMM_N,
            Fact::GemmK(_) => GEMM_K,
            Fact::StartS(_) => START_S,
            Fact::Epoch(_) => EPOCH,
            Fact::Detail(k, _) => k,
        }
    }

    /// The fact's typed form of `key=value`, or a detail when the key is no
    /// typed one or the value does not parse as its type.
    fn parse(key: &str, value: &str) -> Fact {
        let typed = match key {
            MODEL => Some(Fact::Model(value.to_string())),
            FORMAT => super::format_named(value).map(Fact::Format),
            LAYOUT => Some(Fact::Layout(value.to_string())),
            BYTES => value.parse().ok().map(Fact::Bytes),
            ARRAY_BYTES => value.parse().ok().map(Fact::ArrayBytes),
            BATCH => value.parse().ok().map(Fact::Batch),
            CONTEXT => value.parse().ok().map(Fact::Context),
            WEIGHT_BYTES => value.parse().ok().map(Fact::WeightBytesPerToken),
            COMPARABLE => value
                .strip_prefix("no(")
                .and_then(|v| v.strip_suffix(')'))
                .map(|why| Fact::CacheSized(why.to_string())),
            INTERVAL => value.parse().ok().map(Fact::Interval),
            GEMM_M => value.parse().ok().map(Fact::GemmM),
            GEMM_N => value.parse().ok().map(Fact::GemmN),
            GEMM_K => value.parse().ok().map(Fact::GemmK),
            START_S => value.parse().ok().map(Fact::StartS),
            EPOCH => value.parse().ok().map(Fact::Epoch),
            _ => None,
        };
        typed.unwrap_or_else(|| Fact::detail(key, value))
    }
}

impl fmt::Display for Fact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Fact::Detail(k, v) = self {
            if k.is_empty() {
                return f.write_str(v);
            }
        }
        write!(f, "{}=", self.key())?;
        match self {
            Fact::Model(s) | Fact::Layout(s) | Fact::Detail(_, s) => f.write_str(s),
            Fact::Format(x) => f.write_str(x.name()),
            Fact::Bytes(n)
            | Fact::ArrayBytes(n)
            | Fact::Batch(n)
            | Fact::Context(n)
            | Fact::WeightBytesPerToken(n)
            | Fact::Interval(n)
            | Fact::GemmM(n)
            | Fact::GemmN(n)
            | Fact::GemmK(n)
            | Fact::Epoch(n) => write!(f, "{n}"),
            Fact::CacheSized(why) => write!(f, "no({why})"),
            Fact::StartS(t) => write!(f, "{t:.1}"),
        }
    }
}

/// A measurement's parameters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params(pub Vec<Fact>);

impl Params {
    pub fn new() -> Params {
        Params::default()
    }

    /// Adds a fact (builder style).
    pub fn with(mut self, fact: Fact) -> Params {
        self.0.push(fact);
        self
    }

    /// Adds a descriptive `key=value`.
    pub fn detail(self, key: &str, value: impl fmt::Display) -> Params {
        self.with(Fact::detail(key, value))
    }

    pub fn push(&mut self, fact: Fact) {
        self.0.push(fact);
    }

    fn find<'a, T>(&'a self, f: impl Fn(&'a Fact) -> Option<T>) -> Option<T> {
        self.0.iter().find_map(f)
    }

    pub fn model(&self) -> Option<&str> {
        self.find(|x| match x {
            Fact::Model(m) => Some(m.as_str()),
            _ => None,
        })
    }

    pub fn format(&self) -> Option<Format> {
        self.find(|x| match x {
            Fact::Format(v) => Some(*v),
            _ => None,
        })
    }

    pub fn layout(&self) -> Option<&str> {
        self.find(|x| match x {
            Fact::Layout(m) => Some(m.as_str()),
            _ => None,
        })
    }

    pub fn bytes(&self) -> Option<u64> {
        self.find(|x| match x {
            Fact::Bytes(v) => Some(*v),
            _ => None,
        })
    }

    pub fn batch(&self) -> Option<u64> {
        self.find(|x| match x {
            Fact::Batch(v) => Some(*v),
            _ => None,
        })
    }

    pub fn context(&self) -> Option<u64> {
        self.find(|x| match x {
            Fact::Context(v) => Some(*v),
            _ => None,
        })
    }

    pub fn weight_bytes_per_token(&self) -> Option<u64> {
        self.find(|x| match x {
            Fact::WeightBytesPerToken(v) => Some(*v),
            _ => None,
        })
    }

    /// Why the row may be a cache's rate, when it may.
    pub fn cache_sized(&self) -> Option<&str> {
        self.find(|x| match x {
            Fact::CacheSized(why) => Some(why.as_str()),
            _ => None,
        })
    }

    /// A matrix multiply's (M, N, K).
    pub fn gemm(&self) -> Option<(u64, u64, u64)> {
        let m = self.find(|x| match x {
            Fact::GemmM(v) => Some(*v),
            _ => None,
        })?;
        let n = self.find(|x| match x {
            Fact::GemmN(v) => Some(*v),
            _ => None,
        })?;
        let k = self.find(|x| match x {
            Fact::GemmK(v) => Some(*v),
            _ => None,
        })?;
        Some((m, n, k))
    }

    pub fn interval(&self) -> Option<u64> {
        self.find(|x| match x {
            Fact::Interval(v) => Some(*v),
            _ => None,
        })
    }

    pub fn epoch(&self) -> Option<u64> {
        self.find(|x| match x {
            Fact::Epoch(v) => Some(*v),
            _ => None,
        })
    }

    pub fn start_s(&self) -> Option<f64> {
        self.find(|x| match x {
            Fact::StartS(v) => Some(*v),
            _ => None,
        })
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, fact) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            fact.fmt(f)?;
        }
        Ok(())
    }
}

impl FromStr for Params {
    type Err = String;
    /// Never fails: a part without `=` is kept as a detail with an empty
    /// key, so that nothing a file held is lost on the way through.
    fn from_str(s: &str) -> Result<Params, String> {
        Ok(Params(
            s.split(';')
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => Fact::parse(k, v),
                    None => Fact::detail("", p),
                })
                .collect(),
        ))
    }
}
