use super::*;
use crate::domain::llama_cpp::Backend;
use crate::domain::models::{by_id, LLAMA2_7B};
use crate::report::energy::SuiteWatts;
use crate::report::summary::fixtures::{desc, row, row_with};
use crate::report::summary::FIT_HEADROOM;

const Q4_7B: &str = "model=llama2-7b;format=q4_0;";

/// A card of `vram` bytes: stream copy, and Llama-2-7B Q4_0 decoded.
fn facts(vram: u64) -> Facts {
    let read = 300e9;
    let per_token = LLAMA2_7B.weights_read_per_token(Format::Q4_0);
    let rows = [
        row("stream", "copy", "bandwidth", 400e9, true),
        row_with("llm", "decode_q4_0", "bandwidth", read, Q4_7B),
        row_with("llm", "decode_q4_0", "token_rate", read / per_token, Q4_7B),
        row_with("llm", "prefill_q4_0", "token_rate", 900.0, Q4_7B),
    ];
    Facts::new(&desc(Some(vram)), &rows, None)
}

fn need(m: &Model, q: Quant) -> f64 {
    q.bytes_resident(m) + m.kv_cache_bytes(CONTEXT) as f64
}

const fn u(f: Format) -> Quant {
    Quant::Uniform(f)
}

fn line(facts: &Facts, id: &str) -> ModelRate {
    lines(facts).into_iter().find(|l| l.model == id).unwrap()
}

#[test]
fn a_card_just_big_enough_for_q8_0_gets_q8_0_not_f16() {
    let m = by_id("llama3.1-8b").unwrap();
    let vram = (need(&m, u(Format::Q8_0)) / FIT_HEADROOM).ceil() as u64;
    assert!(!fits(need(&m, u(Format::F16)), vram), "F16 must not fit");
    let l = line(&facts(vram), m.id);
    assert_eq!(
        (l.format, l.fits, l.best_fit),
        (u(Format::Q8_0), Some(true), true)
    );
    assert_eq!(l.bytes_needed, need(&m, u(Format::Q8_0)));
    let all = rates(&facts(vram));
    let f16 = all
        .iter()
        .find(|r| r.model == m.id && r.format == u(Format::F16))
        .unwrap();
    assert_eq!((f16.fits, f16.best_fit), (Some(false), false));
}

#[test]
fn an_8_gb_card_gets_the_most_bits_that_fit_with_the_kv_cache() {
    let vram = 8_000_000_000;
    let f = facts(vram);
    for m in catalogue() {
        let l = line(&f, m.id);
        let formats = Quant::offered(m);
        let bits = |q: &Quant| q.bits_per_weight(m);
        // The most bits that fit, the first of equals.
        let want =
            formats
                .iter()
                .filter(|&&x| fits(need(m, x), vram))
                .fold(None::<Quant>, |best, &x| match best {
                    Some(b) if bits(&b) >= bits(&x) => Some(b),
                    _ => Some(x),
                });
        match want {
            Some(x) => assert_eq!((l.format, l.fits), (x, Some(true)), "{}", m.id),
            // Nothing fits: the fewest bits, said not to fit.
            None => {
                let fewest = formats
                    .iter()
                    .copied()
                    .min_by(|a, b| bits(a).total_cmp(&bits(b)));
                assert_eq!(
                    (l.format, l.fits),
                    (fewest.unwrap(), Some(false)),
                    "{}",
                    m.id
                )
            }
        }
    }
    // Llama-3.1-8B's Q8_0 weights alone are over 8.5 GB: fewer bits.
    let m = by_id("llama3.1-8b").unwrap();
    assert!(m.bytes_resident(Format::Q8_0) > vram as f64 * FIT_HEADROOM);
    assert!(line(&f, m.id).format.bits_per_weight(&m) < Format::Q8_0.bits_per_weight());
    // gpt-oss is run in MXFP4 alone.
    assert_eq!(line(&f, "gpt-oss-20b").format, u(Format::MXFP4));
    // The KV cache counts: a 70B does not fit 8 GB at all.
    assert_eq!(line(&f, "llama3.3-70b").fits, Some(false));
}

#[test]
fn measured_where_decoded_else_derived_from_the_formats_own_read_else_the_bound() {
    let f = facts(80_000_000_000);
    let q4 = u(Format::Q4_0);
    let measured = decode_rate(&f, &LLAMA2_7B, q4).unwrap();
    assert_eq!(measured.basis, Basis::Measured);
    assert_eq!(measured.source(), "decode_q4_0");
    let m = by_id("llama3.1-8b").unwrap();
    let own = decode_rate(&f, &m, q4).unwrap();
    assert_eq!(own.basis, Basis::Derived);
    assert_eq!(
        own.tokens_per_s,
        300e9 / m.weights_read_per_token(Format::Q4_0)
    );
    assert!(own.source().starts_with("decode_q4_0's measured 300 GB/s"));
    // No decode_q8_0 ran: the bound, stream copy.
    let bound = decode_rate(&f, &m, u(Format::Q8_0)).unwrap();
    assert_eq!(
        bound.tokens_per_s,
        400e9 / m.weights_read_per_token(Format::Q8_0)
    );
    assert!(bound.source().starts_with("stream copy's measured"));
    // An MoE model reads its active experts only, the domain's count.
    let moe = by_id("qwen3-30b-a3b").unwrap();
    let r = decode_rate(&f, &moe, q4).unwrap();
    let q4_read = moe.weights_read_per_token(Format::Q4_0);
    assert_eq!(r.tokens_per_s, 300e9 / q4_read);
    assert!(q4_read < moe.bytes_resident(Format::Q4_0) / 4.0);
    // Prefill only where measured.
    let l = rates(&f);
    let p = |id: &str| {
        l.iter()
            .find(|r| r.model == id && r.format == q4)
            .unwrap()
            .prefill_tok_s
    };
    assert_eq!((p("llama2-7b"), p("llama3.1-8b")), (Some(900.0), None));
    // Nothing read memory: no rate, the fit still judged.
    let none = Facts::new(&desc(Some(8_000_000_000)), &[], None);
    let l = line(&none, "llama2-7b");
    assert_eq!((l.decode_tok_s, l.fits), (None, Some(true)));
}

