//! The Q4_K_M mix of [`crate::domain::formats::q4_k_m`] against what
//! llama.cpp's own quantizer wrote: `bench/peer-llama-bench.sh --q4km ID`
//! quantized a random F16 GGUF of the model's layer, head and expert counts
//! and read each tensor's type back (bench/results, one tensor a line).

use crate::domain::formats::{q4_k_m, Format};
use crate::domain::models::by_id;

const READ_BACK: [(&str, &str); 2] = [
    (
        "llama3.1-8b",
        include_str!("../../../bench/results/2026-12-07-lavapipe/q4_k_m-llama3.1-8b.tsv"),
    ),
    (
        "qwen3-30b-a3b",
        include_str!("../../../bench/results/2026-12-07-lavapipe/q4_k_m-qwen3-30b-a3b.tsv"),
    ),
];

/// A GGUF tensor name as the domain's (matrix name, layer); an expert
/// tensor as its dense counterpart, which the quantizer treats alike.
fn domain_name(gguf: &str) -> Option<(&'static str, u64)> {
    let stem = gguf.strip_suffix(".weight")?;
    let (layer, tensor) = match stem.strip_prefix("blk.") {
        Some(rest) => {
            let (l, t) = rest.split_once('.')?;
            (l.parse().ok()?, t)
        }
        None => (0, stem),
    };
    let name = match tensor.strip_suffix("_exps").unwrap_or(tensor) {
        "token_embd" => "token_embd",
        "output" => "output",
        "attn_q" => "q",
        "attn_k" => "k",
        "attn_v" => "v",
        "attn_output" => "o",
        "ffn_gate" => "gate",
        "ffn_up" => "up",
        "ffn_down" => "down",
        _ => return None,
    };
    Some((name, layer))
}

#[test]
fn q4_k_m_is_what_llama_quantize_wrote() {
    for (id, text) in READ_BACK {
        let model = by_id(id).unwrap();
        let mut compared = 0;
        for line in text.lines().filter(|l| !l.starts_with('#')).skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            let [tensor, ty, _shape] = cols[..] else {
                panic!("{id}: malformed line {line:?}");
            };
            // Norms, q/k norms and the router stay f32: not matrices the
            // mix decides.
            if ty == "F32" {
                continue;
            }
            let (name, layer) = domain_name(tensor).unwrap_or_else(|| panic!("{id}: {tensor}"));
            let got = Format::from_name(&ty.to_lowercase()).unwrap_or_else(|| panic!("{ty}"));
            let want = q4_k_m(name, layer, model.layers, model.is_llama_cpp_70b());
            assert_eq!(want, got, "{id} {tensor}");
            compared += 1;
        }
        let per_layer = 7;
        assert_eq!(compared, per_layer * model.layers + 2, "{id}");
    }
}
