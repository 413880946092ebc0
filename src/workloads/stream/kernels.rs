//! The stream kernels compiled and bound to their three arrays, and the
//! rounding bounds of the dot product's f32 sums.

use anyhow::Result;
use bytemuck::{Pod, Zeroable};

use super::{Kernel, BYTES_PER_F32, REP_PARAMS, WORKGROUP};
use crate::gpu::Gpu;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    mul_scalar: f32,
    n4: u32,
    groups: u32,
    rot: u32,
    triad_scalar: f32,
    pad: [u32; 3],
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
    /// The partial sums, then the dot product.
    dot_out: wgpu::Buffer,
    /// a, b, c in place with the even repetitions' parameters; then a and
    /// c swapped, and b and c swapped, with the odd ones'.
    normal: wgpu::BindGroup,
    swap_ac: wgpu::BindGroup,
    swap_bc: wgpu::BindGroup,
    /// The dot's a, b and outputs with the even and the odd parameters.
    dot_even: wgpu::BindGroup,
    dot_odd: wgpu::BindGroup,
    /// f32 elements per array (the buffers hold a multiple of 4).
    pub elements: u64,
    /// Workgroups per dispatch.
    pub groups: u32,
    /// Invocations per workgroup.
    pub wg: u32,
    dims: (u32, u32),
}

/// Invocations per workgroup: 256 where the device allows, else the
/// largest power of two it does.
pub fn workgroup(gpu: &Gpu) -> u32 {
    gpu.workgroup_1d(WORKGROUP)
}

/// Workgroups that keep the adapter busy without one invocation per
/// element: a CPU adapter runs a handful of workgroups per core at once, a
/// GPU needs tens of thousands of invocations in flight.
pub fn default_groups(gpu: &Gpu, elements: u64) -> u32 {
    let vec4s = elements.div_ceil(4);
    let cap: u64 = if gpu.desc.is_cpu() { 64 } else { 16384 };
    vec4s.div_ceil(workgroup(gpu) as u64).clamp(1, cap) as u32
}

/// f32 NaN bytes: what the dot's outputs hold until a kernel writes them, so
/// a partial sum or result that is never written cannot pass.
fn nan_bytes(words: usize) -> Vec<u8> {
    f32::NAN.to_le_bytes().repeat(words)
}

/// The vec4s per array and the workgroups per dispatch for arrays of
/// `elements` f32s, at least `groups` workgroups of `wg` invocations.
fn grid(elements: u64, groups: u32, wg: u32) -> Result<(u64, u32)> {
    anyhow::ensure!(elements > 0, "stream arrays must not be empty");
    let vec4s = elements.div_ceil(4);
    anyhow::ensure!(
        vec4s <= u32::MAX as u64 / 2,
        "stream arrays of {elements} elements are too long to index"
    );
    // Software drivers stop loops after 65535 iterations (llvmpipe's
    // guard against endless shaders); keep every invocation's share of
    // the grid-stride loop far below that.
    let groups = groups.max(vec4s.div_ceil(wg as u64 * 16384) as u32).max(1);
    Ok((vec4s, groups))
}

/// Arrays a, b and c, element `i` of array `k` being `init(k, i)`, padded
/// with zeros to `vec4s` whole vec4s.
fn upload_arrays(
    gpu: &Gpu,
    elements: u64,
    vec4s: u64,
    init: impl Fn(usize, u64) -> f32,
) -> Result<[wgpu::Buffer; 3]> {
    // One array on the host at a time: at 1 GiB per array that matters.
    let upload = |label: &str, which: usize| -> Result<wgpu::Buffer> {
        let data: Vec<f32> = (0..vec4s * 4)
            .map(|i| if i < elements { init(which, i) } else { 0.0 })
            .collect();
        gpu.storage_init(label, bytemuck::cast_slice(&data))
    };
    Ok([
        upload("stream a", 0)?,
        upload("stream b", 1)?,
        upload("stream c", 2)?,
    ])
}

/// The even and the odd repetitions' parameters.
fn param_buffers(gpu: &Gpu, vec4s: u64, groups: u32) -> Result<[wgpu::Buffer; 2]> {
    let params = REP_PARAMS.map(|r| Params {
        mul_scalar: r.mul_scalar,
        n4: vec4s as u32,
        groups,
        rot: (r.rot as u64 % vec4s) as u32,
        triad_scalar: r.triad_scalar,
        pad: [0; 3],
    });
    Ok([
        gpu.storage_init("stream params even", bytemuck::bytes_of(&params[0]))?,
        gpu.storage_init("stream params odd", bytemuck::bytes_of(&params[1]))?,
    ])
}

