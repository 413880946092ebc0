//! The matmul kernels against the f64 CPU reference, on the adapter present.

mod common;

use half::f16;
use hashflops::workloads::matmul::{self, Coverage, TileConfig};
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

fn check_f32(gpu: &hashflops::gpu::Gpu, wgsl: &str, cfg: TileConfig, (m, n, k): (u32, u32, u32)) {
    let (a, b) = inputs(m, n, k);
    let c = matmul::multiply(gpu, wgsl, cfg, m, n, k, &a, &b).unwrap();
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
    for shape in SHAPES {
        check_f32(&gpu, matmul::WGSL, TileConfig::default(), shape);
    }
}

#[test]
fn every_autotune_candidate_is_correct() {
    let gpu = common::gpu();
    let candidates = TileConfig::candidates(&gpu);
    assert!(!candidates.is_empty());
    for cfg in candidates {
        for (m, n, k) in [(127, 255, 63), (129, 260, 68), (257, 132, 301), (3, 4, 1)] {
            if cfg.entry(k, n).is_some() {
                check_f32(&gpu, matmul::WGSL, cfg, (m, n, k));
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
    let c = matmul::multiply(&gpu, matmul::WGSL, cfg, m, n, k, &a, &b).unwrap();
    let v = matmul::verify(m, n, k, &a, &b, &c, Coverage::Sampled, 5);
    assert!(v.ok(), "{:?}", v.problems);
    // 16 whole rows and 16 whole columns.
    assert_eq!(v.checked, 16 * 1024 + (1024 - 16) * 16);
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
            size: None,
        };
        let out = matmul::run(&common::ctx(&gpu, &shaders, &sizes)).unwrap();
        assert!(
            out.skipped
                .iter()
                .any(|s| s.kernel == "hgemm" && s.reason.contains("SHADER_F16")),
            "no f16 and no skip reported: {:?}",
            out.skipped
        );
        assert!(out.measured.iter().all(|m| m.kernel != "hgemm"));
        return;
    }
    let mut runs: Vec<(TileConfig, (u32, u32, u32))> =
        SHAPES.iter().map(|&s| (TileConfig::default(), s)).collect();
    for cfg in TileConfig::candidates(&gpu) {
        runs.push((cfg, (129, 260, 68)));
    }
    for (cfg, (m, n, k)) in runs {
        let (a, b) = inputs(m, n, k);
        let ha: Vec<f16> = a.iter().map(|&x| f16::from_f32(x)).collect();
        let hb: Vec<f16> = b.iter().map(|&x| f16::from_f32(x)).collect();
        let c = matmul::multiply_f16(&gpu, matmul::WGSL_F16, cfg, m, n, k, &ha, &hb).unwrap();
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
fn a_kernel_that_skips_the_last_k_tile_is_caught() {
    let gpu = common::gpu();
    let good = "t < num_k_tiles";
    assert!(
        matmul::WGSL.contains(good),
        "the K-tile loop changed; update this test"
    );
    let broken = matmul::WGSL.replace(good, "t + 1u < num_k_tiles");
    for (m, n, k) in [(127, 255, 63), (257, 129, 300), (129, 260, 68)] {
        let (a, b) = inputs(m, n, k);
        let c = matmul::multiply(&gpu, &broken, TileConfig::default(), m, n, k, &a, &b).unwrap();
        let v = matmul::verify(m, n, k, &a, &b, &c, Coverage::Full, 1);
        assert!(!v.ok(), "{m}x{n}x{k}: broken kernel passed verification");
        assert!(!v.problems.is_empty() && v.problems[0].contains("expected"));
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
        size: None,
    };
    let out = matmul::run(&common::ctx(&gpu, &shaders, &sizes)).unwrap();
    let sgemm = out
        .measured
        .iter()
        .find(|m| m.kernel == "sgemm")
        .expect("sgemm row");
    assert!(sgemm.verified, "{}", sgemm.params);
    assert_eq!(sgemm.metric, "flops");
    assert_eq!(sgemm.unit, "FLOP/s");
    assert!(sgemm.summary.median > 0.0);
    assert!(sgemm.params.starts_with("m=100;n="), "{}", sgemm.params);
    assert!(sgemm.params.contains(";k=36;tile="), "{}", sgemm.params);
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
    let (best, notes) = matmul::autotune(&ctx, matmul::WGSL, &ops).unwrap();
    for n in notes {
        println!("{n}");
    }
    println!("best: {}", best.describe());
}
