//! Suite `matmul`: C = A·B in f32 (`sgemm`) and with f16 inputs (`hgemm`),
//! tiled in workgroup memory with register blocking (`shaders/matmul.wgsl`,
//! `shaders/matmul_f16.wgsl`).
//!
//! Before measuring, a handful of tile shapes are tried on the adapter at
//! the size being measured; the fastest one that gets a small awkward shape
//! right is measured. The measured problem is then run once into a poisoned
//! output and checked against an f64 CPU reference: every element at small
//! sizes, 16 whole rows plus 16 whole columns at large ones.
//!
//! Tolerance, per element: |got - ref| <= 4 · u · sqrt(K) · Σ_k |a_ik·b_kj|
//! with u = 2^-24 (both kernels accumulate in f32; the f16 inputs are exact
//! in f32, and the reference is computed from the same rounded inputs). The
//! worst-case bound for a K-term sum is K · u · Σ|a·b|; rounding errors of
//! random-signed terms grow like sqrt(K), and the factor 4 leaves room for
//! any summation order. One missing or doubled term of inputs uniform in
//! [-1, 1] is far outside it. NaN never passes.

use anyhow::Result;
use half::f16;
use rand::{Rng, SeedableRng};

use super::{Ctx, Measured, Scale, Skipped, SuiteOutput};
use crate::gpu::Gpu;
use crate::stats::Summary;

pub const WGSL: &str = include_str!("../../shaders/matmul.wgsl");
pub const WGSL_F16: &str = include_str!("../../shaders/matmul_f16.wgsl");
/// The CPU adapters' subgroup layout, for either precision (it reads the
/// operands through textures, as f32).
pub const WGSL_SUBGROUP: &str = include_str!("../../shaders/matmul_subgroup.wgsl");

/// Unit roundoff of the f32 accumulation both kernels use.
const ACC_UNIT_ROUNDOFF: f64 = 1.0 / (1u64 << 24) as f64;
/// Above this many multiply-adds the reference checks sampled rows and
/// columns instead of every element (about a second of CPU time at most).
const FULL_CHECK_MACS: u64 = 1 << 27;
const SAMPLED_ROWS: usize = 16;
const SAMPLED_COLS: usize = 16;
/// A NaN that no arithmetic produces, so an unwritten element is obvious.
const POISON: u32 = 0x7fbf_dead;
/// Longest a single dispatch may take before the rows are split into bands.
const MAX_DISPATCH_S: f64 = 0.1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    F32,
    F16,
}

impl Precision {
    pub fn kernel(self) -> &'static str {
        match self {
            Precision::F32 => "sgemm",
            Precision::F16 => "hgemm",
        }
    }

    fn shader_name(self) -> &'static str {
        match self {
            Precision::F32 => "matmul",
            Precision::F16 => "matmul_f16",
        }
    }

    fn builtin(self) -> &'static str {
        match self {
            Precision::F32 => WGSL,
            Precision::F16 => WGSL_F16,
        }
    }
}

/// How the work is split between invocations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Square-ish tiles staged in workgroup memory (entries `main`,
    /// `main_vec4`): what GPUs want.
    Tiled,
    /// A workgroup shares rows of C and loads A uniformly, no workgroup
    /// memory (entry `rows_vec4`, needs N % 4 == 0): what CPU adapters want.
    Rows,
    /// `Rows` reading A and B through textures (entry `rows_tex`, needs
    /// K % 4 == 0 and N % 4 == 0 and the operands' textures).
    RowsTex,
    /// `RowsTex` fetching each A texel once per subgroup and broadcasting
    /// it (`matmul_subgroup.wgsl`, entry `rows_sg`; needs subgroups of
    /// exactly WG_X invocations).
    RowsSubgroup,
}

/// A tile shape: the shader's override constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileConfig {
    pub layout: Layout,
    pub wg_x: u32,
    pub wg_y: u32,
    pub bk: u32,
    /// Rows of C per invocation (4, 8 or 16).
    pub tm: u32,
    /// vec4 columns of C per invocation (1, 2 or 4).
    pub tnv: u32,
}

impl Default for TileConfig {
    fn default() -> Self {
        TileConfig {
            layout: Layout::Tiled,
            wg_x: 16,
            wg_y: 16,
            bk: 16,
            tm: 4,
            tnv: 1,
        }
    }
}

impl TileConfig {
    pub fn bm(&self) -> u32 {
        self.wg_y * self.tm
    }

    pub fn bn(&self) -> u32 {
        self.wg_x * 4 * self.tnv
    }