/// Binds each `(binding, buffer)` of `at` in `layout`.
fn bind(
    gpu: &Gpu,
    label: &str,
    layout: &wgpu::BindGroupLayout,
    at: &[(u32, &wgpu::Buffer)],
) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry> = at
        .iter()
        .map(|&(binding, b)| wgpu::BindGroupEntry {
            binding,
            resource: b.as_entire_binding(),
        })
        .collect();
    gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(label),
        layout,
        entries: &entries,
    })
}

/// The bind groups: a, b, c in place with the even parameters, a and c
/// swapped and b and c swapped with the odd ones, and the dot's with each.
struct Groups {
    normal: wgpu::BindGroup,
    swap_ac: wgpu::BindGroup,
    swap_bc: wgpu::BindGroup,
    dot_even: wgpu::BindGroup,
    dot_odd: wgpu::BindGroup,
}

impl Groups {
    fn new(
        gpu: &Gpu,
        (bgl, dot_bgl): (&wgpu::BindGroupLayout, &wgpu::BindGroupLayout),
        arrays: &[wgpu::Buffer; 3],
        params: &[wgpu::Buffer; 2],
        dot_out: &wgpu::Buffer,
    ) -> Groups {
        let group = |label: &str, [x, y, z]: [usize; 3], parity: usize| {
            let at = [
                (0, &arrays[x]),
                (1, &arrays[y]),
                (2, &arrays[z]),
                (3, &params[parity]),
            ];
            bind(gpu, label, bgl, &at)
        };
        let dot = |label: &str, parity: usize| {
            let at = [
                (0, &arrays[0]),
                (1, &arrays[1]),
                (3, &params[parity]),
                (4, dot_out),
            ];
            bind(gpu, label, dot_bgl, &at)
        };
        Groups {
            normal: group("stream", [0, 1, 2], 0),
            swap_ac: group("stream a<->c", [2, 1, 0], 1),
            swap_bc: group("stream b<->c", [0, 2, 1], 1),
            dot_even: dot("stream dot", 0),
            dot_odd: dot("stream dot odd", 1),
        }
    }
}

impl<'g> StreamKernels<'g> {
    /// Uploads the arrays, element `i` of array `k` (0 a, 1 b, 2 c) being
    /// `init(k, i)` (padded with zeros to whole vec4s), and compiles every
    /// kernel of `wgsl`.
    pub fn new(
        gpu: &'g Gpu,
        wgsl: &str,
        elements: u64,
        init: impl Fn(usize, u64) -> f32,
        groups: u32,
    ) -> Result<Self> {
        let wg = workgroup(gpu);
        let (vec4s, groups) = grid(elements, groups, wg)?;
        // Four bindings each, within the lowest tiers' storage buffers per
        // stage: the dot's partial sums and result share one buffer.
        let rw = (false, false);
        let (bgl, layout) = gpu.storage_layout("stream", &[rw, rw, rw, (true, false)]);
        let (dot_bgl, dot_layout) = gpu.storage_layout_at(
            "stream dot",
            &[
                (0, false, false),
                (1, false, false),
                (3, true, false),
                (4, false, false),
            ],
        );
        let constants = [("WG", wg as f64)];
        let pipe = |entry: &str| -> Result<wgpu::ComputePipeline> {
            let layout = if entry.starts_with("dot") {
                &dot_layout
            } else {
                &layout
            };
            let label = format!("stream {entry}");
            gpu.pipeline_with_layout(&label, wgsl, entry, &constants, Some(layout))
        };
        let arrays = upload_arrays(gpu, elements, vec4s, init)?;
        let params = param_buffers(gpu, vec4s, groups)?;
        // Zero, not poison: each dot repetition adds to what is there, and
        // a partial sum no repetition wrote stays 0, far from its replay.
        let mut out = vec![0u8; 4 * groups as usize];
        out.extend(nan_bytes(1));
        let dot_out = gpu.storage_init("stream dot outputs", &out)?;
        let g = Groups::new(gpu, (&bgl, &dot_bgl), &arrays, &params, &dot_out);
        let kernels = StreamKernels {
            gpu,
            copy: pipe("copy")?,
            mul: pipe("mul")?,
            add: pipe("add")?,
            triad: pipe("triad")?,
            dot_partial: pipe("dot_partial")?,
            dot_final: pipe("dot_final")?,
            arrays,
            dot_out,
            normal: g.normal,
            swap_ac: g.swap_ac,
            swap_bc: g.swap_bc,
            dot_even: g.dot_even,
            dot_odd: g.dot_odd,
            elements,
            groups,
            wg,
            dims: gpu.dispatch_dims(groups),
        };
        gpu.check_errors("setting up the stream kernels")?;
        Ok(kernels)
    }

