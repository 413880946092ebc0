//! One adapter measured: the settings' suites in turn, each in a telemetry
//! window, with progress, and stopping between suites at Ctrl-C. `run` and
//! `health` both measure through [`adapter`]; what a suite is (a registered
//! suite, or health's VRAM test and soak) is the command's to say.

use std::time::{Duration, Instant};

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};

use super::settings::{Command, Settings};
use super::Failures;
use crate::catalogue::Suite;
use crate::gpu::Gpu;
use crate::report::energy::Window;
use crate::report::{ResultRow, RunMeta};
use crate::telemetry::{Sampler, Telemetry};
use crate::timing::TimingPlan;
use crate::workloads::{Ctx, Skipped, SuiteOutput};

/// What one adapter gave.
pub(crate) struct AdapterOutcome {
    pub rows: Vec<ResultRow>,
    pub skipped: Vec<Skipped>,
    pub notes: Vec<String>,
    /// Wrong answers, each named "SUITE on adapter N: ..." (and on stderr).
    pub wrong: Vec<String>,
    /// Power, clocks and the link, read while the suites ran.
    pub telemetry: Telemetry,
    /// When each suite ran, on the telemetry's clock.
    pub windows: Vec<Window>,
}

/// Opens adapter `idx`; one that will not open is a failure, and the
/// command goes on with the next.
pub(crate) fn open(s: &Settings, idx: usize, failures: &mut Failures) -> Option<Gpu> {
    let (adapter, desc) = &s.adapters.list[idx];
    match Gpu::open(adapter, desc) {
        Ok(g) => Some(g),
        Err(e) => {
            failures.push(format_args!("adapter {}", desc.index), &e);
            None
        }
    }
}

/// Measures every suite of the settings on `gpu`, `suite` running each by
/// name. A suite that fails is a failure and the next one runs.
pub(crate) fn adapter(
    s: &Settings,
    meta: &RunMeta,
    gpu: &Gpu,
    failures: &mut Failures,
    suite: &mut dyn FnMut(Suite, &Ctx) -> Result<SuiteOutput>,
) -> AdapterOutcome {
    let desc = &gpu.desc;
    let mut got = AdapterOutcome {
        rows: Vec::new(),
        skipped: Vec::new(),
        notes: Vec::new(),
        wrong: Vec::new(),
        telemetry: Telemetry::default(),
        windows: Vec::new(),
    };
    let sampler = Sampler::start(desc, Duration::from_secs(1));
    // Health shows one line for the whole card, counting down its time.
    let card_bar = match s.command {
        Command::Run => None,
        Command::Health { duration } => Some(countdown(s.quiet, duration)),
    };
    let adapter_start = Instant::now();
    for (done, &name) in s.suites.iter().enumerate() {
        if super::interrupted() {
            break;
        }
        let pb = card_bar.clone().unwrap_or_else(|| {
            let pb = super::progress(s.quiet);
            pb.set_prefix(suite_progress(&s.suites, done, adapter_start.elapsed()));
            pb.set_message(format!("{name}: setting up"));
            pb
        });
        let mut plan = TimingPlan::new(s.samples, s.target_s);
        plan.progress = pb.clone();
        let ctx = Ctx {
            gpu,
            scale: s.scale,
            plan,
            shaders: &s.shaders,
            sizes: &s.sizes,
            progress: pb.clone(),
        };
        let started = Instant::now();
        let t0_s = sampler.elapsed_s();
        let result = suite(name, &ctx);
        got.windows.push(Window {
            suite: name,
            t0_s,
            t1_s: sampler.elapsed_s(),
        });
        let ended = if result.is_ok() { "done" } else { "failed" };
        if card_bar.is_none() {
            pb.finish_and_clear();
        }
        got.add(meta, gpu, name, result, failures);
        if card_bar.is_none() {
            suite_ended(s, desc.index, name, ended, done, started);
        }
    }
    if let Some(pb) = card_bar {
        pb.finish_and_clear();
    }
    got.telemetry = sampler.stop();
    got
}

impl AdapterOutcome {
    /// One suite's outcome: its rows, or its failure, reported once after
    /// every suite has had its turn.
    fn add(
        &mut self,
        meta: &RunMeta,
        gpu: &Gpu,
        suite: Suite,
        result: Result<SuiteOutput>,
        failures: &mut Failures,
    ) {
        let desc = &gpu.desc;
        match result {
            Ok(out) => {
                for m in &out.measured {
                    self.rows.push(ResultRow::new(meta, desc, m));
                }
                self.skipped.extend(out.skipped);
                self.notes.extend(out.notes);
                for w in out.wrong {
                    eprintln!(
                        "hashflops: wrong answer: {suite} on adapter {}: {w}",
                        desc.index
                    );
                    self.wrong
                        .push(format!("{suite} on adapter {}: {w}", desc.index));
                }
            }
            Err(e) => failures.push(format_args!("{suite} on adapter {}", desc.index), &e),
        }
    }
}

/// One line per suite as it ends, terminal or not (a log, CI): the
/// progress bar shows only on a terminal.
fn suite_ended(s: &Settings, index: usize, suite: Suite, ended: &str, done: usize, t: Instant) {
    if s.quiet {
        return;
    }
    let on = if s.selected.len() > 1 {
        format!(" on adapter {index}")
    } else {
        String::new()
    };
    eprintln!(
        "hashflops: {suite}{on} {ended} ({}/{}, {:.0} s)",
        done + 1,
        s.suites.len(),
        t.elapsed().as_secs_f64()
    );
}

/// Health's progress line: the part running and the seconds left.
fn countdown(quiet: bool, duration: Duration) -> ProgressBar {
    let pb = super::progress(quiet);
    if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {prefix}: {msg}")
    {
        pb.set_style(style);
    }
    pb.set_prefix(format!("vram: {} s left", duration.as_secs()));
    pb
}

/// How long each suite takes next to `hash`, roughly (the same ratio at
/// each scale), as the registry states it.
fn suite_weight(suite: Suite) -> f64 {
    crate::workloads::suite(suite).map_or(1.0, |s| s.eta_weight)
}

/// "suite 3/6, about 40 s left": the time the finished suites took,
/// scaled by the weight of those left over the weight of those done.
fn suite_progress(suites: &[Suite], done: usize, elapsed: Duration) -> String {
    let mut s = format!("suite {}/{}", done + 1, suites.len());
    let weight = |list: &[Suite]| list.iter().map(|n| suite_weight(*n)).sum::<f64>();
    let (finished, left) = suites.split_at(done.min(suites.len()));
    if done > 0 && weight(finished) > 0.0 {
        let secs = elapsed.as_secs_f64() * weight(left) / weight(finished);
        s += &format!(", about {secs:.0} s left");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_scales_the_time_taken_by_the_registrys_weights() {
        let suites = [Suite::Hash, Suite::Matmul, Suite::Llm];
        assert_eq!(
            suite_progress(&suites, 0, Duration::from_secs(5)),
            "suite 1/3"
        );
        // hash took 10 s; matmul and llm weigh (3 + 3) / 1 of it.
        let w = |s| crate::workloads::suite(s).unwrap().eta_weight;
        let left = 10.0 * (w(Suite::Matmul) + w(Suite::Llm)) / w(Suite::Hash);
        assert_eq!(
            suite_progress(&suites, 1, Duration::from_secs(10)),
            format!("suite 2/3, about {left:.0} s left")
        );
        // Every registered suite has a weight of its own.
        for s in crate::workloads::REGISTRY {
            assert!(s.eta_weight > 0.0, "{}", s.id);
        }
    }
}