    /// `tile=BMxBNxBK;thread=TMxTN;wg=XxY`, for the result's params
    /// (`layout=rows` is added for the CPU layout, whose K step is 1).
    pub fn describe(&self) -> String {
        let layout = match self.layout {
            Layout::Tiled => "",
            Layout::Rows => ";layout=rows",
            Layout::RowsTex => ";layout=rows_tex",
            Layout::RowsSubgroup => ";layout=rows_subgroup",
        };
        format!(
            "tile={}x{}x{};thread={}x{};wg={}x{}{layout}",
            self.bm(),
            self.bn(),
            self.bk,
            self.tm,
            self.tnv * 4,
            self.wg_x,
            self.wg_y
        )
    }

    /// The entry point for this shape and problem, and the bindings of A
    /// and B it reads; `None` where the shape cannot take the problem.
    pub fn entry(&self, k: u32, n: u32) -> Option<(&'static str, u32, u32)> {
        match self.layout {
            Layout::Tiled if k.is_multiple_of(4) && n.is_multiple_of(4) => {
                Some(("main_vec4", 4, 5))
            }
            Layout::Tiled => Some(("main", 0, 1)),
            Layout::Rows if n.is_multiple_of(4) => Some(("rows_vec4", 0, 5)),
            Layout::RowsTex if k.is_multiple_of(4) && n.is_multiple_of(4) => {
                Some(("rows_tex", 6, 7))
            }
            Layout::RowsSubgroup if k.is_multiple_of(4) && n.is_multiple_of(4) => {
                Some(("rows_sg", 6, 7))
            }
            Layout::Rows | Layout::RowsTex | Layout::RowsSubgroup => None,
        }
    }

    fn constants(&self) -> Vec<(&'static str, f64)> {
        let mut c = vec![
            ("WG_X", self.wg_x as f64),
            ("TM", self.tm as f64),
            ("TNV", self.tnv as f64),
        ];
        if self.layout != Layout::RowsSubgroup {
            c.extend([("WG_Y", self.wg_y as f64), ("BK", self.bk as f64)]);
        }
        c
    }

    /// Whether the adapter can run this shape at all.
    pub fn fits(&self, gpu: &Gpu) -> bool {
        let l = &gpu.limits;
        let shared = match self.layout {
            Layout::Tiled => 4 * self.bk as u64 * (self.bm() + self.bn()) as u64,
            Layout::Rows | Layout::RowsTex | Layout::RowsSubgroup => 0,
        };
        let shape = match self.layout {
            Layout::Tiled => self.bk.is_multiple_of(4),
            Layout::Rows | Layout::RowsTex => self.wg_y == 1 && self.bk == 1,
            Layout::RowsSubgroup => {
                self.wg_y == 1
                    && self.bk == 1
                    && self.tm >= 8
                    && gpu.has(wgpu::Features::SUBGROUP)
                    && gpu.desc.subgroup_min_size == self.wg_x
                    && gpu.desc.subgroup_max_size == self.wg_x
            }
        };
        matches!(self.tm, 4 | 8 | 16)
            && matches!(self.tnv, 1 | 2 | 4)
            && shape
            && self.wg_x <= l.max_compute_workgroup_size_x
            && self.wg_y <= l.max_compute_workgroup_size_y
            && self.wg_x * self.wg_y <= l.max_compute_invocations_per_workgroup
            && shared <= l.max_compute_workgroup_storage_size as u64
    }

    /// The shapes autotuning tries on this adapter.
    pub fn candidates(gpu: &Gpu) -> Vec<TileConfig> {
        let c = |wg_x, wg_y, bk, tm, tnv| TileConfig {
            layout: Layout::Tiled,
            wg_x,
            wg_y,
            bk,
            tm,
            tnv,
        };
        let list = if gpu.desc.is_cpu() {
            // A CPU adapter runs an invocation per SIMD lane and a workgroup
            // per thread; the row layout suits it (see the shader).
            let r = |wg_x, tm, tnv| TileConfig {
                layout: Layout::Rows,
                wg_x,
                wg_y: 1,
                bk: 1,
                tm,
                tnv,
            };
            let t = |wg_x, tm, tnv| TileConfig {
                layout: Layout::RowsTex,
                ..r(wg_x, tm, tnv)
            };
            let s = |wg_x, tm, tnv| TileConfig {
                layout: Layout::RowsSubgroup,
                ..r(wg_x, tm, tnv)
            };
            vec![
                s(8, 16, 1),
                s(8, 16, 2),
                s(8, 8, 2),
                s(8, 8, 4),
                t(8, 8, 2),
                t(8, 16, 2),
                r(8, 8, 2),
                c(8, 8, 16, 4, 1),
            ]
        } else {
            vec![
                c(16, 16, 16, 4, 1),
                c(16, 16, 8, 8, 2),
                c(16, 16, 16, 8, 1),
                c(8, 8, 16, 8, 2),
                c(16, 8, 16, 8, 1),
                c(16, 16, 16, 8, 2),
                c(16, 8, 16, 16, 2),
            ]
        };
        list.into_iter().filter(|t| t.fits(gpu)).collect()
    }
}

