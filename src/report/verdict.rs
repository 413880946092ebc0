//! The verdict: what a card is good for, what not, and why, in findings a
//! person reads first and a program can match on (a stable code each).
//! Every finding names the measured figure it rests on; only verified
//! figures are used.

use serde::Serialize;

use super::summary::rules::Pick;
use super::summary::{
    adapter_memory, decode_bound, decode_ceiling, fits, fma_judgment, DecodeBound,
};
use super::ResultRow;
use crate::catalogue::{Kernel, Metric, Peak, Transfer};
use crate::domain::formats::Format;
use crate::domain::models::{Model, LLAMA2_7B, MODELS};
use crate::gpu::host_available;
use crate::gpu::AdapterDesc;
use crate::reference_cards::{self, Card};
use crate::units::{num, si, tokens_per_s};
use crate::workloads::transfer::pcie::{link_class, LinkClass, LINK_THRESHOLDS_GB};

/// What a finding says about the card.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Stance {
    GoodFor,
    NotFor,
    Fault,
    Standing,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Finding {
    /// Stable and machine-readable, e.g. `llm.decode`, `fma.crippled`.
    pub code: &'static str,
    pub stance: Stance,
    /// One sentence naming its measured figure.
    pub text: String,
}

fn finding(code: &'static str, stance: Stance, text: String) -> Finding {
    Finding { code, stance, text }
}

/// The value of a kernel: one rule, the summary's and the energy's too.
pub use super::summary::best;

/// The largest Llama-2 whose Q4_0 weights, resident, fit `memory` bytes
/// with room for its cache.
pub fn largest_q4_fit(memory: u64) -> Option<Model> {
    MODELS
        .into_iter()
        .rev()
        .find(|m| fits(m.bytes_resident(Format::Q4_0), memory))
}

/// "3.79 GB resident": how the fit findings quote a model's size.
pub fn q4_resident(m: &Model) -> String {
    format!("{} resident", si(m.bytes_resident(Format::Q4_0), "B"))
}

/// Findings for one adapter from its rows; `faults` are findings from the
/// health checks (VRAM errors, instability), which come first. A CPU
/// adapter's memory is the host's, read now.
pub fn verdict(desc: &AdapterDesc, rows: &[ResultRow], faults: &[Finding]) -> Vec<Finding> {
    let host = desc.is_cpu().then(host_available).flatten();
    verdict_with_host(desc, rows, faults, host)
}

