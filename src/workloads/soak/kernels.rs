//! The three loads of the soak, each verified on every interval against
//! the CPU reference and against the first interval's result.

use std::cell::RefCell;

use anyhow::Result;
use bytemuck::{Pod, Zeroable};

use crate::gpu::Gpu;
use crate::harness::{Check, HostWorkload, Reps, Spec, Workload};
use crate::sha::{self, Header};
use crate::timing::{Run, Timed};
use crate::workloads::hash::{HashKernel, NonceRange};
use crate::workloads::vram::pattern::mix32;

/// Which result a test corrupts once (library-level fault injection).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Load {
    Hash,
    Fma,
    Copy,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct SoakParams {
    n: u32,
    iters: u32,
    c: f32,
    s: f32,
}

const ANGLE: f32 = 0.05;

/// Buffers and pipelines of the three loads, built once.
pub struct Loads<'g> {
    gpu: &'g Gpu,
    fma: wgpu::ComputePipeline,
    fma_bind: wgpu::BindGroup,
    fma_out: wgpu::Buffer,
    fma_n: u32,
    fma_iters: u32,
    fma_in: Vec<[f32; 2]>,
    copy: wgpu::ComputePipeline,
    copy_bind: wgpu::BindGroup,
    copy_dst: wgpu::Buffer,
    copy_src: Vec<u32>,
    copy_groups: u32,
    /// The first interval's FMA outputs, bit for bit.
    first_fma: RefCell<Option<Vec<u8>>>,
    hash: HashKernel<'g>,
    header: Header,
    hash_count: u32,
    target_top: u32,
    first_hits: RefCell<Option<Vec<u32>>>,
}

impl<'g> Loads<'g> {
    pub fn new(gpu: &'g Gpu, soak_wgsl: &str, sha_wgsl: &str) -> Result<Self> {
        let cpu = gpu.desc.is_cpu();
        let (fma_n, fma_iters) = if cpu {
            (1u32 << 14, 1024u32)
        } else {
            (1 << 20, 4096)
        };
        let fma_in: Vec<[f32; 2]> = (0..fma_n)
            .map(|i| {
                let h = mix32(i);
                [
                    1.0 + (h & 0xffff) as f32 / 65536.0,
                    (h >> 16) as f32 / 65536.0 - 0.5,
                ]
            })
            .collect();
        let params = SoakParams {
            n: fma_n,
            iters: fma_iters,
            c: ANGLE.cos(),
            s: ANGLE.sin(),
        };
        let fma = gpu.pipeline("soak", soak_wgsl, "fma_rotate", &[])?;
        let p_buf = gpu.storage_init("soak params", bytemuck::bytes_of(&params))?;
        let in_buf = gpu.storage_init("soak fma in", bytemuck::cast_slice(&fma_in))?;
        let fma_out = gpu.storage_init("soak fma out", &vec![0u8; fma_n as usize * 8])?;
        let fma_bind = bind(gpu, &fma, &[(0, &p_buf), (1, &in_buf), (2, &fma_out)]);
        let words: u32 = if cpu { 4 << 20 } else { 64 << 20 };
        let copy_src: Vec<u32> = (0..words).map(|i| mix32(i ^ 0x0c0f_fee0)).collect();
        let src_buf = gpu.storage_init("soak copy src", bytemuck::cast_slice(&copy_src))?;
        let copy_dst = gpu.storage_init("soak copy dst", &vec![0u8; words as usize * 4])?;
        let copy = gpu.pipeline("soak", soak_wgsl, "copy", &[])?;
        let copy_bind = bind(gpu, &copy, &[(3, &src_buf), (4, &copy_dst)]);
        let hash = HashKernel::new(gpu, sha_wgsl, 1, 4096)?;
        let hash_count: u32 = if cpu { 1 << 16 } else { 1 << 26 };
        // About 64 hits per search: enough to compare, few to re-hash.
        let target_top = (((1u64 << 32) * 64) / hash_count as u64 - 1) as u32;
        let mut header = [0u8; 80];
        for (i, b) in header.iter_mut().enumerate() {
            *b = mix32(i as u32 ^ 0x50a4) as u8;
        }
        Ok(Loads {
            gpu,
            fma,
            fma_bind,
            fma_out,
            fma_n,
            fma_iters,
            fma_in,
            copy,
            copy_bind,
            copy_dst,
            copy_src,
            copy_groups: if cpu { 64 } else { 8192 },
            first_fma: RefCell::new(None),
            hash,
            header,
            hash_count,
            target_top,
            first_hits: RefCell::new(None),
        })
    }

