//! The three loads of the soak. Every repetition does distinct work (its
//! own nonce range, its own FMA starts, its own copy rotation) and each
//! interval's check replays every repetition it recorded on the CPU.

use anyhow::Result;
use bytemuck::{Pod, Zeroable};

use crate::catalogue::{Fact, Kernel, Metric, Params, Soak};
use crate::domain::hash::mix32;
use crate::gpu::Gpu;
use crate::harness::{Check, Reps, Spec, Workload};
use crate::sha::{self, Header, Prepared, Target};
use crate::timing::Timed;
use crate::workloads::hash::{variant_header, Dispatched, HashKernel, NonceRange, TimedDispatches};

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

/// One repetition's slot, as the shader's `Rep` reads it.
#[derive(Clone, Copy, Pod, Zeroable, Default)]
#[repr(C)]
struct RepGpu {
    index: u32,
    seed: u32,
    offset: u32,
    pad: u32,
}

/// Dynamic offsets must be multiples of this (WebGPU's largest alignment).
const REP_STRIDE: u64 = 256;
/// Repetition slots: the most repetitions one FMA or copy sample records.
const REP_SLOTS: u32 = 4096;
/// Hash dispatches one sample records at most (the hash kernel's job slots).
const HASH_SLOTS: u32 = 64;
/// Hashes the CPU recomputes per interval for the coverage check, at most.
const COVERAGE_BUDGET: u64 = 1 << 18;
/// The FMA check's tolerance, absolute. Every repetition adds a vector of
/// length at least 0.5 to each element, so one repetition skipped or kept
/// from before moves it far outside; rounding moves it by about 1e-3 at most
/// over thousands of repetitions.
const FMA_TOL: f64 = 0.1;

const ANGLE: f32 = 0.05;

/// Buffers and pipelines of the three loads, built once.
pub struct Loads<'g> {
    gpu: &'g Gpu,
    /// One [`RepGpu`] per slot, `REP_STRIDE` apart.
    reps: wgpu::Buffer,
    fma: wgpu::ComputePipeline,
    fma_bind: wgpu::BindGroup,
    fma_out: wgpu::Buffer,
    fma_n: u32,
    fma_iters: u32,
    fma_in: Vec<[f32; 2]>,
    copy: wgpu::ComputePipeline,
    /// `copy_bind[0]` copies buffer 0 to buffer 1, `copy_bind[1]` back.
    copy_bind: [wgpu::BindGroup; 2],
    copy_bufs: [wgpu::Buffer; 2],
    copy_src: Vec<u32>,
    copy_groups: u32,
    hash: HashKernel<'g>,
    header: Header,
    hash_count: u32,
    target: Target,
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
        let reps = gpu.buffer(
            "soak repetitions",
            REP_STRIDE * REP_SLOTS as u64,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        )?;
        let (fma_bgl, fma_layout) = gpu.storage_layout_at(
            "soak",
            &[
                (0, true, true),
                (1, true, false),
                (2, true, false),
                (3, false, false),
            ],
        );
        let fma =
            gpu.pipeline_with_layout("soak", soak_wgsl, "fma_rotate", &[], Some(&fma_layout))?;
        let p_buf = gpu.storage_init("soak params", bytemuck::bytes_of(&params))?;
        let in_buf = gpu.storage_init("soak fma in", bytemuck::cast_slice(&fma_in))?;
        let fma_out = gpu.storage_init("soak fma out", &vec![0u8; fma_n as usize * 8])?;
        let fma_bind = bind(
            gpu,
            &fma_bgl,
            &reps,
            &[(1, &p_buf), (2, &in_buf), (3, &fma_out)],
        );
        let words: u32 = if cpu { 4 << 20 } else { 64 << 20 };
        let copy_src: Vec<u32> = (0..words).map(|i| mix32(i ^ 0x0c0f_fee0)).collect();
        let copy_bufs = [
            gpu.storage_init("soak copy a", bytemuck::cast_slice(&copy_src))?,
            gpu.storage_init("soak copy b", &vec![0u8; words as usize * 4])?,
        ];
        let (copy_bgl, copy_layout) = gpu.storage_layout_at(
            "soak",
            &[(0, true, true), (4, true, false), (5, false, false)],
        );
        let copy = gpu.pipeline_with_layout("soak", soak_wgsl, "copy", &[], Some(&copy_layout))?;
        let copy_bind = [
            bind(
                gpu,
                &copy_bgl,
                &reps,
                &[(4, &copy_bufs[0]), (5, &copy_bufs[1])],
            ),
            bind(
                gpu,
                &copy_bgl,
                &reps,
                &[(4, &copy_bufs[1]), (5, &copy_bufs[0])],
            ),
        ];
        let hash = HashKernel::new(gpu, sha_wgsl, HASH_SLOTS, 1 << 15)?;
        let hash_count: u32 = if cpu { 1 << 16 } else { 1 << 26 };
        // About 4 hits per dispatch: every sample has hits to re-hash, and
        // a whole interval's fit the hit buffer.
        let target = Target::from_share_bits(hash_count.ilog2() - 2).map_err(anyhow::Error::msg)?;
        let mut header = [0u8; 80];
        for (i, b) in header.iter_mut().enumerate() {
            *b = mix32(i as u32 ^ 0x50a4) as u8;
        }
        Ok(Loads {
            gpu,
            reps,
            fma,
            fma_bind,
            fma_out,
            fma_n,
            fma_iters,
            fma_in,
            copy,
            copy_bind,
            copy_bufs,
            copy_src,
            copy_groups: if cpu { 64 } else { 8192 },
            hash,
            header,
            hash_count,
            target,
        })
    }

    /// Resets every load to its start: the FMA sums and the second copy
    /// buffer to zero, the first copy buffer to the input, the hash hits
    /// and coverage words to none. An interval's check replays its own
    /// repetitions from there, so one that did nothing cannot pass on the
    /// previous interval's results.
    pub fn clear(&self) -> Result<()> {
        self.gpu
            .queue
            .write_buffer(&self.copy_bufs[0], 0, bytemuck::cast_slice(&self.copy_src));
        self.hash.reset_hits();
        self.hash.reset_cover();
        let mut enc = self.gpu.device.create_command_encoder(&Default::default());
        enc.clear_buffer(&self.fma_out, 0, None);
        enc.clear_buffer(&self.copy_bufs[1], 0, None);
        self.gpu.queue.submit([enc.finish()]);
        self.gpu.wait()?;
        self.gpu.check_errors("clearing the soak outputs")
    }

    /// Writes repetition slots `0..reps.count` (in effect at the next submit).
    fn write_reps(&self, reps: Reps, slot: impl Fn(u64) -> RepGpu) {
        let mut bytes = vec![0u8; REP_STRIDE as usize * reps.count as usize];
        for (s, k) in reps.slots() {
            let at = s as usize * REP_STRIDE as usize;
            bytes[at..at + 16].copy_from_slice(bytemuck::bytes_of(&slot(k)));
        }
        self.gpu.queue.write_buffer(&self.reps, 0, &bytes);
    }

    /// Flips bit `bit` of one output word, as a faulty card would.
    fn corrupt(&self, buf: &wgpu::Buffer, at: u64, bit: u32) -> Result<()> {
        let raw = self.gpu.read(buf, at, 4)?;
        let w = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) ^ (1 << bit);
        self.gpu.queue.write_buffer(buf, at, &w.to_le_bytes());
        self.gpu.queue.submit([]);
        self.gpu.wait()
    }
}

