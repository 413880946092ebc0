//! MoE decode: the gathered-expert kernel against the CPU reference for
//! the experts each timed repetition chose, with its experts in one buffer
//! and paged, and sabotaged copies of it (the expert index ignored, read
//! from the wrong slot, a wrong expert stride, the first k experts, an
//! active expert skipped, a memoising kernel, every second repetition
//! skipped) each caught.

mod common;

use common::{ctx, gpu, mutate};
use hashflops::catalogue::{Kernel, Metric};
use hashflops::gpu::Gpu;
use hashflops::harness::measure;
use hashflops::workloads::llm::formats::Format;
use hashflops::workloads::llm::moe::{Holding, Moe};
use hashflops::workloads::llm::moe_plan::{plan, Part};
use hashflops::workloads::llm::shapes::Model;
use hashflops::workloads::llm::token::weights::TOKEN_WGSL;
use hashflops::workloads::{Shaders, SizeOptions};

/// 6 experts, 3 active; hidden 416 (13 blocks, an odd number of bytes a
/// row in MXFP4), expert FFN 160 (5 blocks); a 6-row router.
const TINY_MOE: Model = Model {
    experts: 6,
    active_experts: 3,
    ..Model::dense("tiny-moe", 2, 416, 8, 2, 32, 160, 32)
};

const FORMATS: [Format; 2] = [Format::Q4_0, Format::MXFP4];

/// (verified, problems, metrics) of one moe run.
fn run(
    gpu: &Gpu,
    shaders: &Shaders,
    format: Format,
    part: Part,
    page: Option<u64>,
) -> (bool, Vec<String>, Vec<Metric>) {
    let sizes = SizeOptions::default();
    let c = ctx(gpu, shaders, &sizes);
    let holding = Holding { resident: 6, page };
    let w = Moe::new(gpu, shaders, format, TINY_MOE, part, holding).expect("moe setup");
    let rows = measure(&c, w).expect("moe measures");
    assert!(rows.iter().all(|r| r.kernel == Kernel::Moe(format)));
    if part == Part::Experts {
        // The latency is the time the bandwidth row read the active
        // experts' bytes in: the slowest sample of one is the other's.
        let bytes: u64 = plan(&TINY_MOE, part, 6)
            .iter()
            .map(|s| s.bytes_read(format))
            .sum();
        let read = rows[0].summary.min * rows[1].summary.max;
        assert!(
            (read / bytes as f64 - 1.0).abs() < 1e-9,
            "{read} vs {bytes}"
        );
    }
    let metrics = rows.iter().map(|r| r.metric).collect();
    (rows[0].verified, rows[0].problems.clone(), metrics)
}

#[test]
fn gathered_experts_agree_with_the_cpu_in_one_buffer_and_paged() {
    let gpu = gpu();
    let shaders = Shaders::builtin();
    for f in FORMATS {
        for page in [None, Some(4), Some(1)] {
            let (ok, problems, metrics) = run(&gpu, &shaders, f, Part::Experts, page);
            assert!(ok, "moe_{} experts, page {page:?}: {problems:?}", f.name());
            assert_eq!(metrics, [Metric::Bandwidth, Metric::Latency]);
        }
        let (ok, problems, metrics) = run(&gpu, &shaders, f, Part::Layer, None);
        assert!(ok, "moe_{} layer: {problems:?}", f.name());
        assert_eq!(metrics, [Metric::TokenRate]);
    }
}

#[test]
fn sabotaged_expert_gathers_are_caught() {
    let cases = [
        (
            "the expert index ignored (always expert 0)",
            "let copy = rep[1u + p0];",
            "let copy = rep[1u + p0] * 0u;",
        ),
        (
            "the first k experts, whatever was chosen",
            "let copy = rep[1u + p0];",
            "let copy = p0 + 0u * rep[1u + p0];",
        ),
        (
            "indices read from the slot before",
            "let copy = rep[1u + p0];",
            "let copy = rep[p0];",
        ),
        (
            "a wrong expert stride",
            "(copy - job.first) * job.copy_bytes",
            "(copy - job.first) * (job.copy_bytes - job.row_bytes)",
        ),
        (
            "the work skipped where the output is already written",
            "let live = row < job.rows && here;",
            "let live = row < job.rows && here && y[job.out_offset + p0 * job.rows + row] == 0.0;",
        ),
        (
            "every second repetition's work skipped",
            "let live = row < job.rows && here;",
            "let live = row < job.rows && here && rep[0] == 0u;",
        ),
        (
            "the last active expert skipped",
            "let live = row < job.rows && here;",
            "let live = row < job.rows && here && p0 + 1u < job.products;",
        ),
    ];
    let gpu = gpu();
    for (what, from, to) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("llm_token.wgsl"),
            mutate(TOKEN_WGSL, from, to),
        )
        .unwrap();
        let shaders = Shaders::from_dir(Some(dir.path().to_path_buf())).unwrap();
        for f in FORMATS {
            for page in [None, Some(4)] {
                let (ok, problems, _) = run(&gpu, &shaders, f, Part::Experts, page);
                assert!(!ok, "{what} (moe_{}, page {page:?}): passed", f.name());
                assert!(!problems.is_empty(), "{what}: no problem named");
            }
        }
    }
}