#[test]
fn energy_per_token_is_the_rates_suites_power_over_the_rate() {
    let power = vec![
        SuiteWatts {
            suite: Suite::Llm,
            watts: 200.0,
        },
        SuiteWatts {
            suite: Suite::Stream,
            watts: 150.0,
        },
    ];
    let f = facts(80_000_000_000).with_power(Some(power), Some(0.30));
    let m = by_id("llama3.1-8b").unwrap();
    let all = rates(&f);
    let get = |fmt| {
        all.iter()
            .find(|r| r.model == m.id && r.format == fmt)
            .unwrap()
    };
    let q4 = get(u(Format::Q4_0));
    let j = 200.0 / q4.decode_tok_s.unwrap();
    assert_eq!(q4.joules_per_token, Some(j));
    assert_eq!(q4.cost_per_million_tokens, Some(j * 1e6 / 3.6e6 * 0.30));
    // Derived from stream copy: stream's power.
    let q8 = get(u(Format::Q8_0));
    assert_eq!(q8.joules_per_token, Some(150.0 / q8.decode_tok_s.unwrap()));
    // No power read: neither.
    let dark = rates(&facts(80_000_000_000).with_power(None, Some(0.30)));
    assert!(dark
        .iter()
        .all(|r| r.joules_per_token.is_none() && r.cost_per_million_tokens.is_none()));
}

#[test]
fn llama_cpp_is_estimated_from_the_share_of_the_nearest_line_of_its_kind() {
    // desc(): an NVIDIA card (0x10de), whose owners run llama.cpp on CUDA.
    let f = facts(8_000_000_000);
    assert_eq!(
        f.llama_cpp_kind,
        Some((Backend::Cuda, crate::domain::llama_cpp::Vendor::Nvidia))
    );
    let all = rates(&f);
    let q4 = all
        .iter()
        .find(|r| r.model == LLAMA2_7B.id && r.format == u(Format::Q4_0))
        .unwrap();
    let tps = q4.decode_tok_s.unwrap();
    let read = tps * q4.weight_bytes_per_token;
    let share = crate::domain::llama_cpp::nearest(
        Backend::Cuda,
        crate::domain::llama_cpp::Vendor::Nvidia,
        read,
    )
    .unwrap();
    assert_eq!(q4.llama_cpp_decode_tok_s, Some(share.decode() * tps));
    assert!(q4.llama_cpp_decode_tok_s.unwrap() < tps);
    assert!(q4.llama_cpp_basis.as_deref().unwrap().contains(&share.card));
    // A format with no rate has no estimate either.
    for r in all.iter().filter(|r| r.decode_tok_s.is_none()) {
        assert_eq!(r.llama_cpp_decode_tok_s, None, "{} {:?}", r.model, r.format);
    }
}

#[test]
fn a_whole_decode_step_at_one_sequence_is_the_measured_rate_of_its_quantization() {
    let step =
        |context: u64, batch: u64| format!("model=llama3.1-8b;context={context};batch={batch};");
    let rows = [
        row("stream", "copy", "bandwidth", 400e9, true),
        row_with("llm", "token_q4_k_m", "token_rate", 50.0, &step(512, 1)),
        row_with("llm", "token_q4_k_m", "token_rate", 40.0, &step(4096, 1)),
        row_with("llm", "token_q4_k_m", "token_rate", 300.0, &step(4096, 16)),
        row_with(
            "llm",
            "prompt_q4_k_m",
            "token_rate",
            900.0,
            "model=llama3.1-8b;batch=512;",
        ),
    ];
    let f = Facts::new(&desc(Some(80_000_000_000)), &rows, None);
    let m = by_id("llama3.1-8b").unwrap();
    // At the fit rule's context, one sequence: not the batch's aggregate.
    let r = decode_rate(&f, &m, Quant::Q4KM).unwrap();
    assert_eq!((r.tokens_per_s, r.basis), (40.0, Basis::Measured));
    assert_eq!(r.source(), "token_q4_k_m at context 4096");
    let entry = rates(&f)
        .into_iter()
        .find(|e| e.model == m.id && e.format == Quant::Q4KM)
        .unwrap();
    assert_eq!(entry.prefill_tok_s, Some(900.0));
    assert_eq!(
        entry.weight_bytes_per_token,
        Quant::Q4KM.weights_read_per_token(&m) as f64
    );
    // Without a whole step, the mix's rate is derived over its own bytes.
    let none = Facts::new(&desc(Some(80_000_000_000)), &rows[..1], None);
    let d = decode_rate(&none, &m, Quant::Q4KM).unwrap();
    assert_eq!(d.basis, Basis::Derived);
    assert_eq!(
        d.tokens_per_s,
        400e9 / Quant::Q4KM.weights_read_per_token(&m) as f64
    );
}
