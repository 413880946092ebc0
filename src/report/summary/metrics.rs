//! The key metrics: one figure per kind of work, picked from an adapter's
//! rows, each carrying whether it passed verification.

use serde::Serialize;

use super::rules::cache_sized;
use crate::report::ResultRow;

/// One measured figure and whether it passed verification.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Val {
    pub value: f64,
    pub verified: bool,
}

/// The metrics the summary and `compare` are built from.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct KeyMetrics {
    pub hash_rate: Option<Val>,
    pub sgemm: Option<Val>,
    pub hgemm: Option<Val>,
    pub fp32_fma: Option<Val>,
    pub fp32_mul_add: Option<Val>,
    pub fp16_fma: Option<Val>,
    pub fp64_fma: Option<Val>,
    pub int8_dot4: Option<Val>,
    pub i32_mad: Option<Val>,
    pub stream_triad: Option<Val>,
    pub stream_copy: Option<Val>,
    /// Stream triad and copy over arrays that may fit a cache
    /// (`comparable=no`): measured, named as cache-sized, never a memory
    /// figure and never behind a ceiling.
    pub stream_triad_cache_sized: Option<Val>,
    pub stream_copy_cache_sized: Option<Val>,
    pub upload: Option<Val>,
    pub download: Option<Val>,
    pub round_trip_s: Option<Val>,
}

/// (label, unit, accessor) for every key metric, in display order.
pub type Field = (&'static str, &'static str, fn(&KeyMetrics) -> Option<Val>);
pub const FIELDS: [Field; 14] = [
    ("SHA-256d hash rate", "H/s", |k| k.hash_rate),
    ("f32 matmul", "FLOP/s", |k| k.sgemm),
    ("f16 matmul", "FLOP/s", |k| k.hgemm),
    ("f32 FMA peak", "FLOP/s", |k| k.fp32_fma),
    ("f32 mul+add peak", "FLOP/s", |k| k.fp32_mul_add),
    ("f16 FMA peak", "FLOP/s", |k| k.fp16_fma),
    ("f64 FMA peak", "FLOP/s", |k| k.fp64_fma),
    ("int8 dot4 peak", "OP/s", |k| k.int8_dot4),
    ("i32 mad peak", "OP/s", |k| k.i32_mad),
    ("stream triad", "B/s", |k| k.stream_triad),
    ("stream copy", "B/s", |k| k.stream_copy),
    ("host link upload", "B/s", |k| k.upload),
    ("host link download", "B/s", |k| k.download),
    ("round trip", "s", |k| k.round_trip_s),
];

impl KeyMetrics {
    /// Picks the key metrics from one adapter's rows. Where a metric appears
    /// more than once (several sizes, several runs) the best verified value
    /// wins; an unverified value is used only when nothing verified exists,
    /// and stays marked.
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = &'a ResultRow> + Clone) -> KeyMetrics {
        let pick_in = |cache: bool,
                       suite: &str,
                       kernels: &[&str],
                       metric: &str,
                       lower_is_better: bool| {
            let mut best: Option<Val> = None;
            for r in rows.clone() {
                if r.suite != suite || r.metric != metric || !kernels.contains(&r.kernel.as_str()) {
                    continue;
                }
                // A cache's rate says nothing about the memory behind it:
                // it is kept apart, under its own name.
                if cache_sized(r) != cache || !r.value.is_finite() {
                    continue;
                }
                let v = Val {
                    value: r.value,
                    verified: r.verified,
                };
                best = match best {
                    None => Some(v),
                    Some(b) if v.verified && !b.verified => Some(v),
                    Some(b) if v.verified == b.verified => {
                        let better = if lower_is_better {
                            v.value < b.value
                        } else {
                            v.value > b.value
                        };
                        Some(if better { v } else { b })
                    }
                    Some(b) => Some(b),
                };
            }
            best
        };
        let pick = |suite: &str, kernels: &[&str], metric: &str, lower_is_better: bool| {
            pick_in(false, suite, kernels, metric, lower_is_better)
        };
        KeyMetrics {
            hash_rate: pick("hash", &["sha256d"], "hash_rate", false),
            sgemm: pick("matmul", &["sgemm"], "flops", false),
            hgemm: pick("matmul", &["hgemm"], "flops", false),
            fp32_fma: pick("peak", &["fp32_fma"], "peak_rate", false),
            fp32_mul_add: pick("peak", &["fp32_mul_add"], "peak_rate", false),
            fp16_fma: pick("peak", &["fp16_fma"], "peak_rate", false),
            fp64_fma: pick("peak", &["fp64_fma"], "peak_rate", false),
            int8_dot4: pick("peak", &["int8_dot4"], "peak_rate", false),
            i32_mad: pick("peak", &["i32_mad"], "peak_rate", false),
            stream_triad: pick("stream", &["triad"], "bandwidth", false),
            stream_copy: pick("stream", &["copy"], "bandwidth", false),
            stream_triad_cache_sized: pick_in(true, "stream", &["triad"], "bandwidth", false),
            stream_copy_cache_sized: pick_in(true, "stream", &["copy"], "bandwidth", false),
            upload: pick(
                "transfer",
                &["h2d_write_buffer", "h2d_staging"],
                "plateau",
                false,
            ),
            download: pick("transfer", &["d2h"], "plateau", false),
            round_trip_s: pick("transfer", &["round_trip"], "latency", true),
        }
    }

    /// Memory bandwidth for comparing cards and summing a rig: the better of
    /// memory-sized triad and copy. Decode ceilings use
    /// [`super::rules::decode_bound`].
    pub fn bandwidth(&self) -> Option<Val> {
        self.bandwidth_named().map(|(_, v)| v)
    }

    /// [`KeyMetrics::bandwidth`] with the stream kernel it came from, so that
    /// every sentence built on it names the same kernel.
    pub fn bandwidth_named(&self) -> Option<(&'static str, Val)> {
        match (self.stream_triad, self.stream_copy) {
            (Some(t), Some(c)) if c.value > t.value => Some(("copy", c)),
            (Some(t), _) => Some(("triad", t)),
            (None, c) => c.map(|c| ("copy", c)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::fixtures::row;

    #[test]
    fn key_metrics_prefer_verified_then_best() {
        let rows = [
            row("matmul", "sgemm", "flops", 9e12, false),
            row("matmul", "sgemm", "flops", 5e12, true),
            row("matmul", "sgemm", "flops", 6e12, true),
            row("transfer", "round_trip", "latency", 30e-6, true),
            row("transfer", "round_trip", "latency", 20e-6, true),
        ];
        let k = KeyMetrics::from_rows(rows.iter());
        assert_eq!(
            k.sgemm,
            Some(Val {
                value: 6e12,
                verified: true
            })
        );
        assert_eq!(k.round_trip_s.unwrap().value, 20e-6);
        assert_eq!(k.hash_rate, None);
    }
}
