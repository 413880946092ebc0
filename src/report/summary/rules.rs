//! The rules every part of the answer (verdict, summary, energy) judges by,
//! each said once: the value of a kernel, the bandwidth that bounds
//! decode, and whether FMA is throttled.

use serde::Serialize;

use super::flags::FMA_CRIPPLE_RATIO;
use super::metrics::Val;
use crate::gpu::AdapterDesc;
use crate::report::ResultRow;
use crate::units::si;

/// A stream row over arrays that may fit a cache (`comparable=no(...)`):
/// measured, but not a figure of the memory behind the cache.
pub fn cache_sized(r: &ResultRow) -> bool {
    r.params.contains("comparable=no")
}

fn matches(r: &ResultRow, suite: &str, kernel: &str, metric: &str, param: Option<&str>) -> bool {
    r.suite == suite
        && r.kernel == kernel
        && r.metric == metric
        && param.is_none_or(|p| r.params.contains(p))
        && r.value.is_finite()
}

/// The value of a kernel: the best verified row matching suite, kernel and
/// metric (and containing `param` in its params when given). Unverified
/// rows never feed a judgment; cache-sized rows are no memory figure.
pub fn best(
    rows: &[ResultRow],
    suite: &str,
    kernel: &str,
    metric: &str,
    param: Option<&str>,
) -> Option<f64> {
    rows.iter()
        .filter(|r| r.verified && !cache_sized(r) && matches(r, suite, kernel, metric, param))
        .map(|r| r.value)
        .reduce(f64::max)
}

/// [`best`] for display: the best verified row, else (marked) the best
/// unverified one.
pub fn shown(
    rows: &[ResultRow],
    suite: &str,
    kernel: &str,
    metric: &str,
    param: Option<&str>,
) -> Option<Val> {
    best(rows, suite, kernel, metric, param)
        .map(|value| Val {
            value,
            verified: true,
        })
        .or_else(|| {
            rows.iter()
                .filter(|r| !cache_sized(r) && matches(r, suite, kernel, metric, param))
                .map(|r| r.value)
                .reduce(f64::max)
                .map(|value| Val {
                    value,
                    verified: false,
                })
        })
}

/// The bandwidth that bounds single-stream decode: the best verified
/// sustained read rate of the adapter, named with its kernel.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DecodeBound {
    /// What it was measured by: "stream copy", or "decode_q4_0's own
    /// weight read" when an `llm` kernel read weights faster than stream.
    pub kernel: String,
    /// The suite that measured it (whose power the energy figure uses).
    pub suite: &'static str,
    pub bytes_per_s: f64,
    /// The best memory-sized stream figure when the bound is not it.
    pub stream: Option<(&'static str, f64)>,
    /// Stream ran, but only over arrays that may fit a cache.
    pub stream_cache_sized: bool,
}

impl DecodeBound {
    /// "stream copy 1.20 TB/s".
    pub fn named(&self) -> String {
        format!("{} {}", self.kernel, si(self.bytes_per_s, "B/s"))
    }

    /// Why the bound is not a stream figure, when it is not.
    pub fn note(&self) -> Option<String> {
        if self.suite == "stream" {
            return None;
        }
        Some(match self.stream {
            Some((k, b)) => format!(
                "the stream kernels under-read this adapter: stream {k} reached {}",
                si(b, "B/s")
            ),
            None if self.stream_cache_sized => {
                "the stream arrays were cache-sized, so stream gave no memory figure".into()
            }
            None => "no memory-sized stream figure was measured".into(),
        })
    }
}

/// The stream kernels that are memory figures, in the order preferred on a tie.
const STREAM_KERNELS: [&str; 2] = ["triad", "copy"];

/// The one rule for the bandwidth behind every decode ceiling and share:
/// the best verified, memory-sized rate of stream triad or copy, or of the
/// `llm` decode kernels' weight reads where one is faster. So no measured
/// decode rate exceeds the ceiling its own bytes give.
pub fn decode_bound(rows: &[ResultRow]) -> Option<DecodeBound> {
    let stream = STREAM_KERNELS
        .into_iter()
        .filter_map(|k| best(rows, "stream", k, "bandwidth", None).map(|b| (k, b)))
        .fold(None, |acc: Option<(&str, f64)>, (k, b)| match acc {
            Some((_, a)) if a >= b => acc,
            _ => Some((k, b)),
        });
    let mut llm: Option<(&str, f64)> = None;
    for r in rows.iter().filter(|r| {
        r.verified && r.suite == "llm" && r.kernel.starts_with("decode_") && r.metric == "bandwidth"
    }) {
        if r.value.is_finite() && llm.is_none_or(|(_, b)| r.value > b) {
            llm = Some((&r.kernel, r.value));
        }
    }
    match (stream, llm) {
        (Some((k, s)), l) if l.is_none_or(|(_, b)| b <= s) => Some(DecodeBound {
            kernel: format!("stream {k}"),
            suite: "stream",
            bytes_per_s: s,
            stream: None,
            stream_cache_sized: false,
        }),
        (s, Some((k, b))) => Some(DecodeBound {
            kernel: format!("{k}'s own weight read"),
            suite: "llm",
            bytes_per_s: b,
            stream: s,
            stream_cache_sized: s.is_none()
                && rows
                    .iter()
                    .any(|r| r.suite == "stream" && r.verified && cache_sized(r)),
        }),
        _ => None,
    }
}

