//! The llm suite's kernels against the CPU reference at sizes that are not
//! multiples of their tiles, and sabotaged copies of the real shaders —
//! each must be caught, including kernels that do the work of only some of
//! the timed repetitions.

mod common;

use common::llm::{
    assert_all_caught, body, decode, header, in_body, layouts, prefill, Kind, Sabotage,
};
use common::{assert_caught, gpu, mutate, run_with_shaders, stderr, ShaderRun};
use hashflops::workloads::llm::formats::{Format, FORMATS, Q4_0_WGSL, Q8_0_WGSL};
use hashflops::workloads::llm::layout::{Layout, LAYOUT_ENV};
use hashflops::workloads::Shaders;

#[test]
fn every_kernel_agrees_with_the_cpu_at_untiled_sizes() {
    let gpu = gpu();
    let shaders = Shaders::builtin();
    for layout in layouts(&gpu) {
        for f in FORMATS {
            let (ok, problems) = decode(&gpu, &shaders, f, layout);
            assert!(ok, "decode_{} {layout:?}: {problems:?}", f.name());
            let (ok, problems) = prefill(&gpu, &shaders, f, layout);
            assert!(ok, "prefill_{} {layout:?}: {problems:?}", f.name());
        }
    }
}

/// The Q4_0 header with its nibble order swapped in both readers (the
/// whole-block one the decode and subgroup kernels use, and the quarter
/// one the tiled prefill uses).
fn swapped_nibbles() -> String {
    let src = mutate(
        Q4_0_WGSL,
        "((low - 8.0) * d, (high - 8.0) * d)",
        "((high - 8.0) * d, (low - 8.0) * d)",
    );
    let src = mutate(
        &src,
        "out.q[j] = vec4<f32>(bytes & vec4<u32>(15u)) - 8.0;",
        "out.q[j + 4u] = vec4<f32>(bytes & vec4<u32>(15u)) - 8.0;",
    );
    mutate(
        &src,
        "out.q[j + 4u] = vec4<f32>((bytes >> vec4<u32>(4u))",
        "out.q[j] = vec4<f32>((bytes >> vec4<u32>(4u))",
    )
}

/// A header reading the next block's scale, in both readers.
fn next_scale(src: &str, next_word: &str) -> String {
    let src = mutate(
        src,
        "unpack2x16float(word_at(b)).x",
        "unpack2x16float(word_at(b + BLOCK_BYTES)).x",
    );
    mutate(
        &src,
        "let d = unpack2x16float(v[0]);",
        &format!("let d = unpack2x16float(w[i + {next_word}]);"),
    )
}

/// Each sabotage, applied to the real shader the layout runs, must leave
/// the row unverified.
#[test]
fn sabotaged_kernels_are_caught() {
    let cases: Vec<(&str, Format, (Kind, Sabotage))> = vec![
        (
            "decode skips a block",
            Format::Q8_0,
            in_body(Kind::Decode, "blk < blocks;", "blk + 1u < blocks;"),
        ),
        (
            "decode with a wrong row stride",
            Format::F16,
            in_body(Kind::Decode, "* job.row_bytes;", "* (job.row_bytes - 64u);"),
        ),
        (
            "q4_0 nibbles swapped in decode",
            Format::Q4_0,
            header(Kind::Decode, "llm_q4_0", swapped_nibbles()),
        ),
        (
            "q4_0 decode with the next block's scale",
            Format::Q4_0,
            header(Kind::Decode, "llm_q4_0", next_scale(Q4_0_WGSL, "5u")),
        ),
        (
            "q8_0 decode with the next block's scale",
            Format::Q8_0,
            header(Kind::Decode, "llm_q8_0", next_scale(Q8_0_WGSL, "9u")),
        ),
        (
            "q4_0 blind to a block's half-word offset",
            Format::Q4_0,
            header(
                Kind::Decode,
                "llm_q4_0",
                mutate(Q4_0_WGSL, "out.d = select(d.x, d.y, odd);", "out.d = d.x;"),
            ),
        ),
        (
            "prefill skips a block",
            Format::Q4_0,
            in_body(Kind::Prefill, "var blk = 0u;", "var blk = 1u;"),
        ),
        (
            "prefill with a wrong row stride",
            Format::Q8_0,
            in_body(Kind::Prefill, "* job.row_bytes", "* (job.row_bytes + 2u)"),
        ),
        (
            "prefill with swapped nibbles",
            Format::Q4_0,
            header(Kind::Prefill, "llm_q4_0", swapped_nibbles()),
        ),
    ];
    assert_all_caught(&cases);
}

