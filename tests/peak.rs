//! The peak kernels: the recurrences are proven lazy-proof on the CPU, the
//! unfused kernel is checked on the generated SPIR-V, the suite runs
//! verified, and sabotaged copies of the real WGSL are caught through the
//! binary.

mod common;

use std::collections::HashSet;

use half::f16;
use hashflops::workloads::peak::replay::{self, Float, FmaRounding};
use hashflops::workloads::peak::{self, Kernel};
use hashflops::workloads::{Shaders, SizeOptions};

/// Every f16 start value (10 fraction bits in [1, 2)) and every rounding a
/// device may use: each step moves the chain up, and it stays finite, for
/// as many steps as the kernel may run. So a chain's value tells its step
/// count, and no shorter loop can produce it.
fn assert_strictly_growing<T: Float>(kernel: Kernel, roundings: &[FmaRounding]) {
    let (f, _) = kernel.coefficients();
    let (a, b) = (T::from_f32(f[0]), T::from_f32(f[1]));
    let steps = 2 * kernel.max_iters();
    for &r in roundings {
        for k in 0..1024 {
            let mut x = T::from_f32(1.0 + k as f32 / 1024.0);
            for s in 0..steps {
                let y = x.fma(a, b, r);
                assert!(
                    y > x && y.to_f64().is_finite(),
                    "{}: start {k}/1024 stalls or overflows at step {s} ({r:?})",
                    kernel.name()
                );
                x = y;
            }
        }
    }
}

#[test]
fn float_chains_grow_at_every_step_from_every_start() {
    assert_strictly_growing::<f16>(Kernel::Fp16Fma, f16::ROUNDINGS);
    assert_strictly_growing::<f32>(Kernel::Fp32Fma, f32::ROUNDINGS);
    assert_strictly_growing::<f64>(Kernel::Fp64Fma, f64::ROUNDINGS);
    let (f, _) = Kernel::Fp32MulAdd.coefficients();
    for k in 0..1024 {
        let (mut x, mut y) = (1.0 + k as f32 / 1024.0, 1.0 + k as f32 / 1024.0);
        for _ in 0..2 * Kernel::Fp32MulAdd.max_iters() {
            let (x1, y1) = (x * f[2], y + f[3]);
            assert!(x1 > x && y1 > y && x1.is_finite(), "start {k}/1024 stalls");
            (x, y) = (x1, y1);
        }
    }
}

#[test]
fn integer_chains_have_the_periods_they_rely_on() {
    // i32_mad: an LCG modulo 2^32 has full period (Hull-Dobell) when k is
    // odd and m - 1 is a multiple of 4.
    let (_, k) = Kernel::I32Mad.coefficients();
    assert!(k[1] % 2 == 1 && (k[0] - 1) % 4 == 0);
    // int8_dot4: c is odd and exceeds every dot product's magnitude, so x
    // moves forward by at least c - 16384 and at most c + 16384 per step.
    let (_, w) = Kernel::Int8Dot4.coefficients();
    let bound: i64 = w[0]
        .to_le_bytes()
        .iter()
        .map(|&b| 128 * (b as i8 as i64).abs())
        .sum();
    let c = w[1] as i64;
    assert!(c % 2 == 1 && c > bound);
    assert!((Kernel::Int8Dot4.max_iters() as i64) * (c + bound) < 1 << 32);
}

/// One step of a chain state held as raw words.
type Step = Box<dyn Fn(&mut [u64])>;

