//! One compiled kernel bound to its operands: A and B on the device (plus
//! texture copies for the CPU adapters' layouts), C, and the dispatches of
//! one whole C = A·B, split into bands of rows where one dispatch would
//! run long.

use anyhow::Result;
use half::f16;

use super::shaders::Kernels;
use super::tiles::{Layout, TileConfig};
use super::verify::random_matrix;
use super::Precision;
use crate::gpu::Gpu;

/// A NaN that no arithmetic produces, so an unwritten element is obvious.
const POISON: u32 = 0x7fbf_dead;

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
    /// Random A (M x K) and B (K x N) from two seeds, on the device in
    /// `precision`; returned again as the values the kernel reads (f16
    /// ones after rounding), in f32, for the reference.
    pub fn random(
        gpu: &Gpu,
        precision: Precision,
        (m, n, k): (u32, u32, u32),
        (seed_a, seed_b): (u64, u64),
    ) -> Result<(Operands, Vec<f32>, Vec<f32>)> {
        let a = random_matrix(m as usize * k as usize, seed_a);
        let b = random_matrix(k as usize * n as usize, seed_b);
        match precision {
            Precision::F32 => Ok((Operands::f32(gpu, m, n, k, &a, &b)?, a, b)),
            Precision::F16 => {
                let half = |v: &[f32]| v.iter().map(|&x| f16::from_f32(x)).collect::<Vec<_>>();
                let (ha, hb) = (half(&a), half(&b));
                let ops = Operands::f16(gpu, m, n, k, &ha, &hb)?;
                let wide = |v: &[f16]| v.iter().map(|x| x.to_f32()).collect::<Vec<_>>();
                Ok((ops, wide(&ha), wide(&hb)))
            }
        }
    }

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
    pub(super) bands: Vec<(wgpu::BindGroup, u32)>,
    groups_x: u32,
    pub(super) groups_y: u32,
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
    pub fn new(
        gpu: &'g Gpu,
        kernels: &Kernels,
        config: TileConfig,
        ops: &Operands,
    ) -> Result<Matmul<'g>> {
        Self::first_rows(gpu, kernels, config, ops, ops.m)
    }

    /// Multiplies only the first `rows` rows of A (at most M) by B.
    pub fn first_rows(
        gpu: &'g Gpu,
        kernels: &Kernels,
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
            Layout::RowsSubgroup => &kernels.subgroup,
            _ => &kernels.main,
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
    pub(super) fn split_rows(&mut self, rows: u32, ops: &Operands) -> Result<()> {
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
    pub(super) fn quick_time(&self) -> Result<f64> {
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
    kernels: &Kernels,
    config: TileConfig,
    m: u32,
    n: u32,
    k: u32,
    a: &[f32],
    b: &[f32],
) -> Result<Vec<f32>> {
    let ops = Operands::f32(gpu, m, n, k, a, b)?;
    Matmul::new(gpu, kernels, config, &ops)?.compute()
}

/// C = A·B on the GPU with f16 inputs, accumulated and returned in f32.
#[allow(clippy::too_many_arguments)]
pub fn multiply_f16(
    gpu: &Gpu,
    kernels: &Kernels,
    config: TileConfig,
    m: u32,
    n: u32,
    k: u32,
    a: &[f16],
    b: &[f16],
) -> Result<Vec<f32>> {
    let ops = Operands::f16(gpu, m, n, k, a, b)?;
    Matmul::new(gpu, kernels, config, &ops)?.compute()
}
