//! The soak: the hash loop, an FMA-bound rotation and a memory copy in
//! turn for a set time, every interval timed through the harness and
//! verified against a CPU replay of every repetition it recorded (each
//! repetition does distinct work: its own nonce range, FMA starts or copy
//! rotation, so none can be skipped or kept from before). Throughput
//! over time gives the drop from the first minute to the last and the
//! worst interval ÷ the best (3DMark's stress test fails a card below 97 %).

mod loads;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;

use super::{Ctx, Measured, Scale, SuiteOutput};
use crate::catalogue::{Kernel, Soak};
use crate::harness::measure;
use crate::timing::TimingPlan;
pub use loads::Load;
use loads::{CopyInterval, FmaInterval, HashInterval, Loads};

pub const WGSL: &str = include_str!("../../../shaders/soak.wgsl");

/// Worst ÷ best below this fails a GPU (3DMark's stress-test threshold).
pub const STABLE_RATIO: f64 = 0.97;

/// How long to soak, how often to sample, and an optional injected fault.
#[derive(Clone, Debug)]
pub struct Plan {
    pub duration: Duration,
    pub interval: Duration,
    /// Corrupts this load's result once, in this interval (tests).
    pub corrupt: Option<(Load, usize)>,
}

impl Plan {
    /// Intervals of a few seconds: about ten per soak, 3 to 10 s each.
    pub fn for_duration(duration: Duration) -> Plan {
        let interval = (duration / 10).clamp(Duration::from_secs(3), Duration::from_secs(10));
        Plan {
            duration,
            interval,
            corrupt: None,
        }
    }

    /// `run --suite soak`: short.
    pub fn for_scale(scale: Scale) -> Plan {
        let secs = match scale {
            Scale::Quick => 6,
            Scale::Default => 30,
            Scale::Full => 120,
        };
        let mut p = Plan::for_duration(Duration::from_secs(secs));
        if scale == Scale::Quick {
            p.interval = Duration::from_secs(2);
        }
        p
    }
}

/// Throughput of one load over the soak.
#[derive(Clone, Debug, Serialize)]
pub struct Series {
    pub kernel: Kernel,
    pub unit: String,
    /// (seconds since the soak began, median rate of the interval).
    pub points: Vec<(f64, f64)>,
    pub first_window: f64,
    pub last_window: f64,
    pub drop_pct: f64,
    pub worst_over_best: f64,
}

/// The stability verdict of one adapter, for the health report.
#[derive(Clone, Debug, Serialize)]
pub struct Stability {
    /// `stable`, `unstable`, `results differ`, or `not judged` (the
    /// throughput of a CPU adapter, which shares cores with the OS).
    pub status: String,
    pub seconds: f64,
    pub intervals: usize,
    /// Seconds the first and last windows span.
    pub window_s: f64,
    pub worst_over_best: Option<f64>,
    pub worst_drop_pct: Option<f64>,
    pub results_differ: bool,
    pub interrupted: bool,
    pub series: Vec<Series>,
    pub finding: String,
}

pub struct Outcome {
    pub measured: Vec<Measured>,
    pub stability: Stability,
}

