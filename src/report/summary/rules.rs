//! The rules every part of the answer (verdict, summary, energy) judges by,
//! each said once: the value of a kernel, the bandwidth that bounds
//! decode, and whether FMA is throttled.

use serde::Serialize;

use super::flags::FMA_CRIPPLE_RATIO;
use super::metrics::Val;
use crate::catalogue::{Kernel, Metric, Peak, Stream, Suite};
use crate::gpu::AdapterDesc;
use crate::report::ResultRow;
use crate::units::si;

/// A stream row over arrays that may fit a cache: measured, but not a
/// figure of the memory behind the cache.
pub fn cache_sized(r: &ResultRow) -> bool {
    r.params.cache_sized().is_some()
}

/// Which rows a figure is taken from: a kernel's metric, of one model
/// where given.
#[derive(Clone, Copy, Debug)]
pub struct Pick<'a> {
    pub kernel: Kernel,
    pub metric: Metric,
    pub model: Option<&'a str>,
    /// Rows over arrays that may fit a cache instead of the others: kept
    /// apart, under their own name, and never a memory figure.
    pub cache_sized: bool,
}

impl Pick<'_> {
    pub fn of(kernel: Kernel, metric: Metric) -> Pick<'static> {
        Pick {
            kernel,
            metric,
            model: None,
            cache_sized: false,
        }
    }

    pub fn model(self, model: &str) -> Pick<'_> {
        Pick {
            model: Some(model),
            ..self
        }
    }

    /// The cache-sized rows of the kernel instead.
    pub fn cache_sized(self) -> Self {
        Pick {
            cache_sized: true,
            ..self
        }
    }

    fn matches(&self, r: &ResultRow) -> bool {
        r.kernel == self.kernel
            && r.metric == self.metric
            && self.model.is_none_or(|m| r.params.model() == Some(m))
            && cache_sized(r) == self.cache_sized
            && r.value.is_finite()
    }

    /// The best of `values` by the metric's direction.
    fn best_of(&self, values: impl Iterator<Item = f64>) -> Option<f64> {
        values.reduce(|a, b| if self.metric.better(b, a) { b } else { a })
    }
}

/// The value of a kernel: the best verified row (by its metric's
/// direction) that `pick` matches. Unverified rows never feed a judgment;
/// cache-sized rows are no memory figure.
pub fn best(rows: &[ResultRow], pick: Pick) -> Option<f64> {
    pick.best_of(
        rows.iter()
            .filter(|r| r.verified && pick.matches(r))
            .map(|r| r.value),
    )
}

/// [`best`] for display: the best verified row, else (marked) the best
/// unverified one.
pub fn shown(rows: &[ResultRow], pick: Pick) -> Option<Val> {
    best(rows, pick)
        .map(|value| Val {
            value,
            verified: true,
        })
        .or_else(|| {
            pick.best_of(rows.iter().filter(|r| pick.matches(r)).map(|r| r.value))
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
    /// The kernel that measured it.
    pub measured_by: Kernel,
    /// The suite that measured it (whose power the energy figure uses).
    pub suite: Suite,
    pub bytes_per_s: f64,
    /// The best memory-sized stream figure when the bound is not it.
    pub stream: Option<(Stream, f64)>,
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
        self.note_with(|_, b| si(b, "B/s"))
    }

    /// [`DecodeBound::note`], the stream figure shown by `show`.
    pub fn note_with(&self, show: impl FnOnce(Stream, f64) -> String) -> Option<String> {
        if self.suite == Suite::Stream {
            return None;
        }
        Some(match self.stream {
            Some((k, b)) => format!(
                "the stream kernels under-read this adapter: stream {k} reached {}",
                show(k, b)
            ),
            None if self.stream_cache_sized => {
                "the stream arrays were cache-sized, so stream gave no memory figure".into()
            }
            None => "no memory-sized stream figure was measured".into(),
        })
    }
}

/// The stream kernels that are memory figures, in the order preferred on a tie.
const STREAM_KERNELS: [Stream; 2] = [Stream::Triad, Stream::Copy];

/// The one rule for the bandwidth behind every decode ceiling and share:
/// the best verified, memory-sized rate of stream triad or copy, or of the
/// `llm` decode kernels' weight reads where one is faster. So no measured
/// decode rate exceeds the ceiling its own bytes give.
pub fn decode_bound(rows: &[ResultRow]) -> Option<DecodeBound> {
    let stream = STREAM_KERNELS
        .into_iter()
        .filter_map(|k| best(rows, Pick::of(Kernel::Stream(k), Metric::Bandwidth)).map(|b| (k, b)))
        .fold(None, |acc: Option<(Stream, f64)>, (k, b)| match acc {
            Some((_, a)) if a >= b => acc,
            _ => Some((k, b)),
        });
    let mut llm: Option<(Kernel, f64)> = None;
    for r in rows.iter().filter(|r| {
        r.verified && matches!(r.kernel, Kernel::Decode(_)) && r.metric == Metric::Bandwidth
    }) {
        if r.value.is_finite() && llm.is_none_or(|(_, b)| r.value > b) {
            llm = Some((r.kernel, r.value));
        }
    }
    match (stream, llm) {
        (Some((k, s)), l) if l.is_none_or(|(_, b)| b <= s) => Some(DecodeBound {
            kernel: format!("stream {k}"),
            measured_by: Kernel::Stream(k),
            suite: Suite::Stream,
            bytes_per_s: s,
            stream: None,
            stream_cache_sized: false,
        }),
        (s, Some((k, b))) => Some(DecodeBound {
            kernel: format!("{k}'s own weight read"),
            measured_by: k,
            suite: Suite::Llm,
            bytes_per_s: b,
            stream: s,
            stream_cache_sized: s.is_none()
                && rows
                    .iter()
                    .any(|r| r.suite == Suite::Stream && r.verified && cache_sized(r)),
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
    let rate = |k| best(rows, Pick::of(Kernel::Peak(k), Metric::PeakRate));
    let fma = rate(Peak::Fp32Fma)?;
    let unfused = rate(Peak::Fp32MulAdd)?;
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
    /// The adapter computes in the host's memory (a CPU adapter).
    pub host: bool,
    pub bytes: Option<u64>,
    /// Where the figure came from.
    pub source: String,
}

impl Memory {
    /// Memory the rows do not tell: results files read back carry no
    /// adapter's memory size.
    pub fn unrecorded(host: bool) -> Memory {
        Memory {
            word: if host { HOST_WORD } else { VRAM_WORD },
            host,
            bytes: None,
            source: "not in the results".into(),
        }
    }
}

const VRAM_WORD: &str = "VRAM";
const HOST_WORD: &str = "host memory";

/// A card's VRAM; for a CPU adapter (its device type is Cpu) the host's
/// memory: the adapter's usable memory ([`AdapterDesc::usable_memory_with`])
/// with `host_available` (from /proc/meminfo), and where it came from.
pub fn adapter_memory(desc: &AdapterDesc, host_available: Option<u64>) -> Memory {
    let bytes = desc.usable_memory_with(host_available);
    if !desc.is_cpu() {
        return Memory {
            word: VRAM_WORD,
            host: false,
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
        word: HOST_WORD,
        host: true,
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