/// FMA against separate multiply and add, from verified rows only.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct FmaJudgment {
    pub fma: f64,
    pub unfused: f64,
    pub ratio: f64,
    /// Under [`FMA_CRIPPLE_RATIO`]: FMA is throttled (as on NVIDIA's CMP cards).
    pub throttled: bool,
}

/// The one rule for throttled FMA.
pub fn fma_judgment(rows: &[ResultRow]) -> Option<FmaJudgment> {
    let fma = best(rows, "peak", "fp32_fma", "peak_rate", None)?;
    let unfused = best(rows, "peak", "fp32_mul_add", "peak_rate", None)?;
    if unfused <= 0.0 {
        return None;
    }
    let ratio = fma / unfused;
    Some(FmaJudgment {
        fma,
        unfused,
        ratio,
        throttled: ratio < FMA_CRIPPLE_RATIO,
    })
}

/// The memory an adapter's models must fit in, and what to call it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Memory {
    /// "VRAM", or "host memory" for a CPU adapter.
    pub word: &'static str,
    pub bytes: Option<u64>,
    /// Where the figure came from.
    pub source: String,
}

/// A card's VRAM; for a CPU adapter (its device type is Cpu) the host's
/// memory: the adapter's usable memory ([`AdapterDesc::usable_memory_with`])
/// with `host_available` (from /proc/meminfo), and where it came from.
pub fn adapter_memory(desc: &AdapterDesc, host_available: Option<u64>) -> Memory {
    let bytes = desc.usable_memory_with(host_available);
    if !desc.is_cpu() {
        return Memory {
            word: "VRAM",
            bytes,
            source: desc.vram_source.clone(),
        };
    }
    let source = match host_available {
        Some(_) => format!(
            "available on the host (MemAvailable); a CPU adapter computes in host memory{}",
            desc.vram_bytes.map_or(String::new(), |h| format!(
                ", whatever heap its driver reports ({})",
                si(h as f64, "B")
            ))
        ),
        None => format!(
            "the heap the software driver reports; the host's available memory is unknown ({})",
            desc.vram_source
        ),
    };
    Memory {
        word: "host memory",
        bytes,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::fixtures::{row, row_with};

    #[test]
    fn the_bound_is_the_fastest_verified_read_named() {
        let mut rows = vec![
            row("stream", "triad", "bandwidth", 600e6, true),
            row("stream", "copy", "bandwidth", 667e6, true),
            row_with("llm", "decode_f16", "bandwidth", 2.01e9, "model=llama2-7b;"),
            row_with("llm", "decode_q4_0", "bandwidth", 0.7e9, "model=llama2-7b;"),
        ];
        let b = decode_bound(&rows).unwrap();
        assert_eq!(b.kernel, "decode_f16's own weight read");
        assert_eq!(b.bytes_per_s, 2.01e9);
        assert!(b.note().unwrap().contains("stream copy reached 667 MB/s"));
        // Unverified and cache-sized rows never set it.
        rows[2].verified = false;
        rows.push(row_with(
            "stream",
            "triad",
            "bandwidth",
            9e9,
            "comparable=no(working set under 4x a cache)",
        ));
        let b = decode_bound(&rows).unwrap();
        assert_eq!(b.kernel, "decode_q4_0's own weight read");
        rows[3].value = 0.6e9;
        let b = decode_bound(&rows).unwrap();
        assert_eq!((b.kernel.as_str(), b.note()), ("stream copy", None));
    }

    #[test]
    fn fma_is_judged_once_from_verified_rows() {
        let mut rows = vec![
            row("peak", "fp32_fma", "peak_rate", 0.39e12, true),
            row("peak", "fp32_mul_add", "peak_rate", 6.25e12, true),
        ];
        assert!(fma_judgment(&rows).unwrap().throttled);
        rows[0].verified = false;
        assert_eq!(fma_judgment(&rows), None);
    }
}
