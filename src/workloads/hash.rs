//! The mining workload: the SHA-256d hash loop (`shaders/sha256d.wgsl`).
//!
//! The host prepares one `Job` per dispatch (midstate, the first three
//! rounds, the nonce-independent schedule words); the GPU tests LANES nonces
//! per invocation per loop iteration and reports every nonce whose hash passes
//! the top-32-bit filter; the host re-hashes every reported nonce with the
//! `sha2` crate and completes the 256-bit comparison.
//!
//! The shader declares how many nonces one invocation tests per iteration
//! (`const LANES: u32 = N;`); the host reads it from the source so that a
//! variant loaded with `--shader-dir` is sized correctly.

use std::collections::HashSet;

use anyhow::Result;
use bytemuck::{Pod, Zeroable};
use rand::{Rng, SeedableRng};

use super::{Ctx, Measured, SuiteOutput};
use crate::gpu::Gpu;
use crate::reference::KNOWN_BLOCKS;
use crate::sha::{self, Header, Prepared, Target};
use crate::stats::Summary;

pub const WGSL: &str = include_str!("../../shaders/sha256d.wgsl");

const WORKGROUP: u32 = 64;
/// Dynamic offsets must be multiples of this (WebGPU's maximum alignment
/// requirement, so it suits every adapter).
const JOB_STRIDE: u64 = 256;
/// Upper bound on nonces in one dispatch; keeps the in-shader index
/// arithmetic far from u32 overflow.
const MAX_DISPATCH_NONCES: u64 = 1 << 31;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct JobGpu {
    s0: [u32; 4],
    s1: [u32; 4],
    m0: [u32; 4],
    m1: [u32; 4],
    wa: [u32; 4],
    wb: [u32; 4],
    wc: [u32; 4],
}

/// One dispatch's worth of nonces for one header variant.
#[derive(Clone, Copy, Debug)]
pub struct NonceRange {
    pub variant: u32,
    pub first: u32,
    pub count: u32,
}

/// What the GPU reported: candidates passing the top-word filter.
pub struct Hits {
    /// How many candidates the GPU counted (may exceed `items.len()`).
    pub counted: u32,
    pub items: Vec<(u32, u32)>,
}

impl Hits {
    pub fn overflowed(&self) -> bool {
        self.counted as usize > self.items.len()
    }
}

/// The compiled hash loop with its job slots and hit buffer.
pub struct HashKernel<'g> {
    gpu: &'g Gpu,
    pipeline: wgpu::ComputePipeline,
    jobs: wgpu::Buffer,
    hits: wgpu::Buffer,
    hits_cap: u32,
    bind_group: wgpu::BindGroup,
    slots: u32,
    /// Workgroups per dispatch: enough to fill the adapter.
    pub groups: u32,
    /// Nonces one workgroup tests per loop iteration.
    per_group_iter: u64,
}

/// Reads `const LANES: u32 = N` (or `Nu`) from the shader source.
pub fn shader_lanes(wgsl: &str) -> Result<u32> {
    for line in wgsl.lines() {
        if let Some(rest) = line.trim().strip_prefix("const LANES: u32 =") {
            let v = rest
                .trim()
                .trim_end_matches(';')
                .trim()
                .trim_end_matches('u');
            if let Ok(n) = v.parse::<u32>() {
                if (1..=4).contains(&n) {
                    return Ok(n);
                }
            }
        }
    }
    anyhow::bail!("the sha256d shader does not declare `const LANES: u32 = N;` with N in 1..=4")
}