/// The step of `kernel`'s chain state, held as raw words (floats: their
/// bits), under rounding `r`.
fn chain_step(kernel: Kernel, r: FmaRounding) -> Step {
    let (f, k) = kernel.coefficients();
    match kernel {
        Kernel::Fp64Fma => {
            let (a, b) = (f[0] as f64, f[1] as f64);
            Box::new(move |s| s[0] = f64::from_bits(s[0]).fma(a, b, r).to_bits())
        }
        Kernel::Fp32Fma => Box::new(move |s| {
            s[0] = f32::from_bits(s[0] as u32).fma(f[0], f[1], r).to_bits() as u64
        }),
        Kernel::Fp16Fma => {
            let (a, b) = (f16::from_f32(f[0]), f16::from_f32(f[1]));
            Box::new(move |s| s[0] = f16::from_bits(s[0] as u16).fma(a, b, r).to_bits() as u64)
        }
        Kernel::Fp32MulAdd => Box::new(move |s| {
            s[0] = (f32::from_bits(s[0] as u32) * f[2]).to_bits() as u64;
            s[1] = (f32::from_bits(s[1] as u32) + f[3]).to_bits() as u64;
        }),
        Kernel::I32Mad => {
            Box::new(move |s| s[0] = (s[0] as u32).wrapping_mul(k[0]).wrapping_add(k[1]) as u64)
        }
        Kernel::Int8Dot4 => Box::new(move |s| {
            let (x, y) = replay::dot4_pair((s[0] as u32, s[1] as u32), k[0], k[1]);
            (s[0], s[1]) = (x as u64, y as u64);
        }),
        Kernel::Sha256Round => Box::new(move |s| {
            let mut st: [u32; 8] = std::array::from_fn(|w| s[w] as u32);
            replay::sha_iteration(&mut st, k);
            for w in 0..8 {
                s[w] = st[w] as u64;
            }
        }),
    }
}

/// A start of `kernel`'s chain from a random 32-bit seed, as the shader
/// makes it (floats: a 10-fraction-bit value in [1, 2)).
fn chain_start(kernel: Kernel, h: &mut impl FnMut() -> u32) -> Vec<u64> {
    let unit = |x: u32| replay::unit_of(x);
    match kernel {
        Kernel::Fp64Fma => vec![(unit(h()) as f64).to_bits()],
        Kernel::Fp32Fma => vec![unit(h()).to_bits() as u64],
        Kernel::Fp16Fma => vec![f16::from_f32(unit(h())).to_bits() as u64],
        Kernel::Fp32MulAdd => vec![unit(h()).to_bits() as u64, unit(h()).to_bits() as u64],
        Kernel::I32Mad => vec![h() as u64],
        Kernel::Int8Dot4 => vec![h() as u64, h() as u64],
        Kernel::Sha256Round => (0..8).map(|_| h() as u64).collect(),
    }
}

/// Every kernel's chain, from 1,000 random seeds and under every rounding
/// a device may use, moves at every step and never comes back to its start
/// within the most steps one repetition may take: no seed is a fixed point
/// or on a short cycle (int8_dot4's dot products can be zero).
#[test]
fn every_chain_moves_from_a_thousand_random_seeds() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(16);
    for &kernel in Kernel::all() {
        let roundings: &[FmaRounding] = match kernel {
            Kernel::Fp16Fma => f16::ROUNDINGS,
            Kernel::Fp32Fma | Kernel::Fp64Fma => f32::ROUNDINGS,
            _ => &[FmaRounding::Fused],
        };
        let steps = kernel.max_iters() as u64 * kernel.steps_per_iter() as u64;
        for &r in roundings {
            let step = chain_step(kernel, r);
            for n in 0..1000 {
                let start = chain_start(kernel, &mut || rng.random());
                let mut s = start.clone();
                for t in 1..=steps {
                    step(&mut s);
                    assert!(
                        s != start,
                        "{} ({r:?}) seed {n} {start:x?} is back at its start after {t} steps",
                        kernel.name()
                    );
                }
            }
        }
    }
}

/// SPIR-V of one entry point of the f32 composition, as naga writes it for
/// Vulkan (override constants made plain constants).
fn spirv(entry: &str) -> Vec<u32> {
    spirv_of(&peak::compose(peak::HEAD_F32, peak::BODY), entry)
}

fn spirv_of(src: &str, entry: &str) -> Vec<u32> {
    let src = src
        .replace("override WG: u32", "const WG: u32")
        .replace("override CHAINS: u32", "const CHAINS: u32");
    let module = naga::front::wgsl::parse_str(&src).expect("parses");
    let info = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .expect("validates");
    naga::back::spv::write_vec(
        &module,
        &info,
        &naga::back::spv::Options::default(),
        Some(&naga::back::spv::PipelineOptions {
            shader_stage: naga::ShaderStage::Compute,
            entry_point: entry.into(),
        }),
    )
    .expect("writes SPIR-V")
}