/// Through the binary: a wrong nibble order ends unverified, exit 1.
#[test]
fn the_binary_exits_1_on_a_wrong_nibble_order() {
    let run = run_with_shaders("llm", &[("llm_q4_0", swapped_nibbles())], &[]);
    assert_caught(&run, "decode_q4_0", "swapped nibbles");
    assert_caught(&run, "prefill_q4_0", "swapped nibbles");
}

/// `hashflops run --suite llm --quick --quiet` with `layout` forced through
/// `HASHFLOPS_LLM_LAYOUT` and `shaders` in a fresh `--shader-dir`.
fn run_llm(layout: Layout, shaders: &[(&str, String)]) -> ShaderRun {
    common::run_with_shaders_env("llm", shaders, &[], &[(LAYOUT_ENV, layout.name())])
}

/// The kernels a quick llm run measures on a software adapter.
const QUICK_KERNELS: [&str; 4] = ["decode_q4_0", "decode_q8_0", "decode_f16", "prefill_q4_0"];

/// `src` with `line` inserted as the first statement of entry point `entry`.
fn at_entry(src: &str, entry: &str, line: &str) -> String {
    let at = src.find(&format!("fn {entry}(")).expect("entry point");
    let at = at + src[at..].find("{\n").expect("entry body") + 2;
    format!("{}    {line}\n{}", &src[..at], &src[at..])
}

/// A kernel that skips its work where its output is already written: the
/// realistic one-line memoisation, in the body `kind` runs in `layout`.
fn memoised(kind: Kind, layout: Layout) -> String {
    let (_, src) = body(&kind, layout);
    let (from, check) = match (kind, layout) {
        (Kind::Decode, Layout::LanesPerRow) => {
            return mutate(
                src,
                "let live = row < job.rows;",
                "let live = row < job.rows && y[job.out_offset + row] == 0.0;",
            )
        }
        (Kind::Decode, Layout::RowPerLane) => (
            "let blocks = job.k / 32u;",
            "if (y[job.out_offset + min(row, job.rows - 1u)] != 0.0) { return; }",
        ),
        (Kind::Prefill, Layout::LanesPerRow) => (
            "let blocks = job.k / 32u;",
            "if (y[tok_base * job.ld + job.row0 + row_base] != 0.0) { return; }",
        ),
        (Kind::Prefill, Layout::RowPerLane) => (
            "let k4 = job.k / 4u;",
            "if (y[tok0 * job.ld + job.row0 + min(row, job.rows - 1u)] != 0.0) { return; }",
        ),
    };
    mutate(src, from, &format!("{from}\n    {check}"))
}

/// A kernel that works on every second repetition only: those that read
/// activation window 0 (what tells the repetitions apart).
fn every_second(kind: Kind, layout: Layout) -> String {
    let ((_, src), entry) = match kind {
        Kind::Decode => (layout.decode().0, layout.decode().1),
        Kind::Prefill => (layout.prefill().0, layout.prefill().1),
    };
    at_entry(src, entry, "if (job.x_offset != 0u) { return; }")
}

/// Asserts that every quick llm row of `run` is unverified, exit 1, and
/// that each kernel's warning names `failure`.
fn assert_fails_with(run: &ShaderRun, what: &str, failure: &str) {
    assert_caught(run, "decode_", what);
    assert_caught(run, "prefill_", what);
    let err = stderr(&run.output);
    for kernel in QUICK_KERNELS {
        let named = err.lines().any(|l| {
            l.starts_with(&format!("hashflops: warning: {kernel}: ")) && l.contains(failure)
        });
        assert!(named, "{what}: no {failure:?} for {kernel}; stderr: {err}");
    }
}