impl<'g> HashKernel<'g> {
    pub fn new(gpu: &'g Gpu, wgsl: &str, slots: u32, hits_cap: u32) -> Result<Self> {
        let lanes = shader_lanes(wgsl)?;
        // The job (read-only, one slot per dispatch by dynamic offset) and
        // the hit buffer.
        let (bgl, layout) = gpu.storage_layout("sha256d", &[(true, true), (false, false)]);
        let pipeline = gpu.pipeline_with_layout("sha256d", wgsl, "main", &[], Some(&layout))?;
        let jobs = gpu.buffer(
            "sha256d jobs",
            JOB_STRIDE * slots as u64,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        )?;
        let hits = gpu.storage_init("sha256d hits", &vec![0u8; 8 + 8 * hits_cap as usize])?;
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("sha256d"),
            layout: &bgl,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &jobs,
                        offset: 0,
                        size: wgpu::BufferSize::new(std::mem::size_of::<JobGpu>() as u64),
                    }),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: hits.as_entire_binding(),
                },
            ],
        });
        // A CPU adapter runs a few workgroups per core at once; a GPU needs
        // hundreds of thousands of invocations in flight.
        let groups = if gpu.desc.is_cpu() { 256 } else { 8192 };
        Ok(HashKernel {
            gpu,
            pipeline,
            jobs,
            hits,
            hits_cap,
            bind_group,
            slots,
            groups,
            per_group_iter: (WORKGROUP * lanes) as u64,
        })
    }

    /// Loop iterations per invocation so one dispatch covers `count` nonces.
    fn geometry(&self, count: u32) -> (u32, u32) {
        let groups = (count as u64)
            .div_ceil(self.per_group_iter)
            .clamp(1, self.groups as u64) as u32;
        let iters = (count as u64).div_ceil(groups as u64 * self.per_group_iter) as u32;
        (groups, iters.max(1))
    }

    /// Writes the job for `range` into `slot` (takes effect at the next submit).
    fn write_job(&self, slot: u32, p: &Prepared, range: NonceRange, target_top: u32) -> u32 {
        let (groups, iters) = self.geometry(range.count);
        let m = &p.midstate;
        let s = &p.state3;
        let job = JobGpu {
            s0: [s[0], s[1], s[2], s[3]],
            s1: [s[4], s[5], s[6], s[7]],
            m0: [m[0], m[1], m[2], m[3]],
            m1: [m[4], m[5], m[6], m[7]],
            wa: [p.w[0], p.w[1], p.w[2], p.w16],
            wb: [p.w17, range.first, range.count, range.variant],
            wc: [target_top, iters, 0, 0],
        };
        self.gpu.queue.write_buffer(
            &self.jobs,
            slot as u64 * JOB_STRIDE,
            bytemuck::bytes_of(&job),
        );
        groups
    }

    fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, slot: u32, groups: u32) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[(slot as u64 * JOB_STRIDE) as u32]);
        let (x, y) = self.gpu.dispatch_dims(groups);
        pass.dispatch_workgroups(x, y, 1);
    }

    pub fn reset_hits(&self) {
        self.gpu.queue.write_buffer(&self.hits, 0, &[0u8; 8]);
    }

    pub fn read_hits(&self) -> Result<Hits> {
        let head = self.gpu.read(&self.hits, 0, 8)?;
        let counted = u32::from_le_bytes(head[0..4].try_into().unwrap());
        let n = counted.min(self.hits_cap);
        let items = if n > 0 {
            let raw = self.gpu.read(&self.hits, 8, 8 * n as u64)?;
            bytemuck::cast_slice::<u8, u32>(&raw)
                .chunks_exact(2)
                .map(|c| (c[0], c[1]))
                .collect()
        } else {
            Vec::new()
        };
        Ok(Hits { counted, items })
    }

    /// Searches `ranges` (at most `slots` of them, each <= 2^31 nonces) of
    /// the given header variants in one submission and returns the hits.
    pub fn search(
        &self,
        preps: &[Prepared],
        ranges: &[NonceRange],
        target_top: u32,
    ) -> Result<Hits> {
        assert!(ranges.len() as u32 <= self.slots);
        self.reset_hits();
        let groups: Vec<u32> = ranges
            .iter()
            .enumerate()
            .map(|(i, r)| self.write_job(i as u32, &preps[r.variant as usize], *r, target_top))
            .collect();
        self.gpu.run_pass("running the hash loop", |pass| {
            for (i, g) in groups.iter().enumerate() {
                self.dispatch(pass, i as u32, *g);
            }
        })?;
        self.read_hits()
    }
}

/// A header varied by its timestamp, so measurements can go past 2^32 nonces
/// without testing a nonce twice.
pub fn variant_header(base: &Header, variant: u32) -> Header {
    let mut h = *base;
    let t = sha::header_time(base).wrapping_add(variant);
    h[68..72].copy_from_slice(&t.to_le_bytes());
    h
}

/// Outcome of checking GPU candidates against the CPU reference.
#[derive(Debug, Default)]
pub struct Check {
    pub problems: Vec<String>,
}

impl Check {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
    fn fail(&mut self, msg: String) {
        if self.problems.len() < 8 {
            self.problems.push(msg);
        }
    }
}

