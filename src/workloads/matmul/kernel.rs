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

/// Input windows of the timed multiplication: repetition r multiplies A
/// window r mod 2 by B and adds the product to C, so no repetition sees
/// the input of the one before it and C holds the sum of all of them.
pub const WINDOWS: usize = 2;

/// A (one matrix per input window) and B on the device, in the precision
/// the kernel reads.
pub struct Operands {
    pub a: Vec<wgpu::Buffer>,
    pub b: wgpu::Buffer,
    /// A and B again as four-channel textures (A: K/4 x M, B: N/4 x K),
    /// for the CPU adapters' `rows_tex` layout; made only there.
    pub textures: Option<(Vec<wgpu::TextureView>, wgpu::TextureView)>,
    pub precision: Precision,
    pub m: u32,
    pub n: u32,
    pub k: u32,
}

impl Operands {
    /// `windows` random A (M x K) and one B (K x N) from two seeds, on the
    /// device in `precision`; returned again as the values the kernel
    /// reads (f16 ones after rounding), in f32, for the reference.
    pub fn random(
        gpu: &Gpu,
        precision: Precision,
        (m, n, k): (u32, u32, u32),
        (seed_a, seed_b): (u64, u64),
        windows: usize,
    ) -> Result<(Operands, Vec<Vec<f32>>, Vec<f32>)> {
        let a: Vec<Vec<f32>> = (0..windows.max(1) as u64)
            .map(|w| random_matrix(m as usize * k as usize, seed_a + 1000 * w))
            .collect();
        let b = random_matrix(k as usize * n as usize, seed_b);
        match precision {
            Precision::F32 => {
                let views: Vec<&[f32]> = a.iter().map(Vec::as_slice).collect();
                Ok((Operands::f32_windows(gpu, (m, n, k), &views, &b)?, a, b))
            }
            Precision::F16 => {
                let half = |v: &[f32]| v.iter().map(|&x| f16::from_f32(x)).collect::<Vec<_>>();
                let ha: Vec<Vec<f16>> = a.iter().map(|w| half(w)).collect();
                let hb = half(&b);
                let views: Vec<&[f16]> = ha.iter().map(Vec::as_slice).collect();
                let ops = Operands::f16_windows(gpu, (m, n, k), &views, &hb)?;
                let wide = |v: &[f16]| v.iter().map(|x| x.to_f32()).collect::<Vec<_>>();
                Ok((ops, ha.iter().map(|w| wide(w)).collect(), wide(&hb)))
            }
        }
    }

    pub fn f32(gpu: &Gpu, m: u32, n: u32, k: u32, a: &[f32], b: &[f32]) -> Result<Operands> {
        Self::f32_windows(gpu, (m, n, k), &[a], b)
    }

    pub fn f32_windows(
        gpu: &Gpu,
        (m, n, k): (u32, u32, u32),
        a: &[&[f32]],
        b: &[f32],
    ) -> Result<Operands> {
        let a: Vec<&[u8]> = a.iter().map(|w| bytemuck::cast_slice(w)).collect();
        let shape = (m, n, k, Precision::F32);
        Self::upload(gpu, shape, &a, bytemuck::cast_slice(b), 4)
    }

    pub fn f16(gpu: &Gpu, m: u32, n: u32, k: u32, a: &[f16], b: &[f16]) -> Result<Operands> {
        Self::f16_windows(gpu, (m, n, k), &[a], b)
    }

    pub fn f16_windows(
        gpu: &Gpu,
        (m, n, k): (u32, u32, u32),
        a: &[&[f16]],
        b: &[f16],
    ) -> Result<Operands> {
        let a: Vec<&[u8]> = a.iter().map(|w| bytemuck::cast_slice(w)).collect();
        let shape = (m, n, k, Precision::F16);
        Self::upload(gpu, shape, &a, bytemuck::cast_slice(b), 2)
    }

