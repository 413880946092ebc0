//! Suite `stream`: BabelStream-style memory bandwidth (`shaders/stream.wgsl`).
//!
//! Three f32 arrays far larger than any cache, five kernels (copy, mul, add,
//! triad, dot), each timed on its own. Bytes moved per element come from
//! [`KERNELS`], the one table every rate is derived from. After each kernel
//! the host replays the same number of kernel applications on scalars (the
//! BabelStream "gold" values) and compares every element of all three arrays
//! by maximum relative error, plus the dot product against its gold value.

use anyhow::{Context, Result};
use bytemuck::{Pod, Zeroable};

use super::{Ctx, Measured, Scale, SuiteOutput};
use crate::gpu::Gpu;
use crate::stats::Summary;

pub const WGSL: &str = include_str!("../../shaders/stream.wgsl");

/// Invocations per workgroup; must match `WG` in the shader.
pub const WORKGROUP: u32 = 256;
/// BabelStream's initial values and scalar.
pub const INIT_A: f32 = 0.1;
pub const INIT_B: f32 = 0.2;
pub const INIT_C: f32 = 0.0;
pub const SCALAR: f32 = 0.4;
pub const BYTES_PER_F32: u64 = 4;
/// Largest array on a GPU unless `--full` or `--size` asks for more.
const GPU_DEFAULT_BYTES: u64 = 256 << 20;
const GPU_FULL_BYTES: u64 = 1 << 30;
/// A CPU adapter's "device memory" is host RAM behind the CPU caches; 64 MiB
/// arrays are several times a large L3, 8 MiB keeps `--quick` quick.
const CPU_DEFAULT_BYTES: u64 = 64 << 20;
const CPU_QUICK_BYTES: u64 = 8 << 20;
const CPU_FULL_BYTES: u64 = 128 << 20;
/// Dispatches per timed sample at most; one dispatch moves a whole array, so
/// even at several TB/s this covers 0.1 s samples.
const MAX_REPS: u32 = 4096;
/// Tolerance on the maximum relative error of any array element: one
/// rounding difference (a fused triad) is far inside it, a wrong scalar or a
/// skipped element far outside (BabelStream uses the same 100 epsilon).
pub const ARRAY_TOLERANCE: f64 = f32::EPSILON as f64 * 100.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    Copy,
    Mul,
    Add,
    Triad,
    Dot,
}

/// One row of the kernel table.
#[derive(Clone, Copy, Debug)]
pub struct KernelInfo {
    pub kernel: Kernel,
    pub name: &'static str,
    /// f32 values read plus written per element (BabelStream's counting).
    pub words_moved: u64,
}

impl KernelInfo {
    pub fn bytes_per_element(&self) -> u64 {
        self.words_moved * BYTES_PER_F32
    }
}

/// The kernels in the order they run, with the traffic each one causes.
pub const KERNELS: [KernelInfo; 5] = [
    KernelInfo {
        kernel: Kernel::Copy,
        name: "copy",
        words_moved: 2,
    },
    KernelInfo {
        kernel: Kernel::Mul,
        name: "mul",
        words_moved: 2,
    },
    KernelInfo {
        kernel: Kernel::Add,
        name: "add",
        words_moved: 3,
    },
    KernelInfo {
        kernel: Kernel::Triad,
        name: "triad",
        words_moved: 3,
    },
    KernelInfo {
        kernel: Kernel::Dot,
        name: "dot",
        words_moved: 2,
    },
];

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    scalar: f32,
    n4: u32,
    groups: u32,
    pad: u32,
}

/// The compiled kernels bound to their three arrays.
pub struct StreamKernels<'g> {
    gpu: &'g Gpu,
    copy: wgpu::ComputePipeline,
    mul: wgpu::ComputePipeline,
    add: wgpu::ComputePipeline,
    triad: wgpu::ComputePipeline,
    dot_partial: wgpu::ComputePipeline,
    dot_final: wgpu::ComputePipeline,
    arrays: [wgpu::Buffer; 3],
    result: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    /// f32 elements per array (the buffers hold a multiple of 4).
    pub elements: u64,
    /// Workgroups per dispatch.
    pub groups: u32,
    dims: (u32, u32),
}

/// Workgroups that keep the adapter busy without one invocation per
/// element: a CPU adapter runs a handful of workgroups per core at once, a
/// GPU needs tens of thousands of invocations in flight.
pub fn default_groups(gpu: &Gpu, elements: u64) -> u32 {
    let vec4s = elements.div_ceil(4);
    let cap: u64 = if gpu.desc.is_cpu() { 64 } else { 16384 };
    vec4s.div_ceil(WORKGROUP as u64).clamp(1, cap) as u32
}