/// A and B on the device, in the precision the kernel reads.
pub struct Operands {
    pub a: wgpu::Buffer,
    pub b: wgpu::Buffer,
    /// A and B again as four-channel textures (A: K/4 x M, B: N/4 x K),
    /// for the CPU adapters' `rows_tex` layout; made only there.
    pub textures: Option<(wgpu::TextureView, wgpu::TextureView)>,
    pub precision: Precision,
    pub m: u32,
    pub n: u32,
    pub k: u32,
}

impl Operands {
    pub fn f32(gpu: &Gpu, m: u32, n: u32, k: u32, a: &[f32], b: &[f32]) -> Result<Operands> {
        check_lengths(m, n, k, a.len(), b.len())?;
        let (ab, bb) = (bytemuck::cast_slice(a), bytemuck::cast_slice(b));
        Ok(Operands {
            a: gpu.storage_init("matmul A", ab)?,
            b: gpu.storage_init("matmul B", bb)?,
            textures: textures(gpu, m, n, k, ab, bb, wgpu::TextureFormat::Rgba32Float)?,
            precision: Precision::F32,
            m,
            n,
            k,
        })
    }

    pub fn f16(gpu: &Gpu, m: u32, n: u32, k: u32, a: &[f16], b: &[f16]) -> Result<Operands> {
        check_lengths(m, n, k, a.len(), b.len())?;
        // Storage bindings are sized in multiples of 4 bytes.
        let pad = |v: &[f16]| {
            let mut bytes = bytemuck::cast_slice::<f16, u8>(v).to_vec();
            bytes.resize(bytes.len().next_multiple_of(4), 0);
            bytes
        };
        let (ab, bb) = (bytemuck::cast_slice(a), bytemuck::cast_slice(b));
        Ok(Operands {
            a: gpu.storage_init("matmul A f16", &pad(a))?,
            b: gpu.storage_init("matmul B f16", &pad(b))?,
            textures: textures(gpu, m, n, k, ab, bb, wgpu::TextureFormat::Rgba16Float)?,
            precision: Precision::F16,
            m,
            n,
            k,
        })
    }
}

/// Texture copies of A and B where the `rows_tex` layout can use them: on
/// CPU adapters, K and N multiples of 4, within the texture size limit.
fn textures(
    gpu: &Gpu,
    m: u32,
    n: u32,
    k: u32,
    a: &[u8],
    b: &[u8],
    format: wgpu::TextureFormat,
) -> Result<Option<(wgpu::TextureView, wgpu::TextureView)>> {
    let max = gpu.limits.max_texture_dimension_2d;
    if !gpu.desc.is_cpu()
        || !k.is_multiple_of(4)
        || !n.is_multiple_of(4)
        || m.max(k).max(k / 4).max(n / 4) > max
    {
        return Ok(None);
    }
    let texel = format.block_copy_size(None).unwrap_or(16);
    let make = |label: &str, width: u32, height: u32, data: &[u8]| {
        let size = wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        };
        let texture = gpu.device.create_texture(&wgpu::TextureDescriptor {
            label: Some(label),
            size,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        gpu.queue.write_texture(
            wgpu::TexelCopyTextureInfo {
                texture: &texture,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            data,
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(width * texel),
                rows_per_image: Some(height),
            },
            size,
        );
        texture.create_view(&Default::default())
    };
    let views = (
        make("matmul A texture", k / 4, m, a),
        make("matmul B texture", n / 4, k, b),
    );
    gpu.check_errors("making matmul textures")?;
    Ok(Some(views))
}

fn check_lengths(m: u32, n: u32, k: u32, a: usize, b: usize) -> Result<()> {
    anyhow::ensure!(
        m >= 1 && n >= 1 && k >= 1,
        "matmul sizes must be at least 1"
    );
    anyhow::ensure!(
        a == m as usize * k as usize && b == k as usize * n as usize,
        "matmul operands have {a} and {b} elements; {m}x{k} and {k}x{n} need {} and {}",
        m as usize * k as usize,
        k as usize * n as usize
    );
    Ok(())
}

/// One compiled kernel bound to its operands and output.
pub struct Matmul<'g> {
    gpu: &'g Gpu,
    pipeline: wgpu::ComputePipeline,
    /// One bind group per band of workgroup rows, each with its own offset.
    bands: Vec<(wgpu::BindGroup, u32)>,
    groups_x: u32,
    groups_y: u32,
    pub c: wgpu::Buffer,
    pub config: TileConfig,
    pub vec4: bool,
    /// Bindings of A and B for the entry point used.
    bindings: (u32, u32),
    pub m: u32,
    pub n: u32,
    pub k: u32,
}

