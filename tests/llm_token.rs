//! Whole decode steps (`token_<quant>`): every matrix of a layer in its
//! Q4_K_M or MXFP4 format, the experts each sequence chose, and attention
//! over each sequence's cache, for batches of 1 to 4, and 32-token prompts,
//! against the CPU; and
//! sabotaged copies of the step kernel (every sequence given the first
//! one's activations, a batch's last sequence dropped, the expert choice
//! ignored, a memoising kernel, every second repetition skipped, the
//! window ignored, a row's last block skipped) and of attention, each caught.

mod common;

use common::{ctx, gpu, mutate};
use hashflops::catalogue::{Kernel, Metric};
use hashflops::domain::formats::Format;
use hashflops::domain::quant::Quant;
use hashflops::gpu::Gpu;
use hashflops::harness::measure;
use hashflops::workloads::llm::attention::ATTENTION_WGSL;
use hashflops::workloads::llm::shapes::Model;
use hashflops::workloads::llm::token::plan::Case;
use hashflops::workloads::llm::token::weights::TOKEN_WGSL;
use hashflops::workloads::llm::token::Token;
use hashflops::workloads::{Scale, Shaders, SizeOptions};

/// Eight layers, so that the Q4_K_M mix has layers with and without its
/// Q6_K V and down projections; rows of 256 (one K-quant super-block).
const DENSE: Model = Model::dense("tiny-dense", 8, 256, 8, 2, 32, 512, 32);
const MOE: Model = Model {
    experts: 6,
    active_experts: 2,
    ..Model::dense("tiny-moe", 8, 256, 8, 2, 32, 256, 32)
};
/// gpt-oss' kind: alternating sliding and global layers, sinks, and rows of
/// 13 MXFP4 blocks (an odd number of bytes).
const OSS: Model = Model {
    experts: 4,
    active_experts: 2,
    sliding_window: 100,
    global_every: 2,
    attention_sinks: true,
    ..Model::dense("tiny-oss", 4, 416, 8, 2, 32, 160, 32)
};
/// A chunk of attention (256 positions) and then some.
const CONTEXT: u64 = 300;

/// (model, quantization, batch, context; None: a prompt of `batch`).
type Run = (Model, Quant, u64, Option<u64>);

fn cases() -> Vec<Run> {
    vec![
        (DENSE, Quant::Q4KM, 1, Some(CONTEXT)),
        (DENSE, Quant::Q4KM, 4, Some(CONTEXT)),
        (MOE, Quant::Q4KM, 3, Some(CONTEXT)),
        (OSS, Quant::Uniform(Format::MXFP4), 2, Some(CONTEXT)),
        // two workgroups of columns a dense matrix
        (DENSE, Quant::Q4KM, 32, None),
        (MOE, Quant::Q4KM, 32, None),
    ]
}

/// (verified, problems) of one token run.
fn run(gpu: &Gpu, shaders: &Shaders, (model, quant, batch, context): Run) -> (bool, Vec<String>) {
    let sizes = SizeOptions::default();
    let c = ctx(gpu, shaders, &sizes);
    let case = Case {
        model,
        quant,
        context,
        batch,
    };
    let w = Token::new(gpu, shaders, case, Scale::Default).expect("token setup");
    let rows = measure(&c, w).expect("token measures");
    let (kernel, derived) = match context {
        Some(_) => (Kernel::Token(quant), Metric::Bandwidth),
        None => (Kernel::Prompt(quant), Metric::Flops),
    };
    assert_eq!(
        rows.iter().map(|r| r.metric).collect::<Vec<_>>(),
        [Metric::TokenRate, derived]
    );
    let r = &rows[0];
    assert_eq!(r.kernel, kernel);
    assert_eq!(r.params.batch(), Some(batch));
    assert_eq!(r.params.context(), context);
    assert_eq!(
        r.params.weight_bytes_per_token(),
        Some(quant.weights_read_per_token(&model))
    );
    (r.verified, r.problems.clone())
}

#[test]
fn whole_decode_steps_agree_with_the_cpu() {
    let gpu = gpu();
    let shaders = Shaders::builtin();
    for case in cases() {
        let (ok, problems) = run(&gpu, &shaders, case);
        assert!(
            ok,
            "{} {} batch {}: {problems:?}",
            case.0.id, case.1, case.2
        );
    }
}

/// What is broken, the line and its replacement, and the runs it shows in.
type Sabotage<'a> = (&'a str, &'a str, &'a str, &'a dyn Fn(&Run) -> bool);

