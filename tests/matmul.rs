//! The matmul kernels against the f64 CPU reference, on the adapter present.

mod common;

use half::f16;
use hashflops::workloads::matmul::{self, Coverage, Kernels, Precision, TileConfig};
use hashflops::workloads::{Shaders, SizeOptions};

/// Awkward shapes: none a multiple of any tile, some on the scalar-load path,
/// some (K and N multiples of 4) on the vec4 path.
const SHAPES: [(u32, u32, u32); 6] = [
    (1, 1, 1),
    (1, 101, 255),
    (127, 255, 63),
    (257, 129, 300),
    (129, 260, 68),
    (5, 4, 4),
];

fn inputs(m: u32, n: u32, k: u32) -> (Vec<f32>, Vec<f32>) {
    (
        matmul::random_matrix((m * k) as usize, m as u64 * 7 + k as u64),
        matmul::random_matrix((k * n) as usize, n as u64 * 13 + k as u64),
    )
}

fn check_f32(
    gpu: &hashflops::gpu::Gpu,
    kernels: &Kernels,
    cfg: TileConfig,
    (m, n, k): (u32, u32, u32),
) {
    let (a, b) = inputs(m, n, k);
    let c = matmul::multiply(gpu, kernels, cfg, m, n, k, &a, &b).unwrap();
    let v = matmul::verify(m, n, k, &a, &b, &c, Coverage::Full, 1);
    assert!(
        v.ok(),
        "{m}x{n}x{k} with {}: {} of {} wrong: {:?}",
        cfg.describe(),
        v.failed,
        v.checked,
        v.problems
    );
}

#[test]
fn sgemm_matches_cpu_on_awkward_shapes() {
    let gpu = common::gpu();
    let kernels = Kernels::builtin(Precision::F32);
    for shape in SHAPES {
        check_f32(&gpu, &kernels, TileConfig::default(), shape);
    }
}

#[test]
fn every_autotune_candidate_is_correct() {
    let gpu = common::gpu();
    let kernels = Kernels::builtin(Precision::F32);
    let candidates = TileConfig::candidates(&gpu);
    assert!(!candidates.is_empty());
    for cfg in candidates {
        for (m, n, k) in [(127, 255, 63), (129, 260, 68), (257, 132, 301), (3, 4, 1)] {
            if cfg.entry(k, n).is_some() {
                check_f32(&gpu, &kernels, cfg, (m, n, k));
            }
        }
    }
}

#[test]
fn sgemm_1024_cubed_matches_sampled_rows_and_columns() {
    let gpu = common::gpu();
    let (m, n, k) = (1024, 1024, 1024);
    let (a, b) = inputs(m, n, k);
    let cfg = TileConfig::candidates(&gpu)[0];
    let kernels = Kernels::builtin(Precision::F32);
    let c = matmul::multiply(&gpu, &kernels, cfg, m, n, k, &a, &b).unwrap();
    let v = matmul::verify(m, n, k, &a, &b, &c, Coverage::Sampled, 5);
    assert!(v.ok(), "{:?}", v.problems);
    // 16 whole rows, 16 whole columns, 4096 random elements off them.
    assert_eq!(v.checked, 16 * 1024 + (1024 - 16) * 16 + 4096);
    assert_eq!(v.total, 1024 * 1024);
}