/// The seed of FMA repetition `k` of `interval`.
fn fma_seed(interval: usize, k: u64) -> u32 {
    mix32(k as u32 ^ mix32(interval as u32 ^ 0x5eed_f3a0))
}

/// The rotation of copy repetition `k` of `interval`: 1 ..= n - 1 words.
fn copy_offset(interval: usize, k: u64, n: u32) -> u32 {
    1 + mix32(k as u32 ^ mix32(interval as u32 ^ 0xc0b7_0ff5)) % (n - 1)
}

/// The start of FMA element `i` in the repetition with `seed`, exactly as
/// the shader forms it in f32.
fn fma_start(input: [f32; 2], i: u32, seed: u32) -> [f32; 2] {
    let h = mix32(i ^ seed);
    let off = [
        (h & 0xffff) as f32 / 65536.0 - 0.5,
        (h >> 16) as f32 / 65536.0 - 0.5,
    ];
    [input[0] + off[0], input[1] + off[1]]
}

/// Binding 0 is one repetition slot of `reps` (by dynamic offset).
fn bind(
    gpu: &Gpu,
    bgl: &wgpu::BindGroupLayout,
    reps: &wgpu::Buffer,
    bufs: &[(u32, &wgpu::Buffer)],
) -> wgpu::BindGroup {
    let mut entries = vec![wgpu::BindGroupEntry {
        binding: 0,
        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: reps,
            offset: 0,
            size: wgpu::BufferSize::new(std::mem::size_of::<RepGpu>() as u64),
        }),
    }];
    entries.extend(bufs.iter().map(|(b, buf)| wgpu::BindGroupEntry {
        binding: *b,
        resource: buf.as_entire_binding(),
    }));
    gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("soak"),
        layout: bgl,
        entries: &entries,
    })
}

fn spec(kernel: Soak, interval: usize, t_s: f64, metric: Metric) -> Spec {
    Spec {
        kernel: Kernel::Soak(kernel),
        params: Params::new()
            .with(Fact::Interval(interval as u64))
            .with(Fact::StartS(t_s)),
        metric,
        latency: false,
    }
}

