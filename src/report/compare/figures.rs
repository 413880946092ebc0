//! The figures one column of the comparison shows: the key metrics, the
//! VRAM test and the LLM suite's token rates, each one run's figure or
//! several runs' combined.

use std::collections::HashMap;

use serde::Serialize;

use super::Merge;
use crate::catalogue::{Kernel, Metric};
use crate::domain::formats::FORMATS as WEIGHT_FORMATS;
use crate::domain::models::LLAMA2;
use crate::report::summary::{KeyMetrics, Val, FIELDS};
use crate::report::ResultRow;
use crate::units::TOKENS_PER_S;

/// The models and formats whose token rates get a row, in table order
/// ([`LLAMA2`], the `llm` suite's own), so the rows stay bounded whatever
/// a file holds.
const PHASES: [&str; 2] = ["decode", "prefill"];

/// One row of the table for one column.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Figure {
    pub label: String,
    pub unit: &'static str,
    pub val: Val,
    /// A time: the smaller value is the better one.
    pub lower_is_better: bool,
    /// Where the row goes in the table.
    #[serde(skip)]
    pub order: usize,
}

/// Whether `a` is a better figure than `b`: verified beats unverified,
/// then the higher rate or the shorter time.
fn better(a: Val, b: Val, lower_is_better: bool) -> bool {
    if a.verified != b.verified {
        return a.verified;
    }
    if lower_is_better {
        a.value < b.value
    } else {
        a.value > b.value
    }
}

/// The figures of rows measured together (one run, or every run when the
/// best is wanted): where a row of the table has several candidates
/// (kernels, sizes, batches) the best verified one, as [`KeyMetrics`]
/// picks; an unverified one only where nothing verified exists.
pub fn figures(rows: &[&ResultRow]) -> Vec<Figure> {
    let km = KeyMetrics::from_rows(rows.iter().copied());
    let mut out: Vec<Figure> = FIELDS
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            (f.get)(&km).map(|val| Figure {
                label: f.label.to_string(),
                unit: f.unit,
                val,
                lower_is_better: f.lower_is_better(),
                order: i,
            })
        })
        .collect();
    let mut extra: Vec<Figure> = Vec::new();
    let mut offer = |label: String, unit: &'static str, val: Val, order: usize| match extra
        .iter_mut()
        .find(|f| f.order == order)
    {
        Some(f) if better(val, f.val, false) => f.val = val,
        Some(_) => {}
        None => extra.push(Figure {
            label,
            unit,
            val,
            lower_is_better: false,
            order,
        }),
    };
    let base = FIELDS.len();
    for r in rows {
        let val = Val {
            value: r.value,
            verified: r.verified,
        };
        match (r.kernel, r.metric) {
            (Kernel::VramWrite, Metric::Bandwidth) => offer("VRAM write".into(), "B/s", val, base),
            (Kernel::VramCheck, Metric::Bandwidth) => {
                offer("VRAM check".into(), "B/s", val, base + 1);
                // How much memory the check covered (and whether it held).
                if let Some(bytes) = r.params.bytes() {
                    let tested = Val {
                        value: bytes as f64,
                        verified: r.verified,
                    };
                    offer("VRAM tested".into(), "B", tested, base + 2);
                }
            }
            (Kernel::Decode(format) | Kernel::Prefill(format), Metric::TokenRate) => {
                let phase = usize::from(matches!(r.kernel, Kernel::Prefill(_)));
                let model = r.params.model().unwrap_or("");
                let (Some(m), Some(f)) = (
                    LLAMA2.iter().position(|x| x.id == model),
                    WEIGHT_FORMATS.iter().position(|&x| x == format),
                ) else {
                    continue;
                };
                let order = base + 3 + (m * PHASES.len() + phase) * WEIGHT_FORMATS.len() + f;
                offer(
                    format!("LLM {} {model} {}", PHASES[phase], format.name()),
                    TOKENS_PER_S,
                    val,
                    order,
                );
            }
            _ => {}
        }
    }
    out.extend(extra);
    out.sort_by_key(|f| f.order);
    out
}