#[test]
fn hgemm_matches_cpu_or_is_reported_skipped() {
    let gpu = common::gpu();
    if !gpu.has(wgpu::Features::SHADER_F16) {
        let shaders = Shaders::default();
        let sizes = SizeOptions {
            m: Some(8),
            n: Some(8),
            k: Some(8),
            ..Default::default()
        };
        let out = matmul::run(&common::ctx(&gpu, &shaders, &sizes)).unwrap();
        assert!(
            out.skipped
                .iter()
                .any(|s| s.kernel.to_string() == "hgemm" && s.reason.contains("SHADER_F16")),
            "no f16 and no skip reported: {:?}",
            out.skipped
        );
        assert!(out.measured.iter().all(|m| m.kernel.to_string() != "hgemm"));
        return;
    }
    let kernels = Kernels::builtin(Precision::F16);
    let mut runs: Vec<(TileConfig, (u32, u32, u32))> =
        SHAPES.iter().map(|&s| (TileConfig::default(), s)).collect();
    for cfg in TileConfig::candidates(&gpu) {
        runs.push((cfg, (129, 260, 68)));
    }
    for (cfg, (m, n, k)) in runs {
        let (a, b) = inputs(m, n, k);
        let ha: Vec<f16> = a.iter().map(|&x| f16::from_f32(x)).collect();
        let hb: Vec<f16> = b.iter().map(|&x| f16::from_f32(x)).collect();
        let c = matmul::multiply_f16(&gpu, &kernels, cfg, m, n, k, &ha, &hb).unwrap();
        // The reference sees the same rounded inputs the kernel does.
        let ra: Vec<f32> = ha.iter().map(|x| x.to_f32()).collect();
        let rb: Vec<f32> = hb.iter().map(|x| x.to_f32()).collect();
        let v = matmul::verify(m, n, k, &ra, &rb, &c, Coverage::Full, 1);
        assert!(
            v.ok(),
            "f16 {m}x{n}x{k} {}: {:?}",
            cfg.describe(),
            v.problems
        );
    }
}

#[test]
fn unwritten_and_nan_elements_fail() {
    let (m, n, k) = (3, 5, 7);
    let (a, b) = inputs(m, n, k);
    let mut c = vec![0f32; (m * n) as usize];
    let good = matmul::verify(m, n, k, &a, &b, &c, Coverage::Full, 1);
    assert!(!good.ok(), "zeros passed as a product of random matrices");
    // The exact answer passes; one NaN does not.
    for i in 0..m as usize {
        for j in 0..n as usize {
            c[i * n as usize + j] = (0..k as usize)
                .map(|q| a[i * k as usize + q] as f64 * b[q * n as usize + j] as f64)
                .sum::<f64>() as f32;
        }
    }
    assert!(matmul::verify(m, n, k, &a, &b, &c, Coverage::Full, 1).ok());
    c[7] = f32::NAN;
    let v = matmul::verify(m, n, k, &a, &b, &c, Coverage::Full, 1);
    assert_eq!(v.failed, 1, "{:?}", v.problems);
    assert!(v.problems[0].contains("index 7"), "{:?}", v.problems);
}

#[test]
fn suite_reports_verified_rows_with_params() {
    let gpu = common::gpu();
    let shaders = Shaders::default();
    let sizes = SizeOptions {
        m: Some(100),
        n: None,
        k: Some(36),
        ..Default::default()
    };
    let out = matmul::run(&common::ctx(&gpu, &shaders, &sizes)).unwrap();
    let sgemm = out
        .measured
        .iter()
        .find(|m| m.kernel.to_string() == "sgemm")
        .expect("sgemm row");
    assert!(sgemm.verified, "{}", sgemm.params);
    assert_eq!(sgemm.metric.name(), "flops");
    assert_eq!(sgemm.unit, "FLOP/s");
    assert!(sgemm.summary.median > 0.0);
    assert!(
        sgemm.params.to_string().starts_with("m=100;n="),
        "{}",
        sgemm.params
    );
    assert!(
        sgemm.params.to_string().contains(";k=36;tile="),
        "{}",
        sgemm.params
    );
    // Small enough to check every element, and the row says so.
    assert!(
        sgemm.params.to_string().contains(";checked_share=1.0000"),
        "{}",
        sgemm.params
    );
    assert!(out.wrong.is_empty(), "{:?}", out.wrong);
    for m in &out.measured {
        assert!(m.verified, "{}: {}", m.kernel, m.params);
    }
    assert_eq!(out.measured.len() + out.skipped.len(), 2);
}

