//! The hash load: the hash suite's SHA-256d kernel and its check, each
//! repetition on its own nonce range.

use anyhow::Result;

use super::{spec, Loads};
use crate::catalogue::{Metric, Soak};
use crate::domain::hash::mix32;
use crate::gpu::Gpu;
use crate::harness::{Check, Reps, Spec, Workload};
use crate::sha::{self, Header, Prepared, Target};
use crate::timing::Timed;
use crate::workloads::hash::{variant_header, Dispatched, HashKernel, NonceRange, TimedDispatches};

/// Hash dispatches one sample records at most (the hash kernel's job slots).
const HASH_SLOTS: u32 = 64;
/// Hashes the CPU recomputes per interval for the coverage check, at most.
const COVERAGE_BUDGET: u64 = 1 << 18;

/// The hash kernel, the header every interval's headers derive from, and
/// the nonces and target of one dispatch.
pub(super) struct HashLoad<'g> {
    kernel: HashKernel<'g>,
    header: Header,
    count: u32,
    target: Target,
}

impl<'g> HashLoad<'g> {
    pub(super) fn new(gpu: &'g Gpu, sha_wgsl: &str) -> Result<Self> {
        let kernel = HashKernel::new(gpu, sha_wgsl, HASH_SLOTS, 1 << 15)?;
        let count: u32 = if gpu.desc.is_cpu() { 1 << 16 } else { 1 << 26 };
        // About 4 hits per dispatch: every sample has hits to re-hash, and
        // a whole interval's fit the hit buffer.
        let target = Target::from_share_bits(count.ilog2() - 2).map_err(anyhow::Error::msg)?;
        let mut header = [0u8; 80];
        for (i, b) in header.iter_mut().enumerate() {
            *b = mix32(i as u32 ^ 0x50a4) as u8;
        }
        Ok(HashLoad {
            kernel,
            header,
            count,
            target,
        })
    }

    /// No hits and no coverage sums (at the next submit).
    pub(super) fn reset(&self) {
        self.kernel.reset_hits();
        self.kernel.reset_cover();
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
        let base = variant_header(&self.l.hash.header, (self.interval as u32) << 16);
        variant_header(&base, v)
    }
}

impl Workload for HashInterval<'_, '_> {
    fn spec(&self) -> Spec {
        spec(Soak::Hash, self.interval, self.t_s, Metric::HashRate)
    }
    fn work_per_rep(&self) -> f64 {
        self.l.hash.count as f64
    }
    fn max_reps(&self) -> u32 {
        HASH_SLOTS
    }
    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        let h = &self.l.hash;
        let target_top = h.target.top_word();
        for (slot, k) in reps.slots() {
            let start = k * h.count as u64;
            let variant = (start >> 32) as u32;
            while self.headers.len() <= variant as usize {
                let hd = self.header(self.headers.len() as u32);
                self.headers.push(hd);
                self.preps.push(sha::prepare(&hd));
            }
            let range = NonceRange {
                variant,
                first: start as u32,
                count: h.count,
            };
            let (groups, done) =
                h.kernel
                    .write_job(slot, &self.preps[variant as usize], range, target_top);
            h.kernel.dispatch(pass, slot, groups);
            self.dispatched.push(done);
        }
    }
    fn verify(self, _timed: &Timed) -> Result<Check> {
        let mut check = Check::default();
        let timed = TimedDispatches {
            kernel: &self.l.hash.kernel,
            headers: &self.headers,
            preps: &self.preps,
            dispatched: &self.dispatched,
            target: self.l.hash.target,
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
