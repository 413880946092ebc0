//! Suite `peak`: peak arithmetic rates from register-only dependent chains
//! (`shaders/peak.wgsl`, `shaders/peak_f16.wgsl`), clpeak/vkpeak style.
//!
//! `fp32_fma` against `fp32_mul_add` is the FMA cripple detector: a healthy
//! GPU issues a fused multiply-add as fast as a multiply or an add, so the
//! FMA kernel reaches twice the FLOP rate of the unfused one; a card whose
//! FMA is throttled shows the reverse.
//!
//! Each kernel is sized so one dispatch takes about 20 ms, its number of
//! chains per invocation (4 or 8 vec4) is chosen by a quick trial, and a few
//! invocations of a poisoned, verified run are recomputed on the CPU:
//! integer kernels must match exactly; float chains are contractive (they
//! converge to a fixed point), so rounding differences stay small and a
//! relative tolerance applies.

use anyhow::Result;
use bytemuck::{Pod, Zeroable};
use half::f16;
use rand::{Rng, SeedableRng};

use super::{Ctx, Measured, Skipped, SuiteOutput};
use crate::gpu::Gpu;
use crate::stats::Summary;

pub const WGSL: &str = include_str!("../../shaders/peak.wgsl");
pub const WGSL_F16: &str = include_str!("../../shaders/peak_f16.wgsl");

/// Every kernel of the suite, in the order measured.
pub const KERNELS: [&str; 5] = [
    "fp32_fma",
    "fp32_mul_add",
    "fp16_fma",
    "i32_mad",
    "sha256_round",
];

/// u32 operations in one SHA-256 round as the shader writes it, a rotate
/// counted as one: Sigma0 and Sigma1 5 each, Ch 3, Maj 4, 7 additions.
pub const SHA_OPS_PER_ROUND: u32 = 23;

const SEED: u32 = 12345;
const POISON: u32 = 0x7fbf_dead;
const DISPATCH_TARGET_S: f64 = 0.02;
const SHA_K: [u32; 4] = [0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5];

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug)]
struct Params {
    iters: u32,
    seed: u32,
    pad: [u32; 2],
    f: [f32; 4],
    k: [u32; 4],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    Fp32Fma,
    Fp32MulAdd,
    Fp16Fma,
    I32Mad,
    Sha256Round,
}

impl Kernel {
    pub fn all() -> [Kernel; 5] {
        [
            Kernel::Fp32Fma,
            Kernel::Fp32MulAdd,
            Kernel::Fp16Fma,
            Kernel::I32Mad,
            Kernel::Sha256Round,
        ]
    }

    pub fn name(self) -> &'static str {
        match self {
            Kernel::Fp32Fma => "fp32_fma",
            Kernel::Fp32MulAdd => "fp32_mul_add",
            Kernel::Fp16Fma => "fp16_fma",
            Kernel::I32Mad => "i32_mad",
            Kernel::Sha256Round => "sha256_round",
        }
    }

    fn is_float(self) -> bool {
        matches!(self, Kernel::Fp32Fma | Kernel::Fp32MulAdd | Kernel::Fp16Fma)
    }

    pub fn unit(self) -> &'static str {
        if self.is_float() {
            "FLOP/s"
        } else {
            "OP/s"
        }
    }

    fn shader(self) -> (&'static str, &'static str) {
        match self {
            Kernel::Fp16Fma => ("peak_f16", WGSL_F16),
            _ => ("peak", WGSL),
        }
    }

    fn has_chains(self) -> bool {
        self != Kernel::Sha256Round
    }

    /// FLOPs (or integer operations) one invocation does per loop iteration.
    pub fn work_per_iter(self, chains: u32) -> f64 {
        let lanes = 4.0;
        match self {
            // Two steps of `chains` vec4 FMAs / mads, 2 operations each.
            Kernel::Fp32Fma | Kernel::Fp16Fma | Kernel::I32Mad => chains as f64 * 2.0 * lanes * 2.0,
            // Two steps of `chains` vec4 operations (half multiplies, half
            // adds), 1 FLOP each.
            Kernel::Fp32MulAdd => chains as f64 * 2.0 * lanes,
            Kernel::Sha256Round => 8.0 * lanes * SHA_OPS_PER_ROUND as f64,
        }
    }

    fn params(self, iters: u32) -> Params {
        let (f, k) = match self {
            Kernel::Fp32Fma => ([0.9999, 0.0001, 0.0, 0.0], [0; 4]),
            Kernel::Fp32MulAdd => ([1.0001, 1.0 / 1.0001, 0.3, -0.3], [0; 4]),
            Kernel::Fp16Fma => ([0.75, 0.25, 0.0, 0.0], [0; 4]),
            Kernel::I32Mad => ([0.0; 4], [1_664_525, 1_013_904_223, 0, 0]),
            Kernel::Sha256Round => ([0.0; 4], SHA_K),
        };
        Params {
            iters,
            seed: SEED,
            pad: [0; 2],
            f,
            k,
        }
    }

    /// Relative tolerance of the CPU check (0: exact).
    fn tolerance(self) -> f64 {
        match self {
            Kernel::Fp32Fma | Kernel::Fp32MulAdd => 1e-3,
            Kernel::Fp16Fma => 2e-2,
            Kernel::I32Mad | Kernel::Sha256Round => 0.0,
        }
    }
}

