use super::*;
use crate::domain::formats::{Format, FORMATS};
use crate::domain::models::{by_id, LLAMA2_70B};
use crate::report::network::through_host;
use crate::report::summary::FIT_HEADROOM;

const GIB: u64 = 1 << 30;
/// A mining card's memory bandwidth as its decode bound measures it.
const DECODE_BS: f64 = 250e9;
/// PCIe x1 each way, and the small transfer's round trip.
const X1_BS: f64 = 0.8e9;
const X1_LATENCY_S: f64 = 20e-6;

fn card(i: usize, memory: u64) -> Card {
    Card {
        adapter_index: i,
        name: format!("card {i}"),
        memory_bytes: memory,
        decode: Some(Bound {
            bytes_per_s: DECODE_BS,
            kernel: "stream copy".into(),
        }),
    }
}

/// Six 8 GB cards on x1 risers, each card's link to the next through the
/// host.
fn rig() -> (Vec<Card>, Vec<Link>) {
    let cards = (0..6).map(|i| card(i, 8 * GIB)).collect();
    let links = vec![through_host(X1_BS, X1_BS, X1_LATENCY_S); 6];
    (cards, links)
}

fn qwen3_30b() -> Model {
    by_id("qwen3-30b-a3b").unwrap()
}

/// Bytes one token reads in a layer, from the shape written out here
/// rather than from the model's own matrix list: attention Q, K, V, O,
/// then the dense FFN or the router and the active experts.
fn read_per_layer(m: &Model, f: Format) -> f64 {
    let (h, q, kv) = (m.hidden, m.heads * m.head_dim, m.kv_heads * m.head_dim);
    let attention = h * q + 2 * h * kv + q * h;
    let ffn = match m.experts {
        0 => 3 * h * m.ffn,
        e => e * h + m.active_experts * 3 * h * m.ffn,
    };
    (attention + ffn) as f64 * f.bits_per_weight() / 8.0
}

/// 1 / (layers' reads at the bandwidth + a hop per boundary), from the
/// figures.
fn formula_tokens_per_s(m: &Model, f: Format, cards: usize) -> f64 {
    let compute = m.layers as f64 * read_per_layer(m, f) / DECODE_BS;
    let link_bs = 1.0 / (1.0 / X1_BS + 1.0 / X1_BS);
    let hop = m.hidden as f64 * 2.0 / link_bs + X1_LATENCY_S;
    1.0 / (compute + (cards - 1) as f64 * hop)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1e-30)
}

#[test]
fn a_70b_q4_0_fits_six_8_gb_cards_as_the_sizes_say() {
    let (cards, links) = rig();
    let m = *LLAMA2_70B;
    let s = plan(&cards, &links, &m, Format::Q4_0, CONTEXT);
    // Every parameter at 4.5 bits, and K and V of every layer in f16.
    let kv = m.layers * 2 * m.kv_heads * m.head_dim * 2 * CONTEXT;
    let needed = m.params() as f64 * 4.5 / 8.0 + kv as f64;
    let room = 6.0 * (8 * GIB) as f64 * FIT_HEADROOM;
    assert!(close(s.bytes_needed, needed), "{} {needed}", s.bytes_needed);
    assert_eq!(s.fits_summed, needed <= room);
    // About 40 GB of 46: it fits, whole layers per card included.
    assert!(s.fits_summed && s.fits, "{s:?}");
    assert_eq!(s.stages.iter().map(|x| x.layers).sum::<u64>(), m.layers);
    for st in &s.stages {
        assert!(st.bytes_resident <= (8 * GIB) as f64 * FIT_HEADROOM);
    }
    // The stages hold the model and its cache, nothing twice (untied head).
    let held: f64 = s.stages.iter().map(|x| x.bytes_resident).sum();
    assert!((held - needed).abs() < 1e-6 * needed, "{held} {needed}");
    // Whole layers waste some room, so it takes at least as many cards as
    // the bytes alone would.
    let at_least = (needed / ((8 * GIB) as f64 * FIT_HEADROOM)).ceil() as usize;
    assert!(s.stages.len() >= at_least, "{}", s.stages.len());
}

#[test]
fn a_70b_in_f16_fits_neither_summed_nor_split() {
    let (cards, links) = rig();
    let m = *LLAMA2_70B;
    let s = plan(&cards, &links, &m, Format::F16, CONTEXT);
    assert!(m.params() as f64 * 2.0 > 6.0 * (8 * GIB) as f64);
    assert!(!s.fits_summed && !s.fits);
    assert!(s.stages.is_empty() && s.tokens_per_s.is_none());
}