    /// Records application `rep` of `kernel` (0 for the first of a
    /// measurement): an odd one runs on the swapped arrays, so it reads
    /// what the even one before it wrote.
    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>, kernel: Kernel, rep: u64) {
        let (pipeline, even, odd) = match kernel {
            Kernel::Copy => (&self.copy, &self.normal, &self.swap_ac),
            Kernel::Mul => (&self.mul, &self.normal, &self.swap_bc),
            Kernel::Add => (&self.add, &self.normal, &self.swap_ac),
            Kernel::Triad => (&self.triad, &self.normal, &self.swap_ac),
            Kernel::Dot => (&self.dot_partial, &self.dot_even, &self.dot_odd),
        };
        let group = if rep % 2 == 1 { odd } else { even };
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, group, &[]);
        pass.dispatch_workgroups(self.dims.0, self.dims.1, 1);
        if kernel == Kernel::Dot {
            pass.set_pipeline(&self.dot_final);
            pass.dispatch_workgroups(1, 1, 1);
        }
    }

    /// Runs `kernel` once, outside any timing, as repetition 0.
    pub fn run_once(&self, kernel: Kernel) -> Result<()> {
        self.gpu.run_pass("running a stream kernel", |pass| {
            self.encode(pass, kernel, 0)
        })?;
        Ok(())
    }

    /// `count` elements of array 0 (a), 1 (b) or 2 (c) from element `first`.
    pub fn read_array(&self, which: usize, first: u64, count: u64) -> Result<Vec<f32>> {
        let raw = self.gpu.read(
            &self.arrays[which],
            first * BYTES_PER_F32,
            count * BYTES_PER_F32,
        )?;
        Ok(bytemuck::cast_slice::<u8, f32>(&raw).to_vec())
    }

    /// The workgroups' partial sums left by the last `dot` application.
    pub fn read_partials(&self) -> Result<Vec<f32>> {
        let raw = self
            .gpu
            .read(&self.dot_out, 0, self.groups as u64 * BYTES_PER_F32)?;
        Ok(bytemuck::cast_slice::<u8, f32>(&raw).to_vec())
    }

    /// The dot product left by the last `dot` application.
    pub fn read_dot(&self) -> Result<f32> {
        let raw = self
            .gpu
            .read(&self.dot_out, self.groups as u64 * BYTES_PER_F32, 4)?;
        Ok(f32::from_le_bytes(raw[0..4].try_into().unwrap()))
    }

    /// The workgroup of the dot kernel whose partial sum holds element `i`:
    /// the grid-stride loop hands vec4 `v` to workgroup
    /// `(v mod (groups * WG)) / WG`.
    pub fn dot_group_of(&self, i: u64) -> usize {
        let stride = self.groups as u64 * self.wg as u64;
        ((i / 4 % stride) / self.wg as u64) as usize
    }

    /// Longest chain of f32 additions behind one workgroup's partial sum.
    pub fn partial_depth(&self) -> u64 {
        partial_depth(self.elements, self.groups, self.wg)
    }

    /// Longest chain of f32 additions behind one dot result; bounds its
    /// rounding error (see [`dot_tolerance`]).
    pub fn dot_depth(&self) -> u64 {
        partial_depth(self.elements, self.groups, self.wg) + final_depth(self.groups, self.wg)
    }

    /// Longest chain of f32 additions in the final pass over partial sums.
    pub fn final_depth(&self) -> u64 {
        final_depth(self.groups, self.wg)
    }
}

/// Per invocation: its loop plus the 4-wide dot; then the workgroup tree.
fn partial_depth(elements: u64, groups: u32, wg: u32) -> u64 {
    let per_invocation = elements.div_ceil(4).div_ceil(groups as u64 * wg as u64);
    per_invocation + 4 + wg.trailing_zeros() as u64
}

/// The final pass's loop over partial sums, and its tree.
fn final_depth(groups: u32, wg: u32) -> u64 {
    (groups as u64).div_ceil(wg as u64) + wg.trailing_zeros() as u64
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
    anyhow::ensure!(a.len() == b.len(), "dot operands must have equal lengths");
    let n = a.len() as u64;
    let groups = groups.unwrap_or_else(|| default_groups(gpu, n));
    let init = |which: usize, i: u64| match which {
        0 => a[i as usize],
        1 => b[i as usize],
        _ => 0.0,
    };
    let k = StreamKernels::new(gpu, wgsl, n, init, groups)?;
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
