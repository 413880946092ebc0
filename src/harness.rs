//! The one path every measurement takes: setup (untimed: the caller builds
//! the workload), calibrated and timed samples, then verification of what
//! the timed samples themselves left behind.
//!
//! A [`Measured`] row can only be made here, and only after the workload's
//! `verify` has consumed it: no suite can report a number without checking
//! the work that produced it, and nothing can be timed after the check.
//!
//! Every repetition a workload records carries an index unique across the
//! measurement ([`Reps`]); each repetition's input differs by it, or
//! consumes the previous repetition's output, so no repetition can be
//! skipped because its result is already there. `verify` must say how many
//! repetitions its check accounts for ([`Check::account`]); a row whose
//! check accounts for any other number than were recorded is unverified.

use anyhow::Result;

use crate::catalogue::{Fact, Kernel, Metric, Params};
use crate::stats::Summary;
pub use crate::timing::Reps;
use crate::timing::{time_runs, Run, Timed, TimingMethod};
use crate::workloads::Ctx;

/// What a row is about: its kernel, parameters, metric and unit.
#[derive(Clone, Debug)]
pub struct Spec {
    pub kernel: Kernel,
    pub params: Params,
    /// Its unit is the catalogue's ([`Kernel::unit`]).
    pub metric: Metric,
    /// The row is seconds per repetition (a latency), not work per second.
    pub latency: bool,
}

/// A further metric derived from the same samples: `factor` units of it per
/// unit of the workload's own work (e.g. weight bytes per decoded token);
/// a derived [`Metric::Latency`] is seconds per such unit.
#[derive(Clone, Debug)]
pub struct Derived {
    pub metric: Metric,
    pub factor: f64,
}

/// The outcome of a verification: every disagreement with the CPU
/// reference, and facts about the check itself for `params` (e.g. the share
/// of elements compared).
#[derive(Clone, Debug, Default)]
pub struct Check {
    pub problems: Vec<String>,
    pub facts: Vec<Fact>,
    /// Repetitions whose joint result the check compared.
    accounted: Option<u64>,
}

impl Check {
    /// Records a disagreement; the row will be marked unverified.
    pub fn fail(&mut self, msg: impl Into<String>) {
        self.problems.push(msg.into());
    }

    /// Records a descriptive `key=value` for the row's `params`.
    pub fn fact(&mut self, key: &str, value: impl std::fmt::Display) {
        self.facts.push(Fact::detail(key, value));
    }

    /// States that the check compared a result that only all `reps`
    /// repetitions together produce.
    pub fn account(&mut self, reps: u64) {
        self.accounted = Some(reps);
    }

    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// Fails the check unless it accounted for exactly `recorded`
    /// repetitions.
    fn settle(&mut self, recorded: u64) {
        match self.accounted {
            Some(n) if n == recorded => {}
            Some(n) => self.fail(format!(
                "the check accounts for {n} repetitions, but {recorded} were recorded"
            )),
            None => self.fail(format!(
                "the check does not account for the {recorded} recorded repetitions"
            )),
        }
        if recorded == 0 {
            self.fail("no repetition was recorded");
        }
    }
}

/// A kernel timed inside a compute pass (with GPU timestamps where the
/// adapter has them).
pub trait Workload {
    fn spec(&self) -> Spec;
    /// Units of work (hashes, FLOPs, bytes) one repetition does.
    fn work_per_rep(&self) -> f64;
    /// Most repetitions one sample may record.
    fn max_reps(&self) -> u32 {
        4096
    }
    /// Further metrics from the same samples.
    fn derived(&self) -> Vec<Derived> {
        Vec::new()
    }
    /// Records repetitions `reps.indices()` into the timed pass. Called for
    /// calibration, warm-up and every sample; each repetition's input
    /// differs by its index (or is the previous repetition's output).
    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps);
    /// Reads back what the timed samples wrote and compares it with the CPU
    /// reference for all `timed.total_reps` repetitions, saying so with
    /// [`Check::account`]. Consumes the workload.
    fn verify(self, timed: &Timed) -> Result<Check>;
}

/// A workload that clocks its own samples (host-device transfers: copies
/// and mappings rather than a compute pass).
pub trait HostWorkload {
    fn spec(&self) -> Spec;
    fn work_per_rep(&self) -> f64;
    fn max_reps(&self) -> u32 {
        4096
    }
    /// Further metrics from the same samples.
    fn derived(&self) -> Vec<Derived> {
        Vec::new()
    }
    /// Performs repetitions `reps.indices()` and clocks them.
    fn sample(&mut self, reps: Reps) -> Result<Run>;
    /// Checks what the timed samples delivered. Consumes the workload.
    fn verify(self, timed: &Timed) -> Result<Check>;
}

