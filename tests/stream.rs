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
    let names: Vec<String> = out.measured.iter().map(|m| m.kernel.to_string()).collect();
    assert_eq!(names, ["copy", "mul", "add", "triad", "dot"]);
    for m in &out.measured {
        assert!(m.verified, "{} not verified: {:?}", m.kernel, m.problems);
        assert_eq!(m.metric.name(), "bandwidth");
        assert_eq!(m.unit, "B/s");
        assert!(m.summary.median > 0.0 && m.summary.median.is_finite());
        assert!(m.summary.n >= 5);
        assert!(
            m.params
                .to_string()
                .contains("array_bytes=1048576;elements=262144;"),
            "{}",
            m.params
        );
        // Every element, or a random sample of at least 2^16 per array.
        let checked: u64 = m
            .params
            .to_string()
            .split("elements_checked=3x")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(checked >= 1 << 16 || checked == 262144, "{}", m.params);
        assert!(
            m.params.to_string().contains(";repetitions="),
            "{}",
            m.params
        );
    }
    assert!(out.measured[4]
        .params
        .to_string()
        .contains("dot_partials_checked="));
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

/// Every repetition of an element-wise kernel changes its destination, and
/// the chain of repetitions never returns to a value it held: a repetition
/// skipped, or memoised because its output is already there, cannot leave
/// what the replay expects.
#[test]
fn every_repetition_changes_its_destination_and_never_cycles() {
    for kernel in [Kernel::Mul, Kernel::Add, Kernel::Triad] {
        for i in (0..(1u64 << 20)).step_by(997) {
            let mut e = [
                check::initial(0, i),
                check::initial(1, i),
                check::initial(2, i),
            ];
            let mut seen = vec![e];
            for rep in 0..2000u64 {
                let next = check::apply(e, kernel, rep, false);
                assert_ne!(
                    next, e,
                    "{kernel:?} repetition {rep} leaves element {i} as it was"
                );
                assert!(next.iter().all(|v| v.is_finite()));
                if rep < 64 {
                    assert!(
                        !seen.contains(&next),
                        "{kernel:?} at {i} cycles after {rep}"
                    );
                    seen.push(next);
                }
                e = next;
            }
        }
    }
}

