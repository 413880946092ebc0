//! The summary for the terminal: measured, derived, for scale, neighbours.
//! It follows the verdict, so it states figures, not the verdict's
//! judgments again; every figure resting on an unverified one is marked.

use super::cards::render_neighbours;
use super::llm::render_ceilings;
use super::metrics::Val;
use super::AdapterSummary;
use crate::catalogue::{Kernel, Stream, Suite};
use crate::reference_cards::ETHASH_BYTES_PER_HASH;
use crate::report::verdict::source_of;
use crate::units::si;

/// The mark of a figure resting on an unverified measurement.
pub const UNVERIFIED: &str = " (UNVERIFIED)";

/// [`UNVERIFIED`] when any of the figures a number rests on is unverified.
pub fn mark(from: &[Option<Val>]) -> &'static str {
    if from.iter().flatten().any(|v| !v.verified) {
        UNVERIFIED
    } else {
        ""
    }
}

/// A figure with its unit, marked when unverified.
fn v(x: Option<Val>, unit: &str) -> String {
    match x {
        Some(x) => format!("{}{}", si(x.value, unit), mark(&[Some(x)])),
        None => "not measured".to_string(),
    }
}

/// One line of a section: the name in a column, then the figures.
fn line(out: &mut String, k: &str, val: String) {
    *out += &format!("  {k:<22} {val}\n");
}

impl AdapterSummary {
    pub fn render(&self) -> String {
        let mut out = format!(
            "\n== Summary: adapter {} {} ({}, {}) ==\nmeasured\n",
            self.adapter_index, self.adapter, self.backend, self.device_type
        );
        self.render_compute(&mut out);
        self.render_memory(&mut out);
        let derived = self.render_derived();
        if !derived.is_empty() {
            out += "derived\n";
            out += &derived;
        }
        if !self.flags.is_empty() {
            out += "for scale\n";
            for f in &self.flags {
                out += &format!("  - {f}\n");
            }
        }
        out += &render_neighbours(&self.neighbours);
        out
    }

    /// The measured hash rate, matmul, peaks and the FMA ratio.
    fn render_compute(&self, out: &mut String) {
        let m = &self.facts.metrics;
        line(out, "SHA-256d (mining)", v(m.hash_rate, "H/s"));
        let eff = self
            .matmul_efficiency
            .map(|e| {
                format!(
                    ", {:.0}% of this card's f32 FMA peak{}",
                    100.0 * e,
                    mark(&[m.sgemm, m.fp32_fma])
                )
            })
            .unwrap_or_default();
        line(out, "f32 matmul", format!("{}{eff}", v(m.sgemm, "FLOP/s")));
        line(out, "f16 matmul", v(m.hgemm, "FLOP/s"));
        line(
            out,
            "f32 peak",
            format!(
                "FMA {}, mul+add {}",
                v(m.fp32_fma, "FLOP/s"),
                v(m.fp32_mul_add, "FLOP/s")
            ),
        );
        let ladder = [
            ("fp64", m.fp64_fma, "FLOP/s"),
            ("fp32", m.fp32_fma, "FLOP/s"),
            ("fp16", m.fp16_fma, "FLOP/s"),
            ("int8 dot", m.int8_dot4, "OP/s"),
            ("i32", m.i32_mad, "OP/s"),
        ];
        if ladder.iter().any(|(_, x, _)| x.is_some()) {
            let steps: Vec<String> = ladder
                .iter()
                .map(|(name, x, unit)| format!("{name} {}", v(*x, unit)))
                .collect();
            line(out, "precision ladder", steps.join(" | "));
        }
        // Judged once, from verified rows; a ratio resting on an
        // unverified figure is shown, marked, and not judged.
        match (self.facts.fma, self.fma_unfused_ratio) {
            (Some(j), _) => line(
                out,
                "FMA : unfused",
                format!(
                    "{:.2} ({})",
                    j.ratio,
                    if j.throttled { "CRIPPLED" } else { "normal" }
                ),
            ),
            (None, Some(r)) => line(
                out,
                "FMA : unfused",
                format!("{r:.2}{} (not judged)", mark(&[m.fp32_fma, m.fp32_mul_add])),
            ),
            (None, None) => {}
        }
    }

