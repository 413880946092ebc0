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
fn integer_chains_do_not_revisit_a_state() {
    // i32_mad: an LCG modulo 2^32 has full period (Hull-Dobell) when k is
    // odd and m - 1 is a multiple of 4.
    let (_, k) = Kernel::I32Mad.coefficients();
    assert!(k[1] % 2 == 1 && (k[0] - 1) % 4 == 0);
    // int8_dot4 and the SHA-256 rounds are permutations of their state, so
    // a repeat is a cycle; none is short for these seeds.
    let (_, w) = Kernel::Int8Dot4.coefficients();
    let (_, sha_k) = Kernel::Sha256Round.coefficients();
    for lane in 0..16 {
        let mut p = (replay::seed(lane, 0, 0), replay::seed(lane, 1, 0));
        let mut seen = HashSet::new();
        for s in 0..200_000 {
            assert!(seen.insert(p), "int8_dot4 lane {lane} repeats at step {s}");
            p = replay::dot4_pair(p, w[0]);
        }
        let mut st: [u32; 8] = std::array::from_fn(|j| replay::seed(lane, j as u32, 0));
        let mut seen = HashSet::new();
        for s in 0..20_000 {
            assert!(seen.insert(st), "sha256_round lane {lane} repeats at {s}");
            replay::sha_iteration(&mut st, sha_k);
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
    for kernel in Kernel::all() {
        let name = kernel.name();
        let measured = out.measured.iter().find(|m| m.kernel == name);
        let skipped = out.skipped.iter().find(|s| s.kernel == name);
        match (measured, skipped) {
            (Some(m), None) => {
                assert!(
                    m.verified,
                    "{name} disagreed with the CPU: {:?}",
                    m.problems
                );
                assert_eq!(m.metric, "peak_rate");
                assert!(m.summary.median > 0.0 && m.summary.median.is_finite());
                let unit = if name.starts_with("fp") {
                    "FLOP/s"
                } else {
                    "OP/s"
                };
                assert_eq!(m.unit, unit, "{name}");
                assert!(m.params.contains("coverage="), "{}", m.params);
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
        .into_iter()
        .filter(|k| k.feature().is_none_or(|(f, _)| gpu.has(f)))
        .map(Kernel::name)
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