impl<'g> StreamKernels<'g> {
    /// Uploads the arrays (equal lengths; padded with zeros to whole vec4s)
    /// and compiles every kernel of `wgsl`.
    pub fn new(
        gpu: &'g Gpu,
        wgsl: &str,
        init: [&[f32]; 3],
        scalar: f32,
        groups: u32,
    ) -> Result<Self> {
        let elements = init[0].len() as u64;
        anyhow::ensure!(elements > 0, "stream arrays must not be empty");
        anyhow::ensure!(
            init.iter().all(|x| x.len() as u64 == elements),
            "stream arrays must have equal lengths"
        );
        let vec4s = elements.div_ceil(4);
        anyhow::ensure!(
            vec4s <= u32::MAX as u64 / 2,
            "stream arrays of {elements} elements are too long to index"
        );
        // Software drivers stop loops after 65535 iterations (llvmpipe's
        // guard against endless shaders); keep every invocation's share of
        // the grid-stride loop far below that.
        let groups = groups
            .max(vec4s.div_ceil(WORKGROUP as u64 * 16384) as u32)
            .max(1);
        let (bgl, layout) = gpu.storage_layout(
            "stream",
            &[
                (false, false),
                (false, false),
                (false, false),
                (true, false),
                (false, false),
                (false, false),
            ],
        );
        let pipe = |entry: &str| -> Result<wgpu::ComputePipeline> {
            gpu.pipeline_with_layout(&format!("stream {entry}"), wgsl, entry, &[], Some(&layout))
        };
        let upload = |label: &str, data: &[f32]| -> Result<wgpu::Buffer> {
            if data.len() as u64 == vec4s * 4 {
                gpu.storage_init(label, bytemuck::cast_slice(data))
            } else {
                let mut padded = data.to_vec();
                padded.resize(vec4s as usize * 4, 0.0);
                gpu.storage_init(label, bytemuck::cast_slice(&padded))
            }
        };
        let arrays = [
            upload("stream a", init[0])?,
            upload("stream b", init[1])?,
            upload("stream c", init[2])?,
        ];
        let params = Params {
            scalar,
            n4: vec4s as u32,
            groups,
            pad: 0,
        };
        let params = gpu.storage_init("stream params", bytemuck::bytes_of(&params))?;
        let partial = gpu.storage_init("stream partial sums", &vec![0u8; 4 * groups as usize])?;
        let result = gpu.storage_init("stream dot result", &[0u8; 16])?;
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("stream"),
            layout: &bgl,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: arrays[0].as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: arrays[1].as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: arrays[2].as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: params.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 4,
                    resource: partial.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 5,
                    resource: result.as_entire_binding(),
                },
            ],
        });
        let kernels = StreamKernels {
            gpu,
            copy: pipe("copy")?,
            mul: pipe("mul")?,
            add: pipe("add")?,
            triad: pipe("triad")?,
            dot_partial: pipe("dot_partial")?,
            dot_final: pipe("dot_final")?,
            arrays,
            result,
            bind_group,
            elements,
            groups,
            dims: gpu.dispatch_dims(groups),
        };
        gpu.check_errors("setting up the stream kernels")?;
        Ok(kernels)
    }

    /// Records one application of `kernel`.
    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>, kernel: Kernel) {
        let pipeline = match kernel {
            Kernel::Copy => &self.copy,
            Kernel::Mul => &self.mul,
            Kernel::Add => &self.add,
            Kernel::Triad => &self.triad,
            Kernel::Dot => &self.dot_partial,
        };
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        pass.dispatch_workgroups(self.dims.0, self.dims.1, 1);
        if kernel == Kernel::Dot {
            pass.set_pipeline(&self.dot_final);
            pass.dispatch_workgroups(1, 1, 1);
        }
    }

    /// Runs `kernel` once, outside any timing.
    pub fn run_once(&self, kernel: Kernel) -> Result<()> {
        self.gpu
            .run_pass("running a stream kernel", |pass| self.encode(pass, kernel))?;
        Ok(())
    }

    /// Array 0 (a), 1 (b) or 2 (c), without its padding.
    pub fn read_array(&self, which: usize) -> Result<Vec<f32>> {
        let raw = self
            .gpu
            .read(&self.arrays[which], 0, self.elements * BYTES_PER_F32)?;
        Ok(bytemuck::cast_slice::<u8, f32>(&raw).to_vec())
    }

    /// The dot product left by the last `dot` application.
    pub fn read_dot(&self) -> Result<f32> {
        let raw = self.gpu.read(&self.result, 0, 4)?;
        Ok(f32::from_le_bytes(raw[0..4].try_into().unwrap()))
    }

    /// Longest chain of f32 additions behind one dot result; bounds its
    /// rounding error (see [`dot_tolerance`]).
    pub fn dot_depth(&self) -> u64 {
        dot_depth(self.elements, self.groups)
    }
}

