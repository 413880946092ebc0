//! The peak-rate kernels against their CPU reference, on the adapter present.

mod common;

use hashflops::workloads::peak::{self, Kernel, PeakKernel};
use hashflops::workloads::{Shaders, SizeOptions};

#[test]
fn every_peak_kernel_is_measured_verified_or_skipped() {
    let gpu = common::gpu();
    let shaders = Shaders::default();
    let sizes = SizeOptions::default();
    let out = peak::run(&common::ctx(&gpu, &shaders, &sizes)).unwrap();
    for name in peak::KERNELS {
        let measured = out.measured.iter().find(|m| m.kernel == name);
        let skipped = out.skipped.iter().find(|s| s.kernel == name);
        match (measured, skipped) {
            (Some(m), None) => {
                assert!(m.verified, "{name} disagreed with the CPU: {}", m.params);
                assert_eq!(m.metric, "peak_rate");
                assert!(m.summary.median > 0.0 && m.summary.median.is_finite());
                let unit = if name.starts_with("fp") {
                    "FLOP/s"
                } else {
                    "OP/s"
                };
                assert_eq!(m.unit, unit, "{name}");
            }
            (None, Some(s)) => {
                assert_eq!(name, "fp16_fma", "only f16 may be skipped");
                assert!(!gpu.has(wgpu::Features::SHADER_F16));
                assert!(s.reason.contains("SHADER_F16"), "{}", s.reason);
            }
            other => panic!("{name}: neither measured nor skipped exactly once: {other:?}"),
        }
    }
    assert_eq!(out.measured.len() + out.skipped.len(), peak::KERNELS.len());
}

#[test]
fn every_kernel_and_chain_count_matches_the_cpu() {
    let gpu = common::gpu();
    for kernel in Kernel::all() {
        if kernel == Kernel::Fp16Fma && !gpu.has(wgpu::Features::SHADER_F16) {
            continue;
        }
        let wgsl = if kernel == Kernel::Fp16Fma {
            peak::WGSL_F16
        } else {
            peak::WGSL
        };
        for chains in [4, 8] {
            let mut k = PeakKernel::new(&gpu, wgsl, kernel, chains, 3).unwrap();
            // Odd iteration counts catch a kernel that does one too many or
            // too few for the exact (integer) kernels.
            for iters in [1, 37] {
                k.set_iters(iters);
                let problems = k.verify(16).unwrap();
                assert!(
                    problems.is_empty(),
                    "{} chains={chains} iters={iters}: {problems:?}",
                    kernel.name()
                );
            }
        }
    }
}

#[test]
fn a_wrong_integer_chain_is_caught() {
    let gpu = common::gpu();
    let broken = peak::WGSL.replace(
        "let maj = (a & b) | (c & (a | b));",
        "let maj = (a & b) | c;",
    );
    assert_ne!(broken, peak::WGSL, "the Maj line changed; update this test");
    let mut k = PeakKernel::new(&gpu, &broken, Kernel::Sha256Round, 0, 2).unwrap();
    k.set_iters(5);
    let problems = k.verify(4).unwrap();
    assert!(!problems.is_empty(), "a broken SHA-256 round passed");
    assert!(problems[0].contains("expected"), "{problems:?}");
}

#[test]
fn the_unfused_kernel_never_feeds_a_product_into_an_add() {
    // A multiply whose result is an operand of an add may be contracted
    // into an FMA by the driver; the mul_add kernel must not contain one.
    let src = peak::WGSL;
    let start = src.find("fn fp32_mul_add").unwrap();
    let func = &src[start..start + src[start..].find("\n}\n").unwrap()];
    let lo = func.find("for (var t").expect("the chain loop");
    let body = &func[lo..lo + func[lo..].find("\n    }\n").unwrap()];
    assert!(body.matches('*').count() >= 4 && body.matches('+').count() >= 4);
    for line in body.lines().map(str::trim) {
        if line.contains('*') {
            assert!(!line.contains('+'), "a product feeds an add: {line}");
        }
    }
}