/// One interval of the FMA rotation: each repetition rotates its own
/// starts and adds them to the output.
pub struct FmaInterval<'a, 'g> {
    pub l: &'a Loads<'g>,
    pub interval: usize,
    pub t_s: f64,
    pub corrupt: bool,
}

impl Workload for FmaInterval<'_, '_> {
    fn spec(&self) -> Spec {
        spec(Soak::Fma, self.interval, self.t_s, Metric::Flops)
    }
    fn work_per_rep(&self) -> f64 {
        // Per step: two multiplies and two fused multiply-adds.
        self.l.fma_n as f64 * self.l.fma_iters as f64 * 6.0
    }
    fn max_reps(&self) -> u32 {
        REP_SLOTS
    }
    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        let l = self.l;
        let interval = self.interval;
        l.write_reps(reps, |k| RepGpu {
            index: k as u32,
            seed: fma_seed(interval, k),
            ..Default::default()
        });
        pass.set_pipeline(&l.fma);
        for (slot, _) in reps.slots() {
            pass.set_bind_group(0, &l.fma_bind, &[(slot as u64 * REP_STRIDE) as u32]);
            pass.dispatch_workgroups(l.fma_n.div_ceil(256), 1, 1);
        }
    }
    fn verify(self, timed: &Timed) -> Result<Check> {
        let l = self.l;
        if self.corrupt {
            // An exponent bit: the FMA check compares within a rounding
            // tolerance, inside which a low mantissa bit can stay.
            l.corrupt(&l.fma_out, 8 * 1234, 30)?;
        }
        let raw = l.gpu.read(&l.fma_out, 0, l.fma_n as u64 * 8)?;
        let got: &[[f32; 2]] = bytemuck::cast_slice(&raw);
        let mut check = Check::default();
        // n steps of the f32 rotation, exactly in f64: (c + i s)^n.
        let (c, s) = (ANGLE.cos() as f64, ANGLE.sin() as f64);
        let (mut zr, mut zi) = (1.0f64, 0.0f64);
        for _ in 0..l.fma_iters {
            (zr, zi) = (zr * c - zi * s, zr * s + zi * c);
        }
        let total = timed.total_reps;
        let seeds: Vec<u32> = (0..total).map(|k| fma_seed(self.interval, k)).collect();
        let step = 1usize.max(l.fma_n as usize / 2048);
        let (mut compared, mut bad, mut worst) = (0usize, 0usize, 0.0f64);
        for i in (0..l.fma_n as usize).step_by(step).chain([1234]) {
            let (mut x, mut y) = (0.0f64, 0.0f64);
            for &seed in &seeds {
                let [sx, sy] = fma_start(l.fma_in[i], i as u32, seed).map(f64::from);
                x += sx * zr - sy * zi;
                y += sx * zi + sy * zr;
            }
            let [gx, gy] = got[i].map(f64::from);
            let err = (gx - x).abs().max((gy - y).abs());
            worst = worst.max(if err.is_nan() { f64::INFINITY } else { err });
            compared += 1;
            if err.is_nan() || err > FMA_TOL {
                bad += 1;
                if bad <= 4 {
                    check.fail(format!(
                        "fma element {i}: ({gx}, {gy}), but its {total} repetitions sum to ({x:.4}, {y:.4}) on the CPU"
                    ));
                }
            }
        }
        if bad > 0 {
            check.fail(format!(
                "fma: {bad} of {compared} elements checked differ from the CPU's sum over {total} repetitions"
            ));
        }
        // Every element checked is the sum over every recorded repetition.
        check.account(total);
        check.fact(
            "cpu_checked_share",
            format!("{:.4}", compared as f64 / l.fma_n as f64),
        );
        check.fact("max_abs_error", format!("{worst:.2e}"));
        Ok(check)
    }
}

/// One interval of the copy: repetitions alternate between two buffers,
/// each rotating the array by its own offset.
pub struct CopyInterval<'a, 'g> {
    pub l: &'a Loads<'g>,
    pub interval: usize,
    pub t_s: f64,
    pub corrupt: bool,
}