fn dot_depth(elements: u64, groups: u32) -> u64 {
    let per_invocation = elements
        .div_ceil(4)
        .div_ceil(groups as u64 * WORKGROUP as u64);
    let tree = WORKGROUP.trailing_zeros() as u64;
    // per invocation: its loop plus the 4-wide dot; then the workgroup tree,
    // the final pass's loop over partial sums, and its tree.
    per_invocation + 4 + tree + (groups as u64).div_ceil(WORKGROUP as u64) + tree
}

/// Bound on the absolute error of an f32 sum whose additions chain at most
/// `depth` deep, for terms whose magnitudes add up to `abs_sum`; doubled
/// for margin.
pub fn dot_tolerance(depth: u64, abs_sum: f64) -> f64 {
    2.0 * depth as f64 * (f32::EPSILON as f64 / 2.0) * abs_sum + f32::MIN_POSITIVE as f64
}

/// A GPU dot product next to the CPU's.
#[derive(Clone, Copy, Debug)]
pub struct DotCheck {
    pub got: f32,
    /// The exact product computed in f64.
    pub want: f64,
    pub tolerance: f64,
}

impl DotCheck {
    pub fn ok(&self) -> bool {
        (self.got as f64 - self.want).abs() <= self.tolerance
    }
}

/// Runs the dot kernel of `wgsl` on `a` and `b` with `groups` workgroups
/// (default sizing when `None`) and compares it with an f64 CPU sum.
pub fn dot_on_gpu(
    gpu: &Gpu,
    wgsl: &str,
    a: &[f32],
    b: &[f32],
    groups: Option<u32>,
) -> Result<DotCheck> {
    let c = vec![0.0f32; a.len()];
    let groups = groups.unwrap_or_else(|| default_groups(gpu, a.len() as u64));
    let k = StreamKernels::new(gpu, wgsl, [a, b, &c], SCALAR, groups)?;
    k.run_once(Kernel::Dot)?;
    let got = k.read_dot()?;
    let want: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let abs_sum: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 * *y as f64).abs())
        .sum();
    Ok(DotCheck {
        got,
        want,
        tolerance: dot_tolerance(k.dot_depth(), abs_sum),
    })
}

/// The value every element of each array must hold, replayed on scalars.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gold {
    pub a: f32,
    pub b: f32,
    pub c: f32,
    pub scalar: f32,
}

impl Gold {
    pub fn new() -> Gold {
        Gold {
            a: INIT_A,
            b: INIT_B,
            c: INIT_C,
            scalar: SCALAR,
        }
    }

    /// Applies `kernel` `times` times, in the GPU's f32 arithmetic.
    pub fn apply(&mut self, kernel: Kernel, times: u64) {
        for _ in 0..times {
            match kernel {
                Kernel::Copy => self.c = self.a,
                Kernel::Mul => self.b = self.scalar * self.c,
                Kernel::Add => self.c = self.a + self.b,
                Kernel::Triad => self.a = self.b + self.scalar * self.c,
                Kernel::Dot => {}
            }
        }
    }

    /// The dot product of `elements` elements of a and b, in f64.
    pub fn dot(&self, elements: u64) -> f64 {
        self.a as f64 * self.b as f64 * elements as f64
    }
}

impl Default for Gold {
    fn default() -> Self {
        Gold::new()
    }
}

/// The worst element: its index, value and relative error against `want`.
#[derive(Clone, Copy, Debug)]
pub struct Worst {
    pub index: usize,
    pub got: f32,
    pub rel_err: f64,
}

/// Maximum relative error over every element (a NaN counts as infinite; a
/// gold value of zero compares absolutely).
pub fn max_rel_error(got: &[f32], want: f32) -> Worst {
    let w = want as f64;
    let scale = if w == 0.0 { 1.0 } else { w.abs() };
    let mut worst = Worst {
        index: 0,
        got: f32::NAN,
        rel_err: 0.0,
    };
    for (i, &x) in got.iter().enumerate() {
        let e = if x.is_nan() {
            f64::INFINITY
        } else {
            (x as f64 - w).abs() / scale
        };
        if e > worst.rel_err || i == 0 {
            worst = Worst {
                index: i,
                got: x,
                rel_err: e,
            };
        }
    }
    worst
}