const OP_EXT_INST: u32 = 12;
const OP_STORE: u32 = 62;
const OP_ACCESS_CHAIN: u32 = 65;
const OP_FADD: u32 = 129;
const OP_FSUB: u32 = 131;
const OP_FMUL: u32 = 133;
const GLSL_FMA: u32 = 50;

/// (opcode, operand words) of every instruction after the header.
fn instructions(words: &[u32]) -> Vec<(u32, &[u32])> {
    let mut out = Vec::new();
    let mut at = 5;
    while at < words.len() {
        let (n, op) = ((words[at] >> 16) as usize, words[at] & 0xffff);
        out.push((op, &words[at + 1..at + n]));
        at += n;
    }
    out
}

fn has_fma(words: &[u32]) -> bool {
    instructions(words)
        .iter()
        .any(|(op, w)| *op == OP_EXT_INST && w.len() >= 4 && w[3] == GLSL_FMA)
}

/// Whether a product reaches an add or subtract, following values through
/// variables, composites and copies (conservatively: any instruction with a
/// tainted operand taints its result).
fn product_feeds_an_add(words: &[u32]) -> bool {
    let ins = instructions(words);
    let mut base = std::collections::HashMap::new();
    for (op, w) in &ins {
        if *op == OP_ACCESS_CHAIN {
            base.insert(w[1], w[2]);
        }
    }
    let mut tainted: HashSet<u32> = ins
        .iter()
        .filter(|(op, _)| *op == OP_FMUL)
        .map(|(_, w)| w[1])
        .collect();
    loop {
        let before = tainted.len();
        for (op, w) in &ins {
            if *op == OP_FADD || *op == OP_FSUB {
                if tainted.contains(&w[2]) || tainted.contains(&w[3]) {
                    return true;
                }
            } else if *op == OP_STORE {
                if tainted.contains(&w[1]) {
                    let mut p = w[0];
                    tainted.insert(p);
                    while let Some(&b) = base.get(&p) {
                        tainted.insert(b);
                        p = b;
                    }
                }
            } else if w.len() >= 3 && w[2..].iter().any(|x| tainted.contains(x)) {
                tainted.insert(w[1]);
            }
        }
        if tainted.len() == before {
            return false;
        }
    }
}

#[test]
fn the_unfused_kernel_has_no_fma_and_no_product_feeding_an_add() {
    let mul_add = spirv("fp32_mul_add");
    assert!(!has_fma(&mul_add), "fp32_mul_add uses GLSL.std.450 Fma");
    assert!(
        !product_feeds_an_add(&mul_add),
        "fp32_mul_add has a product a driver could contract into an FMA"
    );
    let fma = spirv("fma_chain");
    assert!(has_fma(&fma), "fma_chain does not use GLSL.std.450 Fma");
    // The detector sees a contractible pair through a variable.
    let probe = "@group(0) @binding(0) var<storage, read_write> o: array<f32>;\n\
                 @compute @workgroup_size(1) fn p() { var x = o[0] * o[1]; o[2] = x + o[3]; }";
    assert!(product_feeds_an_add(&spirv_of(probe, "p")));
}

#[test]
fn every_peak_kernel_is_measured_verified_or_skipped() {
    let gpu = common::gpu();
    let shaders = Shaders::default();
    let sizes = SizeOptions::default();
    let out = peak::run(&common::ctx(&gpu, &shaders, &sizes)).unwrap();
    for &kernel in Kernel::all() {
        let name = kernel.name();
        let measured = out.measured.iter().find(|m| m.kernel.to_string() == name);
        let skipped = out.skipped.iter().find(|s| s.kernel.to_string() == name);
        match (measured, skipped) {
            (Some(m), None) => {
                assert!(
                    m.verified,
                    "{name} disagreed with the CPU: {:?}",
                    m.problems
                );
                assert_eq!(m.metric.name(), "peak_rate");
                assert!(m.summary.median > 0.0 && m.summary.median.is_finite());
                let unit = if name.starts_with("fp") {
                    "FLOP/s"
                } else {
                    "OP/s"
                };
                assert_eq!(m.unit, unit, "{name}");
                assert!(m.params.to_string().contains("coverage="), "{}", m.params);
            }
            (None, Some(s)) => {
                let (feature, fname) = kernel.feature().expect("only f16 and f64 may be skipped");
                assert!(!gpu.has(feature));
                assert!(s.reason.contains(fname), "{}", s.reason);
            }
            other => panic!("{name}: neither measured nor skipped exactly once: {other:?}"),
        }
    }
}