fn start(i: u32, j: u32) -> f32 {
    (i.wrapping_mul(37).wrapping_add(j * 11).wrapping_add(SEED) % 997) as f32 / 997.0
}

fn start_f(i: u32, j: u32) -> [f32; 4] {
    let s = start(i, j);
    [-s - 0.0, -s - 0.125, -s - 0.25, -s - 0.375]
}

fn start_u(i: u32, j: u32) -> [u32; 4] {
    let s = i
        .wrapping_mul(0x9e37_79b9)
        .wrapping_add(j.wrapping_mul(0x85eb_ca6b))
        .wrapping_add(SEED);
    [
        s,
        s ^ 0x68e3_1da4,
        s.wrapping_add(0x1b87_3593),
        s.wrapping_mul(3),
    ]
}

/// Sums chain results in the order the shader does: pairs, then pairs of
/// pairs, then the second group of four.
fn chain_sum<T: Copy>(v: &[T], add: impl Fn(T, T) -> T) -> T {
    let four = |w: &[T]| add(add(w[0], w[1]), add(w[2], w[3]));
    let s = four(&v[0..4]);
    if v.len() > 4 {
        add(s, four(&v[4..8]))
    } else {
        s
    }
}

fn sha_t1(e: u32, f: u32, g: u32, h: u32, kw: u32) -> u32 {
    let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
    let ch = g ^ (e & (f ^ g));
    h.wrapping_add(s1).wrapping_add(ch).wrapping_add(kw)
}

fn sha_t2(a: u32, b: u32, c: u32) -> u32 {
    let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
    let maj = (a & b) | (c & (a | b));
    s0.wrapping_add(maj)
}

/// What invocation `i` writes, computed on the CPU: four u32 (floats as bits).
pub fn reference(kernel: Kernel, chains: u32, iters: u32, i: u32) -> [u32; 4] {
    let p = kernel.params(iters);
    let mut out = [0u32; 4];
    for (q, o) in out.iter_mut().enumerate() {
        *o = match kernel {
            Kernel::Fp32Fma => {
                let (b, c) = (p.f[0], p.f[1]);
                let v: Vec<f32> = (0..chains)
                    .map(|j| {
                        let mut a = start_f(i, j)[q];
                        for _ in 0..2 * iters {
                            a = a.mul_add(b, c);
                        }
                        a
                    })
                    .collect();
                chain_sum(&v, |x, y| x + y).to_bits()
            }
            Kernel::Fp32MulAdd => {
                let [b, binv, c, cneg] = p.f;
                let v: Vec<f32> = (0..chains)
                    .map(|j| {
                        let mut x = start_f(i, j)[q];
                        for _ in 0..iters {
                            if j % 2 == 0 {
                                x *= b;
                                x *= binv;
                            } else {
                                x += c;
                                x += cneg;
                            }
                        }
                        x
                    })
                    .collect();
                chain_sum(&v, |x, y| x + y).to_bits()
            }
            Kernel::Fp16Fma => {
                let (b, c) = (f16::from_f32(p.f[0]), f16::from_f32(p.f[1]));
                let v: Vec<f32> = (0..chains)
                    .map(|j| {
                        let mut a = f16::from_f32(start_f(i, j)[q]);
                        for _ in 0..2 * iters {
                            // Exact in f64, then one rounding: a fused f16 FMA.
                            a = f16::from_f64(a.to_f64() * b.to_f64() + c.to_f64());
                        }
                        a.to_f32()
                    })
                    .collect();
                chain_sum(&v, |x, y| x + y).to_bits()
            }
            Kernel::I32Mad => {
                let (m, k) = (p.k[0], p.k[1]);
                let v: Vec<u32> = (0..chains)
                    .map(|j| {
                        let mut a = start_u(i, j)[q];
                        for _ in 0..2 * iters {
                            a = a.wrapping_mul(m).wrapping_add(k);
                        }
                        a
                    })
                    .collect();
                chain_sum(&v, u32::wrapping_add)
            }
            Kernel::Sha256Round => {
                let k = p.k;
                let mut s: Vec<u32> = (0..8).map(|j| start_u(i, j)[q]).collect();
                for _ in 0..iters {
                    for r in 0..8 {
                        // Round r of the unrolled eight: the state words
                        // rotate by r places.
                        let w = |x: usize| (8 + x - r) % 8;
                        let (a, b, c, d) = (s[w(0)], s[w(1)], s[w(2)], s[w(3)]);
                        let (e, f, g, h) = (s[w(4)], s[w(5)], s[w(6)], s[w(7)]);
                        let x = sha_t1(e, f, g, h, k[r % 4]);
                        s[w(3)] = d.wrapping_add(x);
                        s[w(7)] = x.wrapping_add(sha_t2(a, b, c));
                    }
                }
                (s[0] ^ s[1])
                    .wrapping_add(s[2] ^ s[3])
                    .wrapping_add(s[4] ^ s[5])
                    .wrapping_add(s[6] ^ s[7])
            }
        };
    }
    out
}

