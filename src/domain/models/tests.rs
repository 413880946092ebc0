use super::*;
use crate::units::si;

/// GGUF file sizes as TheBloke's Llama-2-7B/13B/70B-GGUF model cards on
/// Hugging Face list them (GB).
fn published_files() -> [(Model, Format, f64); 5] {
    [
        (*LLAMA2_7B, Format::Q4_0, 3.83e9),
        (*LLAMA2_7B, Format::Q8_0, 7.16e9),
        (*LLAMA2_13B, Format::Q4_0, 7.37e9),
        (*LLAMA2_13B, Format::Q8_0, 13.83e9),
        (*LLAMA2_70B, Format::Q4_0, 38.87e9),
    ]
}

fn published(m: &Model) -> Published {
    m.published.expect("catalogue models are published")
}

/// Within 2 % of what each publisher states: the published counts are
/// rounded (8.2B, 70B), and Gemma 3's and Mistral Small 3.2's also count a
/// vision encoder of about 0.4B that is not a text parameter (the data
/// file's notes say so), which puts them 1-2 % above the text count.
#[test]
fn parameter_counts_from_the_shapes_match_the_published_ones() {
    for m in catalogue() {
        let p = published(m);
        let share = m.params() as f64 / p.params;
        assert!((share - 1.0).abs() < 0.02, "{}: {}", m.name, m.params());
        match p.active {
            Some((active, basis)) => {
                let share = m.active_params_as(basis) as f64 / active;
                assert!((share - 1.0).abs() < 0.02, "{}: {share}", m.name);
                assert!(m.active_params() < m.params() / 4, "{}", m.name);
            }
            None => assert_eq!(m.active_params(), m.params(), "{}", m.name),
        }
    }
    assert_eq!(LLAMA2_7B.params(), 6_738_415_616);
}

/// Exact counts where the shape is known to reproduce a published exact
/// figure: Llama-3.1-8B's checkpoint (8,030,261,248 in its safetensors
/// index), Qwen3-8B's non-embedding count (6.95B) and gpt-oss-20b's
/// 20.91B total and 3.61B active of OpenAI's model card.
#[test]
fn counts_that_are_published_exactly() {
    let m = |id| by_id(id).unwrap();
    assert_eq!(m("llama3.1-8b").params(), 8_030_261_248);
    let q = m("qwen3-8b");
    let non_embedding = q.params() - 2 * q.vocab * q.hidden;
    assert_eq!(si(non_embedding as f64, ""), "6.95 G");
    let g = m("gpt-oss-20b");
    assert_eq!(si(g.params() as f64, ""), "20.9 G");
    let active = g.active_params_as(ActiveBasis::WithoutEmbedding);
    assert_eq!(si(active as f64, ""), "3.61 G");
}

/// Attention projections are heads x head_dim wide, not hidden: Qwen3-32B
/// (64 x 128 = 8192 on a hidden of 5120) and Gemma 3 (16 x 256 on 3840).
#[test]
fn query_and_output_projections_are_heads_by_head_dim() {
    let q = by_id("qwen3-32b").unwrap();
    let w = q.matrices();
    assert_eq!((w[0].name, w[0].rows, w[0].k), ("q", 8192, 5120));
    assert_eq!((w[3].name, w[3].rows, w[3].k), ("o", 5120, 8192));
    assert_eq!((w[1].rows, w[2].rows), (1024, 1024));
    let g = by_id("gemma3-12b").unwrap();
    assert_eq!((g.matrices()[0].rows, g.matrices()[0].k), (4096, 3840));
    // Llama-2: the projections are square, as before.
    let l = LLAMA2_7B.matrices();
    assert_eq!(l.len(), 7);
    assert!(l[..4].iter().all(|m| (m.rows, m.k) == (4096, 4096)));
}

/// An MoE token reads the router and its active experts, and the file and
/// the memory hold every expert.
#[test]
fn moe_reads_active_experts_and_holds_all() {
    let m = by_id("qwen3-30b-a3b").unwrap();
    let names: Vec<&str> = m.matrices().iter().map(|x| x.name).collect();
    assert_eq!(names.len(), 4 + 1 + 3 * 8);
    assert_eq!(names.iter().filter(|n| **n == "expert_down").count(), 8);
    let f = Format::Q8_0;
    let expert = 3 * 768 * f.row_bytes(2048);
    let attention = m.layer_bytes(f) - 8 * expert - 128 * f.row_bytes(2048);
    assert_eq!(m.stored_layer_bytes(f) - m.layer_bytes(f), 120 * expert);
    assert_eq!(
        attention,
        (4096 + 2 * 512) * f.row_bytes(2048) + 2048 * f.row_bytes(4096)
    );
    assert!(m.weights_read_per_token(f) * 5.0 < m.bytes_resident(f));
    assert!(m.file_size(f) > m.bytes_resident(f) * 0.99);
}