impl<'g> Matmul<'g> {
    pub fn new(gpu: &'g Gpu, wgsl: &str, config: TileConfig, ops: &Operands) -> Result<Matmul<'g>> {
        Self::first_rows(gpu, wgsl, config, ops, ops.m)
    }

    /// Multiplies only the first `rows` rows of A (at most M) by B.
    pub fn first_rows(
        gpu: &'g Gpu,
        wgsl: &str,
        config: TileConfig,
        ops: &Operands,
        rows: u32,
    ) -> Result<Matmul<'g>> {
        let (m, n, k) = (rows.clamp(1, ops.m), ops.n, ops.k);
        let max_dim = gpu.limits.max_compute_workgroups_per_dimension;
        let groups_x = n.div_ceil(config.bn());
        let groups_y = m.div_ceil(config.bm());
        if groups_x > max_dim {
            crate::usage_bail!(
                "matmul N={n} needs {groups_x} workgroups across, more than the adapter's {max_dim}"
            );
        }
        let Some((entry, ia, ib)) = config.entry(k, n) else {
            anyhow::bail!(
                "tile shape {} cannot multiply {m}x{n}x{k}",
                config.describe()
            );
        };
        let vec4 = entry != "main";
        let wgsl = match config.layout {
            Layout::RowsSubgroup => WGSL_SUBGROUP,
            _ => wgsl,
        };
        let pipeline = gpu.pipeline(
            &format!("matmul {}", ops.precision.kernel()),
            wgsl,
            entry,
            &config.constants(),
        )?;
        let c = gpu.storage_init("matmul C", &vec![0u8; m as usize * n as usize * 4])?;
        let mut mm = Matmul {
            gpu,
            pipeline,
            bands: Vec::new(),
            groups_x,
            groups_y,
            c,
            config,
            vec4,
            bindings: (ia, ib),
            m,
            n,
            k,
        };
        mm.split_rows(max_dim, ops)?;
        Ok(mm)
    }

    /// Splits the dispatch into bands of at most `rows` workgroup rows, so
    /// no single dispatch runs too long or exceeds the per-dimension limit.
    fn split_rows(&mut self, rows: u32, ops: &Operands) -> Result<()> {
        let rows = rows.clamp(1, self.gpu.limits.max_compute_workgroups_per_dimension);
        let layout = self.pipeline.get_bind_group_layout(0);
        let mut bands = Vec::new();
        let mut first = 0;
        while first < self.groups_y {
            let count = rows.min(self.groups_y - first);
            let dims = self.gpu.storage_init(
                "matmul dims",
                bytemuck::cast_slice(&[self.m, self.n, self.k, first]),
            )?;
            let (ia, ib) = (self.bindings.0, self.bindings.1);
            let (ra, rb) = match (&ops.textures, self.config.layout) {
                (Some((ta, tb)), Layout::RowsTex | Layout::RowsSubgroup) => (
                    wgpu::BindingResource::TextureView(ta),
                    wgpu::BindingResource::TextureView(tb),
                ),
                (None, Layout::RowsTex | Layout::RowsSubgroup) => {
                    anyhow::bail!("the rows_tex layout needs the operands as textures")
                }
                _ => (ops.a.as_entire_binding(), ops.b.as_entire_binding()),
            };
            let bg = self
                .gpu
                .device
                .create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("matmul"),
                    layout: &layout,
                    entries: &[
                        wgpu::BindGroupEntry {
                            binding: ia,
                            resource: ra,
                        },
                        wgpu::BindGroupEntry {
                            binding: ib,
                            resource: rb,
                        },
                        wgpu::BindGroupEntry {
                            binding: 2,
                            resource: self.c.as_entire_binding(),
                        },
                        wgpu::BindGroupEntry {
                            binding: 3,
                            resource: dims.as_entire_binding(),
                        },
                    ],
                });
            bands.push((bg, count));
            first += count;
        }
        self.gpu.check_errors("binding the matmul buffers")?;
        self.bands = bands;
        Ok(())
    }

    /// Records one whole C = A·B.
    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline);
        for (bg, rows) in &self.bands {
            pass.set_bind_group(0, bg, &[]);
            pass.dispatch_workgroups(self.groups_x, *rows, 1);
        }
    }

    /// Runs `reps` multiplications in one submission and waits; wall seconds.
    pub fn run(&self, reps: u32) -> Result<f64> {
        self.gpu.run_pass("running matmul", |pass| {
            for _ in 0..reps {
                self.encode(pass);
            }
        })
    }

    /// Fills C with a NaN pattern so elements the kernel misses are caught.
    pub fn poison(&self) {
        let words = vec![POISON; self.m as usize * self.n as usize];
        self.gpu
            .queue
            .write_buffer(&self.c, 0, bytemuck::cast_slice(&words));
    }

    pub fn read_c(&self) -> Result<Vec<f32>> {
        let raw = self
            .gpu
            .read(&self.c, 0, self.m as u64 * self.n as u64 * 4)?;
        Ok(bytemuck::cast_slice::<u8, f32>(&raw).to_vec())
    }

    /// Poisons C, multiplies once, reads C back.
    pub fn compute(&self) -> Result<Vec<f32>> {
        self.poison();
        self.run(1)?;
        self.read_c()
    }

    /// Seconds per multiplication: a warm-up (which pays for compilation),
    /// then the best of a few short timed runs.
    fn quick_time(&self) -> Result<f64> {
        let first = self.run(1)?;
        let reps = ((0.02 / first.max(1e-6)).ceil() as u32).clamp(1, 16);
        let mut best = f64::INFINITY;
        for _ in 0..2 {
            best = best.min(self.run(reps)? / reps as f64);
        }
        Ok(best)
    }
}