/// The body with `from` replaced by `to` exactly once inside each named
/// entry point.
fn in_each(entries: &[(&str, &str, &str)]) -> String {
    let mut src = peak::BODY.to_string();
    for (entry, from, to) in entries {
        let start = src
            .find(&format!("fn {entry}("))
            .unwrap_or_else(|| panic!("no entry point {entry}"));
        let end = start + src[start..].find("\n}\n").expect("end of function");
        let func = common::mutate(&src[start..end], from, to);
        src.replace_range(start..end, &func);
    }
    src
}

/// Kernels the adapter runs (f16 and f64 only where it has them).
fn present() -> Vec<&'static str> {
    let gpu = common::gpu();
    Kernel::all()
        .iter()
        .filter(|k| k.feature().is_none_or(|(f, _)| gpu.has(f)))
        .map(|k| k.name())
        .collect()
}

/// Runs the suite with the body replaced; every kernel must be caught.
fn assert_every_kernel_caught(body: String, what: &str) {
    let run = common::run_with_shaders("peak", &[("peak_body", body)], &["--samples", "5"]);
    for kernel in present() {
        common::assert_caught(&run, kernel, what);
    }
}

fn loop_count(to: &str) -> String {
    let n = "let n = params.iters;";
    in_each(&[
        ("fma_chain", n, to),
        ("fp32_mul_add", n, to),
        ("i32_mad", n, to),
        ("int8_dot4", n, to),
        ("sha256_round", n, to),
    ])
}

#[test]
fn a_kernel_doing_no_iterations_is_caught() {
    assert_every_kernel_caught(loop_count("let n = 0u;"), "no iterations");
}

#[test]
fn a_kernel_doing_a_tenth_of_its_iterations_is_caught() {
    assert_every_kernel_caught(loop_count("let n = params.iters / 10u;"), "a tenth");
}

#[test]
fn a_kernel_doing_half_its_iterations_is_caught() {
    assert_every_kernel_caught(loop_count("let n = params.iters / 2u;"), "half");
}

#[test]
fn a_kernel_doing_one_iteration_fewer_is_caught() {
    assert_every_kernel_caught(loop_count("let n = params.iters - 1u;"), "n - 1");
}

#[test]
fn a_constant_start_instead_of_the_per_invocation_seed_is_caught() {
    let body = common::mutate(peak::BODY, "return h ^ (h >> 16u);", "return 12345u;");
    assert_every_kernel_caught(body, "constant seed");
}

#[test]
fn a_coefficient_off_by_a_thousandth_is_caught() {
    let body = in_each(&[
        ("fma_chain", "F(params.f.x)", "F(params.f.x * 1.001)"),
        (
            "fp32_mul_add",
            "vec4<f32>(params.f.z)",
            "vec4<f32>(params.f.z * 1.001)",
        ),
        (
            "i32_mad",
            "vec4<u32>(params.k.x)",
            "vec4<u32>(params.k.x + params.k.x / 1000u)",
        ),
        (
            "int8_dot4",
            "let w = params.k.x;",
            "let w = params.k.x + params.k.x / 1000u;",
        ),
        (
            "sha256_round",
            "vec4<u32>(params.k.x)",
            "vec4<u32>(params.k.x + params.k.x / 1000u)",
        ),
    ]);
    assert_every_kernel_caught(body, "coefficient * 1.001");
}