/// One measured metric, before it becomes a result row. Only this module
/// makes them (the private field), always from a [`Check`].
#[derive(Clone, Debug)]
pub struct Measured {
    pub kernel: Kernel,
    pub params: Params,
    pub metric: Metric,
    pub unit: &'static str,
    pub summary: Summary,
    pub timing: TimingMethod,
    pub verified: bool,
    /// What the CPU reference disagreed with, one line each.
    pub problems: Vec<String>,
    _sealed: Sealed,
}

/// Only this module can name it, so only this module makes a [`Measured`].
#[derive(Clone, Debug)]
struct Sealed;

/// Times `w` and verifies what its timed samples wrote.
pub fn measure<W: Workload>(ctx: &Ctx, mut w: W) -> Result<Vec<Measured>> {
    let spec = w.spec();
    let work = w.work_per_rep();
    let derived = w.derived();
    let plan = ctx.plan.with_max_reps(w.max_reps());
    ctx.status(&format!("{}: measuring", spec.kernel));
    let timed = ctx
        .gpu
        .time_compute(&plan, |pass, reps| w.encode(pass, reps))?;
    ctx.status(&format!("{}: verifying", spec.kernel));
    let mut check = w.verify(&timed)?;
    check.settle(timed.total_reps);
    rows(ctx, spec, work, &derived, &timed, check)
}

/// Times `w` by its own clock and verifies what its timed samples delivered.
pub fn measure_host<W: HostWorkload>(ctx: &Ctx, mut w: W) -> Result<Vec<Measured>> {
    let spec = w.spec();
    let work = w.work_per_rep();
    let derived = w.derived();
    let plan = ctx.plan.with_max_reps(w.max_reps());
    ctx.status(&format!("{}: measuring", spec.kernel));
    let timed = time_runs(&plan, |reps| w.sample(reps))?;
    ctx.status(&format!("{}: verifying", spec.kernel));
    let mut check = w.verify(&timed)?;
    check.settle(timed.total_reps);
    rows(ctx, spec, work, &derived, &timed, check)
}

fn rows(
    ctx: &Ctx,
    spec: Spec,
    work: f64,
    derived: &[Derived],
    timed: &Timed,
    check: Check,
) -> Result<Vec<Measured>> {
    for p in &check.problems {
        ctx.warn(&format!("{}: {p}", spec.kernel));
    }
    let mut params = spec
        .params
        .clone()
        .detail("reps_per_sample", timed.reps)
        .detail("repetitions", timed.total_reps);
    params.0.extend(check.facts.iter().cloned());
    let mut out = Vec::new();
    let metrics =
        std::iter::once((spec.metric, 1.0)).chain(derived.iter().map(|d| (d.metric, d.factor)));
    for (metric, factor) in metrics {
        let unit = spec.kernel.unit(metric);
        // A derived latency is seconds per unit of `work × factor` (e.g. a
        // layer's share of a repetition), the inverse of a derived rate.
        let derived_latency = !spec.latency && metric == Metric::Latency;
        let summary = if spec.latency || derived_latency {
            let units = if derived_latency { work * factor } else { 1.0 };
            let per_rep: Vec<f64> = timed
                .samples_s
                .iter()
                .map(|t| t / timed.reps as f64 / units)
                .collect();
            Summary::of(&per_rep)
        } else {
            Summary::rate_from_times(&timed.samples_s, work * factor * timed.reps as f64)
        }
        .ok_or_else(|| anyhow::anyhow!("{} produced no usable timing samples", spec.kernel))?;
        out.push(Measured {
            kernel: spec.kernel,
            params: params.clone(),
            metric,
            unit,
            summary,
            timing: timed.method,
            verified: check.ok(),
            problems: check.problems.clone(),
            _sealed: Sealed,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_must_account_for_every_recorded_repetition() {
        let mut c = Check::default();
        c.settle(10);
        assert!(!c.ok(), "no accounting passed");
        let mut c = Check::default();
        c.account(9);
        c.settle(10);
        assert!(!c.ok(), "one repetition short passed");
        let mut c = Check::default();
        c.account(10);
        c.settle(10);
        assert!(c.ok(), "{:?}", c.problems);
        let mut c = Check::default();
        c.account(0);
        c.settle(0);
        assert!(!c.ok(), "nothing recorded passed");
    }
}