/// Re-hashes every candidate on the CPU: each must be inside a searched
/// range, reported once, and pass the top-word filter for real.
pub fn check_candidates(
    headers: &[Header],
    ranges: &[NonceRange],
    hits: &Hits,
    target_top: u32,
    check: &mut Check,
) {
    if hits.overflowed() {
        check.fail(format!(
            "the GPU found {} candidates but the hit buffer holds {}",
            hits.counted,
            hits.items.len()
        ));
    }
    let mut seen = HashSet::new();
    for &(variant, nonce) in &hits.items {
        let inside = ranges.iter().any(|r| {
            r.variant == variant
                && nonce >= r.first
                && (nonce as u64) < r.first as u64 + r.count as u64
        });
        if !inside {
            check.fail(format!(
                "GPU reported nonce {nonce} (variant {variant}) outside every searched range"
            ));
            continue;
        }
        if !seen.insert((variant, nonce)) {
            check.fail(format!(
                "GPU reported nonce {nonce} (variant {variant}) twice"
            ));
            continue;
        }
        let hash = sha::block_hash(&headers[variant as usize], nonce);
        let top = sha::hash_top_word(&hash);
        if top > target_top {
            check.fail(format!(
                "GPU reported nonce {nonce} but its hash {} does not pass the filter (top word {top:08x} > {target_top:08x})",
                sha::display_hex(&hash)
            ));
        }
    }
}

/// Proves a random sample of unreported nonces are really non-hits.
pub fn check_non_hits(
    headers: &[Header],
    ranges: &[NonceRange],
    hits: &Hits,
    target_top: u32,
    samples: usize,
    check: &mut Check,
) {
    let reported: HashSet<(u32, u32)> = hits.items.iter().copied().collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    for _ in 0..samples {
        let r = ranges[rng.random_range(0..ranges.len())];
        let nonce = r.first + rng.random_range(0..r.count);
        if reported.contains(&(r.variant, nonce)) {
            continue;
        }
        let hash = sha::block_hash(&headers[r.variant as usize], nonce);
        if sha::hash_top_word(&hash) <= target_top {
            check.fail(format!(
                "GPU missed nonce {nonce} (variant {}): its hash {} passes the filter",
                r.variant,
                sha::display_hex(&hash)
            ));
        }
    }
}

/// Known answers before any measurement: the three reference blocks are
/// found with their published hashes, and a dense range with a lenient
/// target gives exactly the CPU's set of hits.
pub fn self_test(kernel: &HashKernel) -> Check {
    let mut check = Check::default();
    if let Err(e) = self_test_inner(kernel, &mut check) {
        check.fail(format!("self-test did not run: {e:#}"));
    }
    check
}

fn self_test_inner(kernel: &HashKernel, check: &mut Check) -> Result<()> {
    for b in &KNOWN_BLOCKS {
        let header = b.header();
        let target = Target::from_bits(sha::header_bits(&header)).map_err(anyhow::Error::msg)?;
        let nonce = b.nonce();
        let first = nonce.saturating_sub(1 << 17);
        let range = NonceRange {
            variant: 0,
            first,
            count: (1u32 << 18).min(u32::MAX - first),
        };
        let hits = kernel.search(&[sha::prepare(&header)], &[range], target.top_word())?;
        check_candidates(&[header], &[range], &hits, target.top_word(), check);
        let found = hits.items.iter().any(|&(_, n)| {
            n == nonce && sha::display_hex(&sha::block_hash(&header, n)) == b.hash_hex
        });
        if !found {
            check.fail(format!(
                "known answer: block {} nonce {nonce} was not found by the GPU",
                b.height
            ));
        }
    }
    // Dense range: 1 in 256 hashes passes, so hundreds of hits to compare.
    let header = KNOWN_BLOCKS[1].header();
    let share = Target::from_share_bits(8).map_err(anyhow::Error::msg)?;
    let range = NonceRange {
        variant: 0,
        first: 1_000_000,
        count: 1 << 16,
    };
    let hits = kernel.search(&[sha::prepare(&header)], &[range], share.top_word())?;
    let gpu: HashSet<u32> = hits.items.iter().map(|&(_, n)| n).collect();
    let cpu: HashSet<u32> = (range.first..range.first + range.count)
        .filter(|&n| sha::hash_top_word(&sha::block_hash(&header, n)) <= share.top_word())
        .collect();
    if gpu != cpu || hits.overflowed() {
        let missing = cpu.difference(&gpu).count();
        let extra = gpu.difference(&cpu).count();
        check.fail(format!(
            "dense range: GPU and CPU disagree ({} CPU hits, {missing} missed by the GPU, {extra} extra)",
            cpu.len()
        ));
    }
    Ok(())
}