/// [`verdict`] with the host's available memory given.
pub fn verdict_with_host(
    desc: &AdapterDesc,
    rows: &[ResultRow],
    faults: &[Finding],
    host_available: Option<u64>,
) -> Vec<Finding> {
    let mut out: Vec<Finding> = faults.to_vec();
    let mine: Vec<ResultRow> = rows
        .iter()
        .filter(|r| r.adapter_index == desc.index && r.adapter == desc.name)
        .cloned()
        .collect();
    let rows = &mine[..];
    // The one bound on decode (the summary's and the energy's), from
    // verified rows only: only verified figures make claims.
    let bound = decode_bound(rows);
    // What decode reads per token of Llama-2-7B Q4_0: the bytes the llm
    // suite's rate counts, so its rate and this ceiling speak of the same.
    let read_7b = LLAMA2_7B.weights_read_per_token(Format::Q4_0);
    let ceiling = bound
        .as_ref()
        .map(|b| decode_ceiling(b.bytes_per_s, read_7b));
    let note = bound
        .as_ref()
        .and_then(DecodeBound::note)
        .map_or(String::new(), |n| format!("; {n}"));

    // LLM inference: the measured decode first, else the ceiling. Below
    // 10 tok/s a reply of a few hundred tokens takes minutes.
    let q4 = |metric| Pick::of(Kernel::Decode(Format::Q4_0), metric).model(LLAMA2_7B.id);
    let decode = best(rows, q4(Metric::TokenRate));
    let stance = |tps: f64| {
        if tps >= 10.0 {
            Stance::GoodFor
        } else {
            Stance::NotFor
        }
    };
    match (decode, ceiling, &bound) {
        (Some(tps), c, b) => {
            let read = best(rows, q4(Metric::Bandwidth));
            let share = match (read, b, c) {
                (Some(r), Some(b), Some(c)) => format!(
                    " (weights read at {} % of the bound, {}; the ceiling for the {} of weights it reads per token is {}{note})",
                    num(100.0 * r / b.bytes_per_s),
                    b.named(),
                    si(read_7b, "B"),
                    tokens_per_s(c)
                ),
                _ => String::new(),
            };
            out.push(finding(
                "llm.decode",
                stance(tps),
                format!("LLM inference: Llama-2-7B Q4_0 decodes at {} measured{share}", tokens_per_s(tps)),
            ));
        }
        (None, Some(c), Some(b)) => out.push(finding(
            "llm.decode_ceiling",
            stance(c),
            format!(
                "LLM inference: at most {} for Llama-2-7B Q4_0 from the measured {} (a ceiling, not measured decode{note})",
                tokens_per_s(c),
                b.named()
            ),
        )),
        _ => {}
    }
    if let Some(p) = best(
        rows,
        Pick::of(Kernel::Prefill(Format::Q4_0), Metric::TokenRate),
    ) {
        // Under 50 tok/s a 2,000-token prompt takes most of a minute.
        out.push(finding(
            "llm.prefill",
            if p >= 50.0 {
                Stance::GoodFor
            } else {
                Stance::NotFor
            },
            format!(
                "prompt processing: {} measured (Q4_0 weights, batched)",
                tokens_per_s(p)
            ),
        ));
    }
    // The memory models must fit: VRAM, or the host's for a CPU adapter.
    let memory = adapter_memory(desc, host_available);
    let (fit_code, small_code) = if desc.is_cpu() {
        ("host_memory.fit", "host_memory.small")
    } else {
        ("vram.fit", "vram.small")
    };
    let what = if desc.is_cpu() {
        " available (a CPU adapter computes in the host's memory)"
    } else {
        ""
    };
    if let Some(v) = memory.bytes {
        match largest_q4_fit(v) {
            Some(m) => out.push(finding(
                fit_code,
                Stance::GoodFor,
                format!(
                    "{} {}{what}: {} Q4_0 ({}) fits",
                    memory.word,
                    si(v as f64, "B"),
                    m.name,
                    q4_resident(&m)
                ),
            )),
            None => out.push(finding(
                small_code,
                Stance::NotFor,
                format!(
                    "{} {}{what}: not even {} Q4_0 ({}) fits with room for its cache",
                    memory.word,
                    si(v as f64, "B"),
                    LLAMA2_7B.name,
                    q4_resident(&LLAMA2_7B)
                ),
            )),
        }
    }

    // FMA throttling, as on NVIDIA's CMP cards.
    if let Some(j) = fma_judgment(rows).filter(|j| j.throttled) {
        out.push(finding(
            "fma.crippled",
            Stance::NotFor,
            format!(
                "FP32 compute: fused multiply-add runs at {} but separate multiply and add at {} (ratio {:.2}): FMA is throttled, so matmul-heavy work (training, prompt processing) is slow",
                si(j.fma, "FLOP/s"),
                si(j.unfused, "FLOP/s"),
                j.ratio
            ),
        ));
    }
    // fp64 work (simulation, science).
    let peak = |k| best(rows, Pick::of(Kernel::Peak(k), Metric::PeakRate));
    if let (Some(f64r), Some(f32r)) = (peak(Peak::Fp64Fma), peak(Peak::Fp32Fma)) {
        let ratio = f32r / f64r;
        if ratio > 8.0 {
            out.push(finding(
                "fp64.slow",
                Stance::NotFor,
                format!(
                    "fp64 work: {} fp64, 1/{ratio:.0} of its fp32 rate",
                    si(f64r, "FLOP/s")
                ),
            ));
        }
    }
    // The host link, judged by its faster direction with the PCIe link
    // classes of the transfer suite: uploads include the host writing the
    // data, so a slow upload alone need not be the link.
    let link = [Transfer::Staging, Transfer::WriteBuffer, Transfer::Download]
        .into_iter()
        .filter_map(|k| best(rows, Pick::of(Kernel::Transfer(k), Metric::Plateau)))
        .reduce(f64::max);
    // A CPU adapter has no link to the host: its transfers are memory copies.
    if let Some(bs) = link.filter(|_| !desc.is_cpu()) {
        if let Some(f) = link_finding(bs) {
            out.push(f);
        }
    }
    out.extend(standing(rows, bound.as_ref()));
    out
}

/// `link.narrow` for a host link below the full class: what training across
/// cards over it costs. A ring all-reduce over many cards moves about twice
/// the fp16 gradients through each card's link.
fn link_finding(bytes_per_s: f64) -> Option<Finding> {
    let what = match link_class(bytes_per_s) {
        LinkClass::Riser => "a PCIe x1 riser or an old generation's link",
        LinkClass::Narrow => "an x4 link or an old generation's x8",
        LinkClass::Full => return None,
    };
    let bound = LINK_THRESHOLDS_GB
        .iter()
        .find(|(c, _)| *c == link_class(bytes_per_s))
        .map_or(0.0, |(_, gb)| *gb);
    Some(finding(
        "link.narrow",
        Stance::NotFor,
        format!(
            "training across cards: the host link moves {} at best, under {bound} GB/s ({what}): all-reducing a Llama-2-7B's fp16 gradients takes about {:.0} s per step",
            si(bytes_per_s, "B/s"),
            2.0 * LLAMA2_7B.params() as f64 * super::network::BYTES_PER_VALUE / bytes_per_s
        ),
    ))
}

