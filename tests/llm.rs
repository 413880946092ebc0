//! The llm suite's kernels against the CPU reference at sizes that are not
//! multiples of their tiles, and sabotaged copies of the real shaders —
//! each must be caught, including kernels that do the work of only some of
//! the timed repetitions.

mod common;

use common::{assert_caught, ctx, gpu, mutate, run_with_shaders, stderr, ShaderRun};
use hashflops::gpu::Gpu;
use hashflops::harness::measure;
use hashflops::workloads::llm::decode::Decode;
use hashflops::workloads::llm::formats::{Format, FORMATS, Q4_0_WGSL, Q8_0_WGSL};
use hashflops::workloads::llm::layout::{Layout, LAYOUT_ENV};
use hashflops::workloads::llm::prefill::Prefill;
use hashflops::workloads::llm::shapes::{Model, Residency};
use hashflops::workloads::{Shaders, SizeOptions};

/// Rows 1184, 30 and 416: not multiples of 4 (decode) or 64 (prefill);
/// K 1184 and 416: 37 and 13 blocks, not multiples of the 32 lanes.
/// (Q: 592 heads of 2, K and V: 15 of 2.)
const TINY: Model = Model::dense("tiny", 3, 1184, 592, 15, 2, 416, 32);
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

/// The kernel layouts this adapter runs (on lavapipe: both).
fn layouts(gpu: &Gpu) -> Vec<Layout> {
    let all = [Layout::LanesPerRow, Layout::RowPerLane];
    all.into_iter().filter(|l| l.runs_on(gpu)).collect()
}

/// (verified, problems) of the decode row for `format`.
fn decode(gpu: &Gpu, shaders: &Shaders, format: Format, layout: Layout) -> (bool, Vec<String>) {
    let sizes = SizeOptions::default();
    let c = ctx(gpu, shaders, &sizes);
    let w = Decode::with_layout(gpu, shaders, format, TINY, RES, layout).expect("decode setup");
    let rows = measure(&c, w).expect("decode measures");
    assert_eq!(rows.len(), 2, "token_rate and bandwidth rows");
    (rows[0].verified, rows[0].problems.clone())
}

fn prefill(gpu: &Gpu, shaders: &Shaders, format: Format, layout: Layout) -> (bool, Vec<String>) {
    let sizes = SizeOptions::default();
    let c = ctx(gpu, shaders, &sizes);
    let w = Prefill::with_layout(gpu, shaders, format, TINY, &["k", "down"], TOKENS, layout)
        .expect("prefill setup");
    let rows = measure(&c, w).expect("prefill measures");
    assert_eq!(rows.len(), 2, "token_rate and flops rows");
    (rows[0].verified, rows[0].problems.clone())
}

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
        "(low - 8.0, high - 8.0)",
        "(high - 8.0, low - 8.0)",
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

#[derive(Clone, Copy)]
enum Kind {
    Decode,
    Prefill,
}

/// The decode or prefill body a layout runs, and its built-in source.
fn body(kind: &Kind, layout: Layout) -> (&'static str, &'static str) {
    match kind {
        Kind::Decode => layout.decode().0,
        Kind::Prefill => layout.prefill().0,
    }
}

/// Each sabotage, applied to the real shader the layout runs, must leave
/// the row unverified.
#[test]
fn sabotaged_kernels_are_caught() {
    let gpu = gpu();
    // (what, format, kernel, (body text, sabotaged text) or a whole header)
    type Sabotage = Box<dyn Fn(Layout) -> (String, String)>;
    let in_body = |kind: Kind, from: &'static str, to: &'static str| -> (Kind, Sabotage) {
        (
            kind,
            Box::new(move |layout| {
                let (name, src) = body(&kind, layout);
                (name.to_string(), mutate(src, from, to))
            }),
        )
    };
    let header = |kind: Kind, name: &'static str, src: String| -> (Kind, Sabotage) {
        (kind, Box::new(move |_| (name.to_string(), src.clone())))
    };
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
    for layout in layouts(&gpu) {
        for (what, format, (kind, sabotage)) in &cases {
            let (name, src) = sabotage(layout);
            let (_dir, shaders) = with_shaders(&[(name.as_str(), src)]);
            let (ok, problems) = match kind {
                Kind::Decode => decode(&gpu, &shaders, *format, layout),
                Kind::Prefill => prefill(&gpu, &shaders, *format, layout),
            };
            assert!(!ok, "{what} ({layout:?}): passed the check");
            assert!(
                !problems.is_empty(),
                "{what} ({layout:?}): no problem named"
            );
        }
    }
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
