//! `run --suite hash`: the measured hash rate, through the harness. What
//! the timed dispatches wrote (hits and coverage words) is what is checked.

use anyhow::Result;

use super::{
    check_candidates, check_coverage, check_non_hits, self_test, variant_header, Dispatched,
    HashKernel, NonceRange, MAX_DISPATCH_NONCES, WGSL,
};
use crate::catalogue::{Kernel, Metric, Params};
use crate::harness::{self, Check, Reps, Spec, Workload};
use crate::reference::KNOWN_BLOCKS;
use crate::sha::{self, Header, Prepared, Target};
use crate::timing::Timed;
use crate::workloads::{Ctx, SuiteOutput};

/// Hashes the CPU re-computes for the coverage check, at most.
const COVERAGE_BUDGET: u64 = 1 << 20;

struct HashLoop<'k, 'g> {
    kernel: &'k HashKernel<'g>,
    base: Header,
    headers: Vec<Header>,
    preps: Vec<Prepared>,
    dispatched: Vec<Dispatched>,
    next: u64,
    per_dispatch: u32,
    target: Target,
    share_bits: u32,
    max_reps: u32,
    /// Problems of the known-answer test run before timing.
    self_test: Vec<String>,
}

impl Workload for HashLoop<'_, '_> {
    fn spec(&self) -> Spec {
        let (groups, iters) = self.kernel.geometry(self.per_dispatch);
        Spec {
            kernel: Kernel::Sha256d,
            params: Params::new()
                .detail("nonces_per_dispatch", self.per_dispatch)
                .detail("workgroups", format!("{groups}x{}", super::WORKGROUP))
                .detail("iterations", iters)
                .detail("lanes", self.kernel.lanes)
                .detail("share_bits", self.share_bits),
            metric: Metric::HashRate,
            latency: false,
        }
    }

    fn work_per_rep(&self) -> f64 {
        self.per_dispatch as f64
    }

    fn max_reps(&self) -> u32 {
        self.max_reps
    }

    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        let reps = reps.count;
        let target_top = self.target.top_word();
        for slot in 0..reps {
            if self.next + self.per_dispatch as u64 > 1 << 32 {
                let v = self.headers.len() as u32;
                self.headers.push(variant_header(&self.base, v));
                self.preps.push(sha::prepare(&self.headers[v as usize]));
                self.next = 0;
            }
            let r = NonceRange {
                variant: self.headers.len() as u32 - 1,
                first: self.next as u32,
                count: self.per_dispatch,
            };
            self.next += self.per_dispatch as u64;
            let (groups, done) =
                self.kernel
                    .write_job(slot, &self.preps[r.variant as usize], r, target_top);
            self.kernel.dispatch(pass, slot, groups);
            self.dispatched.push(done);
        }
    }

    fn verify(self, _timed: &Timed) -> Result<Check> {
        let mut check = Check::default();
        for p in self.self_test {
            check.fail(p);
        }
        let timed = TimedDispatches {
            kernel: self.kernel,
            headers: &self.headers,
            preps: &self.preps,
            dispatched: &self.dispatched,
            target: self.target,
            coverage_budget: COVERAGE_BUDGET,
        };
        timed.check(&mut check, |_| {})?;
        Ok(check)
    }
}

/// What a run of hash-loop dispatches left behind, for its check (the hash
/// suite and the soak's hash load share it).
pub struct TimedDispatches<'a, 'g> {
    pub kernel: &'a HashKernel<'g>,
    pub headers: &'a [Header],
    pub preps: &'a [Prepared],
    pub dispatched: &'a [Dispatched],
    pub target: Target,
    /// Hashes the CPU re-computes for the coverage check, at most.
    pub coverage_budget: u64,
}

impl TimedDispatches<'_, '_> {
    /// Every reported candidate re-hashed, a sample of non-hits, the hit
    /// count against its binomial expectation, and the coverage sums of a
    /// sample of invocations (after `tamper`, a test hook, has seen them);
    /// accounts for every dispatch, each of which searched its own range.
    pub fn check(&self, check: &mut Check, tamper: impl FnOnce(&mut [u32])) -> Result<()> {
        let target_top = self.target.top_word();
        let ranges: Vec<NonceRange> = self.dispatched.iter().map(|d| d.range).collect();
        let hits = self.kernel.read_hits()?;
        let mut found = super::Check::default();
        check_candidates(self.headers, &ranges, &hits, target_top, &mut found);
        check_non_hits(self.headers, &ranges, &hits, target_top, 256, &mut found);
        for p in found.problems {
            check.fail(p);
        }
        // A kernel that loses hits would pass the checks above; the count of
        // hits must match the binomial expectation (6 sigma).
        let tested: f64 = ranges.iter().map(|r| r.count as f64).sum();
        let expected = tested * self.target.top_word_probability();
        if (hits.counted as f64 - expected).abs() > 6.0 * expected.sqrt() + 5.0 {
            check.fail(format!(
                "the GPU found {} candidates in {tested:.0} nonces; about {expected:.0} were expected",
                hits.counted
            ));
        }
        let mut cover = self.kernel.read_cover()?;
        tamper(&mut cover);
        let cov = check_coverage(
            self.preps,
            self.dispatched,
            &cover,
            self.coverage_budget,
            rand::random(),
        );
        for p in cov.problems {
            check.fail(p);
        }
        check.account(self.dispatched.len() as u64);
        check.fact("hits_checked", hits.items.len());
        check.fact("nonces_tested", tested as u64);
        check.fact(
            "coverage_invocations_checked",
            format!("{}/{}", cov.invocations_checked, cov.invocations),
        );
        check.fact("coverage_nonces_rehashed", cov.nonces_rehashed);
        Ok(())
    }
}

/// `run --suite hash`: the self-test, then the measured hash rate with every
/// hit re-hashed on the CPU and the coverage of a sample of invocations
/// recomputed.
pub fn run(ctx: &Ctx) -> Result<SuiteOutput> {
    let gpu = ctx.gpu;
    let wgsl = ctx.shaders.get(super::SHADER, WGSL)?;
    let max_reps = 64;
    let hits_cap = 1 << 15;
    let kernel = HashKernel::new(gpu, &wgsl, max_reps, hits_cap)?;

    ctx.status("sha256d: known-answer test");
    let self_check = self_test(&kernel);

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
    let per_dispatch =
        (groups as u64 * kernel.per_group_iter * iters as u64).min(MAX_DISPATCH_NONCES) as u32;

    // A lenient share target: about 4 to 8 candidates per dispatch, so every
    // sample has hits to re-hash and the hit buffer cannot overflow.
    let share_bits = ((per_dispatch as f64 / 4.0).log2().floor() as u32).clamp(1, 32);
    let target = Target::from_share_bits(share_bits).map_err(anyhow::Error::msg)?;
    kernel.reset_hits();
    kernel.reset_cover();
    let work = HashLoop {
        kernel: &kernel,
        base,
        headers: vec![base],
        preps: probe_prep.to_vec(),
        dispatched: Vec::new(),
        next: 0,
        per_dispatch,
        target,
        share_bits,
        max_reps,
        self_test: self_check.problems,
    };
    Ok(SuiteOutput {
        measured: harness::measure(ctx, work)?,
        ..Default::default()
    })
}
