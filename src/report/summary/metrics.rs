//! The key metrics: one figure per kind of work, picked from an adapter's
//! rows, each carrying whether it passed verification.

use serde::Serialize;

use super::rules::{shown, Pick};
use crate::catalogue::{Direction, Kernel, Metric, Peak, Stream, Transfer};
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
    /// Ethash over the epoch's whole dataset.
    pub ethash: Option<Val>,
    /// Ethash over a dataset cut short (`comparable=no`): measured, named as
    /// cut, never set beside a mined rate.
    pub ethash_cut: Option<Val>,
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

/// One key metric: its label, unit, the catalogue metric it is (for its
/// direction) and where [`KeyMetrics`] holds it.
#[derive(Clone, Copy)]
pub struct Field {
    pub label: &'static str,
    pub unit: &'static str,
    pub metric: Metric,
    pub get: fn(&KeyMetrics) -> Option<Val>,
}

impl Field {
    pub fn lower_is_better(&self) -> bool {
        self.metric.direction() == Direction::Lower
    }
}

const fn field(
    label: &'static str,
    unit: &'static str,
    metric: Metric,
    get: fn(&KeyMetrics) -> Option<Val>,
) -> Field {
    Field {
        label,
        unit,
        metric,
        get,
    }
}

/// Every key metric, in display order.
pub const FIELDS: [Field; 15] = [
    field("SHA-256d hash rate", "H/s", Metric::HashRate, |k| {
        k.hash_rate
    }),
    field("f32 matmul", "FLOP/s", Metric::Flops, |k| k.sgemm),
    field("f16 matmul", "FLOP/s", Metric::Flops, |k| k.hgemm),
    field("f32 FMA peak", "FLOP/s", Metric::PeakRate, |k| k.fp32_fma),
    field("f32 mul+add peak", "FLOP/s", Metric::PeakRate, |k| {
        k.fp32_mul_add
    }),
    field("f16 FMA peak", "FLOP/s", Metric::PeakRate, |k| k.fp16_fma),
    field("f64 FMA peak", "FLOP/s", Metric::PeakRate, |k| k.fp64_fma),
    field("int8 dot4 peak", "OP/s", Metric::PeakRate, |k| k.int8_dot4),
    field("i32 mad peak", "OP/s", Metric::PeakRate, |k| k.i32_mad),
    field("stream triad", "B/s", Metric::Bandwidth, |k| k.stream_triad),
    field("stream copy", "B/s", Metric::Bandwidth, |k| k.stream_copy),
    field("host link upload", "B/s", Metric::Plateau, |k| k.upload),
    field("host link download", "B/s", Metric::Plateau, |k| k.download),
    field("round trip", "s", Metric::Latency, |k| k.round_trip_s),
    field("Ethash hash rate", "H/s", Metric::HashRate, |k| k.ethash),
];

impl KeyMetrics {
    /// Picks the key metrics from one adapter's rows by the one rule
    /// ([`shown`]): where a metric appears more than once (several sizes,
    /// several runs) the best verified value wins; an unverified value is
    /// used only when nothing verified exists, and stays marked.
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = &'a ResultRow>) -> KeyMetrics {
        let rows: Vec<ResultRow> = rows.into_iter().cloned().collect();
        let get = |p: Pick| shown(&rows, p);
        let peak = |k| get(Pick::of(Kernel::Peak(k), Metric::PeakRate));
        let stream = |k| Pick::of(Kernel::Stream(k), Metric::Bandwidth);
        let transfer = |k| Pick::of(Kernel::Transfer(k), Metric::Plateau);
        KeyMetrics {
            hash_rate: get(Pick::of(Kernel::Sha256d, Metric::HashRate)),
            ethash: get(Pick::of(Kernel::Ethash, Metric::HashRate)),
            ethash_cut: get(Pick::of(Kernel::Ethash, Metric::HashRate).cache_sized()),
            sgemm: get(Pick::of(Kernel::Sgemm, Metric::Flops)),
            hgemm: get(Pick::of(Kernel::Hgemm, Metric::Flops)),
            fp32_fma: peak(Peak::Fp32Fma),
            fp32_mul_add: peak(Peak::Fp32MulAdd),
            fp16_fma: peak(Peak::Fp16Fma),
            fp64_fma: peak(Peak::Fp64Fma),
            int8_dot4: peak(Peak::Int8Dot4),
            i32_mad: peak(Peak::I32Mad),
            stream_triad: get(stream(Stream::Triad)),
            stream_copy: get(stream(Stream::Copy)),
            stream_triad_cache_sized: get(stream(Stream::Triad).cache_sized()),
            stream_copy_cache_sized: get(stream(Stream::Copy).cache_sized()),
            upload: better(
                get(transfer(Transfer::WriteBuffer)),
                get(transfer(Transfer::Staging)),
            ),
            download: get(transfer(Transfer::Download)),
            round_trip_s: get(Pick::of(
                Kernel::Transfer(Transfer::RoundTrip),
                Metric::Latency,
            )),
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
    pub fn bandwidth_named(&self) -> Option<(Stream, Val)> {
        match (self.stream_triad, self.stream_copy) {
            (Some(t), Some(c)) if c.value > t.value => Some((Stream::Copy, c)),
            (Some(t), _) => Some((Stream::Triad, t)),
            (None, c) => c.map(|c| (Stream::Copy, c)),
        }
    }
}

/// The better of two values of one higher-is-better metric: verified
/// first, then the higher.
fn better(a: Option<Val>, b: Option<Val>) -> Option<Val> {
    match (a, b) {
        (Some(a), Some(b)) if (b.verified, b.value) > (a.verified, a.value) => Some(b),
        (Some(a), _) => Some(a),
        (None, b) => b,
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