    /// Zeroes the outputs, so an interval whose kernel did nothing cannot
    /// pass on the previous interval's results.
    pub fn clear(&self) -> Result<()> {
        let mut enc = self.gpu.device.create_command_encoder(&Default::default());
        enc.clear_buffer(&self.fma_out, 0, None);
        enc.clear_buffer(&self.copy_dst, 0, None);
        self.gpu.queue.submit([enc.finish()]);
        self.gpu.wait()?;
        self.gpu.check_errors("clearing the soak outputs")
    }

    /// Flips one bit of one output word, as a faulty card would.
    fn corrupt(&self, buf: &wgpu::Buffer, at: u64) -> Result<()> {
        let raw = self.gpu.read(buf, at, 4)?;
        let w = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) ^ (1 << 9);
        self.gpu.queue.write_buffer(buf, at, &w.to_le_bytes());
        self.gpu.queue.submit([]);
        self.gpu.wait()
    }
}

fn bind(gpu: &Gpu, p: &wgpu::ComputePipeline, bufs: &[(u32, &wgpu::Buffer)]) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry> = bufs
        .iter()
        .map(|(b, buf)| wgpu::BindGroupEntry {
            binding: *b,
            resource: buf.as_entire_binding(),
        })
        .collect();
    gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("soak"),
        layout: &p.get_bind_group_layout(0),
        entries: &entries,
    })
}

fn spec(kernel: &str, interval: usize, t_s: f64, metric: &'static str, unit: &'static str) -> Spec {
    Spec {
        kernel: kernel.into(),
        params: format!("interval={interval};t_s={t_s:.1}"),
        metric,
        unit,
        latency: false,
    }
}

/// One interval of the FMA rotation.
pub struct FmaInterval<'a, 'g> {
    pub l: &'a Loads<'g>,
    pub interval: usize,
    pub t_s: f64,
    pub corrupt: bool,
}

impl Workload for FmaInterval<'_, '_> {
    fn spec(&self) -> Spec {
        spec("soak_fma", self.interval, self.t_s, "flops", "FLOP/s")
    }
    fn work_per_rep(&self) -> f64 {
        // Per step: two multiplies and two fused multiply-adds.
        self.l.fma_n as f64 * self.l.fma_iters as f64 * 6.0
    }
    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        let reps = reps.count;
        pass.set_pipeline(&self.l.fma);
        pass.set_bind_group(0, &self.l.fma_bind, &[]);
        for _ in 0..reps {
            pass.dispatch_workgroups(self.l.fma_n.div_ceil(256), 1, 1);
        }
    }
    fn verify(self, _timed: &Timed) -> Result<Check> {
        let l = self.l;
        if self.corrupt {
            l.corrupt(&l.fma_out, 8 * 1234)?;
        }
        let raw = l.gpu.read(&l.fma_out, 0, l.fma_n as u64 * 8)?;
        let got: &[[f32; 2]] = bytemuck::cast_slice(&raw);
        let mut check = Check::default();
        let (c, s) = (ANGLE.cos() as f64, ANGLE.sin() as f64);
        // Rounding grows by a few ulps per step; one step fewer or more
        // moves the vector by ANGLE of its length, far outside this.
        let step = 1usize.max(l.fma_n as usize / 2048);
        let mut compared = 0;
        for i in (0..l.fma_n as usize).step_by(step).chain([1234]) {
            let [mut x, mut y] = l.fma_in[i].map(f64::from);
            let tol = l.fma_iters as f64 * 8.0 * f32::EPSILON as f64 * x.hypot(y);
            for _ in 0..l.fma_iters {
                (x, y) = (x * c - y * s, x * s + y * c);
            }
            let [gx, gy] = got[i].map(f64::from);
            compared += 1;
            if ((gx - x).abs() > tol || (gy - y).abs() > tol) && check.problems.len() < 4 {
                check.fail(format!(
                    "soak fma element {i}: ({gx}, {gy}), CPU reference ({x:.6}, {y:.6})"
                ));
            }
        }
        check.fact(
            "cpu_checked_share",
            format!("{:.4}", compared as f64 / l.fma_n as f64),
        );
        let mut first = l.first_fma.borrow_mut();
        match first.as_ref() {
            None if check.ok() => *first = Some(raw),
            None => {}
            Some(f) => {
                let differ = f
                    .chunks_exact(8)
                    .zip(raw.chunks_exact(8))
                    .filter(|(a, b)| a != b)
                    .count();
                if differ > 0 {
                    check.fail(format!(
                        "soak fma: {differ} results differ bit for bit from the first interval's"
                    ));
                }
            }
        }
        Ok(check)
    }
}