#[test]
fn qwen3_30b_a3b_q4_0_fits_over_three_cards_or_more() {
    let (cards, links) = rig();
    let m = qwen3_30b();
    let s = plan(&cards, &links, &m, Format::Q4_0, CONTEXT);
    assert!(s.fits, "{s:?}");
    // Over 17 GB resident: no two 8 GB cards hold it at 90 %.
    assert!(m.params() as f64 * 4.5 / 8.0 > 2.0 * (8 * GIB) as f64 * FIT_HEADROOM);
    assert!(s.stages.len() >= 3, "{:?}", s.stages);
    assert_eq!(s.stages.iter().map(|x| x.layers).sum::<u64>(), m.layers);
    // Consecutive layers, card after card.
    let mut next = 0;
    for st in &s.stages {
        assert_eq!(st.first_layer, next);
        next += st.layers;
    }
}

#[test]
fn tokens_per_s_is_the_formula_over_the_measured_figures() {
    let (cards, links) = rig();
    for (m, f) in [(*LLAMA2_70B, Format::Q4_0), (qwen3_30b(), Format::Q4_0)] {
        let s = plan(&cards, &links, &m, f, CONTEXT);
        let want = formula_tokens_per_s(&m, f, s.stages.len());
        let got = s.tokens_per_s.unwrap();
        assert!(close(got, want), "{}: {got} {want}", m.name);
        assert_eq!(s.bound_by, vec!["stream copy".to_string()]);
    }
}

#[test]
fn the_activation_is_tiny_beside_compute_and_tensor_parallel_pays_latency() {
    let (cards, links) = rig();
    for m in [*LLAMA2_70B, qwen3_30b()] {
        let s = plan(&cards, &links, &m, Format::Q4_0, CONTEXT);
        let (compute, link) = (s.compute_s_per_token.unwrap(), s.link_s_per_token.unwrap());
        let tensor = s.tensor_link_s_per_token.unwrap();
        assert!(link < compute / 100.0, "{}: {link} vs {compute}", m.name);
        assert!(tensor > 50.0 * link, "{}: {tensor} vs {link}", m.name);
        // Two ring all-reduces a layer, 2(n-1) latencies each: the latency
        // alone is most of it.
        let n = s.stages.len() as f64;
        let latency = m.layers as f64 * 2.0 * 2.0 * (n - 1.0) * X1_LATENCY_S;
        assert!(
            tensor > latency && latency > tensor / 2.0,
            "{tensor} {latency}"
        );
    }
}

#[test]
fn one_card_pays_no_link_and_decodes_at_its_ceiling() {
    let cards = vec![card(0, 80 * GIB)];
    let m = *LLAMA2_70B;
    let s = plan(&cards, &[], &m, Format::Q4_0, CONTEXT);
    assert_eq!(s.stages.len(), 1);
    assert_eq!(s.link_s_per_token, Some(0.0));
    assert_eq!(s.tensor_link_s_per_token, Some(0.0));
    let want = DECODE_BS / (m.layers as f64 * read_per_layer(&m, Format::Q4_0));
    assert!(close(s.tokens_per_s.unwrap(), want));
}

#[test]
fn without_a_link_or_a_bound_the_split_stands_and_the_rate_does_not() {
    let (mut cards, links) = rig();
    let m = qwen3_30b();
    let s = plan(&cards, &links[..1], &m, Format::Q4_0, CONTEXT);
    assert!(s.fits && s.link_s_per_token.is_none() && s.tokens_per_s.is_none());
    cards[1].decode = None;
    let s = plan(&cards, &links, &m, Format::Q4_0, CONTEXT);
    assert!(s.fits && s.compute_s_per_token.is_none() && s.tokens_per_s.is_none());
    assert!(s.stages[0].seconds_per_token.is_some());
}

#[test]
fn a_tied_head_is_a_second_copy_of_the_table_on_the_last_card() {
    let (cards, links) = rig();
    let m = by_id("gemma3-27b").unwrap();
    assert!(m.tied_embeddings);
    let s = plan(&cards, &links, &m, Format::Q4_0, CONTEXT);
    assert!(s.fits && s.stages.len() > 1, "{s:?}");
    let held: f64 = s.stages.iter().map(|x| x.bytes_resident).sum();
    let table = (m.vocab * m.hidden) as f64 * 4.5 / 8.0;
    assert!((held - s.bytes_needed - table).abs() < 1e-6 * held);
}

#[test]
fn the_best_fitting_format_comes_first() {
    let (cards, links) = rig();
    let m = qwen3_30b();
    let all = by_format(&cards, &links, &m, &FORMATS);
    assert_eq!(all.len(), FORMATS.len());
    let fitting: Vec<&Split> = all.iter().filter(|s| s.fits).collect();
    let most_bits = fitting
        .iter()
        .map(|s| s.format.bits_per_weight())
        .fold(0.0, f64::max);
    assert!(all[0].fits);
    assert_eq!(all[0].format.bits_per_weight(), most_bits);
    // Fitting ones first.
    assert!(all[..fitting.len()].iter().all(|s| s.fits));
}