/// Through the binary, per layout (forced, so the software adapter runs
/// both): an unmodified copy of the decode and prefill bodies through
/// `--shader-dir` passes; a memoising copy (its output already written, it
/// skips the work) and one that works on every second repetition only
/// each end in exit 1 with their named failure, for decode and prefill.
fn memoised_and_every_second_repetition_kernels_fail(layout: Layout) {
    let gpu = gpu();
    if !layout.runs_on(&gpu) {
        eprintln!("{layout:?}: this adapter cannot run it; not tested");
        return;
    }
    let pieces = [
        body(&Kind::Decode, layout).0,
        body(&Kind::Prefill, layout).0,
    ];
    let copies: Vec<(&str, String)> = [Kind::Decode, Kind::Prefill]
        .iter()
        .map(|k| (body(k, layout).0, body(k, layout).1.to_string()))
        .collect();
    let control = run_llm(layout, &copies);
    let err = stderr(&control.output);
    assert_eq!(control.output.status.code(), Some(0), "control: {err}");
    for piece in pieces {
        assert!(
            err.contains(&format!("shader {piece}: using")),
            "{piece}: {err}"
        );
    }
    // The decode and prefill rows (attention has its own tests).
    let rows: Vec<_> = control
        .rows()
        .into_iter()
        .filter(|r| QUICK_KERNELS.contains(&r["kernel"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(
        rows.len(),
        2 * QUICK_KERNELS.len(),
        "control rows: {rows:?}"
    );
    for r in &rows {
        assert_eq!(r["verified"], true, "control: {r}");
        let params = r["params"].as_str().unwrap_or_default();
        assert!(
            params.contains(&format!("layout={};", layout.name())),
            "{r}"
        );
    }

    let mutants = |f: fn(Kind, Layout) -> String| -> Vec<(&str, String)> {
        [Kind::Decode, Kind::Prefill]
            .into_iter()
            .map(|k| (body(&k, layout).0, f(k, layout)))
            .collect()
    };
    let run = run_llm(layout, &mutants(memoised));
    assert_fails_with(
        &run,
        &format!("memoised ({layout:?})"),
        "every wrong output holds one repetition's product",
    );
    let run = run_llm(layout, &mutants(every_second));
    assert_fails_with(
        &run,
        &format!("every second repetition ({layout:?})"),
        "repetitions that read activation window 0 of",
    );
}

#[test]
fn lanes_per_row_memoised_and_every_second_repetition_kernels_fail() {
    memoised_and_every_second_repetition_kernels_fail(Layout::LanesPerRow);
}

#[test]
fn row_per_lane_memoised_and_every_second_repetition_kernels_fail() {
    memoised_and_every_second_repetition_kernels_fail(Layout::RowPerLane);
}

/// A layout name the suite does not know is refused, not ignored.
#[test]
fn an_unknown_forced_layout_is_refused() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hashflops"))
        .args(["run", "--suite", "llm", "--quick", "--quiet"])
        .env(LAYOUT_ENV, "rows_sideways")
        .output()
        .expect("running hashflops");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("HASHFLOPS_LLM_LAYOUT=rows_sideways"), "{err}");
}

/// `--llm-formats` times decode and prefill in the formats named, and in
/// no other, whatever the scale would have chosen.
#[test]
fn llm_formats_picks_what_decode_and_prefill_time() {
    let output = common::hashflops(&[
        "run",
        "--suite",
        "llm",
        "--quick",
        "--quiet",
        "--llm-formats",
        "q5_k",
        "--json",
        "-",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let kernels: Vec<&str> = doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["kernel"].as_str())
        .filter(|k| k.starts_with("decode_") || k.starts_with("prefill_"))
        .collect();
    assert!(kernels.contains(&"decode_q5_k"), "{kernels:?}");
    assert!(kernels.contains(&"prefill_q5_k"), "{kernels:?}");
    assert!(kernels.iter().all(|k| k.ends_with("q5_k")), "{kernels:?}");
}