/// Entry points, the output each writes and where invocation `i`'s first
/// stored vector is.
const OUTPUTS: [(&str, &str, &str); 5] = [
    ("fma_chain", "out_v[i * CHAINS]", "V()"),
    ("fp32_mul_add", "out_f32[i * 2u * CHAINS]", "vec4<f32>()"),
    ("i32_mad", "out_u[i * CHAINS]", "vec4<u32>()"),
    ("int8_dot4", "out_u[i * 2u * CHAINS]", "vec4<u32>()"),
    ("sha256_round", "out_u[i * 8u]", "vec4<u32>()"),
];

const FIRST_LINE: &str = "let i = g.x * WG + l;";

/// The body with `line(entry)` added after each entry point's first line.
fn after_first_line(line: impl Fn(&str, &str, &str) -> String) -> String {
    let edits: Vec<(&str, String)> = OUTPUTS
        .iter()
        .map(|(e, out, zero)| (*e, format!("{FIRST_LINE}\n    {}", line(e, out, zero))))
        .collect();
    let entries: Vec<(&str, &str, &str)> = edits
        .iter()
        .map(|(e, to)| (*e, FIRST_LINE, to.as_str()))
        .collect();
    in_each(&entries)
}

/// An unmodified copy of the body through `--shader-dir` passes, verified;
/// the same run with `body` ends in exit 1, every kernel unverified and the
/// named failure `failure` reported for each.
fn assert_caught_beside_control(body: String, what: &str, failure: &str) {
    let control = common::run_with_shaders(
        "peak",
        &[("peak_body", peak::BODY.to_string())],
        &["--samples", "5"],
    );
    assert_eq!(
        control.output.status.code(),
        Some(0),
        "control: stderr: {}",
        common::stderr(&control.output)
    );
    let rows = control.rows();
    assert!(!rows.is_empty());
    for r in &rows {
        assert_eq!(r["verified"], true, "control row: {r}");
    }
    let run = common::run_with_shaders("peak", &[("peak_body", body)], &["--samples", "5"]);
    let err = common::stderr(&run.output);
    for kernel in present() {
        common::assert_caught(&run, kernel, what);
        assert!(
            err.lines()
                .any(|l| l.contains(&format!("{kernel}: ")) && l.contains(failure)),
            "{what}: {kernel} without {failure:?}; stderr: {err}"
        );
    }
}

#[test]
fn a_kernel_that_returns_once_its_output_is_written_is_caught() {
    // Memoisation: the output is zeroed before timing; a kernel that keeps
    // what it stored once does the work in the first repetition only.
    let body = after_first_line(|_, out, zero| format!("if (any({out} != {zero})) {{ return; }}"));
    assert_caught_beside_control(body, "memoised", "only the first of the");
}

#[test]
fn a_kernel_working_on_every_second_repetition_only_is_caught() {
    let body = after_first_line(|_, _, _| "if ((params.rep & 1u) == 1u) { return; }".to_string());
    assert_caught_beside_control(
        body,
        "every second repetition",
        "only every second repetition left a trace",
    );
}

#[test]
fn an_unfused_kernel_calling_fma_is_refused() {
    let body = in_each(&[
        (
            "fp32_mul_add",
            "t += 1u) {\n        x0 = x0 * m;\n        y0 = y0 + d;",
            "t += 1u) {\n        x0 = fma(x0, m, vec4<f32>(0.0));\n        y0 = fma(y0, vec4<f32>(1.0), d);",
        ),
    ]);
    assert!(
        peak::unfused::refusal(&peak::compose(peak::HEAD_F32, &body), "fp32_mul_add").is_some()
    );
    let run = common::run_with_shaders("peak", &[("peak_body", body)], &["--samples", "5"]);
    common::assert_caught(&run, "fp32_mul_add", "fma in fp32_mul_add");
    let err = common::stderr(&run.output);
    assert!(
        err.contains("fp32_mul_add: refused: the unfused kernel calls fma"),
        "stderr: {err}"
    );
    for r in run.rows() {
        if r["kernel"] == "fp32_fma" {
            assert_eq!(r["verified"], true, "{r}");
        }
    }
}