/// Combines the figures of several runs of one adapter, each run's list
/// from [`figures`]. `Best`: the best verified figure of any run. `Median`:
/// the median over the runs whose figure is verified (for an even count
/// the worse of the middle two), so one bad or unverified run cannot set
/// it; over the unverified figures, still marked, only where no run has a
/// verified one.
pub fn combine(runs: &[Vec<Figure>], merge: Merge) -> Vec<Figure> {
    let mut by: HashMap<usize, Vec<&Figure>> = HashMap::new();
    for f in runs.iter().flatten() {
        by.entry(f.order).or_default().push(f);
    }
    let mut out: Vec<Figure> = by
        .into_values()
        .map(|mut all| {
            let lower = all[0].lower_is_better;
            // Worst first.
            all.sort_by(|a, b| {
                let (a, b) = (a.val, b.val);
                a.verified.cmp(&b.verified).then(if lower {
                    b.value.total_cmp(&a.value)
                } else {
                    a.value.total_cmp(&b.value)
                })
            });
            let pick = match merge {
                Merge::Best => all[all.len() - 1],
                Merge::Median => {
                    let verified = all.iter().filter(|f| f.val.verified).count();
                    let pool = if verified > 0 {
                        &all[all.len() - verified..]
                    } else {
                        &all[..]
                    };
                    pool[(pool.len() - 1) / 2]
                }
            };
            pick.clone()
        })
        .collect();
    out.sort_by_key(|f| f.order);
    out
}

/// The key metrics `figures` says, for the chart and the reference table.
pub fn key_metrics(figures: &[Figure]) -> KeyMetrics {
    let mut k = KeyMetrics::default();
    for f in figures.iter().filter(|f| f.order < FIELDS.len()) {
        *field_mut(&mut k, f.order) = Some(f.val);
    }
    k
}

