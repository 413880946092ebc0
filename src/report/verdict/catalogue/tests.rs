//! The catalogue lines of the verdict, against the domain's sizes.

use super::*;
use crate::catalogue::Suite;
use crate::domain::formats::Format;
use crate::domain::models::by_id;
use crate::report::energy::SuiteWatts;
use crate::report::models::bytes_needed;
use crate::report::summary::fits;
use crate::report::summary::fixtures::{desc, row, row_with};
use crate::report::verdict::Basis;
use crate::units::tokens_per_s;

/// A card of `vram` bytes whose only bandwidth figure is stream copy.
fn card(vram: u64, rows: &[crate::report::ResultRow]) -> Facts {
    Facts::new(&desc(Some(vram)), rows, None)
}

fn line<'a>(v: &'a [Finding], name: &str) -> &'a Finding {
    v.iter()
        .find(|f| f.code.starts_with("llm.model_") && f.text.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no line for {name}: {v:?}"))
}

#[test]
fn a_card_that_holds_q8_0_but_not_f16_is_told_q8_0_and_its_derived_rate() {
    let m = by_id("llama3.1-8b").unwrap();
    let vram = (bytes_needed(&m, crate::domain::quant::Quant::Uniform(Format::Q8_0))
        / crate::report::summary::FIT_HEADROOM)
        .ceil() as u64;
    assert!(!fits(
        bytes_needed(&m, crate::domain::quant::Quant::Uniform(Format::F16)),
        vram
    ));
    let rows = [row("stream", "copy", "bandwidth", 400e9, true)];
    let v = models(&card(vram, &rows));
    let f = line(&v, m.name);
    assert_eq!(f.code, "llm.model_runs");
    assert!(f.text.starts_with("Llama-3.1-8B Q8_0: "), "{}", f.text);
    let tps = 400e9 / m.weights_read_per_token(Format::Q8_0);
    let decode = f.figures.iter().find(|x| x.name == "decode").unwrap();
    assert_eq!((decode.value, decode.basis), (tps, Basis::Derived));
    assert!(
        f.text.contains(&format!(
            "{} derived from stream copy's measured 400 GB/s",
            tokens_per_s(tps)
        )),
        "{}",
        f.text
    );
}

#[test]
fn an_8_gb_card_says_what_a_70b_needs_and_what_it_has() {
    let m = by_id("llama3.3-70b").unwrap();
    let v = models(&card(8_000_000_000, &[]));
    let f = line(&v, m.name);
    assert_eq!((f.code, f.stance), ("llm.model_too_big", Stance::NotFor));
    let need = f.figures.iter().find(|x| x.name == "needed").unwrap();
    assert_eq!(
        need.value,
        bytes_needed(&m, crate::domain::quant::Quant::Uniform(Format::Q4_0))
    );
    assert!(
        f.text.contains(&format!("needs {} at Q4_0", need.shown())),
        "{}",
        f.text
    );
    assert!(f.text.contains("has 8.00 GB VRAM"), "{}", f.text);
    // Every catalogue model has its line; no memory, no lines.
    assert_eq!(v.len(), crate::domain::models::catalogue().len());
    let unknown = Facts::new(&desc(None), &[], None);
    assert!(models(&unknown).is_empty());
}

#[test]
fn a_measured_model_is_measured_and_priced_where_power_was_read() {
    let q4 = "model=llama2-7b;format=q4_0;";
    let rows = [
        row("stream", "copy", "bandwidth", 400e9, true),
        row_with("llm", "decode_q4_0", "token_rate", 5.0, q4),
        row_with("llm", "decode_q4_0", "bandwidth", 5.0 * 3.64e9, q4),
    ];
    // So small a card holds Llama-2-7B at Q4_0 only (not Q4_K_M's 4.85
    // bits).
    let vram = 6_700_000_000;
    let power = Some(vec![SuiteWatts {
        suite: Suite::Llm,
        watts: 100.0,
    }]);
    let f = card(vram, &rows).with_power(power, Some(0.5));
    let v = models(&f);
    let l = line(&v, "Llama-2-7B");
    assert!(
        l.text
            .starts_with("Llama-2-7B Q4_0: 5.00 tok/s measured by decode_q4_0"),
        "{}",
        l.text
    );
    // Under 10 tok/s: slow.
    assert_eq!(l.code, "llm.model_slow");
    let j = l
        .figures
        .iter()
        .find(|x| x.name == "joules_per_token")
        .unwrap();
    assert_eq!(j.value, 20.0);
    let c = l
        .figures
        .iter()
        .find(|x| x.name == "cost_per_million_tokens")
        .unwrap();
    assert_eq!(c.value, 20.0 * 1e6 / 3.6e6 * 0.5);
    // A price without power read gives no energy or cost figure (the
    // energy line says power was not read, once).
    let dark = card(vram, &rows).with_power(None, Some(0.5));
    let l = models(&dark)
        .into_iter()
        .find(|f| f.text.starts_with("Llama-2-7B"))
        .unwrap();
    assert!(l
        .figures
        .iter()
        .all(|x| x.unit != Unit::Joules && x.unit != Unit::Money));
}

#[test]
fn llama_cpps_switches_are_named_where_fma_is_throttled_only() {
    let throttled = [
        row("peak", "fp32_fma", "peak_rate", 0.39e12, true),
        row("peak", "fp32_mul_add", "peak_rate", 6.25e12, true),
    ];
    let f = super::super::llama_cpp::int8_throttled(&card(8 << 30, &throttled)).unwrap();
    for s in super::super::LLAMA_CPP_SETTINGS {
        assert!(f.text.contains(s.name), "{}", f.text);
    }
    assert!(f.text.contains(super::super::CUDA_DECODE), "{}", f.text);
    let normal = [
        row("peak", "fp32_fma", "peak_rate", 12e12, true),
        row("peak", "fp32_mul_add", "peak_rate", 6.25e12, true),
    ];
    assert!(super::super::llama_cpp::int8_throttled(&card(8 << 30, &normal)).is_none());
}
