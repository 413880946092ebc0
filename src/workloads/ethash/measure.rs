//! `run --suite ethash`: the dataset generated on the GPU and spot-checked,
//! then the timed hashimoto search, every dispatch over its own nonces (the
//! repetition's global index is the nonce's high word), and afterwards
//! every invocation's fold and count checked on the CPU.

use anyhow::Result;
use rand::seq::index::sample;

use super::check::{expected, expected_counts, first_difference};
use super::kernel::{EthashKernel, Range, SHADER, WGSL};
use super::plan::plan;
use super::reference::{self as r, Item, HASH_BYTES, MIX_BYTES};
use crate::catalogue::{Fact, Kernel, Metric, Params};
use crate::harness::{self, Check, Reps, Spec, Workload};
use crate::timing::Timed;
use crate::workloads::{Ctx, Skipped, SuiteOutput};

/// Dispatches one sample may record (job slots).
const SLOTS: u32 = 64;
/// Dataset rows recomputed by the light method after generation.
const SPOT_ITEMS: usize = 256;
/// Invocations whose every nonce the light method recomputes.
const LIGHT_INVOCATIONS: usize = 4;
/// Nonces the CPU recomputes over the read-back dataset, at most (about
/// 3 us each): every invocation on a CPU adapter, a sample on a GPU.
const FULL_BUDGET: u64 = 1 << 21;
/// Largest dataset read back so that the CPU can recompute every nonce.
const READBACK_LIMIT: u64 = 1 << 31;

struct Search<'k, 'g> {
    kernel: &'k EthashKernel<'g>,
    cache: Vec<Item>,
    header: [u8; 32],
    per_dispatch: u32,
    iterations: u32,
    ranges: Vec<Range>,
    params: Params,
    /// Problems found before timing (the dataset's spot checks).
    early: Vec<String>,
}

impl Workload for Search<'_, '_> {
    fn spec(&self) -> Spec {
        Spec {
            kernel: Kernel::Ethash,
            params: self.params.clone(),
            metric: Metric::HashRate,
            latency: false,
        }
    }

    fn work_per_rep(&self) -> f64 {
        self.per_dispatch as f64
    }

    fn max_reps(&self) -> u32 {
        SLOTS
    }

    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        for (slot, index) in reps.slots() {
            let range = Range {
                hi: index as u32,
                first: 0,
                count: self.per_dispatch,
                iterations: self.iterations,
            };
            self.kernel.write_job(slot, &self.header, range);
            self.kernel.dispatch(pass, slot);
            self.ranges.push(range);
        }
    }

    fn verify(self, _timed: &Timed) -> Result<Check> {
        let mut check = Check::default();
        for p in &self.early {
            check.fail(p.clone());
        }
        let out = self.kernel.read_out()?;
        let inv = self.kernel.invocations;
        let counts = expected_counts(&self.ranges, inv);
        let short: Vec<usize> = (0..inv as usize)
            .filter(|&i| out[i][1] != counts[i])
            .collect();
        if let Some(&i) = short.first() {
            check.fail(format!(
                "{} invocations counted the wrong number of nonces (invocation {i}: {} instead of {})",
                short.len(),
                out[i][1],
                counts[i]
            ));
        }
        self.check_folds(&out, &mut check)?;
        check.account(self.ranges.len() as u64);
        check.fact(
            "nonces_hashed",
            counts.iter().map(|&c| c as u64).sum::<u64>(),
        );
        Ok(check)
    }
}