/// The field [`FIELDS`]`[i]` reads.
fn field_mut(k: &mut KeyMetrics, i: usize) -> &mut Option<Val> {
    match i {
        0 => &mut k.hash_rate,
        1 => &mut k.sgemm,
        2 => &mut k.hgemm,
        3 => &mut k.fp32_fma,
        4 => &mut k.fp32_mul_add,
        5 => &mut k.fp16_fma,
        6 => &mut k.fp64_fma,
        7 => &mut k.int8_dot4,
        8 => &mut k.i32_mad,
        9 => &mut k.stream_triad,
        10 => &mut k.stream_copy,
        11 => &mut k.upload,
        12 => &mut k.download,
        13 => &mut k.round_trip_s,
        14 => &mut k.ethash,
        _ => unreachable!("FIELDS has {} entries", FIELDS.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::fixtures::{row, row_with};
    use crate::report::summary::Field;

    #[test]
    fn field_mut_sets_what_fields_reads() {
        assert_eq!(FIELDS.len(), 15);
        for (i, Field { label, get, .. }) in FIELDS.iter().enumerate() {
            let mut k = KeyMetrics::default();
            let v = Val {
                value: i as f64 + 1.0,
                verified: true,
            };
            *field_mut(&mut k, i) = Some(v);
            assert_eq!(get(&k), Some(v), "{label}");
            let set = FIELDS.iter().filter(|f| (f.get)(&k).is_some()).count();
            assert_eq!(set, 1, "{label}");
        }
    }

    fn run_of(run: &str, rows: Vec<ResultRow>) -> Vec<ResultRow> {
        rows.into_iter()
            .map(|r| ResultRow {
                run_id: run.into(),
                ..r
            })
            .collect()
    }

    fn value(f: &[Figure], label: &str) -> Option<Val> {
        f.iter().find(|f| f.label == label).map(|f| f.val)
    }

    /// The figure of each run, then the median over the runs: one run's
    /// fast path (or fast size) cannot pair with another run's slow one.
    #[test]
    fn the_median_is_over_each_runs_own_figure() {
        let plateau = |kernel, v| row_with("transfer", kernel, "plateau", v, "bytes=67108864");
        let runs = [
            run_of(
                "a",
                vec![
                    plateau("h2d_write_buffer", 9.69e9),
                    plateau("h2d_staging", 3.73e9),
                ],
            ),
            run_of(
                "b",
                vec![
                    plateau("h2d_write_buffer", 2.41e9),
                    plateau("h2d_staging", 10.5e9),
                ],
            ),
            run_of(
                "c",
                vec![
                    plateau("h2d_write_buffer", 3.04e9),
                    plateau("h2d_staging", 2.87e9),
                ],
            ),
        ];
        let per_run: Vec<Vec<Figure>> = runs
            .iter()
            .map(|r| figures(&r.iter().collect::<Vec<_>>()))
            .collect();
        let m = combine(&per_run, Merge::Median);
        assert_eq!(value(&m, "host link upload").unwrap().value, 9.69e9);
        let b = combine(&per_run, Merge::Best);
        assert_eq!(value(&b, "host link upload").unwrap().value, 10.5e9);
    }

    #[test]
    fn the_median_of_an_even_count_is_the_worse_middle_one_and_unverified_runs_are_left_out() {
        let lat = |v, ok| {
            vec![ResultRow {
                verified: ok,
                ..row("transfer", "round_trip", "latency", v, ok)
            }]
        };
        let bw = |v, ok| vec![row("stream", "triad", "bandwidth", v, ok)];
        let per_run: Vec<Vec<Figure>> = [
            [lat(40e-6, true), bw(300e9, true)].concat(),
            [lat(50e-6, true), bw(320e9, true)].concat(),
            [lat(1e-6, false), bw(900e9, false)].concat(),
        ]
        .iter()
        .map(|r| figures(&r.iter().collect::<Vec<_>>()))
        .collect();
        let m = combine(&per_run, Merge::Median);
        // Times: the worse is the longer.
        assert_eq!(
            value(&m, "round trip"),
            Some(Val {
                value: 50e-6,
                verified: true
            })
        );
        assert_eq!(value(&m, "stream triad").unwrap().value, 300e9);
        // Nothing verified: the median of what there is, still marked.
        let only = vec![figures(&[&row("stream", "copy", "bandwidth", 5.0, false)])];
        let m = combine(&only, Merge::Median);
        assert_eq!(
            value(&m, "stream copy"),
            Some(Val {
                value: 5.0,
                verified: false
            })
        );
    }

    #[test]
    fn llm_and_vram_rows_by_model_and_format() {
        let rows = [
            row_with(
                "llm",
                "decode_q4_0",
                "token_rate",
                48.0,
                "model=llama2-7b;format=q4_0",
            ),
            row_with(
                "llm",
                "decode_q4_0",
                "token_rate",
                9.0,
                "model=llama2-70b;format=q4_0",
            ),
            row_with(
                "llm",
                "prefill_f16",
                "token_rate",
                900.0,
                "model=llama2-7b;format=f16;batch=128",
            ),
            row_with(
                "llm",
                "prefill_f16",
                "token_rate",
                1200.0,
                "model=llama2-7b;format=f16;batch=512",
            ),
            row_with(
                "llm",
                "decode_q4_0",
                "bandwidth",
                1e11,
                "model=llama2-7b;format=q4_0",
            ),
            row_with(
                "llm",
                "decode_q4_0",
                "token_rate",
                1.0,
                "model=someone-elses;format=q4_0",
            ),
            row_with("vram", "vram_write", "bandwidth", 2e11, "bytes=1024"),
            row_with("vram", "vram_check", "bandwidth", 3e11, "bytes=4096"),
        ];
        let f = figures(&rows.iter().collect::<Vec<_>>());
        let labels: Vec<&str> = f.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "VRAM write",
                "VRAM check",
                "VRAM tested",
                "LLM decode llama2-7b q4_0",
                "LLM prefill llama2-7b f16",
                "LLM decode llama2-70b q4_0",
            ]
        );
        assert_eq!(
            value(&f, "LLM prefill llama2-7b f16").unwrap().value,
            1200.0
        );
        assert_eq!(value(&f, "VRAM tested").unwrap().value, 4096.0);
        assert_eq!(f[3].unit, TOKENS_PER_S);
    }
}
