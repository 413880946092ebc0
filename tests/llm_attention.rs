//! Attention decode against the CPU reference on small shapes that
//! exercise grouped-query heads, sliding windows, sinks and contexts that
//! are not whole chunks, and sabotaged copies of the real shader: each must
//! be caught.

mod common;

use common::{assert_caught, ctx, gpu, mutate, run_with_shaders};
use hashflops::domain::models::by_id;
use hashflops::gpu::Gpu;
use hashflops::harness::measure;
use hashflops::workloads::llm::attention::plan::KvResidency;
use hashflops::workloads::llm::attention::{Attention, ATTENTION_WGSL};
use hashflops::workloads::llm::shapes::Model;
use hashflops::workloads::{Shaders, SizeOptions};

/// Four query heads on each of two KV heads.
const GQA: Model = Model::dense("tiny-gqa", 2, 128, 8, 2, 16, 64, 32);
/// gpt-oss's kind: a 100-token window on layer 0, global layer 1, a sink
/// per head, two query heads per KV head.
const SLIDING: Model = Model {
    sliding_window: 100,
    global_every: 2,
    attention_sinks: true,
    ..Model::dense("tiny-swa", 2, 128, 6, 3, 24, 64, 32)
};
/// A chunk (256 positions) and then some.
const CONTEXT: u64 = 300;

/// Each model's layers, then those repeated once: the repeat check runs.
fn residency(m: &Model) -> KvResidency {
    KvResidency {
        resident: m.layers,
        per_rep: 2 * m.layers,
    }
}

fn with_shaders(src: Option<String>) -> (tempfile::TempDir, Shaders) {
    let dir = tempfile::tempdir().unwrap();
    if let Some(src) = src {
        std::fs::write(dir.path().join("llm_attention.wgsl"), src).unwrap();
    }
    let shaders = Shaders::from_dir(Some(dir.path().to_path_buf())).unwrap();
    (dir, shaders)
}

/// (verified, problems) of the attention row for `model`.
fn attention(gpu: &Gpu, shaders: &Shaders, model: Model) -> (bool, Vec<String>) {
    let sizes = SizeOptions::default();
    let c = ctx(gpu, shaders, &sizes);
    let w = Attention::new(gpu, shaders, model, CONTEXT, residency(&model)).expect("setup");
    let rows = measure(&c, w).expect("attention measures");
    assert_eq!(rows.len(), 2, "token_rate and bandwidth rows");
    (rows[0].verified, rows[0].problems.clone())
}

#[test]
fn attention_agrees_with_the_cpu() {
    let gpu = gpu();
    let shaders = Shaders::builtin();
    for m in [GQA, SLIDING] {
        let (ok, problems) = attention(&gpu, &shaders, m);
        assert!(ok, "{}: {problems:?}", m.id);
    }
}

/// The catalogue's sliding-window models at a context past their windows,
/// one whole sliding/global period each: gpt-oss-20b (one 128-token
/// window layer, one global, sinks) and Gemma-3-12B (five 1024-token
/// window layers, one global, 256-wide heads).
#[test]
fn catalogue_models_agree_with_the_cpu_past_their_windows() {
    let gpu = gpu();
    let shaders = Shaders::builtin();
    let sizes = SizeOptions::default();
    let c = ctx(&gpu, &shaders, &sizes);
    for id in ["gpt-oss-20b", "gemma3-12b"] {
        let m = by_id(id).expect("in the catalogue");
        let res = KvResidency {
            resident: m.global_every,
            per_rep: m.global_every,
        };
        let w = Attention::new(&gpu, &shaders, m, 4096, res).expect("setup");
        let rows = measure(&c, w).expect("attention measures");
        assert!(rows[0].verified, "{id}: {:?}", rows[0].problems);
    }
}

/// `src` with `line` inserted as the first statement of entry point `entry`.
fn at_entry(src: &str, entry: &str, line: &str) -> String {
    let at = src.find(&format!("fn {entry}(")).expect("entry point");
    let at = at + src[at..].find("{\n").expect("entry body") + 2;
    format!("{}    {line}\n{}", &src[..at], &src[at..])
}

/// Every query head on KV head 0, as if there were one (no grouping).
fn one_kv_head() -> String {
    let src = mutate(
        ATTENTION_WGSL,
        "* job.kv_heads + kvh) * vec4s;",
        "* job.kv_heads + 0u) * vec4s;",
    );
    mutate(
        &src,
        "* job.kv_heads + kvh) * words;",
        "* job.kv_heads + 0u) * words;",
    )
}

/// Keys read from the values' binding and values from the keys'.
fn k_and_v_swapped() -> String {
    let src = mutate(
        ATTENTION_WGSL,
        "@binding(1) var<storage, read> kc",
        "@binding(9) var<storage, read> kc",
    );
    let src = mutate(
        &src,
        "@binding(2) var<storage, read> vc",
        "@binding(1) var<storage, read> vc",
    );
    mutate(
        &src,
        "@binding(9) var<storage, read> kc",
        "@binding(2) var<storage, read> kc",
    )
}

#[test]
fn sabotaged_attention_is_caught() {
    let gpu = gpu();
    let memo = "if (y[job.out_offset + wid.x * job.head_dim] != 0.0) { return; }";
    let cases: Vec<(&str, Model, String)> = vec![
        ("every query head on KV head 0", GQA, one_kv_head()),
        (
            "the last position of a whole chunk skipped",
            GQA,
            mutate(
                ATTENTION_WGSL,
                "let n = min(CHUNK, job.context - p0);",
                "let n = min(CHUNK - 1u, job.context - p0);",
            ),
        ),
        (
            "the window ignored",
            SLIDING,
            mutate(
                ATTENTION_WGSL,
                "return select(job.context, min(job.context, job.window), job.window > 0u);",
                "return job.context;",
            ),
        ),
        (
            "the sink left out of the denominator",
            SLIDING,
            mutate(
                ATTENTION_WGSL,
                "var l = select(0.0, exp(sink - m), job.has_sink != 0u);",
                "var l = 0.0;",
            ),
        ),
        ("K and V swapped", GQA, k_and_v_swapped()),
        (
            "the high f16 of each value pair read for both",
            GQA,
            mutate(
                ATTENTION_WGSL,
                "let vv = unpack2x16float(vc[vb + wd]);",
                "let vv = unpack2x16float(vc[vb + wd]).yy;",
            ),
        ),
        (
            "a memoised repetition",
            GQA,
            at_entry(ATTENTION_WGSL, "combine", memo),
        ),
        (
            "every second repetition skipped",
            SLIDING,
            at_entry(
                ATTENTION_WGSL,
                "combine",
                "if (job.x_offset != 0u) { return; }",
            ),
        ),
    ];
    for (what, model, src) in cases {
        let (_dir, shaders) = with_shaders(Some(src));
        let (ok, problems) = attention(&gpu, &shaders, model);
        assert!(!ok, "{what}: passed the check");
        assert!(!problems.is_empty(), "{what}: no problem named");
    }
    // The unmodified shader through the same path passes.
    let (_dir, shaders) = with_shaders(Some(ATTENTION_WGSL.to_string()));
    for m in [GQA, SLIDING] {
        let (ok, problems) = attention(&gpu, &shaders, m);
        assert!(ok, "control {}: {problems:?}", m.id);
    }
}

/// Through the binary: swapped K and V end unverified, exit 1.
#[test]
fn the_binary_exits_1_on_swapped_k_and_v() {
    let run = run_with_shaders("llm", &[("llm_attention", k_and_v_swapped())], &[]);
    assert_caught(&run, "attention", "K and V swapped");
}