/// C = A·B on the GPU, f32 in and out (row-major).
#[allow(clippy::too_many_arguments)]
pub fn multiply(
    gpu: &Gpu,
    wgsl: &str,
    config: TileConfig,
    m: u32,
    n: u32,
    k: u32,
    a: &[f32],
    b: &[f32],
) -> Result<Vec<f32>> {
    let ops = Operands::f32(gpu, m, n, k, a, b)?;
    Matmul::new(gpu, wgsl, config, &ops)?.compute()
}

/// C = A·B on the GPU with f16 inputs, accumulated and returned in f32.
#[allow(clippy::too_many_arguments)]
pub fn multiply_f16(
    gpu: &Gpu,
    wgsl: &str,
    config: TileConfig,
    m: u32,
    n: u32,
    k: u32,
    a: &[f16],
    b: &[f16],
) -> Result<Vec<f32>> {
    let ops = Operands::f16(gpu, m, n, k, a, b)?;
    Matmul::new(gpu, wgsl, config, &ops)?.compute()
}

/// Inputs uniform in [-1, 1] from a fixed seed.
pub fn random_matrix(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0f32..=1.0)).collect()
}

/// How much of C the reference checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// Every element.
    Full,
    /// 16 whole rows and 16 whole columns (first, last and random ones).
    Sampled,
    /// Full when cheap, sampled otherwise.
    Auto,
}

/// Outcome of comparing C with the reference.
#[derive(Debug, Default)]
pub struct Verdict {
    pub checked: u64,
    pub failed: u64,
    /// The first few failures: index, got, expected, tolerance.
    pub problems: Vec<String>,
    /// Largest |got - ref| / tolerance seen (<= 1 when everything passes).
    pub worst_ratio: f64,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.failed == 0 && self.checked > 0
    }

    fn check(
        &mut self,
        n: u32,
        (i, j): (usize, usize),
        got: f32,
        expected: f64,
        abs_sum: f64,
        k: u32,
    ) {
        let tol = 4.0 * ACC_UNIT_ROUNDOFF * (k as f64).sqrt() * abs_sum;
        let err = (got as f64 - expected).abs();
        self.checked += 1;
        let ratio = if tol > 0.0 { err / tol } else { err };
        // Written so that a NaN fails.
        if err <= tol {
            self.worst_ratio = self.worst_ratio.max(ratio);
            return;
        }
        self.worst_ratio = if ratio.is_nan() {
            f64::INFINITY
        } else {
            ratio.max(self.worst_ratio)
        };
        self.failed += 1;
        if self.problems.len() < 8 {
            self.problems.push(format!(
                "C[{i}][{j}] (index {}): got {got:e}, expected {expected:e} (tolerance {tol:.3e})",
                i * n as usize + j
            ));
        }
    }
}

