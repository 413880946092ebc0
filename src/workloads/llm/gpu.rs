//! GPU side shared by decode and prefill: the composed shaders, weight
//! matrices generated in place (split by rows into buffers the adapter can
//! bind), and small per-dispatch parameter buffers.

use anyhow::Result;

use super::formats::Format;
use super::layout::Layout;
use super::shapes::Matrix;
use crate::gpu::Gpu;
use crate::workloads::Shaders;

pub const INIT_WGSL: &str = include_str!("../../../shaders/llm_init.wgsl");
pub const DECODE_IO_WGSL: &str = include_str!("../../../shaders/llm_decode_io.wgsl");
pub const PREFILL_IO_WGSL: &str = include_str!("../../../shaders/llm_prefill_io.wgsl");
pub const DECODE_WGSL: &str = include_str!("../../../shaders/llm_decode.wgsl");
pub const DECODE_SG_WGSL: &str = include_str!("../../../shaders/llm_decode_sg.wgsl");
pub const PREFILL_WGSL: &str = include_str!("../../../shaders/llm_prefill.wgsl");
pub const PREFILL_SG_WGSL: &str = include_str!("../../../shaders/llm_prefill_sg.wgsl");

/// Rows per decode workgroup and the prefill tile, as in the shaders.
pub const DECODE_ROWS: u64 = 4;
pub const PREFILL_TILE: u64 = 64;

/// Rows of the tiled prefill's tile (its `ROWS`) on this device: 64 takes
/// 256 invocations and 16 KiB of workgroup memory, 32 half the invocations
/// and 12 KiB, which every device has (GLES 3.1's minimums).
pub fn prefill_rows(gpu: &Gpu) -> u64 {
    let l = &gpu.limits;
    let full = PREFILL_TILE as u32;
    if l.max_compute_invocations_per_workgroup >= 4 * full
        && l.max_compute_workgroup_size_x >= 4 * full
        && l.max_compute_workgroup_storage_size >= 16 << 10
    {
        PREFILL_TILE
    } else {
        PREFILL_TILE / 2
    }
}
/// Activation windows: repetition `r` reads window `r mod WINDOWS` and adds
/// its product to the outputs, so the outputs are a sum only all
/// repetitions together produce (`shaders/llm_decode_io.wgsl`).
pub const WINDOWS: usize = 2;

/// The activation window repetition `index` reads.
pub fn window(index: u64) -> usize {
    (index % WINDOWS as u64) as usize
}

/// A shader piece: its name (for `--shader-dir`) and its built-in source.
pub type Piece = (&'static str, &'static str);

pub const INIT: Piece = ("llm_init", INIT_WGSL);
/// Invocations per workgroup of `init` (its `@workgroup_size`).
const INIT_WORKGROUP: u64 = 64;
pub const DECODE_IO: Piece = ("llm_decode_io", DECODE_IO_WGSL);
pub const PREFILL_IO: Piece = ("llm_prefill_io", PREFILL_IO_WGSL);

/// Format header + pieces, as compiled.
pub fn compose(header: &str, pieces: &[&str]) -> String {
    let mut out = header.to_string();
    for p in pieces {
        out.push('\n');
        out.push_str(p);
    }
    out
}

/// Every composition the suite compiles, built-in: the generator, and each
/// layout's decode and prefill body after its shared parameters piece.
pub fn shader_sources() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in super::formats::FORMATS {
        let (name, header) = f.header();
        let mut all = vec![vec![INIT], vec![super::token::weights::TOKEN]];
        for layout in [Layout::LanesPerRow, Layout::RowPerLane] {
            all.push(vec![DECODE_IO, layout.decode().0]);
            all.push(vec![PREFILL_IO, layout.prefill().0]);
        }
        for pieces in all {
            let label = pieces.last().map_or("", |p| p.0);
            let sources: Vec<&str> = pieces.iter().map(|p| p.1).collect();
            out.push((format!("{label}+{name}"), compose(header, &sources)));
        }
    }
    out
}

/// `pieces` after `format`'s header, each through `--shader-dir` when it
/// has a copy.
pub fn source(shaders: &Shaders, format: Format, pieces: &[Piece]) -> Result<String> {
    let (name, header) = format.header();
    let mut sources = Vec::new();
    for (piece, builtin) in pieces {
        sources.push(shaders.get(piece, builtin)?);
    }
    let sources: Vec<&str> = sources.iter().map(|s| s.as_ref()).collect();
    Ok(compose(&shaders.get(name, header)?, &sources))
}

/// The weight generator and one timed kernel for `format`: (init, kernel).
pub fn pipelines(
    gpu: &Gpu,
    shaders: &Shaders,
    format: Format,
    label: &str,
    pieces: &[Piece],
    (entry, constants): (&str, &[(&str, f64)]),
) -> Result<(wgpu::ComputePipeline, wgpu::ComputePipeline)> {
    let init = gpu.pipeline("llm init", &source(shaders, format, &[INIT])?, "init", &[])?;
    let kernel = gpu.pipeline(label, &source(shaders, format, pieces)?, entry, constants)?;
    Ok((init, kernel))
}

/// A storage buffer of the given bytes (padded to whole words).
pub fn storage(gpu: &Gpu, label: &str, data: &[u8]) -> Result<wgpu::Buffer> {
    let mut v = data.to_vec();
    v.resize(data.len().div_ceil(4).max(1) * 4, 0);
    gpu.storage_init(label, &v)
}

pub fn words(values: &[u32]) -> Vec<u8> {
    bytemuck::cast_slice(values).to_vec()
}