#[test]
fn zero_size_is_a_usage_error() {
    let out = common::hashflops(&["run", "--suite", "matmul", "--m", "0", "--quiet"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn size_beyond_the_adapter_is_a_usage_error() {
    let _ = common::gpu();
    let out = common::hashflops(&[
        "run", "--suite", "matmul", "--m", "1000000", "--n", "1000000", "--k", "8", "--quiet",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("1000000x1000000x8"), "{err}");
    assert!(err.contains("binds at most"), "{err}");
}

/// Kernel development: prints what autotuning measured for each shape
/// (`cargo test --release --test matmul -- --ignored --nocapture`).
#[test]
#[ignore]
fn autotune_report() {
    let gpu = common::gpu();
    let shaders = Shaders::default();
    let sizes = SizeOptions::default();
    let ctx = common::ctx(&gpu, &shaders, &sizes);
    let s: u32 = std::env::var("MATMUL_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    let (a, b) = inputs(s, s, s);
    let ops = matmul::Operands::f32(&gpu, s, s, s, &a, &b).unwrap();
    let tuned = matmul::autotune(&ctx, &Kernels::builtin(Precision::F32), &ops).unwrap();
    for n in tuned.notes.iter().chain(&tuned.wrong) {
        println!("{n}");
    }
    println!("best: {}", tuned.config.describe());
}

// Sabotaged copies of the real shaders, run through the real binary: each
// must end with unverified rows (or a named wrong answer) and exit 1.

const BODY: &str = include_str!("../shaders/matmul.wgsl");
const SUBGROUP: &str = include_str!("../shaders/matmul_subgroup.wgsl");
const ACC: &str = include_str!("../shaders/matmul_acc.wgsl");
/// Small, so the tests stay quick; N and K multiples of 4, so every layout
/// (tiled vec4, rows, textures, subgroups) can take part in autotuning.
const SMALL: [&str; 8] = ["--m", "64", "--n", "64", "--k", "64", "--samples", "5"];

/// The store line every entry point goes through, shared by all layouts.
const STORE: &str = "let v = get_acc(i, j);";

fn has_f16() -> bool {
    common::gpu().has(wgpu::Features::SHADER_F16)
}

/// Both precisions caught: every sgemm and hgemm row unverified, exit 1
/// (or hgemm reported skipped where the adapter has no f16).
fn assert_both_caught(run: &common::ShaderRun, what: &str) {
    common::assert_caught(run, "sgemm", what);
    if has_f16() {
        common::assert_caught(run, "hgemm", what);
    } else {
        let skipped = &run.json.as_ref().expect("a JSON document")["skipped"];
        assert!(skipped.to_string().contains("hgemm"), "{what}: {skipped}");
    }
}

/// Every layout's K loop with fewer trips: the tiled entries' tile count,
/// the row layout's K steps, and the texture layouts' four-step groups.
fn fewer_k_trips(tiles: &str, steps: &str, groups: &str) -> Vec<(&'static str, String)> {
    let body = common::mutate(
        BODY,
        "return (k + BK - 1u) / BK;",
        &format!("return (k + BK - 1u) / BK{tiles};"),
    );
    let body = common::mutate(
        &body,
        "kk < k; kk += 1u",
        &format!("kk < {steps}; kk += 1u"),
    );
    let body = common::mutate(
        &body,
        "k4 < k / 4u; k4 += 1u",
        &format!("k4 < {groups}; k4 += 1u"),
    );
    let subgroup = common::mutate(
        SUBGROUP,
        "k4 < k / 4u; k4 += 1u",
        &format!("k4 < {groups}; k4 += 1u"),
    );
    vec![("matmul", body), ("matmul_subgroup", subgroup)]
}

#[test]
fn one_k_step_short_is_caught_in_both_precisions() {
    let run = common::run_with_shaders(
        "matmul",
        &fewer_k_trips(" - 1u", "k - 1u", "k / 4u - 1u"),
        &SMALL,
    );
    assert_both_caught(&run, "K loop one trip short");
    // The replaced pieces were the ones compiled, the subgroup body too.
    let err = common::stderr(&run.output);
    for name in ["matmul", "matmul_subgroup"] {
        assert!(err.contains(&format!("shader {name}: using")), "{err}");
    }
}

#[test]
fn half_the_k_steps_is_caught_in_both_precisions() {
    let run = common::run_with_shaders(
        "matmul",
        &fewer_k_trips(" / 2u", "k / 2u", "k / 8u"),
        &SMALL,
    );
    assert_both_caught(&run, "K loop half the trips");
}

#[test]
fn a_fixed_row_of_a_is_caught_in_both_precisions() {
    // Row 1 of every invocation's block multiplies row 0's A values.
    let acc = common::mutate(
        ACC,
        "acc010 = fma(vec4<f32>(a.y), b0, acc010);",
        "acc010 = fma(vec4<f32>(a.x), b0, acc010);",
    );
    let run = common::run_with_shaders("matmul", &[("matmul_acc", acc)], &SMALL);
    assert_both_caught(&run, "A's row fixed");
}

#[test]
fn a_result_off_by_one_part_in_a_thousand_is_caught_in_both_precisions() {
    let acc = common::mutate(ACC, STORE, "let v = get_acc(i, j) * 1.001;");
    let run = common::run_with_shaders("matmul", &[("matmul_acc", acc)], &SMALL);
    assert_both_caught(&run, "accumulator scaled by 1.001");
}

#[test]
fn a_kernel_right_on_the_probe_but_wrong_when_timed_is_caught() {
    // The autotune probe is 67x132x44: only the measured size (N = 64) is
    // wrong, so only the check of the timed samples' output can see it.
    let acc = common::mutate(
        ACC,
        STORE,
        "let v = get_acc(i, j) * select(1.0, 1.001, n == 64u);",
    );
    let run = common::run_with_shaders("matmul", &[("matmul_acc", acc)], &SMALL);
    assert_both_caught(&run, "wrong at the measured size only");
    let json = run.json.as_ref().unwrap();
    assert_eq!(json["wrong_answers"], serde_json::json!([]), "{json}");
}

#[test]
fn a_kernel_that_writes_nothing_when_timed_is_caught() {
    let acc = common::mutate(
        ACC,
        "c[r * n + col + q] = c[r * n + col + q] + v[q];",
        "if (n != 64u) { c[r * n + col + q] = c[r * n + col + q] + v[q]; }",
    );
    let run = common::run_with_shaders("matmul", &[("matmul_acc", acc)], &SMALL);
    assert_both_caught(&run, "C never written at the measured size");
}

#[test]
fn one_wrong_autotune_variant_is_a_named_wrong_answer() {
    // Wrong only for one tile shape among those autotuning tries here; the
    // shape is told apart by the overrides every layout has.
    let gpu = common::gpu();
    let tried: Vec<TileConfig> = TileConfig::candidates(&gpu)
        .into_iter()
        .filter(|c| c.entry(64, 64).is_some())
        .collect();
    let key = |c: &TileConfig| (c.wg_x, c.tm, c.tnv);
    let victim = *tried
        .iter()
        .find(|c| tried.iter().filter(|d| key(d) == key(c)).count() == 1)
        .expect("a tile shape with its own WG_X, TM, TNV");
    let acc = common::mutate(
        ACC,
        STORE,
        &format!(
            "let v = get_acc(i, j) * select(1.0, 1.001, WG_X == {}u && TM == {}u && TNV == {}u);",
            victim.wg_x, victim.tm, victim.tnv
        ),
    );
    let run = common::run_with_shaders("matmul", &[("matmul_acc", acc)], &SMALL);
    let err = common::stderr(&run.output);
    assert_eq!(run.output.status.code(), Some(1), "{err}");
    let json = run.json.as_ref().expect("a JSON document");
    let wrong: Vec<String> = json["wrong_answers"]
        .as_array()
        .expect("wrong_answers")
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect();
    let precisions = if has_f16() { 2 } else { 1 };
    assert_eq!(wrong.len(), precisions, "{wrong:?}");
    for w in &wrong {
        assert!(w.contains(&victim.describe()), "{w} names another shape");
        assert!(err.contains(w.as_str()), "not on stderr: {w}\n{err}");
    }
    // The other shapes are right, so the measured rows are verified.
    let rows = run.rows();
    assert_eq!(rows.len(), precisions, "{rows:?}");
    for r in &rows {
        assert_eq!(r["verified"], true, "{r}");
    }
}

/// Sizes that are multiples of no tile, through the binary: every row
/// verified over every element, no wrong answer, exit 0.
fn awkward_size_verifies(m: &str, n: &str, k: &str) {
    let args = ["--m", m, "--n", n, "--k", k, "--samples", "5"];
    let run = common::run_with_shaders("matmul", &[], &args);
    let err = common::stderr(&run.output);
    assert_eq!(run.output.status.code(), Some(0), "{err}");
    let rows = run.rows();
    assert_eq!(rows.len(), if has_f16() { 2 } else { 1 }, "{err}");
    for r in &rows {
        assert_eq!(r["verified"], true, "{r}");
        let params = r["params"].as_str().unwrap();
        assert!(
            params.starts_with(&format!("m={m};n={n};k={k};")),
            "{params}"
        );
        assert!(params.contains("checked_share=1.0000"), "{params}");
    }
}

#[test]
fn sizes_off_the_tiles_verify_on_the_scalar_path() {
    awkward_size_verifies("67", "45", "33");
}

#[test]
fn sizes_off_the_tiles_verify_on_the_vector_paths() {
    awkward_size_verifies("67", "44", "36");
}

/// Every variant autotuning can choose here, forced in turn: an unmodified
/// copy through `--shader-dir` passes; a store that keeps C once C is
/// written (memoised), and one that drops the product of every second
/// repetition (the odd input window), fail by name in both precisions.
#[test]
fn memoised_and_every_second_repetition_kernels_fail_in_every_variant() {
    let gpu = common::gpu();
    let variants: Vec<String> = TileConfig::candidates(&gpu)
        .into_iter()
        .filter(|c| c.entry(64, 64).is_some())
        .map(|c| c.describe())
        .collect();
    assert!(!variants.is_empty());
    let add = "c[r * n + col + q] = c[r * n + col + q] + v[q];";
    let memo = common::mutate(
        ACC,
        add,
        &format!("if (c[r * n + col + q] == 0.0) {{ {add} }}"),
    );
    let half = common::mutate(
        ACC,
        STORE,
        &format!("if (dims.window == 1u) {{ return; }}\n            {STORE}"),
    );
    for v in &variants {
        let env = [(hashflops::workloads::matmul::FORCE_VARIANT, v.as_str())];
        let control = common::run_with_shaders_env(
            "matmul",
            &[("matmul_acc", ACC.to_string())],
            &SMALL,
            &env,
        );
        let err = common::stderr(&control.output);
        assert_eq!(control.output.status.code(), Some(0), "{v}: control: {err}");
        for row in control.rows() {
            assert_eq!(row["verified"], true, "{v}: control row {row}");
            assert!(
                row["params"].as_str().unwrap().contains(v.as_str()),
                "{v}: {row}"
            );
        }
        for (mutant, what) in [
            (&memo, "memoised store"),
            (&half, "every second repetition"),
        ] {
            let run = common::run_with_shaders_env(
                "matmul",
                &[("matmul_acc", mutant.clone())],
                &SMALL,
                &env,
            );
            let what = format!("{v}: {what}");
            assert_both_caught(&run, &what);
            let err = common::stderr(&run.output);
            assert!(
                err.contains("warning: sgemm: ") && err.contains("checked elements are wrong"),
                "{what}: {err}"
            );
        }
    }
}

#[test]
fn an_unknown_forced_variant_is_a_usage_error() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hashflops"))
        .args(["run", "--suite", "matmul", "--quick", "--quiet"])
        .env(hashflops::workloads::matmul::FORCE_VARIANT, "tile=1x1x1")
        .output()
        .unwrap();
    let err = common::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no such matmul variant"), "{err}");
}
