//! The verdict's findings, their codes and the figures they carry.

use super::*;
use crate::report::summary::fixtures::{desc, row_with, row_with as row};
use crate::units::num;
use crate::workloads::transfer::pcie::{LinkClass, LINK_THRESHOLDS_GB};

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
    // The largest that fits with its KV cache, by the fit rule.
    let fit = v.iter().find(|f| f.code == "vram.fit").unwrap();
    let m = super::largest_q4_fit(8 << 30).unwrap();
    assert!(
        fit.text
            .contains(&format!("{} Q4_0 ({})", m.name, super::q4_needed(&m))),
        "{}",
        fit.text
    );
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

/// A card measured by the kernels every finding rests on.
fn measured_card() -> Vec<crate::report::ResultRow> {
    vec![
        row("peak", "fp32_fma", "peak_rate", 0.39e12, ""),
        row("peak", "fp32_mul_add", "peak_rate", 6.25e12, ""),
        row("peak", "fp64_fma", "peak_rate", 0.01e12, ""),
        row("stream", "triad", "bandwidth", 1.2e12, ""),
        row("hash", "sha256d", "hash_rate", 2.1e9, ""),
        row("transfer", "d2h", "plateau", 0.8e9, ""),
        row("llm", "decode_q4_0", "token_rate", 95.0, "model=llama2-7b"),
        row(
            "llm",
            "decode_q4_0",
            "bandwidth",
            0.35e12,
            "model=llama2-7b",
        ),
        row("llm", "prefill_q4_0", "token_rate", 40.0, "model=llama2-7b"),
    ]
}

fn find<'a>(v: &'a [Finding], code: &str) -> &'a Finding {
    v.iter()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("no {code} in {v:?}"))
}

fn figure<'a>(f: &'a Finding, name: &str) -> &'a Figure {
    f.figures
        .iter()
        .find(|x| x.name == name)
        .unwrap_or_else(|| panic!("{} has no {name} figure: {:?}", f.code, f.figures))
}

#[test]
fn a_findings_json_carries_its_figures_with_basis_and_source() {
    let v = verdict(&desc(Some(8 << 30)), &measured_card(), &[]);
    let decode = serde_json::to_value(find(&v, "llm.decode")).unwrap();
    let figures = decode["figures"].as_array().unwrap();
    let by_name = |n: &str| {
        figures
            .iter()
            .find(|f| f["name"] == n)
            .unwrap_or_else(|| panic!("no {n} in {decode}"))
    };
    let d = by_name("decode");
    assert_eq!(
        (&d["value"], &d["unit"], &d["basis"], &d["source"]),
        (
            &serde_json::json!(95.0),
            &serde_json::json!("tok/s"),
            &serde_json::json!("measured"),
            &serde_json::json!("decode_q4_0")
        ),
        "{decode}"
    );
    let b = by_name("bound");
    assert_eq!(
        (&b["basis"], &b["source"]),
        (&"measured".into(), &"stream triad".into())
    );
    assert_eq!(b["value"], 1.2e12);
    assert_eq!(b["unit"], "B/s");
    let c = by_name("ceiling");
    assert_eq!(c["basis"], "derived");
    // A published figure names its card and its publication.
    let standing = serde_json::to_value(find(&v, "standing.sha256d")).unwrap();
    let published: Vec<&serde_json::Value> = standing["figures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["basis"] == "published")
        .collect();
    assert!(!published.is_empty(), "{standing}");
    for p in published {
        assert!(
            p["of"].is_string() && !p["source"].as_str().unwrap().is_empty(),
            "{p}"
        );
    }
    // The memory size is the driver's word, not a measurement.
    let fit = find(&v, "vram.fit");
    assert_eq!(figure(fit, "memory").basis, Basis::Reported);
}

#[test]
fn every_finding_shows_each_of_its_figures_in_order() {
    let v = verdict(&desc(Some(8 << 30)), &measured_card(), &[]);
    let codes: Vec<&str> = v.iter().map(|f| f.code).collect();
    for c in [
        "llm.decode",
        "llm.prefill",
        "vram.fit",
        "fma.crippled",
        "fp64.slow",
        "link.narrow",
        "standing.bandwidth",
        "standing.sha256d",
    ] {
        assert!(codes.contains(&c), "{c} missing from {codes:?}");
    }
    for f in &v {
        assert!(!f.figures.is_empty(), "{} carries no figure", f.code);
        let mut rest = f.text.clone();
        for x in &f.figures {
            let shown = x.shown();
            let at = rest
                .find(&shown)
                .unwrap_or_else(|| panic!("{} does not show {shown}: {}", f.code, f.text));
            // Each figure where it is shown, in order, once.
            rest = rest[at + shown.len()..].to_string();
        }
    }
}

/// The number just before `unit` in `text`.
fn number_before(text: &str, unit: &str) -> f64 {
    let at = text
        .find(unit)
        .unwrap_or_else(|| panic!("{unit} in {text}"));
    let before = text[..at].trim_end();
    let start = before
        .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or(0, |i| i + 1);
    before[start..].parse().unwrap()
}

#[test]
fn the_texts_numbers_are_its_figures() {
    let v = verdict(&desc(Some(8 << 30)), &measured_card(), &[]);
    let decode = find(&v, "llm.decode");
    let measured = number_before(&decode.text, " tok/s measured");
    assert_eq!(measured, figure(decode, "decode").value);
    // The ceiling, printed to three digits, is the figure.
    let tail = &decode.text[decode.text.find("per token is").unwrap()..];
    let ceiling = number_before(tail, " tok/s");
    let exact = figure(decode, "ceiling").value;
    assert!(
        (ceiling - exact).abs() <= 0.005 * exact,
        "{ceiling} vs {exact}"
    );
    assert!(
        measured <= exact,
        "decode above its ceiling: {}",
        decode.text
    );
    let share = number_before(&decode.text, " % of the bound");
    assert!(share <= 100.0, "{}", decode.text);
    assert!(
        (share - figure(decode, "share").value).abs() < 0.05,
        "{}",
        decode.text
    );
    let link = find(&v, "link.narrow");
    let step = number_before(&link.text, " s per step");
    assert_eq!(step, figure(link, "all_reduce_step").value.round());
    let fma = find(&v, "fma.crippled");
    let ratio = number_before(&fma.text, "): FMA is throttled");
    assert!(
        (ratio - figure(fma, "ratio").value).abs() < 5e-4,
        "{}",
        fma.text
    );
}