    /// The measured bandwidth, host link, memory size and LLM rates.
    fn render_memory(&self, out: &mut String) {
        let m = &self.facts.metrics;
        // A cache-sized rate is measured: named so, never "not measured".
        let stream = |mem: Option<Val>, cache: Option<Val>| match (mem, cache) {
            (None, Some(c)) => format!(
                "{}{} (cache-sized, not a memory figure)",
                si(c.value, "B/s"),
                mark(&[Some(c)])
            ),
            (x, _) => v(x, "B/s"),
        };
        line(
            out,
            "memory bandwidth",
            format!(
                "triad {}, copy {}",
                stream(m.stream_triad, m.stream_triad_cache_sized),
                stream(m.stream_copy, m.stream_copy_cache_sized)
            ),
        );
        if let Some(e) = self.ethash_line() {
            line(out, "Ethash (mining)", e);
        }
        line(
            out,
            "host link",
            format!(
                "upload {}, download {}, round trip {}",
                v(m.upload, "B/s"),
                v(m.download, "B/s"),
                v(m.round_trip_s, "s")
            ),
        );
        let mem = &self.facts.memory;
        line(
            out,
            mem.word,
            match mem.bytes {
                Some(b) => format!("{} ({})", si(b as f64, "B"), mem.source),
                None => mem.source.clone(),
            },
        );
        for l in &self.llm_measured {
            *out += &format!("  {l}\n");
        }
    }

    /// The Ethash rate and the random reads it made, beside stream copy:
    /// how much of the streaming rate a 128-byte random read pattern keeps.
    fn ethash_line(&self) -> Option<String> {
        let m = &self.facts.metrics;
        let (rate, cut) = match (m.ethash, m.ethash_cut) {
            (Some(v), _) => (v, false),
            (None, Some(v)) => (v, true),
            (None, None) => return None,
        };
        let run = self.facts.ethash.as_ref();
        let epoch = run
            .and_then(|r| r.epoch)
            .map_or(String::new(), |e| format!(" (epoch {e})"));
        let cut_note = if cut {
            " over a cut dataset, not comparable"
        } else {
            ""
        };
        let reads = rate.value * ETHASH_BYTES_PER_HASH;
        // A cut dataset's reads are set beside a stream rate of like size.
        let copy = match cut {
            true => m.stream_copy.or(m.stream_copy_cache_sized),
            false => m.stream_copy,
        };
        let beside = copy
            .filter(|c| c.value > 0.0)
            .map(|c| {
                format!(
                    ", {:.2}x {} {}{}",
                    reads / c.value,
                    source_of(Kernel::Stream(Stream::Copy)),
                    si(c.value, "B/s"),
                    mark(&[Some(rate), Some(c)])
                )
            })
            .unwrap_or_default();
        // Where an llm kernel read weights faster than stream copied, decode
        // is bound by that read: the reads are set beside it too.
        let decode = self
            .facts
            .decode_bound
            .as_ref()
            .filter(|b| !cut && b.measured_by.suite() == Suite::Llm && b.bytes_per_s > 0.0)
            .map(|b| {
                format!(
                    ", {:.2}x LLM decode's {} {}",
                    reads / b.bytes_per_s,
                    b.kernel,
                    si(b.bytes_per_s, "B/s")
                )
            })
            .unwrap_or_default();
        Some(format!(
            "{}{epoch}{cut_note}: random-access reads {} ({ETHASH_BYTES_PER_HASH} B per hash){beside}{decode}",
            v(Some(rate), "H/s"),
            si(reads, "B/s"),
        ))
    }