impl Search<'_, '_> {
    /// Folds of a few invocations by the light method (no GPU data used),
    /// and of every invocation over the dataset read back, when it fits
    /// the host.
    fn check_folds(&self, out: &[[u32; 2]], check: &mut Check) -> Result<()> {
        let k = self.kernel;
        let inv = k.invocations;
        let bytes = k.rows as u64 * MIX_BYTES;
        let mut picked = sample(&mut rand::rng(), inv as usize, LIGHT_INVOCATIONS).into_vec();
        picked.push(inv as usize - 1);
        for &i in &picked {
            let want = expected(&self.ranges, inv, i as u32, |n| {
                r::hashimoto_light(&self.cache, bytes, &self.header, n)
            });
            if out[i] != want {
                check.fail(format!(
                    "invocation {i}: the GPU folded {:08x} over {} nonces; the light method gives {:08x} over {}",
                    out[i][0], out[i][1], want[0], want[1]
                ));
            }
        }
        check.fact("light_invocations_checked", picked.len());
        if bytes > READBACK_LIMIT {
            return Ok(());
        }
        let ds = k.read_items(0, 2 * k.rows as u64)?;
        let per_inv = (self.ranges.len() as u64 * self.iterations as u64).max(1);
        let n = ((FULL_BUDGET / per_inv) as usize).clamp(1, inv as usize);
        let mut chosen = sample(&mut rand::rng(), inv as usize, n).into_vec();
        chosen.sort_unstable();
        let wrong: Vec<u32> = chosen
            .into_iter()
            .map(|i| i as u32)
            .filter(|&i| {
                out[i as usize]
                    != expected(&self.ranges, inv, i, |n| {
                        r::hashimoto_full(&ds, &self.header, n)
                    })
            })
            .collect();
        if let Some(&i) = wrong.first() {
            check.fail(format!(
                "{} of {inv} invocations folded hashes other than the CPU's over the GPU's dataset (first: {i})",
                wrong.len()
            ));
        }
        check.fact("invocations_checked", format!("{n}/{inv}"));
        Ok(())
    }
}

/// Random dataset items, the first and the last, against the light method.
fn spot_check(k: &EthashKernel, cache: &[Item]) -> Result<Vec<String>> {
    let items = 2 * k.rows as usize;
    let mut picked = sample(&mut rand::rng(), items, SPOT_ITEMS.min(items)).into_vec();
    picked.extend([0, items - 1]);
    let mut problems = Vec::new();
    for i in picked {
        let got = k.read_items(i as u64, 1)?[0];
        let want = r::dataset_item(cache, i as u32);
        if let Some(w) = first_difference(&got, &want) {
            problems.push(format!(
                "dataset item {i}: word {w} is {:08x}, the light method gives {:08x}",
                got[w], want[w]
            ));
        }
    }
    problems.truncate(4);
    Ok(problems)
}

/// `run --suite ethash`.
pub fn run(ctx: &Ctx) -> Result<SuiteOutput> {
    let wgsl = ctx.shaders.get(SHADER, WGSL)?;
    let p = plan(ctx);
    ctx.status(&format!("ethash: light cache of {}", p.epoch.label()));
    let cache = p.epoch.cache();
    let kernel = match EthashKernel::new(ctx.gpu, &wgsl, p.rows, p.groups, SLOTS) {
        Ok(k) => k,
        Err(e) if !e.to_string().contains("did not compile") => {
            return Ok(SuiteOutput {
                skipped: vec![Skipped::new(Kernel::Ethash, format!("{e:#}"))],
                ..Default::default()
            })
        }
        Err(e) => return Err(e),
    };
    ctx.status("ethash: generating the dataset");
    let gen_s = kernel.generate(&wgsl, &cache)?;
    ctx.status("ethash: checking the dataset");
    let early = spot_check(&kernel, &cache)?;
    let mut params = Params::new().with(Fact::Epoch(p.epoch.number));
    if let Some(why) = &p.cut {
        params.push(Fact::CacheSized(why.clone()));
    }
    let dataset_bytes = p.rows as u64 * MIX_BYTES;
    let params = params
        .detail("dataset_bytes", dataset_bytes)
        .detail("cache_bytes", cache.len() as u64 * HASH_BYTES)
        .detail("dataset_s", format!("{gen_s:.2}"))
        .detail("invocations", kernel.invocations)
        .detail("dataset_items_spot_checked", SPOT_ITEMS + 2);
    kernel.reset_out();
    let work = Search {
        kernel: &kernel,
        cache,
        header: rand::random(),
        per_dispatch: kernel.invocations * p.iterations,
        iterations: p.iterations,
        ranges: Vec::new(),
        params,
        early,
    };
    Ok(SuiteOutput {
        measured: harness::measure(ctx, work)?,
        notes: p
            .chosen
            .map(|why| format!("ethash: {why}"))
            .into_iter()
            .collect(),
        ..Default::default()
    })
}