/// One interval of the copy.
pub struct CopyInterval<'a, 'g> {
    pub l: &'a Loads<'g>,
    pub interval: usize,
    pub t_s: f64,
    pub corrupt: bool,
}

impl Workload for CopyInterval<'_, '_> {
    fn spec(&self) -> Spec {
        spec("soak_copy", self.interval, self.t_s, "bandwidth", "B/s")
    }
    fn work_per_rep(&self) -> f64 {
        self.l.copy_src.len() as f64 * 8.0
    }
    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        let reps = reps.count;
        pass.set_pipeline(&self.l.copy);
        pass.set_bind_group(0, &self.l.copy_bind, &[]);
        for _ in 0..reps {
            pass.dispatch_workgroups(self.l.copy_groups, 1, 1);
        }
    }
    fn verify(self, _timed: &Timed) -> Result<Check> {
        let l = self.l;
        if self.corrupt {
            l.corrupt(&l.copy_dst, 4 * 4321)?;
        }
        let raw = l.gpu.read(&l.copy_dst, 0, l.copy_src.len() as u64 * 4)?;
        let got: &[u32] = bytemuck::cast_slice(&raw);
        let mut check = Check::default();
        // Every element, exactly: the same answer the first interval gave.
        let bad: Vec<usize> = (0..got.len())
            .filter(|&i| got[i] != l.copy_src[i])
            .take(4)
            .collect();
        for i in bad {
            check.fail(format!(
                "soak copy element {i}: {:08x}, expected {:08x}",
                got[i], l.copy_src[i]
            ));
        }
        check.fact("cpu_checked_share", 1);
        Ok(check)
    }
}

/// One interval of the SHA-256d hash loop over the same nonce range: every
/// search must find the same hits as the first interval's, and those were
/// re-hashed on the CPU.
pub struct HashInterval<'a, 'g> {
    pub l: &'a Loads<'g>,
    pub interval: usize,
    pub t_s: f64,
    pub corrupt: bool,
    pub sets: Vec<Vec<u32>>,
}

impl HostWorkload for HashInterval<'_, '_> {
    fn spec(&self) -> Spec {
        spec("soak_hash", self.interval, self.t_s, "hash_rate", "H/s")
    }
    fn work_per_rep(&self) -> f64 {
        self.l.hash_count as f64
    }
    fn max_reps(&self) -> u32 {
        64
    }
    fn sample(&mut self, reps: Reps) -> Result<Run> {
        let reps = reps.count;
        let l = self.l;
        let prep = [sha::prepare(&l.header)];
        let range = [NonceRange {
            variant: 0,
            first: 0,
            count: l.hash_count,
        }];
        let t0 = std::time::Instant::now();
        for _ in 0..reps {
            let hits = l.hash.search(&prep, &range, l.target_top)?;
            let mut set: Vec<u32> = hits.items.iter().map(|&(_, n)| n).collect();
            set.sort_unstable();
            if hits.overflowed() {
                set.push(u32::MAX);
            }
            self.sets.push(set);
        }
        Ok(Run {
            wall_s: t0.elapsed().as_secs_f64(),
            gpu_s: None,
        })
    }
    fn verify(mut self, _timed: &Timed) -> Result<Check> {
        let l = self.l;
        let mut check = Check::default();
        if self.corrupt {
            if let Some(s) = self.sets.last_mut() {
                s.pop();
            }
        }
        let mut first = l.first_hits.borrow_mut();
        if first.is_none() {
            let Some(set) = self.sets.first() else {
                anyhow::bail!("soak hash: no search ran");
            };
            for &n in set {
                let top = sha::hash_top_word(&sha::block_hash(&l.header, n));
                if top > l.target_top {
                    check.fail(format!(
                        "soak hash: nonce {n} reported, but its hash does not pass the filter"
                    ));
                }
            }
            let mut rng = rand::rng();
            for _ in 0..256 {
                let n = rand::Rng::random_range(&mut rng, 0..l.hash_count);
                let top = sha::hash_top_word(&sha::block_hash(&l.header, n));
                if top <= l.target_top && set.binary_search(&n).is_err() {
                    check.fail(format!(
                        "soak hash: nonce {n} passes the filter but was not reported"
                    ));
                }
            }
            if check.ok() {
                *first = Some(set.clone());
            }
        }
        if let Some(f) = first.as_ref() {
            let differ = self.sets.iter().filter(|s| *s != f).count();
            if differ > 0 {
                check.fail(format!(
                    "soak hash: {differ} of {} searches found other hits than the first interval's {}",
                    self.sets.len(),
                    f.len()
                ));
            }
            check.fact("hits_per_search", f.len());
        }
        check.fact("searches_compared", self.sets.len());
        Ok(check)
    }
}