/// Compares `c` (M x N) with A·B computed in f64 from the same inputs.
#[allow(clippy::too_many_arguments)]
pub fn verify(
    m: u32,
    n: u32,
    k: u32,
    a: &[f32],
    b: &[f32],
    c: &[f32],
    coverage: Coverage,
    seed: u64,
) -> Verdict {
    let (mu, nu, ku) = (m as usize, n as usize, k as usize);
    let mut v = Verdict::default();
    if a.len() != mu * ku || b.len() != ku * nu || c.len() != mu * nu {
        v.failed = 1;
        v.problems.push(format!(
            "wrong lengths: A {} B {} C {} for {m}x{n}x{k}",
            a.len(),
            b.len(),
            c.len()
        ));
        return v;
    }
    let full = match coverage {
        Coverage::Full => true,
        Coverage::Sampled => false,
        Coverage::Auto => m as u64 * n as u64 * k as u64 <= FULL_CHECK_MACS,
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let pick = |count: usize, len: usize, rng: &mut rand::rngs::StdRng| -> Vec<usize> {
        if len <= count {
            return (0..len).collect();
        }
        let mut v = vec![0, len - 1];
        while v.len() < count {
            let x = rng.random_range(0..len);
            if !v.contains(&x) {
                v.push(x);
            }
        }
        v.sort_unstable();
        v
    };
    let rows: Vec<usize> = if full {
        (0..mu).collect()
    } else {
        pick(SAMPLED_ROWS, mu, &mut rng)
    };
    // Whole rows: stream through B once per row.
    let mut sum = vec![0f64; nu];
    let mut abs = vec![0f64; nu];
    for &i in &rows {
        sum.iter_mut().for_each(|x| *x = 0.0);
        abs.iter_mut().for_each(|x| *x = 0.0);
        for kk in 0..ku {
            let aik = a[i * ku + kk] as f64;
            let brow = &b[kk * nu..(kk + 1) * nu];
            for j in 0..nu {
                let p = aik * brow[j] as f64;
                sum[j] += p;
                abs[j] += p.abs();
            }
        }
        for j in 0..nu {
            v.check(n, (i, j), c[i * nu + j], sum[j], abs[j], k);
        }
    }
    if !full {
        // Whole columns: every row against a few columns of B.
        let cols = pick(SAMPLED_COLS, nu, &mut rng);
        let bcols: Vec<Vec<f64>> = cols
            .iter()
            .map(|&j| (0..ku).map(|kk| b[kk * nu + j] as f64).collect())
            .collect();
        for i in 0..mu {
            if rows.binary_search(&i).is_ok() {
                continue;
            }
            let arow = &a[i * ku..(i + 1) * ku];
            for (ci, &j) in cols.iter().enumerate() {
                let (mut s, mut t) = (0f64, 0f64);
                for (x, y) in arow.iter().zip(&bcols[ci]) {
                    let p = *x as f64 * y;
                    s += p;
                    t += p.abs();
                }
                v.check(n, (i, j), c[i * nu + j], s, t, k);
            }
        }
    }
    v
}

/// Default problem sizes: large enough to fill a GPU, small enough for a
/// software adapter to finish in seconds.
fn default_size(ctx: &Ctx) -> u32 {
    match (ctx.gpu.desc.is_cpu(), ctx.scale) {
        (true, Scale::Quick) => 256,
        (true, Scale::Default) => 512,
        (true, Scale::Full) => 1024,
        (false, Scale::Quick) => 2048,
        (false, Scale::Default) => 4096,
        (false, Scale::Full) => 8192,
    }
}

/// The largest single buffer a kernel can bind.
fn max_binding(gpu: &Gpu) -> u64 {
    gpu.limits
        .max_storage_buffer_binding_size
        .min(gpu.limits.max_buffer_size)
}

fn fits(gpu: &Gpu, m: u32, n: u32, k: u32, in_bytes: u64) -> bool {
    let max = max_binding(gpu);
    let (m, n, k) = (m as u64, n as u64, k as u64);
    m * k * in_bytes <= max && k * n * in_bytes <= max && m * n * 4 <= max
}

/// M, N, K for this run: the command line's values, the default for the
/// rest, shrunk (only where not given) to what the adapter can bind.
pub fn problem_size(ctx: &Ctx) -> Result<(u32, u32, u32)> {
    let s = ctx.sizes;
    for (name, v) in [("m", s.m), ("n", s.n), ("k", s.k)] {
        if v == Some(0) {
            crate::usage_bail!("--{name} must be at least 1");
        }
    }
    let def = default_size(ctx);
    let (mut m, mut n, mut k) = (s.m.unwrap_or(def), s.n.unwrap_or(def), s.k.unwrap_or(def));
    while !fits(ctx.gpu, m, n, k, 4) {
        let before = (m, n, k);
        if s.m.is_none() && m > 1 {
            m /= 2;
        }
        if s.n.is_none() && n > 1 {
            n /= 2;
        }
        if s.k.is_none() && k > 1 {
            k /= 2;
        }
        if before == (m, n, k) {
            crate::usage_bail!(
                "matmul {m}x{n}x{k} needs buffers of {} (A), {} (B) and {} (C), but adapter {} binds at most {} per buffer; choose smaller --m/--n/--k",
                crate::units::bytes(m as f64 * k as f64 * 4.0),
                crate::units::bytes(k as f64 * n as f64 * 4.0),
                crate::units::bytes(m as f64 * n as f64 * 4.0),
                ctx.gpu.desc.name,
                crate::units::bytes(max_binding(ctx.gpu) as f64)
            );
        }
    }
    Ok((m, n, k))
}

/// Tries each candidate tile shape: it must get a small awkward problem of
/// the same kind right (vec4 or scalar path), then the fastest at the real
/// N and K (on a band of M's rows) wins. Returns the winner and a note per
/// shape tried (`shape=rate`, `shape=wrong` or `shape=failed`).
pub fn autotune(ctx: &Ctx, wgsl: &str, ops: &Operands) -> Result<(TileConfig, Vec<String>)> {
    let gpu = ctx.gpu;
    // The same divisibility as the real problem, so the same entry point.
    let sm = 67;
    let sn = if ops.n.is_multiple_of(4) { 132 } else { 131 };
    let sk = if ops.k.is_multiple_of(4) { 44 } else { 45 };
    let sa = random_matrix(sm * sk, 11);
    let sb = random_matrix(sk * sn, 12);
    let small = match ops.precision {
        Precision::F32 => Operands::f32(gpu, sm as u32, sn as u32, sk as u32, &sa, &sb)?,
        Precision::F16 => {
            let ha: Vec<f16> = sa.iter().map(|&x| f16::from_f32(x)).collect();
            let hb: Vec<f16> = sb.iter().map(|&x| f16::from_f32(x)).collect();
            Operands::f16(gpu, sm as u32, sn as u32, sk as u32, &ha, &hb)?
        }
    };
    let (sa, sb) = match ops.precision {
        Precision::F32 => (sa, sb),
        Precision::F16 => (round_f16(&sa), round_f16(&sb)),
    };
    // Slow shapes are timed on a band of rows, so no trial dispatch runs
    // long (a tiled kernel on a CPU adapter can be ten times slower than
    // the best one); a multiple of every shape's rows per workgroup.
    let budget = if gpu.desc.is_cpu() {
        2f64.powi(27)
    } else {
        2f64.powi(36)
    };
    let tune_rows = (budget / (2.0 * ops.n as f64 * ops.k as f64) / 128.0).ceil() as u32 * 128;
    let tune_rows = tune_rows.clamp(1, ops.m);
    let mut best: Option<(f64, TileConfig)> = None;
    let mut notes = Vec::new();
    let candidates: Vec<TileConfig> = TileConfig::candidates(gpu)
        .into_iter()
        .filter(|c| c.entry(ops.k, ops.n).is_some())
        .filter(|c| {
            !matches!(c.layout, Layout::RowsTex | Layout::RowsSubgroup) || ops.textures.is_some()
        })
        .collect();
    for (i, cfg) in candidates.iter().enumerate() {
        ctx.status(&format!(
            "matmul {}: autotuning {}/{} ({})",
            ops.precision.kernel(),
            i + 1,
            candidates.len(),
            cfg.describe()
        ));
        let attempt = (|| -> Result<Option<f64>> {
            let c = Matmul::new(gpu, wgsl, *cfg, &small)?.compute()?;
            let v = verify(
                sm as u32,
                sn as u32,
                sk as u32,
                &sa,
                &sb,
                &c,
                Coverage::Full,
                1,
            );
            if !v.ok() {
                return Ok(None);
            }
            Ok(Some(
                Matmul::first_rows(gpu, wgsl, *cfg, ops, tune_rows)?.quick_time()?,
            ))
        })();
        match attempt {
            Ok(Some(t)) => {
                let flop = 2.0 * tune_rows as f64 * ops.n as f64 * ops.k as f64;
                notes.push(format!("{}={:.1}GFLOP/s", cfg.describe(), flop / t / 1e9));
                if best.is_none_or(|(bt, _)| t < bt) {
                    best = Some((t, *cfg));
                }
            }
            Ok(None) => notes.push(format!("{}=wrong", cfg.describe())),
            Err(e) => {
                if e.downcast_ref::<crate::error::UsageError>().is_some() {
                    return Err(e);
                }
                notes.push(format!("{}=failed", cfg.describe()));
            }
        }
    }
    match best {
        Some((_, cfg)) => Ok((cfg, notes)),
        None => anyhow::bail!(
            "no matmul tile shape produced correct results on this adapter ({})",
            notes.join(", ")
        ),
    }
}

fn round_f16(v: &[f32]) -> Vec<f32> {
    v.iter().map(|&x| f16::from_f32(x).to_f32()).collect()
}

/// Autotunes, verifies and measures one precision.
fn measure(ctx: &Ctx, precision: Precision, m: u32, n: u32, k: u32) -> Result<Measured> {
    let gpu = ctx.gpu;
    let kernel = precision.kernel();
    let wgsl = ctx
        .shaders
        .get(precision.shader_name(), precision.builtin())?;
    ctx.status(&format!("matmul {kernel}: preparing {m}x{n}x{k}"));
    let a = random_matrix(m as usize * k as usize, 1);
    let b = random_matrix(k as usize * n as usize, 2);
    let (ops, a, b) = match precision {
        Precision::F32 => (Operands::f32(gpu, m, n, k, &a, &b)?, a, b),
        Precision::F16 => {
            let ha: Vec<f16> = a.iter().map(|&x| f16::from_f32(x)).collect();
            let hb: Vec<f16> = b.iter().map(|&x| f16::from_f32(x)).collect();
            let ops = Operands::f16(gpu, m, n, k, &ha, &hb)?;
            (ops, round_f16(&a), round_f16(&b))
        }
    };
    let (config, _tried) = autotune(ctx, &wgsl, &ops)?;
    let mut mm = Matmul::new(gpu, &wgsl, config, &ops)?;
    let per_run = mm.quick_time()?;
    if per_run > MAX_DISPATCH_S && mm.groups_y > 1 {
        let bands = (per_run / MAX_DISPATCH_S).ceil() as u32;
        mm.split_rows(mm.groups_y.div_ceil(bands), &ops)?;
    }

    ctx.status(&format!("matmul {kernel}: verifying against the CPU"));
    let c = mm.compute()?;
    let verdict = verify(m, n, k, &a, &b, &c, Coverage::Auto, 3);
    drop(c);
    for p in &verdict.problems {
        ctx.warn(&format!("matmul {kernel} {m}x{n}x{k}: {p}"));
    }
    if verdict.failed > verdict.problems.len() as u64 {
        ctx.warn(&format!(
            "matmul {kernel}: {} of {} checked elements are wrong",
            verdict.failed, verdict.checked
        ));
    }

    ctx.status(&format!("matmul {kernel}: measuring {m}x{n}x{k}"));
    // Enough repetitions for ~100 ms samples even on a fast GPU, bounded so
    // that a command buffer stays modest.
    let timed = gpu.time_compute(&ctx.plan.with_max_reps(256), |pass, reps| {
        for _ in 0..reps {
            mm.encode(pass);
        }
    })?;
    let flop = 2.0 * m as f64 * n as f64 * k as f64;
    let summary = Summary::rate_from_times(&timed.samples_s, flop * timed.reps as f64)
        .ok_or_else(|| anyhow::anyhow!("matmul {kernel} produced no usable timing samples"))?;
    let accumulate = match precision {
        Precision::F32 => "f32",
        Precision::F16 => "f16in-f32acc",
    };
    Ok(Measured {
        kernel: kernel.into(),
        params: format!(
            "m={m};n={n};k={k};{};loads={};precision={accumulate};dispatches={};reps={};checked={}{}",
            config.describe(),
            if mm.vec4 { "vec4" } else { "scalar" },
            mm.bands.len(),
            timed.reps,
            verdict.checked,
            if verdict.ok() {
                String::new()
            } else {
                format!(";wrong={}", verdict.failed)
            }
        ),
        metric: "flops",
        unit: "FLOP/s",
        summary,
        timing: timed.method,
        verified: verdict.ok(),
        problems: Vec::new(),
    })
}

/// `run --suite matmul`: sgemm, then hgemm where the adapter has f16.
pub fn run(ctx: &Ctx) -> Result<SuiteOutput> {
    let (m, n, k) = problem_size(ctx)?;
    let mut out = SuiteOutput::default();
    out.measured.push(measure(ctx, Precision::F32, m, n, k)?);
    if ctx.gpu.has(wgpu::Features::SHADER_F16) {
        out.measured.push(measure(ctx, Precision::F16, m, n, k)?);
    } else {
        out.skipped.push(Skipped {
            suite: "matmul".into(),
            kernel: Precision::F16.kernel().into(),
            reason: "unsupported: adapter lacks SHADER_F16".into(),
        });
    }
    Ok(out)
}

/// Every matmul shader as compiled, for validation without a GPU.
pub fn shader_sources() -> Vec<(String, String)> {
    vec![
        ("matmul".into(), WGSL.into()),
        ("matmul_f16".into(), WGSL_F16.into()),
        ("matmul_subgroup".into(), WGSL_SUBGROUP.into()),
    ]
}