impl Workload for CopyInterval<'_, '_> {
    fn spec(&self) -> Spec {
        spec(Soak::Copy, self.interval, self.t_s, Metric::Bandwidth)
    }
    fn work_per_rep(&self) -> f64 {
        self.l.copy_src.len() as f64 * 8.0
    }
    fn max_reps(&self) -> u32 {
        REP_SLOTS
    }
    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        let l = self.l;
        let interval = self.interval;
        let n = l.copy_src.len() as u32;
        l.write_reps(reps, |k| RepGpu {
            index: k as u32,
            offset: copy_offset(interval, k, n),
            ..Default::default()
        });
        pass.set_pipeline(&l.copy);
        for (slot, k) in reps.slots() {
            let dir = (k % 2) as usize;
            pass.set_bind_group(0, &l.copy_bind[dir], &[(slot as u64 * REP_STRIDE) as u32]);
            pass.dispatch_workgroups(l.copy_groups, 1, 1);
        }
    }
    fn verify(self, timed: &Timed) -> Result<Check> {
        let l = self.l;
        let total = timed.total_reps;
        let n = l.copy_src.len() as u64;
        // Repetition k writes buffer (k + 1) % 2: the last one, this.
        let last = &l.copy_bufs[(total % 2) as usize];
        if self.corrupt {
            l.corrupt(last, 4 * 4321, 9)?;
        }
        let raw = l.gpu.read(last, 0, n * 4)?;
        let got: &[u32] = bytemuck::cast_slice(&raw);
        let shift = (0..total)
            .map(|k| copy_offset(self.interval, k, n as u32) as u64)
            .fold(0u64, |a, o| (a + o) % n);
        let mut check = Check::default();
        // Every element, exactly: word d holds input word d - shift.
        let from = |d: usize| ((d as u64 + n - shift) % n) as usize;
        let bad: Vec<usize> = (0..got.len())
            .filter(|&d| got[d] != l.copy_src[from(d)])
            .collect();
        for &d in bad.iter().take(4) {
            check.fail(format!(
                "copy element {d}: {:08x}, but {total} repetitions rotating by {shift} in all put input word {} ({:08x}) there",
                got[d],
                from(d),
                l.copy_src[from(d)]
            ));
        }
        if !bad.is_empty() {
            check.fail(format!(
                "copy: {} of {n} words differ from the input rotated by every repetition's offset",
                bad.len()
            ));
        }
        check.account(total);
        check.fact("cpu_checked_share", 1);
        Ok(check)
    }
}

/// One interval of the SHA-256d hash loop: every repetition searches its own
/// nonce range (of a header of this interval's own), and the check is the
/// hash suite's: every hit re-hashed, a sample of non-hits, the hit count
/// against its expectation, and the coverage sums of a sample of
/// invocations over every dispatch.
pub struct HashInterval<'a, 'g> {
    pub l: &'a Loads<'g>,
    pub interval: usize,
    pub t_s: f64,
    pub corrupt: bool,
    headers: Vec<Header>,
    preps: Vec<Prepared>,
    dispatched: Vec<Dispatched>,
}

impl<'a, 'g> HashInterval<'a, 'g> {
    pub fn new(l: &'a Loads<'g>, interval: usize, t_s: f64, corrupt: bool) -> Self {
        HashInterval {
            l,
            interval,
            t_s,
            corrupt,
            headers: Vec::new(),
            preps: Vec::new(),
            dispatched: Vec::new(),
        }
    }

    /// The header of 2^32-nonce block `v` of this interval.
    fn header(&self, v: u32) -> Header {
        let base = variant_header(&self.l.header, (self.interval as u32) << 16);
        variant_header(&base, v)
    }
}

impl Workload for HashInterval<'_, '_> {
    fn spec(&self) -> Spec {
        spec(Soak::Hash, self.interval, self.t_s, Metric::HashRate)
    }
    fn work_per_rep(&self) -> f64 {
        self.l.hash_count as f64
    }
    fn max_reps(&self) -> u32 {
        HASH_SLOTS
    }
    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        let l = self.l;
        let target_top = l.target.top_word();
        for (slot, k) in reps.slots() {
            let start = k * l.hash_count as u64;
            let variant = (start >> 32) as u32;
            while self.headers.len() <= variant as usize {
                let h = self.header(self.headers.len() as u32);
                self.headers.push(h);
                self.preps.push(sha::prepare(&h));
            }
            let range = NonceRange {
                variant,
                first: start as u32,
                count: l.hash_count,
            };
            let (groups, done) =
                l.hash
                    .write_job(slot, &self.preps[variant as usize], range, target_top);
            l.hash.dispatch(pass, slot, groups);
            self.dispatched.push(done);
        }
    }
    fn verify(self, _timed: &Timed) -> Result<Check> {
        let mut check = Check::default();
        let timed = TimedDispatches {
            kernel: &self.l.hash,
            headers: &self.headers,
            preps: &self.preps,
            dispatched: &self.dispatched,
            target: self.l.target,
            coverage_budget: COVERAGE_BUDGET,
        };
        let corrupt = self.corrupt;
        timed.check(&mut check, |cover| {
            // A wrong hash in invocation 0, which the check always visits.
            if let (true, Some(w)) = (corrupt, cover.first_mut()) {
                *w ^= 1 << 9;
            }
        })?;
        Ok(check)
    }
}
