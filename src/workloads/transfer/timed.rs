//! The timed transfers, as harness workloads that check what every timed
//! sample delivered.
//!
//! Every transfer sends a window of random bytes that starts at a rotating
//! offset ([`rotation`]), so no two consecutive transfers, and no two
//! samples' last transfers, carry the same bytes. After each sample (the
//! clock stopped) the last transfer's bytes are compared whole with the
//! source: for uploads the device buffer read back, for downloads the
//! mapping the timed download delivered. Downloads also compare the first
//! and last 16 bytes of every transfer inside the sample.

use std::time::Instant;

use anyhow::{Context, Result};

use super::link::{first_difference, map_after, rotation, Link, SLACK, SLACK_WORDS};
use crate::catalogue::{self, Fact, Kernel, Metric, Params};
use crate::gpu::Gpu;
use crate::harness::{Check, Derived, HostWorkload, Reps, Spec};
use crate::timing::{Run, Timed};

/// Most transfers per sample: below [`SLACK_WORDS`], so the last transfers
/// of two consecutive samples never start at the same offset.
pub const MAX_TRANSFERS: u32 = 4096;
const _: () = assert!((MAX_TRANSFERS as u64) < SLACK_WORDS);

/// Size of the buffer copied for the round-trip latency.
pub const ROUND_TRIP_BYTES: u64 = 256;
/// Bytes compared at each end of every download inside a sample.
const ENDS: usize = 16;
/// Problem lines kept per row; the rest are counted.
const MAX_PROBLEMS: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// `Queue::write_buffer` (wgpu stages the copy itself).
    WriteBuffer,
    /// A mapped MAP_WRITE buffer, then `copy_buffer_to_buffer`.
    Staging,
    /// `copy_buffer_to_buffer` into a MAP_READ buffer, then map it.
    Download,
}

impl Path {
    pub fn kernel(self) -> Kernel {
        Kernel::Transfer(match self {
            Path::WriteBuffer => catalogue::Transfer::WriteBuffer,
            Path::Staging => catalogue::Transfer::Staging,
            Path::Download => catalogue::Transfer::Download,
        })
    }
}

/// Sabotage for the tests that prove the checks: transfers that are
/// skipped while the sample still counts and clocks them. Never set by the
/// command line.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// No transfer happens (a download that copies nothing).
    SkipAll,
    /// Only the very first transfer happens; the buffer stays stale after.
    StaleAfterFirst,
    /// The last transfer of every sample is skipped.
    SkipLast,
}

impl Fault {
    fn skips(fault: Option<Fault>, t: u64, r: u32, reps: u32) -> bool {
        match fault {
            None => false,
            Some(Fault::SkipAll) => true,
            Some(Fault::StaleAfterFirst) => t > 0,
            Some(Fault::SkipLast) => r + 1 == reps,
        }
    }
}

/// `n`-byte transfers along one path, from windows of `src`.
pub struct Transfer<'l, 'g> {
    link: &'l mut Link<'g>,
    path: Path,
    n: u64,
    src: &'l [u8],
    /// Also report this size's median as the path's plateau.
    pub plateau: bool,
    /// Transfers made so far (numbers the next one's source window).
    count: u64,
    samples: u32,
    bad_samples: u32,
    bad_ends: u64,
    problems: Vec<String>,
    #[doc(hidden)]
    pub fault: Option<Fault>,
}

impl<'l, 'g> Transfer<'l, 'g> {
    /// `src` must hold `n` + [`SLACK`] bytes; for downloads they are put on
    /// the device first (untimed).
    pub fn new(link: &'l mut Link<'g>, path: Path, n: u64, src: &'l [u8]) -> Result<Self> {
        anyhow::ensure!(
            n > 0 && n.is_multiple_of(4) && n <= link.capacity(),
            "transfer of {n} bytes: a whole number of 4-byte words, at most {}",
            link.capacity()
        );
        anyhow::ensure!(
            src.len() as u64 >= n + SLACK,
            "transfer source of {} bytes is shorter than {n} + {SLACK}",
            src.len()
        );
        if path == Path::Download {
            link.h2d_write_buffer(&src[..(n + SLACK) as usize])?;
            link.finish()?;
        }
        Ok(Transfer {
            link,
            path,
            n,
            src,
            plateau: false,
            count: 0,
            samples: 0,
            bad_samples: 0,
            bad_ends: 0,
            problems: Vec::new(),
            fault: None,
        })
    }