/// Binds `buffers` in order at the given binding numbers.
pub fn bind(
    gpu: &Gpu,
    pipeline: &wgpu::ComputePipeline,
    entries: &[(u32, &wgpu::Buffer)],
) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry> = entries
        .iter()
        .map(|(binding, b)| wgpu::BindGroupEntry {
            binding: *binding,
            resource: b.as_entire_binding(),
        })
        .collect();
    gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("llm"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    })
}

/// Rows `row0 .. row0 + rows` of a matrix, in their own buffer.
pub struct Part {
    pub row0: u64,
    pub rows: u64,
    pub buf: wgpu::Buffer,
}

/// One weight matrix on the GPU.
pub struct GpuMatrix {
    pub shape: Matrix,
    pub key: u32,
    pub parts: Vec<Part>,
}

/// Largest part, in bytes: what one binding may hold, less the padding word.
pub fn part_limit(gpu: &Gpu) -> u64 {
    gpu.limits
        .max_storage_buffer_binding_size
        .min(gpu.limits.max_buffer_size)
        - 8
}

/// Generates matrix `shape` (hash `key`) in `format` on the GPU with the
/// init pipeline, one buffer per part.
pub fn generate(
    gpu: &Gpu,
    init: &wgpu::ComputePipeline,
    format: Format,
    shape: Matrix,
    key: u32,
) -> Result<GpuMatrix> {
    let row_bytes = format.row_bytes(shape.k);
    let rows_per_part = (part_limit(gpu) / row_bytes).max(1);
    let mut parts = Vec::new();
    let mut work = Vec::new();
    let mut row0 = 0;
    while row0 < shape.rows {
        let rows = rows_per_part.min(shape.rows - row0);
        let n_words = (rows * row_bytes).div_ceil(4) + 1;
        let buf = gpu.buffer(
            &format!("llm weights {}", shape.name),
            n_words * 4,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        )?;
        let groups = n_words.div_ceil(INIT_WORKGROUP) as u32;
        let (gx, gy) = gpu.dispatch_dims(groups);
        let gen = storage(
            gpu,
            "llm gen",
            &words(&[key, (row0 * row_bytes) as u32, n_words as u32, gx]),
        )?;
        work.push((bind(gpu, init, &[(1, &buf), (2, &gen)]), gx, gy));
        parts.push(Part { row0, rows, buf });
        row0 += rows;
    }
    gpu.run_pass("generating llm weights", |pass| {
        pass.set_pipeline(init);
        for (bg, gx, gy) in &work {
            pass.set_bind_group(0, bg, &[]);
            pass.dispatch_workgroups(*gx, *gy, 1);
        }
    })?;
    Ok(GpuMatrix { shape, key, parts })
}

/// `copies` copies of `matrix` (an MoE layer's experts) generated in
/// `format`, as many to a buffer as a binding holds and at most `cap`,
/// page `p` hashed with `key(p)`: the pages, and the copies a page holds.
/// `of` names the model in the error where one copy exceeds a binding.
pub fn generate_copies(
    gpu: &Gpu,
    init: &wgpu::ComputePipeline,
    format: Format,
    (matrix, copies, cap): (Matrix, u64, Option<u64>),
    of: &str,
    key: impl Fn(usize) -> u32,
) -> Result<(Vec<GpuMatrix>, u64)> {
    let bytes = matrix.rows * format.row_bytes(matrix.k);
    let fit = part_limit(gpu) / bytes;
    if fit == 0 {
        anyhow::bail!(
            "one {} matrix of {of} is {bytes} bytes, more than this adapter binds",
            matrix.name
        );
    }
    let per_page = fit.min(cap.unwrap_or(u64::MAX)).min(copies).max(1);
    let mut pages = Vec::new();
    let mut first = 0;
    while first < copies {
        let n = per_page.min(copies - first);
        let shape = Matrix {
            rows: n * matrix.rows,
            ..matrix
        };
        pages.push(generate(gpu, init, format, shape, key(pages.len()))?);
        first += n;
    }
    Ok((pages, per_page))
}

/// Reads `len` f32 outputs from `buf`.
pub fn read_f32(gpu: &Gpu, buf: &wgpu::Buffer, len: u64) -> Result<Vec<f32>> {
    let raw = gpu.read(buf, 0, len * 4)?;
    Ok(bytemuck::cast_slice::<u8, f32>(&raw).to_vec())
}

/// A buffer of `len` f32 outputs, every one zero: the kernels add to them,
/// and an output no repetition reached stays zero while its expected sum is
/// not.
pub fn zeroed(gpu: &Gpu, label: &str, len: u64) -> Result<wgpu::Buffer> {
    storage(gpu, label, &words(&vec![0; len as usize]))
}

/// One activation buffer per input width among `ks`: `vectors` vectors of
/// that width, hashed with `key(width)`.
pub fn activations_by_width(
    gpu: &Gpu,
    ks: impl IntoIterator<Item = u64>,
    vectors: u64,
    key: impl Fn(u64) -> u32,
) -> Result<std::collections::BTreeMap<u64, wgpu::Buffer>> {
    let mut out = std::collections::BTreeMap::new();
    for k in ks {
        if let std::collections::btree_map::Entry::Vacant(e) = out.entry(k) {
            e.insert(activations(gpu, key(k), vectors * k)?);
        }
    }
    Ok(out)
}

/// An activation buffer: `len` values of the vector with hash `key`.
pub fn activations(gpu: &Gpu, key: u32, len: u64) -> Result<wgpu::Buffer> {
    let v: Vec<f32> = (0..len as u32)
        .map(|i| super::formats::activation(key, i))
        .collect();
    storage(gpu, "llm activations", bytemuck::cast_slice(&v))
}
