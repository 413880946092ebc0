//! The stream suite on the adapter present: every kernel verified element
//! by element, data that differs per element and that every kernel
//! changes, dot at awkward sizes, sabotaged kernels caught through the real
//! binary, an impossible size refused.

mod common;

use hashflops::workloads::stream::{self, check, Kernel, Replay, KERNELS};
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
        assert!(m.verified, "{} not verified: {:?}", m.kernel, m.problems);
        assert_eq!(m.metric, "bandwidth");
        assert_eq!(m.unit, "B/s");
        assert!(m.summary.median > 0.0 && m.summary.median.is_finite());
        assert!(m.summary.n >= 5);
        assert!(
            m.params.contains("array_bytes=1048576;elements=262144;"),
            "{}",
            m.params
        );
        assert!(
            m.params.contains("elements_checked=3x262144 (100%)"),
            "{}",
            m.params
        );
    }
    assert!(out.measured[4].params.contains("dot_partials_checked="));
}

#[test]
fn bytes_per_element_come_from_one_table() {
    let bytes: Vec<u64> = KERNELS.iter().map(|k| k.bytes_per_element()).collect();
    assert_eq!(bytes, [8, 8, 12, 12, 8]);
}

#[test]
fn initial_values_differ_per_element_and_stay_in_their_ranges() {
    let n = 1u64 << 18;
    for (which, (lo, hi)) in [(1.0f32, 2.0f32), (2.0, 4.0), (4.0, 8.0)]
        .into_iter()
        .enumerate()
    {
        let values: Vec<f32> = (0..n).map(|i| check::initial(which, i)).collect();
        assert!(values
            .iter()
            .all(|v| v.abs() >= lo && v.abs() < hi && v.is_finite()));
        let negative = values.iter().filter(|v| **v < 0.0).count() as f64 / n as f64;
        assert!((0.45..0.55).contains(&negative), "{negative}");
        let mut distinct: Vec<u32> = values.iter().map(|v| v.to_bits()).collect();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() as u64 > n * 99 / 100, "{}", distinct.len());
    }
}

/// What a grid-stride loop that skips an element leaves behind must differ
/// from what the kernel writes, for every element; and a kernel applied
/// again rewrites what it wrote, so a run of applications replays as one.
#[test]
fn every_kernel_changes_every_element_of_its_destination() {
    let order = [
        (Kernel::Copy, 2),
        (Kernel::Mul, 1),
        (Kernel::Add, 2),
        (Kernel::Triad, 0),
    ];
    for i in 0..(1u64 << 20) {
        let mut e = [
            check::initial(0, i),
            check::initial(1, i),
            check::initial(2, i),
        ];
        for (kernel, dest) in order {
            let next = check::apply(e, kernel);
            assert_ne!(
                next[dest], e[dest],
                "{kernel:?} leaves element {i} as it was"
            );
            assert_eq!(check::apply(next, kernel), next, "{kernel:?} at {i}");
            e = next;
        }
    }
}

#[test]
fn the_replay_follows_the_recorded_applications() {
    let mut r = Replay::default();
    let start = r.element(5);
    r.record(Kernel::Copy, 0);
    assert_eq!(r.element(5), start, "no application changes nothing");
    r.record(Kernel::Copy, 3);
    r.record(Kernel::Mul, 7);
    let [a, _, _] = start;
    let b = 0.4f32 * a;
    assert_eq!(r.element(5), [a, b, a]);
    r.record(Kernel::Add, 1);
    r.record(Kernel::Triad, 2);
    let c = a + b;
    assert_eq!(r.element(5), [b + 0.4f32 * c, b, c]);
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
    let broken = common::mutate(
        stream::WGSL,
        "i < n; i += stride) {\n        sum +=",
        "i + 1u < n; i += stride) {\n        sum +=",
    );
    let check = stream::dot_on_gpu(&gpu, &broken, &a, &b, Some(3)).expect("dot");
    assert!(
        !check.ok(),
        "a dot that skips the last vec4 passed: {check:?}"
    );
}

/// Each kernel's loop body in `shaders/stream.wgsl`, by row name.
const BODIES: [(&str, &str); 5] = [
    ("copy", "c[i] = a[i];"),
    ("mul", "b[i] = s * c[i];"),
    ("add", "c[i] = a[i] + b[i];"),
    ("triad", "a[i] = b[i] + s * c[i];"),
    ("dot", "sum += dot(a[i], b[i]);"),
];

/// Runs the real binary on `mutant` and asserts the `kernel` rows fail.
fn assert_mutant_caught(kernel: &str, mutant: String, what: &str) {
    let run = common::run_with_shaders(
        "stream",
        &[("stream", mutant)],
        &["--size", "1M", "--samples", "5"],
    );
    common::assert_caught(&run, kernel, what);
}

#[test]
fn grid_stride_loops_with_fewer_trips_are_caught() {
    for (kernel, body) in BODIES {
        let header = format!("i < n; i += stride) {{\n        {body}");
        for (short, what) in [("n - 1u", "n-1 trips"), ("n / 2u", "n/2 trips")] {
            let mutant = common::mutate(
                stream::WGSL,
                &header,
                &header.replace("i < n;", &format!("i < {short};")),
            );
            assert_mutant_caught(kernel, mutant, &format!("{kernel}: {what}"));
        }
    }
    let final_loop = "i < groups; i += WG) {\n        sum += partial[i];";
    let mutant = common::mutate(
        stream::WGSL,
        final_loop,
        &final_loop.replace("i < groups;", "i < groups - 1u;"),
    );
    assert_mutant_caught("dot", mutant, "dot_final: groups-1 trips");
}

#[test]
fn reading_element_zero_instead_of_i_is_caught() {
    for (kernel, body) in BODIES {
        // The first operand read (after the `=` or inside `dot(`).
        let at = body.find("= ").or_else(|| body.find('(')).unwrap();
        let read = at + body[at..].find("[i]").unwrap();
        let mutant_body = format!("{}[0]{}", &body[..read], &body[read + 3..]);
        let mutant = common::mutate(stream::WGSL, body, &mutant_body);
        assert_mutant_caught(kernel, mutant, &format!("{kernel}: {mutant_body}"));
    }
}

#[test]
fn a_scalar_off_by_one_part_in_a_thousand_is_caught() {
    for (kernel, body) in [BODIES[1], BODIES[3]] {
        let mutant = common::mutate(
            stream::WGSL,
            body,
            &body.replace("s * c[i]", "(s * 1.001) * c[i]"),
        );
        assert_mutant_caught(kernel, mutant, &format!("{kernel}: scalar * 1.001"));
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