    fn window(&self, t: u64) -> &'l [u8] {
        let from = rotation(t) as usize;
        &self.src[from..from + self.n as usize]
    }

    /// Compares the last transfer of a sample with its source window.
    fn check_last(&mut self, t: u64) -> Result<()> {
        let want = self.window(t);
        let diff = match self.path {
            Path::Download => {
                let d = first_difference(&self.link.mapped(self.n)?, want);
                self.link.unmap();
                d
            }
            _ => self
                .link
                .with_device_bytes(self.n, |got| first_difference(got, want))?,
        };
        self.samples += 1;
        if let Some(at) = diff {
            self.bad_samples += 1;
            if self.problems.len() < MAX_PROBLEMS {
                let what = match self.path {
                    Path::Download => "the download delivered",
                    _ => "the device buffer holds after the upload",
                };
                self.problems.push(format!(
                    "sample {}: the {} bytes {what} differ from the source from byte {at} on",
                    self.samples, self.n
                ));
            }
        }
        Ok(())
    }
}

/// Whether the first and last [`ENDS`] bytes of `got` match `want`.
fn ends_match(got: &[u8], want: &[u8]) -> bool {
    let k = ENDS.min(got.len());
    got.len() == want.len()
        && got[..k] == want[..k]
        && got[got.len() - k..] == want[want.len() - k..]
}

impl HostWorkload for Transfer<'_, '_> {
    fn spec(&self) -> Spec {
        let mut params = Params::new()
            .with(Fact::Bytes(self.n))
            .detail("data", "random, window rotating per transfer");
        if self.plateau {
            params = params.detail("plateau", "median of this size's samples (the largest)");
        }
        Spec {
            kernel: self.path.kernel(),
            params,
            metric: Metric::Bandwidth,
            latency: false,
        }
    }

    fn work_per_rep(&self) -> f64 {
        self.n as f64
    }

    fn max_reps(&self) -> u32 {
        MAX_TRANSFERS
    }

    fn derived(&self) -> Vec<Derived> {
        if self.plateau {
            vec![Derived {
                metric: Metric::Plateau,
                factor: 1.0,
            }]
        } else {
            Vec::new()
        }
    }

    fn sample(&mut self, reps: Reps) -> Result<Run> {
        let reps = reps.count;
        let n = self.n;
        let mut last = self.count;
        let t0 = Instant::now();
        for r in 0..reps {
            let t = self.count;
            self.count += 1;
            last = t;
            let skip = Fault::skips(self.fault, t, r, reps);
            let data = self.window(t);
            match self.path {
                Path::WriteBuffer if !skip => self.link.h2d_write_buffer(data)?,
                Path::Staging if !skip => self.link.h2d_staging(data)?,
                Path::WriteBuffer | Path::Staging => {}
                Path::Download => {
                    self.link.d2h_map(rotation(t), n, !skip)?;
                    if !ends_match(&self.link.mapped(n)?, data) {
                        self.bad_ends += 1;
                    }
                    // The last download stays mapped for the whole check.
                    if r + 1 < reps {
                        self.link.unmap();
                    }
                }
            }
        }
        self.link.finish()?;
        let wall_s = t0.elapsed().as_secs_f64();
        self.check_last(last)?;
        Ok(Run {
            wall_s,
            gpu_s: None,
        })
    }