/// One compiled kernel with its output and parameter buffers.
pub struct PeakKernel<'g> {
    gpu: &'g Gpu,
    pub kernel: Kernel,
    pub chains: u32,
    pub wg: u32,
    pub groups: u32,
    pub iters: u32,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    out: wgpu::Buffer,
    params: wgpu::Buffer,
}

impl<'g> PeakKernel<'g> {
    pub fn new(gpu: &'g Gpu, wgsl: &str, kernel: Kernel, chains: u32, groups: u32) -> Result<Self> {
        let wg = if gpu.desc.is_cpu() { 64 } else { 256 }
            .min(gpu.limits.max_compute_invocations_per_workgroup)
            .min(gpu.limits.max_compute_workgroup_size_x);
        let groups = groups.clamp(1, gpu.limits.max_compute_workgroups_per_dimension);
        let mut constants = vec![("WG", wg as f64)];
        if kernel.has_chains() {
            constants.push(("CHAINS", chains as f64));
        }
        let pipeline = gpu.pipeline(
            &format!("peak {}", kernel.name()),
            wgsl,
            kernel.name(),
            &constants,
        )?;
        let out = gpu.storage_init("peak out", &vec![0u8; groups as usize * wg as usize * 16])?;
        let params = gpu.storage_init("peak params", bytemuck::bytes_of(&kernel.params(1)))?;
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("peak"),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: out.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: params.as_entire_binding(),
                },
            ],
        });
        gpu.check_errors("setting up a peak kernel")?;
        Ok(PeakKernel {
            gpu,
            kernel,
            chains: if kernel.has_chains() { chains } else { 0 },
            wg,
            groups,
            iters: 1,
            pipeline,
            bind_group,
            out,
            params,
        })
    }

    pub fn invocations(&self) -> u32 {
        self.groups * self.wg
    }

    /// FLOPs (or operations) in one dispatch.
    pub fn work(&self) -> f64 {
        self.invocations() as f64 * self.iters as f64 * self.kernel.work_per_iter(self.chains)
    }

    pub fn set_iters(&mut self, iters: u32) {
        self.iters = iters.max(1);
        self.gpu.queue.write_buffer(
            &self.params,
            0,
            bytemuck::bytes_of(&self.kernel.params(self.iters)),
        );
    }

    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        pass.dispatch_workgroups(self.groups, 1, 1);
    }

    /// One dispatch, waited for; wall seconds.
    pub fn run_once(&self) -> Result<f64> {
        self.gpu
            .run_pass("running a peak kernel", |pass| self.encode(pass))
    }

    /// Picks `iters` so one dispatch takes about `target_s`; returns the
    /// rate seen at that size.
    pub fn size_for(&mut self, target_s: f64) -> Result<f64> {
        self.set_iters(8);
        self.run_once()?; // compiles on drivers that compile lazily
        let mut t = self.run_once()?;
        for _ in 0..4 {
            if (0.5 * target_s..2.0 * target_s).contains(&t) {
                break;
            }
            let scale = (target_s / t.max(1e-6)).clamp(1.0 / 64.0, 64.0);
            let iters = ((self.iters as f64 * scale) as u32).clamp(8, 1 << 22);
            self.set_iters(iters);
            t = self.run_once()?;
        }
        Ok(self.work() / t)
    }

    /// Poisons the output, runs once and checks `samples` invocations
    /// (always the first and the last) against the CPU.
    pub fn verify(&self, samples: usize) -> Result<Vec<String>> {
        let n = self.invocations();
        let poison = vec![POISON; n as usize * 4];
        self.gpu
            .queue
            .write_buffer(&self.out, 0, bytemuck::cast_slice(&poison));
        self.run_once()?;
        let raw = self.gpu.read(&self.out, 0, n as u64 * 16)?;
        let got: &[u32] = bytemuck::cast_slice(&raw);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut which = vec![0, n - 1];
        while which.len() < samples.max(2) && which.len() < n as usize {
            which.push(rng.random_range(0..n));
        }
        let tol = self.kernel.tolerance();
        let mut problems = Vec::new();
        for i in which {
            let want = reference(self.kernel, self.chains.max(1), self.iters, i);
            for q in 0..4 {
                let g = got[i as usize * 4 + q];
                let w = want[q];
                let ok = if tol == 0.0 {
                    g == w
                } else {
                    let (gf, wf) = (f32::from_bits(g) as f64, f32::from_bits(w) as f64);
                    // Written so that a NaN fails.
                    (gf - wf).abs() <= tol * wf.abs().max(1.0)
                };
                if !ok && problems.len() < 8 {
                    let show = |x: u32| {
                        if self.kernel.is_float() {
                            format!("{:e}", f32::from_bits(x))
                        } else {
                            format!("{x:#010x}")
                        }
                    };
                    problems.push(format!(
                        "invocation {i} lane {q} (index {}): got {}, expected {}",
                        i as usize * 4 + q,
                        show(g),
                        show(w)
                    ));
                }
            }
        }
        Ok(problems)
    }
}

