//! The stream suite on the adapter present: every kernel verified, dot at
//! awkward sizes, a broken kernel caught, an impossible size refused.

mod common;

use hashflops::workloads::stream::{self, Gold, Kernel, KERNELS};
use hashflops::workloads::{Shaders, SizeOptions};
use rand::{Rng, SeedableRng};

fn small() -> SizeOptions {
    SizeOptions {
        size: Some(1 << 20),
        ..Default::default()
    }
}

#[test]
fn every_kernel_is_measured_and_verified() {
    let gpu = common::gpu();
    let shaders = Shaders::default();
    let sizes = small();
    let ctx = common::ctx(&gpu, &shaders, &sizes);
    let out = stream::run(&ctx).expect("stream suite");
    let names: Vec<&str> = out.measured.iter().map(|m| m.kernel.as_str()).collect();
    assert_eq!(names, ["copy", "mul", "add", "triad", "dot"]);
    for m in &out.measured {
        assert!(m.verified, "{} not verified: {}", m.kernel, m.params);
        assert_eq!(m.metric, "bandwidth");
        assert_eq!(m.unit, "B/s");
        assert!(m.summary.median > 0.0 && m.summary.median.is_finite());
        assert!(m.summary.n >= 5);
        assert!(
            m.params.contains("array_bytes=1048576;elements=262144;"),
            "{}",
            m.params
        );
    }
}

#[test]
fn bytes_per_element_come_from_one_table() {
    let bytes: Vec<u64> = KERNELS.iter().map(|k| k.bytes_per_element()).collect();
    assert_eq!(bytes, [8, 8, 12, 12, 8]);
}

#[test]
fn gold_values_follow_babelstream() {
    let mut g = Gold::new();
    for k in [Kernel::Copy, Kernel::Mul, Kernel::Add, Kernel::Triad] {
        g.apply(k, 3);
    }
    let (a, s) = (0.1f32, 0.4f32);
    let b = s * a;
    let c = a + b;
    assert_eq!((g.b, g.c, g.a), (b, c, b + s * c));
}

#[test]
fn dot_at_sizes_that_are_not_multiples_of_the_workgroup() {
    let gpu = common::gpu();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    // Sizes around vec4 and workgroup boundaries, odd group counts, and more
    // workgroups than elements.
    let cases: [(usize, Option<u32>); 9] = [
        (1, None),
        (3, Some(1)),
        (5, Some(3)),
        (1023, None),
        (1025, Some(2)),
        (4 * 256 + 7, Some(5)),
        (100_003, None),
        (100_003, Some(7)),
        (262_147, Some(64)),
    ];
    for (n, groups) in cases {
        let a: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
        let b: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
        let check = stream::dot_on_gpu(&gpu, stream::WGSL, &a, &b, groups).expect("dot");
        assert!(
            check.ok(),
            "n={n} groups={groups:?}: GPU {} CPU {} tolerance {}",
            check.got,
            check.want,
            check.tolerance
        );
    }
}

#[test]
fn a_dot_that_drops_the_tail_is_caught() {
    let gpu = common::gpu();
    let n = 1003;
    let a = vec![1.0f32; n];
    let b = vec![1.0f32; n];
    let broken = stream::WGSL.replace(
        "i < n; i += stride) {\n        sum +=",
        "i + 1u < n; i += stride) {\n        sum +=",
    );
    assert_ne!(
        broken,
        stream::WGSL,
        "the dot loop changed; update this test"
    );
    let check = stream::dot_on_gpu(&gpu, &broken, &a, &b, Some(3)).expect("dot");
    assert!(
        !check.ok(),
        "a dot that skips the last vec4 passed: {check:?}"
    );
}

#[test]
fn a_wrong_triad_scalar_is_caught() {
    let gpu = common::gpu();
    let dir = tempfile::tempdir().unwrap();
    let broken = stream::WGSL.replace("a[i] = b[i] + s * c[i];", "a[i] = b[i] + (s + 1.0) * c[i];");
    assert_ne!(
        broken,
        stream::WGSL,
        "the triad line changed; update this test"
    );
    std::fs::write(dir.path().join("stream.wgsl"), broken).unwrap();
    let shaders = Shaders::from_dir(Some(dir.path().to_path_buf())).unwrap();
    let sizes = small();
    let ctx = common::ctx(&gpu, &shaders, &sizes);
    let out = stream::run(&ctx).expect("stream suite");
    for m in &out.measured {
        let expect = matches!(m.kernel.as_str(), "copy" | "mul" | "add");
        assert_eq!(
            m.verified, expect,
            "{}: verified={} ({})",
            m.kernel, m.verified, m.params
        );
    }
}

#[test]
fn a_size_beyond_the_adapter_is_a_usage_error() {
    let out = common::hashflops(&[
        "run", "--suite", "stream", "--size", "64G", "--quick", "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains("--size 68719476736 bytes is beyond adapter"),
        "stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}