/// Where the card stands among known cards: between two neighbours by a
/// measured figure (memory bandwidth; hash rate).
fn standing(rows: &[ResultRow], bound: Option<&DecodeBound>) -> Vec<Finding> {
    let cards = reference_cards::cards();
    let mut out = Vec::new();
    if let Some(bw) = bound {
        if let Some(t) = between(&cards, bw.bytes_per_s, "B/s", |c| c.bandwidth_bs) {
            out.push(finding(
                "standing.bandwidth",
                Stance::Standing,
                format!(
                    "memory bandwidth ({}) {} measured: {t} (spec figures)",
                    bw.kernel,
                    si(bw.bytes_per_s, "B/s")
                ),
            ));
        }
    }
    if let Some(h) = best(rows, Pick::of(Kernel::Sha256d, Metric::HashRate)) {
        if let Some(t) = between(&cards, h, "H/s", |c| c.sha256d_hs) {
            out.push(finding(
                "standing.sha256d",
                Stance::Standing,
                format!(
                    "SHA-256d {} measured: {t} (hashcat -m 21400 figures)",
                    si(h, "H/s")
                ),
            ));
        }
    }
    out
}

/// "between an X and a Y", "below the X", "above the Y" by `figure`.
fn between(
    cards: &[Card],
    value: f64,
    unit: &str,
    figure: fn(&Card) -> Option<f64>,
) -> Option<String> {
    let mut known: Vec<(&str, f64)> = cards
        .iter()
        .filter_map(|c| figure(c).map(|v| (c.card.as_str(), v)))
        .collect();
    known.sort_by(|a, b| a.1.total_cmp(&b.1));
    let below = known.iter().rev().find(|(_, v)| *v <= value);
    let above = known.iter().find(|(_, v)| *v > value);
    match (below, above) {
        (Some(b), Some(a)) => Some(format!(
            "between the {} ({}) and the {} ({})",
            b.0,
            si(b.1, unit),
            a.0,
            si(a.1, unit)
        )),
        (None, Some(a)) => Some(format!("below the {} ({})", a.0, si(a.1, unit))),
        (Some(b), None) => Some(format!("above the {} ({})", b.0, si(b.1, unit))),
        (None, None) => None,
    }
}

/// One adapter's verdict, as the JSON carries it.
#[derive(Clone, Debug, Serialize)]
pub struct AdapterVerdict {
    pub adapter_index: usize,
    pub adapter: String,
    pub findings: Vec<Finding>,
}

