//! The llm suite's kernels against the CPU reference at sizes that are not
//! multiples of their tiles, and sabotaged copies of the real shaders —
//! each must be caught.

mod common;

use common::{assert_caught, ctx, gpu, mutate, run_with_shaders};
use hashflops::gpu::Gpu;
use hashflops::harness::measure;
use hashflops::workloads::llm::decode::Decode;
use hashflops::workloads::llm::formats::{Format, FORMATS, Q4_0_WGSL, Q8_0_WGSL};
use hashflops::workloads::llm::gpu::{DECODE_WGSL, PREFILL_WGSL};
use hashflops::workloads::llm::prefill::Prefill;
use hashflops::workloads::llm::shapes::{Model, Residency};
use hashflops::workloads::{Shaders, SizeOptions};

/// Rows 1184, 30 and 416: not multiples of 4 (decode) or 64 (prefill);
/// K 1184 and 416: 37 and 13 blocks, not multiples of the 32 lanes.
const TINY: Model = Model {
    name: "tiny",
    hidden: 1184,
    ffn: 416,
    layers: 3,
    kv: 30,
};
/// Two layers per repetition from one resident: the repeat check runs too.
const RES: Residency = Residency {
    resident: 1,
    per_rep: 2,
    per_token: 3,
};
/// Prompt tokens: not a multiple of the 64-token tile.
const TOKENS: u64 = 70;

fn with_shaders(replaced: &[(&str, String)]) -> (tempfile::TempDir, Shaders) {
    let dir = tempfile::tempdir().unwrap();
    for (name, src) in replaced {
        std::fs::write(dir.path().join(format!("{name}.wgsl")), src).unwrap();
    }
    let shaders = Shaders::from_dir(Some(dir.path().to_path_buf())).unwrap();
    (dir, shaders)
}

/// (verified, problems) of the decode row for `format`.
fn decode(gpu: &Gpu, shaders: &Shaders, format: Format) -> (bool, Vec<String>) {
    let sizes = SizeOptions::default();
    let c = ctx(gpu, shaders, &sizes);
    let w = Decode::new(gpu, shaders, format, TINY, RES).expect("decode setup");
    let rows = measure(&c, w).expect("decode measures");
    assert_eq!(rows.len(), 2, "token_rate and bandwidth rows");
    (rows[0].verified, rows[0].problems.clone())
}

fn prefill(gpu: &Gpu, shaders: &Shaders, format: Format) -> (bool, Vec<String>) {
    let sizes = SizeOptions::default();
    let c = ctx(gpu, shaders, &sizes);
    let w =
        Prefill::new(gpu, shaders, format, TINY, &["k", "down"], TOKENS).expect("prefill setup");
    let rows = measure(&c, w).expect("prefill measures");
    assert_eq!(rows.len(), 2, "token_rate and flops rows");
    (rows[0].verified, rows[0].problems.clone())
}

#[test]
fn every_kernel_agrees_with_the_cpu_at_untiled_sizes() {
    let gpu = gpu();
    let shaders = Shaders::builtin();
    for f in FORMATS {
        let (ok, problems) = decode(&gpu, &shaders, f);
        assert!(ok, "decode_{}: {problems:?}", f.name());
        let (ok, problems) = prefill(&gpu, &shaders, f);
        assert!(ok, "prefill_{}: {problems:?}", f.name());
    }
}

/// Each sabotage, applied to the real shader, must leave the row unverified.
#[test]
fn sabotaged_kernels_are_caught() {
    let gpu = gpu();
    let swapped_nibbles = mutate(
        Q4_0_WGSL,
        "(low - 8.0, high - 8.0)",
        "(high - 8.0, low - 8.0)",
    );
    let next_scale = |src: &str| {
        mutate(
            src,
            "unpack2x16float(word_at(b)).x",
            "unpack2x16float(word_at(b + BLOCK_BYTES)).x",
        )
    };
    let cases: Vec<(&str, Format, bool, (&str, String))> = vec![
        (
            "decode skips a block",
            Format::Q8_0,
            true,
            (
                "llm_decode",
                mutate(DECODE_WGSL, "blk < blocks;", "blk + 1u < blocks;"),
            ),
        ),
        (
            "decode with a wrong row stride",
            Format::F16,
            true,
            (
                "llm_decode",
                mutate(
                    DECODE_WGSL,
                    "row * job.row_bytes;",
                    "row * (job.row_bytes - 64u);",
                ),
            ),
        ),
        (
            "q4_0 nibbles swapped",
            Format::Q4_0,
            true,
            ("llm_q4_0", swapped_nibbles.clone()),
        ),
        (
            "q4_0 with the next block's scale",
            Format::Q4_0,
            true,
            ("llm_q4_0", next_scale(Q4_0_WGSL)),
        ),
        (
            "q8_0 with the next block's scale",
            Format::Q8_0,
            true,
            ("llm_q8_0", next_scale(Q8_0_WGSL)),
        ),
        (
            "prefill skips a block",
            Format::Q4_0,
            false,
            (
                "llm_prefill",
                mutate(PREFILL_WGSL, "var kb = 0u;", "var kb = 1u;"),
            ),
        ),
        (
            "prefill with a wrong row stride",
            Format::Q8_0,
            false,
            (
                "llm_prefill",
                mutate(
                    PREFILL_WGSL,
                    "row * job.row_bytes + kb",
                    "row * (job.row_bytes + 2u) + kb",
                ),
            ),
        ),
        (
            "prefill with swapped nibbles",
            Format::Q4_0,
            false,
            ("llm_q4_0", swapped_nibbles),
        ),
    ];
    for (what, format, is_decode, replaced) in cases {
        let (_dir, shaders) = with_shaders(&[replaced]);
        let (ok, problems) = if is_decode {
            decode(&gpu, &shaders, format)
        } else {
            prefill(&gpu, &shaders, format)
        };
        assert!(!ok, "{what}: passed the check");
        assert!(!problems.is_empty(), "{what}: no problem named");
    }
}

/// Through the binary: a wrong nibble order ends unverified, exit 1.
#[test]
fn the_binary_exits_1_on_a_wrong_nibble_order() {
    let src = mutate(
        Q4_0_WGSL,
        "(low - 8.0, high - 8.0)",
        "(high - 8.0, low - 8.0)",
    );
    let run = run_with_shaders("llm", &[("llm_q4_0", src)], &[]);
    assert_caught(&run, "decode_q4_0", "swapped nibbles");
    assert_caught(&run, "prefill_q4_0", "swapped nibbles");
}
