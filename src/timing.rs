//! Timing of GPU work: timestamp queries around a compute pass where the
//! adapter has them, wall clock around submit + wait otherwise. Every
//! measurement records which method produced it.
//!
//! A sample is one command buffer holding one compute pass in which the
//! workload records `reps` repetitions of its unit of work. The number of
//! repetitions is calibrated so a sample takes at least `target_s`; the
//! workload keeps each single dispatch short (well under 0.5 s) so desktop
//! watchdogs never fire.

use std::time::Instant;

use anyhow::{bail, Result};
use indicatif::ProgressBar;
use serde::Serialize;

use crate::gpu::Gpu;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TimingMethod {
    #[serde(rename = "gpu-timestamp")]
    GpuTimestamp,
    #[serde(rename = "wall")]
    Wall,
}

impl TimingMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            TimingMethod::GpuTimestamp => "gpu-timestamp",
            TimingMethod::Wall => "wall",
        }
    }
}

/// How long and how often to measure.
#[derive(Clone, Debug)]
pub struct TimingPlan {
    /// Untimed runs after calibration.
    pub warmup: u32,
    /// Timed samples; at least 5.
    pub samples: u32,
    /// Minimum length of one sample in seconds.
    pub target_s: f64,
    /// Upper bound on repetitions per sample.
    pub max_reps: u32,
    pub progress: ProgressBar,
}

impl TimingPlan {
    pub fn new(samples: u32, target_s: f64) -> TimingPlan {
        TimingPlan {
            warmup: 2,
            samples: samples.max(5),
            target_s,
            max_reps: 4096,
            progress: ProgressBar::hidden(),
        }
    }

    pub fn with_max_reps(&self, max_reps: u32) -> TimingPlan {
        let mut p = self.clone();
        p.max_reps = max_reps.max(1);
        p
    }

    /// Runs counted against the progress bar by one `time_compute` call.
    pub fn runs_per_measurement(&self) -> u64 {
        (self.samples + self.warmup + 3) as u64
    }
}

/// The repetitions one run records: indices `first .. first + count`,
/// numbered from 0 across calibration, warm-up and every sample of one
/// measurement, so no two repetitions a workload ever records share an
/// index. Workloads derive each repetition's input variation from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reps {
    pub first: u64,
    pub count: u32,
}

impl Reps {
    pub fn indices(self) -> std::ops::Range<u64> {
        self.first..self.first + self.count as u64
    }

    /// `(slot, index)`: the position within this run and the global index.
    pub fn slots(self) -> impl Iterator<Item = (u32, u64)> {
        (0..self.count).map(move |s| (s, self.first + s as u64))
    }
}

/// The result of one measurement: seconds per sample, each sample `reps`
/// units of work; `total_reps` counts every repetition recorded
/// (calibration and warm-up included), which verification must account for.
#[derive(Clone, Debug)]
pub struct Timed {
    pub reps: u32,
    pub samples_s: Vec<f64>,
    pub method: TimingMethod,
    pub total_reps: u64,
}

/// One sample as it was clocked: wall seconds around submit and wait, and
/// the GPU's own timestamps where it has them.
#[derive(Clone, Copy, Debug)]
pub struct Run {
    pub wall_s: f64,
    pub gpu_s: Option<f64>,
}

/// Calibrates the repetitions per sample, warms up and takes the samples;
/// `run(reps)` performs and clocks one sample of `reps.count` units of work,
/// repetitions `reps.indices()`.
pub fn time_runs(plan: &TimingPlan, mut run: impl FnMut(Reps) -> Result<Run>) -> Result<Timed> {
    let mut next = 0u64;
    let mut run = |count: u32| -> Result<Run> {
        let reps = Reps { first: next, count };
        next += count as u64;
        let r = run(reps);
        plan.progress.inc(1);
        r
    };
    // Calibration: the first runs also absorb pipeline compilation.
    let mut reps = 1u32;
    let mut per_rep;
    loop {
        let r = run(reps)?;
        let t = r.gpu_s.unwrap_or(r.wall_s);
        per_rep = t / reps as f64;
        if t >= plan.target_s / 8.0 || reps >= plan.max_reps {
            break;
        }
        reps = (reps.saturating_mul(8)).min(plan.max_reps);
    }
    let want = (plan.target_s / per_rep.max(1e-9)).ceil();
    reps = (want as u32).clamp(1, plan.max_reps);
    for _ in 0..plan.warmup {
        run(reps)?;
    }
    let mut runs = Vec::with_capacity(plan.samples as usize);
    for _ in 0..plan.samples {
        runs.push(run(reps)?);
    }
    let mut timed = choose_method(reps, &runs);
    timed.total_reps = next;
    Ok(timed)
}

/// Reusable query set and buffers for timestamping one pass at a time.
struct Stamps {
    set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    read: wgpu::Buffer,
    period_ns: f64,
}