/// `run --suite hash`: the self-test, then the measured hash rate with every
/// hit of every sample re-hashed on the CPU.
pub fn run(ctx: &Ctx) -> Result<SuiteOutput> {
    let gpu = ctx.gpu;
    let wgsl = ctx.shaders.get("sha256d", WGSL)?;
    let max_reps = 64;
    let hits_cap = 1 << 15;
    let kernel = HashKernel::new(gpu, &wgsl, max_reps, hits_cap)?;

    ctx.status("sha256d: known-answer test");
    let mut check = self_test(&kernel);

    // Size one dispatch to about 25 ms: two probes, since the first one
    // also pays for pipeline compilation and launch overhead.
    ctx.status("sha256d: sizing the dispatch");
    let base = KNOWN_BLOCKS[0].header();
    let probe_prep = [sha::prepare(&base)];
    let mut per_dispatch = kernel.groups as u64 * kernel.per_group_iter * 4;
    for _ in 0..2 {
        let count = per_dispatch.min(MAX_DISPATCH_NONCES) as u32;
        let t0 = std::time::Instant::now();
        kernel.search(
            &probe_prep,
            &[NonceRange {
                variant: 0,
                first: 0,
                count,
            }],
            0,
        )?;
        let rate = count as f64 / t0.elapsed().as_secs_f64();
        per_dispatch = ((rate * 0.025) as u64).clamp(kernel.per_group_iter, MAX_DISPATCH_NONCES);
    }
    let (groups, iters) = kernel.geometry(per_dispatch as u32);
    let per_dispatch = groups as u64 * kernel.per_group_iter * iters as u64;
    let per_dispatch = per_dispatch.min(MAX_DISPATCH_NONCES) as u32;

    // A lenient share target: about 4 to 8 candidates per dispatch, so every
    // sample has hits to re-hash and the hit buffer cannot overflow.
    let share_bits = ((per_dispatch as f64 / 4.0).log2().floor() as u32).clamp(1, 32);
    let target = Target::from_share_bits(share_bits).map_err(anyhow::Error::msg)?;
    let target_top = target.top_word();

    let mut headers = vec![base];
    let mut preps = probe_prep.to_vec();
    let mut ranges: Vec<NonceRange> = Vec::new();
    let mut next: u64 = 0;
    kernel.reset_hits();
    ctx.status("sha256d: measuring");
    let timed = gpu.time_compute(&ctx.plan.with_max_reps(max_reps), |pass, reps| {
        for slot in 0..reps {
            if next + per_dispatch as u64 > 1 << 32 {
                let v = headers.len() as u32;
                headers.push(variant_header(&base, v));
                preps.push(sha::prepare(headers.last().unwrap()));
                next = 0;
            }
            let r = NonceRange {
                variant: headers.len() as u32 - 1,
                first: next as u32,
                count: per_dispatch,
            };
            next += per_dispatch as u64;
            let g = kernel.write_job(slot, &preps[r.variant as usize], r, target_top);
            kernel.dispatch(pass, slot, g);
            ranges.push(r);
        }
    })?;

    ctx.status("sha256d: verifying hits on the CPU");
    let hits = kernel.read_hits()?;
    check_candidates(&headers, &ranges, &hits, target_top, &mut check);
    check_non_hits(&headers, &ranges, &hits, target_top, 256, &mut check);
    // A kernel that loses hits would pass the checks above; the count of
    // hits must match the binomial expectation (6 sigma).
    let tested: f64 = ranges.iter().map(|r| r.count as f64).sum();
    let expected = tested * target.top_word_probability();
    let sigma = expected.sqrt();
    if (hits.counted as f64 - expected).abs() > 6.0 * sigma + 5.0 {
        check.fail(format!(
            "the GPU found {} candidates in {tested:.0} nonces; about {expected:.0} were expected",
            hits.counted
        ));
    }

    let work = timed.reps as f64 * per_dispatch as f64;
    let summary = Summary::rate_from_times(&timed.samples_s, work)
        .ok_or_else(|| anyhow::anyhow!("hash loop produced no usable timing samples"))?;
    if !check.ok() {
        for p in &check.problems {
            ctx.warn(&format!("sha256d: {p}"));
        }
    }
    Ok(SuiteOutput {
        measured: vec![Measured {
            kernel: "sha256d".into(),
            params: format!(
                "nonces_per_dispatch={per_dispatch};dispatches_per_sample={};workgroups={groups}x{WORKGROUP};iterations={iters};lanes={};share_bits={share_bits};hits_checked={}",
                timed.reps,
                kernel.per_group_iter / WORKGROUP as u64,
                hits.items.len()
            ),
            metric: "hash_rate",
            unit: "H/s",
            summary,
            timing: timed.method,
            verified: check.ok(),
            problems: Vec::new(),
        }],
        ..Default::default()
    })
}