/// Soaks until the plan's time is up or `stop` is set (Ctrl-C), keeping
/// every interval measured so far.
pub fn soak(ctx: &Ctx, plan: &Plan, stop: &AtomicBool) -> Result<Outcome> {
    let soak_wgsl = ctx.shaders.get("soak", WGSL)?;
    let sha_wgsl = ctx.shaders.get("sha256d", super::hash::WGSL)?;
    let loads = Loads::new(ctx.gpu, &soak_wgsl, &sha_wgsl)?;
    let started = Instant::now();
    let mut measured = Vec::new();
    let mut interval = 0;
    // Each measurement: calibration, one warm-up and five samples.
    let per_load = plan.interval.as_secs_f64() / 3.0 / 8.0;
    let mut timing = TimingPlan::new(5, per_load);
    timing.warmup = 1;
    timing.progress = ctx.plan.progress.clone();
    let ictx = Ctx {
        gpu: ctx.gpu,
        scale: ctx.scale,
        plan: timing,
        shaders: ctx.shaders,
        sizes: ctx.sizes,
        progress: ctx.progress.clone(),
    };
    let mut interrupted = false;
    // Two intervals at least: a figure over time needs two points.
    while started.elapsed() < plan.duration || interval < 2 {
        let t_s = started.elapsed().as_secs_f64();
        let left = plan.duration.as_secs_f64() - t_s;
        ctx.progress
            .set_prefix(format!("soak {interval}: {:.0} s left", left.max(0.0)));
        let hit = |load| plan.corrupt == Some((load, interval));
        loads.clear()?;
        measured.extend(measure(
            &ictx,
            HashInterval::new(&loads, interval, t_s, hit(Load::Hash)),
        )?);
        measured.extend(measure(
            &ictx,
            FmaInterval {
                l: &loads,
                interval,
                t_s,
                corrupt: hit(Load::Fma),
            },
        )?);
        measured.extend(measure(
            &ictx,
            CopyInterval {
                l: &loads,
                interval,
                t_s,
                corrupt: hit(Load::Copy),
            },
        )?);
        interval += 1;
        if stop.load(Ordering::SeqCst) {
            interrupted = true;
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let stability = judge(
        &measured,
        seconds,
        interval,
        interrupted,
        ctx.gpu.desc.is_cpu(),
    );
    Ok(Outcome {
        measured,
        stability,
    })
}

/// The first and last window: a minute each, or a quarter of a shorter soak.
fn window(seconds: f64) -> f64 {
    (seconds / 4.0).min(60.0)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Figures per load and the verdict.
pub fn judge(
    rows: &[Measured],
    seconds: f64,
    intervals: usize,
    interrupted: bool,
    cpu: bool,
) -> Stability {
    let w = window(seconds);
    let mut series = Vec::new();
    for kernel in [Soak::Hash, Soak::Fma, Soak::Copy].map(Kernel::Soak) {
        let points: Vec<(f64, f64)> = rows
            .iter()
            .filter(|m| m.kernel == kernel)
            .map(|m| (m.params.start_s().unwrap_or(0.0), m.summary.median))
            .collect();
        if points.is_empty() {
            continue;
        }
        let values: Vec<f64> = points.iter().map(|p| p.1).collect();
        let end = points.last().map_or(0.0, |p| p.0);
        let first: Vec<f64> = points.iter().filter(|p| p.0 <= w).map(|p| p.1).collect();
        let last: Vec<f64> = points
            .iter()
            .filter(|p| p.0 >= end - w)
            .map(|p| p.1)
            .collect();
        let (fw, lw) = (mean(&first), mean(&last));
        let best = values.iter().cloned().fold(f64::MIN, f64::max);
        let worst = values.iter().cloned().fold(f64::MAX, f64::min);
        series.push(Series {
            kernel,
            unit: rows
                .iter()
                .find(|m| m.kernel == kernel)
                .map_or("", |m| m.unit)
                .into(),
            points,
            first_window: fw,
            last_window: lw,
            drop_pct: if fw > 0.0 {
                100.0 * (fw - lw) / fw
            } else {
                0.0
            },
            worst_over_best: if best > 0.0 { worst / best } else { 0.0 },
        });
    }
    let results_differ = rows.iter().any(|m| !m.verified);
    let ratio = series.iter().map(|s| s.worst_over_best).reduce(f64::min);
    let drop = series.iter().map(|s| s.drop_pct).reduce(f64::max);
    let figures = match (ratio, drop) {
        (Some(r), Some(d)) => format!(
            "worst interval ÷ best {:.1} %, drop from the first {w:.0} s to the last {d:.1} %, over {intervals} intervals in {seconds:.0} s",
            r * 100.0
        ),
        _ => "no interval completed".into(),
    };
    let (status, finding) = if results_differ {
        (
            "results differ",
            format!("soak: results differed from the reference during the soak — this card computes wrongly under load ({figures})"),
        )
    } else if cpu {
        (
            "not judged",
            format!("soak: results correct throughout; throughput stability is not judged on a CPU adapter, which shares its cores with the system ({figures})"),
        )
    } else if ratio.is_some_and(|r| r < STABLE_RATIO) {
        (
            "unstable",
            format!("soak: UNSTABLE — {figures}; below the {:.0} % a stable card holds (throttling, power or cooling)", STABLE_RATIO * 100.0),
        )
    } else {
        ("stable", format!("soak: stable — {figures}"))
    };
    Stability {
        status: status.into(),
        seconds,
        intervals,
        window_s: w,
        worst_over_best: ratio,
        worst_drop_pct: drop,
        results_differ,
        interrupted,
        series,
        finding,
    }
}

/// `run --suite soak`: a short soak. An unstable GPU counts as a wrong
/// answer (exit 1); wrong results are unverified rows already.
pub fn run(ctx: &Ctx) -> Result<SuiteOutput> {
    let never = AtomicBool::new(false);
    let out = soak(ctx, &Plan::for_scale(ctx.scale), &never)?;
    let mut wrong = Vec::new();
    if out.stability.status == "unstable" {
        wrong.push(out.stability.finding.clone());
    }
    Ok(SuiteOutput {
        measured: out.measured,
        notes: vec![out.stability.finding],
        wrong,
        ..Default::default()
    })
}