/// Bytes per array: `--size` when given (an error when the adapter cannot
/// bind it), else the scale's default capped by the adapter's limits.
/// Rounded down to whole vec4<f32>s.
pub fn array_bytes(gpu: &Gpu, scale: Scale, requested: Option<u64>) -> Result<u64> {
    let limit = gpu
        .limits
        .max_storage_buffer_binding_size
        .min(gpu.limits.max_buffer_size);
    let unit = 4 * BYTES_PER_F32;
    if let Some(req) = requested {
        if req > limit {
            return Err(crate::usage!(
                "--size {req} bytes is beyond adapter {}: it binds at most {limit} bytes ({}) per array; use --size {} or less",
                gpu.desc.name,
                crate::units::bytes(limit as f64),
                limit / unit * unit
            ));
        }
        if req < unit {
            return Err(crate::usage!(
                "--size {req} bytes is too small for the stream suite: at least {unit} bytes"
            ));
        }
        return Ok(req / unit * unit);
    }
    let want = match (gpu.desc.is_cpu(), scale) {
        (true, Scale::Quick) => CPU_QUICK_BYTES,
        (true, Scale::Default) => CPU_DEFAULT_BYTES,
        (true, Scale::Full) => CPU_FULL_BYTES,
        (false, Scale::Full) => GPU_FULL_BYTES,
        (false, _) => GPU_DEFAULT_BYTES,
    };
    Ok(want.min(limit) / unit * unit)
}

/// Compares all three arrays (and, after `dot`, its result) with `gold`;
/// returns one line per disagreement and the worst relative error seen.
fn verify(k: &StreamKernels, gold: &Gold, dot: bool) -> Result<(Vec<String>, f64)> {
    let mut problems = Vec::new();
    let mut worst_err: f64 = 0.0;
    for (i, (name, want)) in [("a", gold.a), ("b", gold.b), ("c", gold.c)]
        .into_iter()
        .enumerate()
    {
        let got = k
            .read_array(i)
            .with_context(|| format!("reading array {name} back"))?;
        let w = max_rel_error(&got, want);
        worst_err = worst_err.max(w.rel_err);
        if w.rel_err > ARRAY_TOLERANCE {
            problems.push(format!(
                "array {name}[{}] = {} but {want} was expected (relative error {:.3e})",
                w.index, w.got, w.rel_err
            ));
        }
    }
    if dot {
        let got = k.read_dot()?;
        let want = gold.dot(k.elements);
        let check = DotCheck {
            got,
            want,
            tolerance: dot_tolerance(k.dot_depth(), want.abs()),
        };
        if !check.ok() {
            problems.push(format!(
                "dot = {got} but {want} was expected (tolerance {:.3e})",
                check.tolerance
            ));
        }
        if want != 0.0 {
            worst_err = worst_err.max((got as f64 - want).abs() / want.abs());
        }
    }
    Ok((problems, worst_err))
}

/// `run --suite stream`.
pub fn run(ctx: &Ctx) -> Result<SuiteOutput> {
    let gpu = ctx.gpu;
    let wgsl = ctx.shaders.get("stream", WGSL)?;
    let bytes = array_bytes(gpu, ctx.scale, ctx.sizes.size)?;
    let elements = bytes / BYTES_PER_F32;
    ctx.status(&format!(
        "stream: uploading 3 arrays of {}",
        crate::units::bytes(bytes as f64)
    ));
    let groups = default_groups(gpu, elements);
    let kernels = {
        let n = elements as usize;
        let (a, b, c) = (vec![INIT_A; n], vec![INIT_B; n], vec![INIT_C; n]);
        StreamKernels::new(gpu, &wgsl, [&a, &b, &c], SCALAR, groups)?
    };

    let mut gold = Gold::new();
    let mut out = SuiteOutput::default();
    for info in KERNELS {
        ctx.status(&format!("stream: {}", info.name));
        let mut applied: u64 = 0;
        let timed = gpu.time_compute(&ctx.plan.with_max_reps(MAX_REPS), |pass, reps| {
            for _ in 0..reps {
                kernels.encode(pass, info.kernel);
            }
            applied += reps as u64;
        })?;
        gold.apply(info.kernel, applied);

        ctx.status(&format!("stream: verifying {}", info.name));
        let (problems, worst) = verify(&kernels, &gold, info.kernel == Kernel::Dot)?;
        for p in &problems {
            ctx.warn(&format!("stream {}: {p}", info.name));
        }
        let bytes_per_rep = info.bytes_per_element() * elements;
        let summary =
            Summary::rate_from_times(&timed.samples_s, (bytes_per_rep * timed.reps as u64) as f64)
                .ok_or_else(|| {
                    anyhow::anyhow!("stream {} produced no usable timing samples", info.name)
                })?;
        out.measured.push(Measured {
            kernel: info.name.into(),
            params: format!(
                "array_bytes={bytes};elements={elements};bytes_per_element={};workgroups={groups}x{WORKGROUP};dispatches_per_sample={};max_rel_err={worst:.3e}",
                info.bytes_per_element(),
                timed.reps
            ),
            metric: "bandwidth",
            unit: "B/s",
            summary,
            timing: timed.method,
            verified: problems.is_empty(),
            problems: Vec::new(),
        });
    }
    Ok(out)
}
