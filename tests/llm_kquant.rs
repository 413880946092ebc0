//! The K-quant (Q4_K, Q5_K, Q6_K) and MXFP4 kernels: sabotaged copies of
//! their format headers — a skipped block, a wrong sub-block scale or min,
//! swapped nibbles or high bits, a wrong stride, MXFP4's odd byte offsets
//! and its E2M1 table — must each be caught by the suite's own check, in
//! both layouts; and a K-quant row that is no whole super-block is refused.
//! (tests/llm.rs runs every format against the CPU unsabotaged.)

mod common;

use common::gpu;
use common::llm::{assert_all_caught, in_body, in_header, Kind, Sabotage, RES, TINY};
use hashflops::workloads::llm::decode::Decode;
use hashflops::workloads::llm::formats::Format;
use hashflops::workloads::llm::layout::Layout;
use hashflops::workloads::Shaders;

type Case = (&'static str, Format, (Kind, Sabotage));

fn q4_k() -> Vec<Case> {
    let f = Format::Q4_K;
    vec![
        (
            "q4_k decode skips a block",
            f,
            in_body(Kind::Decode, "blk < blocks;", "blk + 1u < blocks;"),
        ),
        (
            "q4_k with a sub-block's min as its scale",
            f,
            in_header(
                Kind::Prefill,
                f,
                "vec2<u32>(lo & 63u, mid & 63u)",
                "vec2<u32>(mid & 63u, mid & 63u)",
            ),
        ),
        (
            "q4_k with the wrong high bits of the upper mins",
            f,
            in_header(
                Kind::Decode,
                f,
                "(hi >> 4u) | ((mid >> 6u) << 4u)",
                "(hi >> 4u) | ((lo >> 6u) << 4u)",
            ),
        ),
        (
            "q4_k without the min",
            f,
            in_header(
                Kind::Decode,
                f,
                "out.q[i] = nibbles(w[at.z + i], at.w) * am.x - am.y;",
                "out.q[i] = nibbles(w[at.z + i], at.w) * am.x;",
            ),
        ),
        (
            "q4_k with swapped nibbles",
            f,
            in_header(
                Kind::Prefill,
                f,
                "4u * (j & 1u));",
                "4u * (1u - (j & 1u)));",
            ),
        ),
        (
            "q4_k with a wrong super-block stride",
            f,
            in_header(
                Kind::Decode,
                f,
                "SUPER_BYTES: u32 = 144u;",
                "SUPER_BYTES: u32 = 128u;",
            ),
        ),
        (
            "q4_k prefill with a wrong row stride",
            f,
            in_body(Kind::Prefill, "* job.row_bytes", "* (job.row_bytes - 144u)"),
        ),
    ]
}

fn q6_k() -> Vec<Case> {
    let f = Format::Q6_K;
    vec![
        (
            "q6_k prefill skips a block",
            f,
            in_body(Kind::Prefill, "var blk = 0u;", "var blk = 1u;"),
        ),
        (
            "q6_k with one scale for both halves of a block",
            f,
            in_header(Kind::Decode, f, "gr.scales[i >> 2u]", "gr.scales[0]"),
        ),
        (
            "q6_k with its scales unsigned",
            f,
            in_header(Kind::Prefill, f, "bitcast<vec2<i32>>", "bitcast<vec2<u32>>"),
        ),
        (
            "q6_k with d at the start of its block",
            f,
            in_header(Kind::Decode, f, "word_at(s + 208u)", "word_at(s)"),
        ),
        (
            "q6_k with swapped nibbles",
            f,
            in_header(Kind::Prefill, f, "4u * (g >> 1u)", "4u * (g & 1u)"),
        ),
        (
            "q6_k with the high bits of the wrong group",
            f,
            in_header(
                Kind::Decode,
                f,
                "(g >> 1u), 2u * g);",
                "(g >> 1u), 2u * (g ^ 1u));",
            ),
        ),
        (
            "q6_k blind to a super-block's half-word offset",
            f,
            in_header(
                Kind::Decode,
                f,
                "select(v[j], (v[j] >> 16u) | (v[j + 1u] << 16u), odd)",
                "v[j]",
            ),
        ),
        (
            "q6_k with a wrong super-block stride",
            f,
            in_header(
                Kind::Prefill,
                f,
                "SUPER_BYTES: u32 = 210u;",
                "SUPER_BYTES: u32 = 208u;",
            ),
        ),
    ]
}

fn mxfp4() -> Vec<Case> {
    let f = Format::MXFP4;
    vec![
        (
            "mxfp4 decode skips a block",
            f,
            in_body(Kind::Decode, "blk < blocks;", "blk + 1u < blocks;"),
        ),
        (
            "mxfp4 blind to odd byte offsets",
            f,
            in_header(Kind::Decode, f, "let off = b & 3u;", "let off = b & 2u;"),
        ),
        (
            "mxfp4 reading its codes from the scale byte on",
            f,
            in_header(
                Kind::Prefill,
                f,
                "8u * ((off + 1u) & 3u)",
                "8u * (off & 3u)",
            ),
        ),
        (
            "mxfp4 with the E2M1 mantissa bit dropped",
            f,
            in_header(
                Kind::Prefill,
                f,
                "(vec4<u32>(2u) + (mag & vec4<u32>(1u)))",
                "(vec4<u32>(2u) + (mag & vec4<u32>(0u)))",
            ),
        ),
        (
            "mxfp4 with E2M1 subnormals read as normals",
            f,
            in_header(Kind::Decode, f, "e == vec4<u32>(0u)", "e == vec4<u32>(9u)"),
        ),
        (
            "mxfp4 with the E8M0 bias of a whole E2M1 value",
            f,
            in_header(Kind::Decode, f, "i32(e) - 128", "i32(e) - 127"),
        ),
        (
            "mxfp4 with swapped nibbles",
            f,
            in_header(
                Kind::Decode,
                f,
                "out.q[j] = codes(r.qs[j], 0u);",
                "out.q[j] = codes(r.qs[j], 4u);",
            ),
        ),
        (
            "mxfp4 with a wrong block stride",
            f,
            in_header(
                Kind::Prefill,
                f,
                "BLOCK_BYTES: u32 = 17u;",
                "BLOCK_BYTES: u32 = 18u;",
            ),
        ),
    ]
}

fn q5_k() -> Vec<Case> {
    let f = Format::Q5_K;
    vec![
        (
            "q5_k with the fifth bits of the next sub-block",
            f,
            in_header(
                Kind::Prefill,
                f,
                ">> vec4<u32>(j);",
                ">> vec4<u32>(j ^ 1u);",
            ),
        ),
        (
            "q5_k with a sub-block's min as its scale",
            f,
            in_header(
                Kind::Decode,
                f,
                "vec2<u32>(lo & 63u, mid & 63u)",
                "vec2<u32>(mid & 63u, mid & 63u)",
            ),
        ),
        (
            "q5_k without the min",
            f,
            in_header(
                Kind::Decode,
                f,
                "out.q[i] = q * am.x - am.y;",
                "out.q[i] = q * am.x;",
            ),
        ),
        (
            "q5_k with swapped nibbles",
            f,
            in_header(Kind::Decode, f, "4u * (j & 1u));", "4u * (1u - (j & 1u)));"),
        ),
        (
            "q5_k with a wrong super-block stride",
            f,
            in_header(
                Kind::Prefill,
                f,
                "SUPER_BYTES: u32 = 176u;",
                "SUPER_BYTES: u32 = 160u;",
            ),
        ),
    ]
}

#[test]
fn sabotaged_q4_k_kernels_are_caught() {
    assert_all_caught(&q4_k());
}

#[test]
fn sabotaged_q6_k_kernels_are_caught() {
    assert_all_caught(&q6_k());
}

#[test]
fn sabotaged_mxfp4_kernels_are_caught() {
    assert_all_caught(&mxfp4());
}

#[test]
fn sabotaged_q5_k_kernels_are_caught() {
    assert_all_caught(&q5_k());
}

/// A K-quant matrix whose rows are no whole super-block is refused with
/// the reason, before anything runs.
#[test]
fn k_quant_rows_that_are_no_whole_super_block_are_refused() {
    let gpu = gpu();
    let shaders = Shaders::builtin();
    let err = Decode::with_layout(&gpu, &shaders, Format::Q4_K, TINY, RES, Layout::LanesPerRow)
        .err()
        .expect("1184-weight rows in Q4_K are refused");
    let msg = format!("{err:#}");
    assert!(
        msg.contains("Q4_K stores rows in blocks of 256 weights; a row of 1184 weights"),
        "{msg}"
    );
}