    /// FLOP per hash and the LLM ceilings; empty when neither applies.
    fn render_derived(&self) -> String {
        let m = &self.facts.metrics;
        let mut derived = String::new();
        if let Some(f) = self.flop_per_hash {
            line(
                &mut derived,
                "FLOP per hash",
                format!(
                    "{f:.0} (f32 matmul FLOP/s / SHA-256d H/s){}",
                    mark(&[m.sgemm, m.hash_rate])
                ),
            );
        }
        if let (false, Some(bw)) = (self.llm.is_empty(), &self.facts.decode_bound) {
            derived += &render_ceilings(&self.llm, bw, m.upload, self.facts.memory.word);
        }
        derived += &super::models::render_models(&self.facts);
        derived
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{desc, row, row_with};
    use super::*;
    use crate::report::verdict::{self, AdapterVerdict};
    use crate::report::ResultRow;

    /// A throttled mining card on a riser with 8 GB, every suite run, a
    /// software adapter's decode rate, and one unverified matmul.
    fn mining_card_rows() -> Vec<ResultRow> {
        let mut sgemm = row("matmul", "sgemm", "flops", 0.3e12, false);
        sgemm.unit = "FLOP/s".into();
        vec![
            row("hash", "sha256d", "hash_rate", 2.1e9, true),
            sgemm,
            row("matmul", "hgemm", "flops", 0.5e12, true),
            row("peak", "fp32_fma", "peak_rate", 0.39e12, true),
            row("peak", "fp32_mul_add", "peak_rate", 6.25e12, true),
            row("stream", "triad", "bandwidth", 1.2e12, true),
            row("stream", "copy", "bandwidth", 1.1e12, true),
            row("transfer", "h2d_staging", "plateau", 0.7e9, true),
            row("transfer", "d2h", "plateau", 0.8e9, true),
            row("transfer", "round_trip", "latency", 40e-6, true),
            row_with(
                "llm",
                "decode_q4_0",
                "token_rate",
                0.0131,
                "model=llama2-7b;layers=2",
            ),
            row_with(
                "llm",
                "decode_q4_0",
                "bandwidth",
                50e6,
                "model=llama2-7b;layers=2",
            ),
            row_with(
                "llm",
                "prefill_q4_0",
                "token_rate",
                0.0115,
                "model=llama2-7b;layers=2",
            ),
        ]
    }

    /// The verdict and the summary as `run` prints them, one after the other.
    fn answer(rows: &[ResultRow], vram: Option<u64>) -> String {
        let d = desc(vram);
        let v = AdapterVerdict {
            adapter_index: 0,
            adapter: d.name.clone(),
            findings: verdict::verdict(&d, rows, &[]),
        };
        verdict::render(&v) + &AdapterSummary::new(&d, rows).render()
    }

    fn count(text: &str, needle: &str) -> usize {
        text.matches(needle).count()
    }

    #[test]
    fn the_answer_says_each_thing_once() {
        let rows = mining_card_rows();
        for (rows, vram) in [
            (&rows[..], Some(8_000_000_000)),
            (&rows[..], None),
            (&rows[..1], Some(24_000_000_000)),
            (&rows[3..5], None),
        ] {
            let text = answer(rows, vram);
            let mut seen = std::collections::HashSet::new();
            for l in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                assert!(seen.insert(l), "printed twice: {l}\n{text}");
            }
        }
        let text = answer(&rows, Some(8_000_000_000));
        // Once each: throttled FMA, the link's cost for training, small
        // VRAM, and where the hash rate stands among known cards.
        assert_eq!(count(&text, "throttled"), 1, "{text}");
        assert_eq!(count(&text, "training across cards"), 1, "{text}");
        assert_eq!(count(&text, "SMALL VRAM"), 0, "{text}");
        assert!(text.contains("[standing.sha256d]") && text.contains("[standing.bandwidth]"));
        for basis in ["SHA-256d", "memory bandwidth"] {
            assert!(
                !text
                    .lines()
                    .any(|l| l.contains("published") && l.contains(basis)),
                "{basis} placed twice:\n{text}"
            );
        }
        // The f32 peak, which the verdict does not place, keeps its neighbour.
        assert_eq!(count(&text, "nearest published cards"), 1, "{text}");
        assert!(!text.contains("NARROW HOST LINK"), "{text}");
    }

    #[test]
    fn small_token_rates_keep_two_significant_digits() {
        let text = answer(&mining_card_rows(), None);
        for rate in ["0.0131 tok/s", "0.0115 tok/s"] {
            assert!(
                count(&text, rate) >= 2,
                "{rate} in verdict and summary:\n{text}"
            );
        }
        for short in [" 0.0 tok/s", " 0.01 tok/s", " 0.00 tok/s", " 0 tok/s"] {
            assert!(!text.contains(short), "{short}:\n{text}");
        }
    }