    fn verify(self, _timed: &Timed) -> Result<Check> {
        let mut check = Check::default();
        for p in &self.problems {
            check.fail(p.clone());
        }
        if self.bad_samples as usize > self.problems.len() {
            check.fail(format!(
                "{} of {} samples delivered wrong bytes in all",
                self.bad_samples, self.samples
            ));
        }
        if self.bad_ends > 0 {
            check.fail(format!(
                "{} of {} downloads delivered a first or last {ENDS} bytes that differ from the source",
                self.bad_ends, self.count
            ));
        }
        // Each transfer moved its own window of the source (rotation).
        check.account(self.count);
        check.fact("samples_checked", self.samples);
        let how = match self.path {
            Path::Download => {
                "last download of every sample whole, first and last 16 B of every download"
            }
            _ => "device buffer after the last upload of every sample whole",
        };
        check.fact("checked", how);
        Ok(check)
    }
}

/// Tiny copy-then-map round trips, every one compared with its source.
pub struct RoundTripLatency<'g> {
    gpu: &'g Gpu,
    src: wgpu::Buffer,
    dst: wgpu::Buffer,
    pattern: Vec<u8>,
    count: u64,
    wrong: u64,
    first_wrong: Option<u64>,
    #[doc(hidden)]
    pub fault: Option<Fault>,
}

impl<'g> RoundTripLatency<'g> {
    pub fn new(gpu: &'g Gpu) -> Result<Self> {
        use wgpu::BufferUsages as U;
        let pattern = super::link::random_bytes((ROUND_TRIP_BYTES + SLACK) as usize, 3);
        Ok(RoundTripLatency {
            gpu,
            src: gpu.storage_init("round trip source", &pattern)?,
            dst: gpu.buffer(
                "round trip destination",
                ROUND_TRIP_BYTES,
                U::MAP_READ | U::COPY_DST,
            )?,
            pattern,
            count: 0,
            wrong: 0,
            first_wrong: None,
            fault: None,
        })
    }
}

impl HostWorkload for RoundTripLatency<'_> {
    fn spec(&self) -> Spec {
        Spec {
            kernel: Kernel::Transfer(catalogue::Transfer::RoundTrip),
            params: Params::new().with(Fact::Bytes(ROUND_TRIP_BYTES)),
            metric: Metric::Latency,
            latency: true,
        }
    }

    fn work_per_rep(&self) -> f64 {
        1.0
    }

    fn max_reps(&self) -> u32 {
        MAX_TRANSFERS
    }

    fn sample(&mut self, reps: Reps) -> Result<Run> {
        let reps = reps.count;
        let t0 = Instant::now();
        for r in 0..reps {
            let t = self.count;
            self.count += 1;
            let from = rotation(t);
            let mut enc = self.gpu.device.create_command_encoder(&Default::default());
            if !Fault::skips(self.fault, t, r, reps) {
                enc.copy_buffer_to_buffer(&self.src, from, &self.dst, 0, ROUND_TRIP_BYTES);
            }
            self.gpu.queue.submit([enc.finish()]);
            map_after(
                self.gpu,
                &self.dst,
                wgpu::MapMode::Read,
                ROUND_TRIP_BYTES,
                None,
            )?;
            let want = &self.pattern[from as usize..(from + ROUND_TRIP_BYTES) as usize];
            let ok = *self
                .dst
                .get_mapped_range(..)
                .context("reading the round trip")?
                == *want;
            self.dst.unmap();
            if !ok {
                self.wrong += 1;
                self.first_wrong.get_or_insert(t);
            }
        }
        let wall_s = t0.elapsed().as_secs_f64();
        self.gpu.check_errors("timing round trips")?;
        Ok(Run {
            wall_s,
            gpu_s: None,
        })
    }

    fn verify(self, _timed: &Timed) -> Result<Check> {
        let mut check = Check::default();
        if let Some(t) = self.first_wrong {
            check.fail(format!(
                "{} of {} round trips delivered bytes that differ from the source (the first: round trip {t})",
                self.wrong, self.count
            ));
        }
        check.account(self.count);
        check.fact("round_trips", self.count);
        check.fact("checked", "every round trip whole");
        Ok(check)
    }
}