/// The KV cache: 2 x layers x kv_heads x head_dim x 2 bytes a token, and a
/// sliding-window layer stops growing at its window.
#[test]
fn kv_cache_grows_with_context_and_sliding_layers_cap() {
    // Llama-2-7B: 0.5 MiB a token, as llama.cpp reports.
    assert_eq!(LLAMA2_7B.kv_cache_bytes(1), 512 << 10);
    assert_eq!(LLAMA2_7B.kv_cache_bytes(4096), 4096 * (512 << 10));
    // Llama-2-70B's GQA: 8 of 64 heads, a sixteenth of 7B's per layer
    // count... 80 layers x 2 x 1024 x 2 bytes.
    assert_eq!(LLAMA2_70B.kv_cache_bytes(1), 80 * 2 * 1024 * 2);
    // Gemma 3 27B: 62 layers, every sixth global (10), the rest slide
    // over 1024 tokens.
    let g = by_id("gemma3-27b").unwrap();
    assert_eq!((0..62).filter(|&l| !g.is_sliding(l)).count(), 10);
    let per_token = 2 * 16 * 128 * 2;
    assert_eq!(g.kv_cache_bytes(1024), 62 * 1024 * per_token);
    assert_eq!(
        g.kv_cache_bytes(32768),
        (10 * 32768 + 52 * 1024) * per_token
    );
    // gpt-oss: even layers slide over 128 tokens, odd ones are global.
    let o = by_id("gpt-oss-20b").unwrap();
    assert!(o.is_sliding(0) && !o.is_sliding(1));
    assert_eq!(
        o.kv_cache_bytes(1000),
        (12 * 1000 + 12 * 128) * 2 * 8 * 64 * 2
    );
}

#[test]
fn file_sizes_match_the_published_gguf_files() {
    for (m, f, published) in published_files() {
        // Published to 10 MB; the header adds under 1 MB.
        let size = m.file_size(f);
        assert!(
            (size - published).abs() < 5e6 + 1e6,
            "{} {}: {size}",
            m.name,
            f.label()
        );
    }
}

/// The Q4_K_M files of TheBloke's Llama-2-7B/13B/70B-GGUF model cards
/// (GB): a check of the tensor mix, every tensor typed as llama.cpp's
/// quantizer types it.
#[test]
fn q4_k_m_file_sizes_match_the_published_gguf_files() {
    for (m, published) in [
        (*LLAMA2_7B, 4.08e9),
        (*LLAMA2_13B, 7.87e9),
        (*LLAMA2_70B, 41.42e9),
    ] {
        let size = m.q4_k_m_file_size();
        assert!((size - published).abs() < 5e6 + 1e6, "{}: {size}", m.name);
    }
    assert!(LLAMA2_70B.is_llama_cpp_70b());
    assert!(!LLAMA2_13B.is_llama_cpp_70b());
}

#[test]
fn the_three_sizes_of_7b_q4_0_are_distinct_and_named() {
    let m = *LLAMA2_7B;
    let f = Format::Q4_0;
    // 32 layers of 202.4 M weights at 18 bytes per 32 (the llm rows).
    assert_eq!(m.weights_read_per_token(f), 3_642_753_024.0);
    assert_eq!(si(m.weights_read_per_token(f), "B"), "3.64 GB");
    assert_eq!(si(m.bytes_resident(f), "B"), "3.79 GB");
    assert_eq!(si(m.file_size(f), "B"), "3.83 GB");
    assert!(m.weights_read_per_token(f) < m.bytes_resident(f));
    assert!(m.bytes_resident(f) < m.file_size(f));
}

#[test]
fn models_are_found_by_id_smallest_first() {
    assert_eq!(by_id("llama2-13b"), Some(*LLAMA2_13B));
    assert_eq!(by_id("Llama-2-13B"), None);
    let all = catalogue();
    assert!(all.windows(2).all(|w| w[0].params() < w[1].params()));
    assert!(LLAMA2.windows(2).all(|w| w[0].params() < w[1].params()));
    assert_eq!(
        LLAMA2.map(|m| m.id),
        ["llama2-7b", "llama2-13b", "llama2-70b"]
    );
}