#[test]
fn the_replay_follows_the_recorded_applications() {
    let n = 64u64;
    let init = |w: usize, i: u64| check::initial(w, i);
    let mut r = Replay::new(n);
    let start = r.element(5);
    r.record(Kernel::Copy, 0);
    assert_eq!(r.element(5), start, "no application changes nothing");
    // Three copies: c = rot1(a), a = rot2(c), c = rot1(a): c holds a rotated
    // by 4 vec4s (16 elements), a holds it rotated by 3.
    r.record(Kernel::Copy, 3);
    assert_eq!(r.element(5), [init(0, 5 + 12), init(1, 5), init(0, 5 + 16)]);
    assert_eq!(
        r.element(60),
        [init(0, (60 + 12) % n), init(1, 60), init(0, (60 + 16) % n)]
    );
    let after_copy = r.element(5);
    // Two muls: b = 0.4 c, then c = 2.5 (1 + 2^-16) b.
    r.record(Kernel::Mul, 2);
    let [a, _, c] = after_copy;
    let b = 0.4f32 * c;
    let c = 2.500_038_1_f32 * b;
    assert_eq!(r.element(5), [a, b, c]);
    // One add: c = a + b; one triad: a = b + 2.5 c.
    r.record(Kernel::Add, 1);
    r.record(Kernel::Triad, 1);
    let c = a + b;
    assert_eq!(r.element(5), [b + 2.5f32 * c, b, c]);
    assert_eq!(r.applications(Kernel::Mul), 2);
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

/// Each kernel's loop body in `shaders/stream.wgsl`, by row name (copy's
/// first line; it reads `a[j]`).
const BODIES: [(&str, &str); 5] = [
    ("copy", "var j = i + rot;"),
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
    let final_loop = "i < groups; i += WG) {\n        sum += dot_out[i];";
    let mutant = common::mutate(
        stream::WGSL,
        final_loop,
        &final_loop.replace("i < groups;", "i < groups - 1u;"),
    );
    assert_mutant_caught("dot", mutant, "dot_final: groups-1 trips");
}

#[test]
fn reading_element_zero_instead_of_i_is_caught() {
    let copy = common::mutate(stream::WGSL, "c[i] = a[j];", "c[i] = a[0];");
    assert_mutant_caught("copy", copy, "copy: c[i] = a[0]");
    for (kernel, body) in &BODIES[1..] {
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

/// The start of each kernel's entry point, where a mutant puts its early
/// return.
fn entry(kernel: &str) -> String {
    let name = if kernel == "dot" {
        "dot_partial"
    } else {
        kernel
    };
    format!("fn {name}(\n")
}

/// Runs `mutant` and asserts the `kernel` row fails with `failure` in its
/// warning, beside a control run of the unmodified shader through the same
/// `--shader-dir` that passes.
fn assert_fails_for(kernel: &str, mutant: String, what: &str, failure: &str) {
    let run = common::run_with_shaders(
        "stream",
        &[("stream", mutant)],
        &["--size", "1M", "--samples", "5"],
    );
    common::assert_caught(&run, kernel, what);
    let err = common::stderr(&run.output);
    assert!(
        err.contains(&format!("warning: {kernel}: ")) && err.contains(failure),
        "{what}: no {failure:?} for {kernel}; stderr: {err}"
    );
}

#[test]
fn an_unmodified_shader_through_shader_dir_passes() {
    let run = common::run_with_shaders(
        "stream",
        &[("stream", stream::WGSL.to_string())],
        &["--size", "1M", "--samples", "5"],
    );
    assert_eq!(
        run.output.status.code(),
        Some(0),
        "stderr: {}",
        common::stderr(&run.output)
    );
    assert_eq!(run.rows().len(), 5);
    assert!(run.rows().iter().all(|r| r["verified"] == true));
}

/// A kernel that returns at once when it has run before (a flag it leaves
/// in a spare word), and one that works on every second repetition only
/// (the odd repetitions' parameters tell it which): both fail by name.
#[test]
fn memoised_and_every_second_repetition_kernels_fail() {
    for (kernel, _) in BODIES {
        let start = entry(kernel);
        let body_start = |src: &str| {
            src.find(&start)
                .map(|at| at + src[at..].find("{\n").unwrap() + 2)
        };
        let at = body_start(stream::WGSL).expect("entry point");
        let failure = if kernel == "dot" {
            "partial sums are wrong"
        } else {
            "differ from the CPU replay"
        };
        let memo = if kernel == "dot" {
            common::mutate(
                stream::WGSL,
                "dot_out[g] = dot_out[g] + scratch[0];",
                "if (dot_out[g] == 0.0) { dot_out[g] = dot_out[g] + scratch[0]; }",
            )
        } else {
            // No spare word is bound beside the arrays (4 storage buffers
            // at most), so the flag is the last word the kernel writes.
            let dst = match kernel {
                "copy" | "add" => "c",
                "mul" => "b",
                _ => "a",
            };
            let mut m = stream::WGSL.to_string();
            m.insert_str(
                at,
                &format!(
                    "    if ({dst}[p.n - 1u].w == 7.0) {{ return; }}\n    {dst}[p.n - 1u].w = 7.0;\n"
                ),
            );
            m
        };
        assert_fails_for(kernel, memo, &format!("{kernel}: memoised"), failure);
        let mut half = stream::WGSL.to_string();
        half.insert_str(at, "    if (p.rot == 2u) { return; }\n");
        assert_fails_for(
            kernel,
            half,
            &format!("{kernel}: every second repetition"),
            failure,
        );
    }
}