impl Stamps {
    fn new(gpu: &Gpu) -> Result<Option<Stamps>> {
        if !gpu.has(wgpu::Features::TIMESTAMP_QUERY) {
            return Ok(None);
        }
        let set = gpu.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("timestamps"),
            ty: wgpu::QueryType::Timestamp,
            count: 2,
        });
        let resolve = gpu.buffer(
            "timestamp resolve",
            16,
            wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
        )?;
        let read = gpu.buffer(
            "timestamp read",
            16,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        )?;
        Ok(Some(Stamps {
            set,
            resolve,
            read,
            period_ns: gpu.queue.get_timestamp_period() as f64,
        }))
    }
}

impl Gpu {
    /// Calibrates, warms up and times `encode`, which records `reps` units
    /// of work into the pass it is given.
    pub fn time_compute(
        &self,
        plan: &TimingPlan,
        mut encode: impl FnMut(&mut wgpu::ComputePass<'_>, Reps),
    ) -> Result<Timed> {
        let stamps = Stamps::new(self)?;
        time_runs(plan, |reps| {
            self.run_once(stamps.as_ref(), reps, &mut encode)
        })
    }

    fn run_once(
        &self,
        stamps: Option<&Stamps>,
        reps: Reps,
        encode: &mut impl FnMut(&mut wgpu::ComputePass<'_>, Reps),
    ) -> Result<Run> {
        let mut enc = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("timed"),
                timestamp_writes: stamps.map(|s| wgpu::ComputePassTimestampWrites {
                    query_set: &s.set,
                    beginning_of_pass_write_index: Some(0),
                    end_of_pass_write_index: Some(1),
                }),
            });
            encode(&mut pass, reps);
        }
        if let Some(s) = stamps {
            enc.resolve_query_set(&s.set, 0..2, &s.resolve, 0);
            enc.copy_buffer_to_buffer(&s.resolve, 0, &s.read, 0, 16);
        }
        let cmd = enc.finish();
        let t0 = Instant::now();
        self.queue.submit([cmd]);
        self.wait()?;
        let wall_s = t0.elapsed().as_secs_f64();
        self.check_errors("running a timed pass")?;
        let gpu_s = match stamps {
            Some(s) => {
                let raw = self.map_read(&s.read, 0, 16)?;
                let t: &[u64] = bytemuck::cast_slice(&raw);
                if t[1] > t[0] {
                    Some((t[1] - t[0]) as f64 * s.period_ns * 1e-9)
                } else {
                    None
                }
            }
            None => None,
        };
        if wall_s <= 0.0 {
            bail!("the wall clock did not advance over a GPU submission");
        }
        Ok(Run { wall_s, gpu_s })
    }
}

/// GPU timestamps are used when every sample has a plausible one: positive
/// and not longer than the wall time that contains it (plus slack for clock
/// granularity). Otherwise the whole measurement falls back to wall time,
/// so one method never mixes with the other.
fn choose_method(reps: u32, runs: &[Run]) -> Timed {
    let plausible = runs.iter().all(|r| match r.gpu_s {
        Some(g) => g > 0.0 && g <= r.wall_s * 1.05 + 2e-3,
        None => false,
    });
    if plausible {
        Timed {
            reps,
            samples_s: runs.iter().map(|r| r.gpu_s.unwrap()).collect(),
            method: TimingMethod::GpuTimestamp,
            total_reps: 0,
        }
    } else {
        Timed {
            reps,
            samples_s: runs.iter().map(|r| r.wall_s).collect(),
            method: TimingMethod::Wall,
            total_reps: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repetitions_are_numbered_once_across_the_whole_measurement() {
        let plan = TimingPlan::new(5, 0.0);
        let mut seen = Vec::new();
        let timed = time_runs(&plan, |reps| {
            seen.extend(reps.indices());
            Ok(Run {
                wall_s: 1e-3,
                gpu_s: None,
            })
        })
        .unwrap();
        let want: Vec<u64> = (0..timed.total_reps).collect();
        assert_eq!(seen, want);
        assert!(timed.total_reps >= (plan.samples + plan.warmup) as u64);
    }

    #[test]
    fn implausible_timestamps_fall_back_to_wall() {
        let good = vec![
            Run {
                wall_s: 0.11,
                gpu_s: Some(0.10),
            },
            Run {
                wall_s: 0.12,
                gpu_s: Some(0.10),
            },
        ];
        let t = choose_method(3, &good);
        assert_eq!(t.method, TimingMethod::GpuTimestamp);
        assert_eq!(t.samples_s, vec![0.10, 0.10]);

        let bad = vec![
            Run {
                wall_s: 0.11,
                gpu_s: Some(0.10),
            },
            Run {
                wall_s: 0.11,
                gpu_s: Some(5.0),
            },
        ];
        let t = choose_method(3, &bad);
        assert_eq!(t.method, TimingMethod::Wall);
        assert_eq!(t.samples_s, vec![0.11, 0.11]);

        let missing = vec![Run {
            wall_s: 0.2,
            gpu_s: None,
        }];
        assert_eq!(choose_method(1, &missing).method, TimingMethod::Wall);
    }
}