/// Each sabotage, and the cases it must be caught in.
#[test]
fn sabotaged_decode_steps_are_caught() {
    let batched = |c: &Run| c.2 > 1 && c.0.experts == 0;
    let moe = |c: &Run| c.0.experts > 0;
    let all = |_: &Run| true;
    let sabotages: [Sabotage; 7] = [
        (
            "every sequence given the first one's activations",
            "let xc = x0 + c * per_x + blk * 8u;",
            "let xc = x0 + 0u * c * per_x + blk * 8u;",
            &batched,
        ),
        (
            "a batch's last sequence dropped",
            "if (live && l.x == 0u) {",
            "if (live && l.x == 0u && (c + 1u < job.cols || job.cols == 1u)) {",
            &batched,
        ),
        (
            "the expert choice ignored (always the first held)",
            "let copy = rep[1u + p0];",
            "let copy = rep[1u + p0] * 0u;",
            &moe,
        ),
        (
            "the work skipped where the output is already written",
            "let live = row < job.rows && here;",
            "let live = row < job.rows && here && y[job.out_offset + p0 * job.rows + row] == 0.0;",
            &all,
        ),
        (
            "every second repetition's work skipped",
            "let live = row < job.rows && here;",
            "let live = row < job.rows && here && rep[0] == 0u;",
            &all,
        ),
        (
            "the activation window ignored",
            "let x0 = (rep[0] * job.products + p0) * per_x;",
            "let x0 = (0u * rep[0] * job.products + p0) * per_x;",
            &all,
        ),
        (
            "the last block of a row skipped",
            "blk < blocks;",
            "blk + 1u < blocks;",
            &all,
        ),
    ];
    let gpu = gpu();
    for (what, from, to, applies) in sabotages {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("llm_token.wgsl"),
            mutate(TOKEN_WGSL, from, to),
        )
        .unwrap();
        let shaders = Shaders::from_dir(Some(dir.path().to_path_buf())).unwrap();
        for case in cases().into_iter().filter(|c| applies(c)) {
            let (ok, problems) = run(&gpu, &shaders, case);
            assert!(
                !ok,
                "{what} ({} batch {} {:?}): passed",
                case.0.id, case.2, case.3
            );
            assert!(!problems.is_empty(), "{what}: no problem named");
        }
    }
}

#[test]
fn a_sabotaged_attention_fails_the_decode_step() {
    let gpu = gpu();
    let dir = tempfile::tempdir().unwrap();
    // Every query head reads the first KV head's keys.
    let src = mutate(
        ATTENTION_WGSL,
        "let kb = (((p0 + j) % job.stored) * job.kv_heads + kvh) * vec4s;",
        "let kb = (((p0 + j) % job.stored) * job.kv_heads + 0u * kvh) * vec4s;",
    );
    std::fs::write(dir.path().join("llm_attention.wgsl"), src).unwrap();
    let shaders = Shaders::from_dir(Some(dir.path().to_path_buf())).unwrap();
    let (ok, problems) = run(&gpu, &shaders, cases()[3]);
    assert!(!ok, "passed");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("attention of sequence")),
        "{problems:?}"
    );
}

/// The three models at real shapes beyond what a software adapter's
/// default run measures (its one context and batch a model): each at the
/// contexts and batches below, printed. Minutes on lavapipe, so run by
/// hand: `cargo test --release --test llm_token -- --ignored --nocapture`.
#[test]
#[ignore]
fn real_shapes_at_longer_contexts_and_batches() {
    use hashflops::domain::models::by_id;
    let gpu = gpu();
    let shaders = Shaders::builtin();
    let sizes = SizeOptions::default();
    let mut c = ctx(&gpu, &shaders, &sizes);
    c.scale = Scale::Full;
    let m = |id| by_id(id).unwrap();
    let mxfp4 = Quant::Uniform(Format::MXFP4);
    let runs = [
        (m("llama3.1-8b"), Quant::Q4KM, 1, Some(4096)),
        (m("llama3.1-8b"), Quant::Q4KM, 1, Some(32768)),
        (m("llama3.1-8b"), Quant::Q4KM, 4, Some(4096)),
        (m("qwen3-30b-a3b"), Quant::Q4KM, 1, Some(32768)),
        (m("qwen3-30b-a3b"), Quant::Q4KM, 16, Some(512)),
        (m("gpt-oss-20b"), mxfp4, 1, Some(4096)),
        (m("gpt-oss-20b"), mxfp4, 4, Some(32768)),
        (m("gpt-oss-20b"), mxfp4, 16, None),
    ];
    for (model, quant, batch, context) in runs {
        let case = Case {
            model,
            quant,
            context,
            batch,
        };
        let w = Token::new(&gpu, &shaders, case, Scale::Default).expect("setup");
        for r in measure(&c, w).expect("measures") {
            println!(
                "{} {} {} {:.4} {} verified={} {}",
                r.kernel,
                r.params.model().unwrap_or(""),
                r.metric,
                r.summary.median,
                r.kernel.unit(r.metric),
                r.verified,
                r.params
            );
            assert!(r.verified, "{:?}", r.problems);
        }
    }
}