    #[test]
    fn figures_resting_on_unverified_rows_are_marked() {
        let text = answer(&mining_card_rows(), None);
        let line = |start: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(start))
                .unwrap_or_else(|| panic!("no {start} line:\n{text}"))
                .to_string()
        };
        // The matmul itself and both figures derived from it.
        let matmul = line("f32 matmul");
        assert_eq!(count(&matmul, "UNVERIFIED"), 2, "{matmul}");
        assert!(line("FLOP per hash").contains("UNVERIFIED"));
        // Verified figures are not.
        for start in [
            "SHA-256d (mining)",
            "f16 matmul",
            "memory bandwidth",
            "host link",
        ] {
            assert!(!line(start).contains("UNVERIFIED"), "{}", line(start));
        }
        // Derived LLM figures are labelled as bounds, not measurements.
        assert!(
            line("LLM decode ceiling").contains("a bound, not a measurement"),
            "{text}"
        );
        assert!(text.contains("ceiling tok/s"), "{text}");
        // An unverified hash rate marks the scale beside an ASIC too.
        let mut rows = mining_card_rows();
        rows[0].verified = false;
        let text = answer(&rows, None);
        let asic = text.lines().find(|l| l.contains("Antminer")).unwrap();
        assert!(asic.contains("UNVERIFIED"), "{asic}");
    }

    #[test]
    fn the_precision_ladder_is_one_line_in_order() {
        let mut rows = mining_card_rows();
        rows.push(row("peak", "fp64_fma", "peak_rate", 0.96e12, true));
        rows.push(row("peak", "fp16_fma", "peak_rate", 110e12, true));
        rows.push(row("peak", "int8_dot4", "peak_rate", 220e12, false));
        let text = answer(&rows, None);
        let ladder = text
            .lines()
            .find(|l| l.trim_start().starts_with("precision ladder"))
            .unwrap_or_else(|| panic!("no ladder line:\n{text}"));
        let at = |s: &str| ladder.find(s).unwrap_or_else(|| panic!("{s} in {ladder}"));
        assert!(at("fp64 960 GFLOP/s") < at("fp32 390 GFLOP/s"), "{ladder}");
        assert!(at("fp32") < at("fp16 110 TFLOP/s"), "{ladder}");
        assert!(
            at("fp16") < at("int8 dot 220 TOP/s (UNVERIFIED)"),
            "{ladder}"
        );
        assert!(ladder.contains("i32 not measured"), "{ladder}");
        // Without peak rows there is no ladder.
        assert!(!answer(&rows[..1], None).contains("precision ladder"));
    }

    #[test]
    fn verdict_and_summary_derive_from_the_same_named_stream_kernel() {
        let mut rows = mining_card_rows();
        // copy beats triad here: every derived figure must say copy.
        rows[6].value = 1.5e12;
        let text = answer(&rows, None);
        for needle in [
            "% of the bound, stream copy 1.50 TB/s; the ceiling",
            "(stream copy) 1.50 TB/s measured",
            "(measured, stream copy)",
            "of the bound, stream copy)",
        ] {
            assert_eq!(count(&text, needle), 1, "{needle}:\n{text}");
        }
        assert!(!text.contains("of stream triad"), "{text}");
    }

    #[test]
    fn the_ethash_line_gives_its_random_reads_beside_stream_copy() {
        let rows = vec![
            row_with("ethash", "ethash", "hash_rate", 30e6, "epoch=0"),
            row("stream", "copy", "bandwidth", 256e9, true),
        ];
        let text = answer(&rows, Some(8_000_000_000));
        // 30 MH/s x 8192 B = 246 GB/s, 0.96 of the copy rate.
        assert!(
            text.contains("30.0 MH/s (epoch 0): random-access reads 246 GB/s (8192 B per hash), 0.96x stream copy 256 GB/s"),
            "{text}"
        );
        let with_decode = vec![
            rows[0].clone(),
            rows[1].clone(),
            row_with("llm", "decode_q4_0", "bandwidth", 300e9, "model=llama2-7b;"),
        ];
        let text = answer(&with_decode, Some(8_000_000_000));
        assert!(
            text.contains(
                "0.96x stream copy 256 GB/s, 0.82x LLM decode's decode_q4_0's own weight read 300 GB/s"
            ),
            "{text}"
        );
        let cut = vec![row_with(
            "ethash",
            "ethash",
            "hash_rate",
            30e6,
            "epoch=0;comparable=no(dataset cut)",
        )];
        let text = answer(&cut, None);
        assert!(
            text.contains(
                "30.0 MH/s (epoch 0) over a cut dataset, not comparable: random-access reads"
            ),
            "{text}"
        );
    }
}