/// Sizes, verifies and measures one kernel.
fn measure(ctx: &Ctx, kernel: Kernel) -> Result<Measured> {
    let gpu = ctx.gpu;
    let name = kernel.name();
    let (shader, builtin) = kernel.shader();
    let wgsl = ctx.shaders.get(shader, builtin)?;
    // Enough invocations to fill every core of a big GPU; a CPU adapter
    // only needs a few workgroups per thread.
    let groups = if gpu.desc.is_cpu() { 32 } else { 4096 };
    ctx.status(&format!("peak {name}: sizing"));
    let chain_options: &[u32] = if kernel.has_chains() { &[4, 8] } else { &[0] };
    let mut best: Option<(f64, PeakKernel)> = None;
    for &chains in chain_options {
        let mut k = PeakKernel::new(gpu, &wgsl, kernel, chains, groups)?;
        let rate = k.size_for(DISPATCH_TARGET_S)?;
        if best.as_ref().is_none_or(|(r, _)| rate > *r) {
            best = Some((rate, k));
        }
    }
    let (_, k) = best.expect("at least one chain option");

    ctx.status(&format!("peak {name}: verifying"));
    let problems = k.verify(8)?;
    for p in &problems {
        ctx.warn(&format!("peak {name}: {p}"));
    }

    ctx.status(&format!("peak {name}: measuring"));
    let timed = gpu.time_compute(&ctx.plan.with_max_reps(64), |pass, reps| {
        for _ in 0..reps {
            k.encode(pass);
        }
    })?;
    let summary = Summary::rate_from_times(&timed.samples_s, k.work() * timed.reps as f64)
        .ok_or_else(|| anyhow::anyhow!("peak {name} produced no usable timing samples"))?;
    let per_op = match kernel {
        Kernel::Fp32Fma | Kernel::Fp16Fma => "flop_per_fma=2",
        Kernel::Fp32MulAdd => "flop_per_op=1;unfused=separate_mul_and_add_chains",
        Kernel::I32Mad => "ops_per_mad=2",
        Kernel::Sha256Round => "ops_per_round=23;rotate_counts=1",
    };
    let chains = if kernel.has_chains() {
        format!("chains={}x vec4;", k.chains)
    } else {
        "states=vec4;".to_string()
    };
    Ok(Measured {
        kernel: name.into(),
        params: format!(
            "{chains}iters={};invocations={};wg={};reps={};{per_op}",
            k.iters,
            k.invocations(),
            k.wg,
            timed.reps
        ),
        metric: "peak_rate",
        unit: kernel.unit(),
        summary,
        timing: timed.method,
        verified: problems.is_empty(),
        problems: Vec::new(),
    })
}

/// `run --suite peak`: every kernel the adapter supports.
pub fn run(ctx: &Ctx) -> Result<SuiteOutput> {
    let mut out = SuiteOutput::default();
    for kernel in Kernel::all() {
        if kernel == Kernel::Fp16Fma && !ctx.gpu.has(wgpu::Features::SHADER_F16) {
            out.skipped.push(Skipped {
                suite: "peak".into(),
                kernel: kernel.name().into(),
                reason: "unsupported: adapter lacks SHADER_F16".into(),
            });
            continue;
        }
        out.measured.push(measure(ctx, kernel)?);
    }
    Ok(out)
}

/// Every peak shader as compiled, for validation without a GPU.
pub fn shader_sources() -> Vec<(String, String)> {
    vec![
        ("peak".into(), WGSL.into()),
        ("peak_f16".into(), WGSL_F16.into()),
    ]
}