/// The verdict for the terminal: what it is good for, what not and why,
/// where it stands.
pub fn render(v: &AdapterVerdict) -> String {
    let mut out = format!(
        "\n== Verdict: adapter {} {} ==\n",
        v.adapter_index, v.adapter
    );
    for (stance, title) in [
        (Stance::Fault, "faults"),
        (Stance::GoodFor, "good for"),
        (Stance::NotFor, "not good for, and why"),
        (Stance::Standing, "among cards people know"),
    ] {
        let lines: Vec<&Finding> = v.findings.iter().filter(|f| f.stance == stance).collect();
        if lines.is_empty() {
            continue;
        }
        out += &format!("{title}\n");
        for f in lines {
            out += &format!("  - {} [{}]\n", f.text, f.code);
        }
    }
    if v.findings.is_empty() {
        out += "  nothing verified to judge from: run more suites\n";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::fixtures::{desc, row_with as row};

    fn has_digit(s: &str) -> bool {
        s.chars().any(|c| c.is_ascii_digit())
    }

    #[test]
    fn a_crippled_card_on_a_riser_is_told_why() {
        let rows = vec![
            row("peak", "fp32_fma", "peak_rate", 0.39e12, ""),
            row("peak", "fp32_mul_add", "peak_rate", 6.25e12, ""),
            row("peak", "fp64_fma", "peak_rate", 0.1e12, ""),
            row("stream", "triad", "bandwidth", 1.2e12, ""),
            row(
                "transfer",
                "h2d_staging",
                "plateau",
                0.8e9,
                "bytes=268435456",
            ),
            row("llm", "decode_q4_0", "token_rate", 95.0, "model=llama2-7b"),
        ];
        let v = verdict(&desc(Some(8 << 30)), &rows, &[]);
        let codes: Vec<&str> = v.iter().map(|f| f.code).collect();
        for c in [
            "llm.decode",
            "vram.fit",
            "fma.crippled",
            "link.narrow",
            "standing.bandwidth",
        ] {
            assert!(codes.contains(&c), "{c} missing from {codes:?}");
        }
        assert!(
            !codes.contains(&"fp64.slow"),
            "fp64 at 1/4 of fp32 is not slow"
        );
        for f in &v {
            assert!(has_digit(&f.text), "{} names no figure: {}", f.code, f.text);
        }
        let decode = v.iter().find(|f| f.code == "llm.decode").unwrap();
        assert!(decode.text.contains("95.0 tok/s"), "{}", decode.text);
        assert_eq!(num(0.1234), "0.123");
        assert_eq!(num(1234.0), "1234");
        let fit = v.iter().find(|f| f.code == "vram.fit").unwrap();
        assert!(fit.text.contains("13B"), "{}", fit.text);
    }

    #[test]
    fn unverified_figures_make_no_claims() {
        let mut r = row("peak", "fp32_fma", "peak_rate", 0.39e12, "");
        r.verified = false;
        let rows = vec![r, row("peak", "fp32_mul_add", "peak_rate", 6.25e12, "")];
        let v = verdict(&desc(None), &rows, &[]);
        assert!(v.iter().all(|f| f.code != "fma.crippled"), "{v:?}");
    }

    #[test]
    fn standing_names_the_neighbours() {
        let rows = vec![row("stream", "triad", "bandwidth", 300e9, "")];
        let v = verdict(&desc(None), &rows, &[]);
        let s = v.iter().find(|f| f.code == "standing.bandwidth").unwrap();
        assert!(
            s.text.contains("between the") && s.text.contains("GB/s"),
            "{}",
            s.text
        );
        assert!(v.iter().any(|f| f.code == "llm.decode_ceiling"));
    }
}

#[cfg(test)]
mod link_tests {
    use super::*;
    use crate::report::summary::fixtures::{desc, row_with};

    fn link_codes(up: f64, down: f64) -> Vec<Finding> {
        let rows = vec![
            row_with("transfer", "h2d_staging", "plateau", up, ""),
            row_with("transfer", "d2h", "plateau", down, ""),
        ];
        verdict(&desc(None), &rows, &[])
            .into_iter()
            .filter(|f| f.code == "link.narrow")
            .collect()
    }

    #[test]
    fn the_link_is_judged_by_the_transfer_suites_classes() {
        let [(LinkClass::Riser, riser), (LinkClass::Narrow, narrow)] = LINK_THRESHOLDS_GB else {
            panic!("the classes are riser, then narrow: {LINK_THRESHOLDS_GB:?}");
        };
        let riser_text = &link_codes(0.5e9, 0.8e9)[0].text;
        assert!(
            riser_text.contains("800 MB/s") && riser_text.contains("riser"),
            "{riser_text}"
        );
        // 2 x 13.5 GB of fp16 gradients at 0.8 GB/s.
        assert!(riser_text.contains("about 34 s per step"), "{riser_text}");
        let just_under = 0.99 * narrow * 1e9;
        let text = &link_codes(1e9, just_under)[0].text;
        assert!(text.contains("narrow") || text.contains("x4"), "{text}");
        assert!(link_codes(1e9, narrow * 1e9).is_empty());
        // A slow upload alone (the host's copy) does not make a link narrow.
        assert!(link_codes(0.5e9, 12e9).is_empty());
        assert_eq!(link_codes(0.99 * riser * 1e9, 1e9).len(), 1);
    }

    #[test]
    fn the_readme_states_the_same_thresholds() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
            .expect("README.md beside Cargo.toml");
        let gb = |c: LinkClass| {
            LINK_THRESHOLDS_GB
                .iter()
                .find(|(k, _)| *k == c)
                .map(|(_, g)| *g)
                .unwrap()
        };
        let (riser, narrow) = (gb(LinkClass::Riser), gb(LinkClass::Narrow));
        for stated in [
            format!("| < {riser} GB/s | riser"),
            format!("| {riser}–{narrow} GB/s | narrow"),
            format!("| ≥ {narrow} GB/s |"),
            format!("under {narrow} GB/s (narrow; under {riser} GB/s a riser"),
            format!("faster direction under {narrow} GB/s, a riser under {riser} GB/s"),
        ] {
            assert!(readme.contains(&stated), "README.md does not say: {stated}");
        }
        // No other threshold for a narrow link is stated anywhere.
        assert!(!readme.contains("below 3 GB/s"));
    }
}