    fn upload(
        gpu: &Gpu,
        (m, n, k, precision): (u32, u32, u32, Precision),
        a: &[&[u8]],
        b: &[u8],
        elem: usize,
    ) -> Result<Operands> {
        for w in a {
            check_lengths(m, n, k, w.len() / elem, b.len() / elem)?;
        }
        // Storage bindings are sized in multiples of 4 bytes.
        let pad = |v: &[u8]| {
            let mut bytes = v.to_vec();
            bytes.resize(bytes.len().next_multiple_of(4), 0);
            bytes
        };
        let format = match precision {
            Precision::F32 => wgpu::TextureFormat::Rgba32Float,
            Precision::F16 => wgpu::TextureFormat::Rgba16Float,
        };
        let textures = match a
            .iter()
            .map(|w| textures(gpu, (m, k), w, format))
            .collect::<Result<Option<Vec<_>>>>()?
        {
            Some(ta) => textures(gpu, (k, n), b, format)?.map(|tb| (ta, tb)),
            None => None,
        };
        Ok(Operands {
            a: a.iter()
                .map(|w| gpu.storage_init("matmul A", &pad(w)))
                .collect::<Result<_>>()?,
            b: gpu.storage_init("matmul B", &pad(b))?,
            textures,
            precision,
            m,
            n,
            k,
        })
    }
}

/// A texture copy of a `rows` x `cols` operand where the `rows_tex`
/// layout can use it: on CPU adapters, `cols` a multiple of 4, within the
/// texture size limit.
fn textures(
    gpu: &Gpu,
    (rows, cols): (u32, u32),
    data: &[u8],
    format: wgpu::TextureFormat,
) -> Result<Option<wgpu::TextureView>> {
    let max = gpu.limits.max_texture_dimension_2d;
    if !gpu.desc.is_cpu() || !cols.is_multiple_of(4) || rows.max(cols / 4) > max {
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
    let view = make("matmul operand texture", cols / 4, rows, data);
    gpu.check_errors("making matmul textures")?;
    Ok(Some(view))
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
    /// Per input window, one bind group per band of workgroup rows, each
    /// with its own offset.
    pub(super) bands: Vec<Vec<(wgpu::BindGroup, u32)>>,
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
        let mut windows = Vec::new();
        for w in 0..ops.a.len() {
            windows.push(self.bands_of(w, rows, ops, &layout)?);
        }
        self.gpu.check_errors("binding the matmul buffers")?;
        self.bands = windows;
        Ok(())
    }

    /// The bands of one input window.
    fn bands_of(
        &self,
        window: usize,
        rows: u32,
        ops: &Operands,
        layout: &wgpu::BindGroupLayout,
    ) -> Result<Vec<(wgpu::BindGroup, u32)>> {
        let mut bands = Vec::new();
        let mut first = 0;
        while first < self.groups_y {
            let count = rows.min(self.groups_y - first);
            let dims = [self.m, self.n, self.k, first, window as u32, 0, 0, 0];
            let dims = self
                .gpu
                .storage_init("matmul dims", bytemuck::cast_slice(&dims))?;
            let (ia, ib) = (self.bindings.0, self.bindings.1);
            let (ra, rb) = match (&ops.textures, self.config.layout) {
                (Some((ta, tb)), Layout::RowsTex | Layout::RowsSubgroup) => (
                    wgpu::BindingResource::TextureView(&ta[window]),
                    wgpu::BindingResource::TextureView(tb),
                ),
                (None, Layout::RowsTex | Layout::RowsSubgroup) => {
                    anyhow::bail!("the rows_tex layout needs the operands as textures")
                }
                _ => (ops.a[window].as_entire_binding(), ops.b.as_entire_binding()),
            };
            let bg = self
                .gpu
                .device
                .create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("matmul"),
                    layout,
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
        Ok(bands)
    }

    /// Input windows bound.
    pub fn windows(&self) -> usize {
        self.bands.len()
    }

    /// Records one whole C += A·B with A from input window `window`.
    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>, window: usize) {
        pass.set_pipeline(&self.pipeline);
        for (bg, rows) in &self.bands[window] {
            pass.set_bind_group(0, bg, &[]);
            pass.dispatch_workgroups(self.groups_x, *rows, 1);
        }
    }

    /// Runs `reps` multiplications (window 0) in one submission and waits;
    /// wall seconds.
    pub fn run(&self, reps: u32) -> Result<f64> {
        self.gpu.run_pass("running matmul", |pass| {
            for _ in 0..reps {
                self.encode(pass, 0);
            }
        })
    }

    /// Fills C with a NaN pattern: a kernel adds to C, so every element it
    /// misses stays NaN.
    pub fn poison(&self) {
        self.fill_c(POISON);
    }

    /// Zeroes C before products are added to it.
    pub fn clear(&self) {
        self.fill_c(0);
    }

    fn fill_c(&self, word: u32) {
        let words = vec![word; self.m as usize * self.n as usize];
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

    /// Zeroes C, multiplies once (window 0), reads C back.
    pub fn compute(&self) -> Result<Vec<f32>> {
        self.clear();
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
