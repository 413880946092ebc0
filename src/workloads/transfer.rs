//! Suite `transfer`: host-to-device and device-to-host bandwidth over the
//! host link, and the latency of one tiny round trip.
//!
//! Mining rigs hang GPUs on PCIe x1 risers: harmless for hashing (a few
//! bytes per job), fatal for AI (gigabytes of weights to load, gradients to
//! exchange). Three paths are measured with the wall clock on random,
//! incompressible data at sizes from 1 MiB up:
//!
//! - `h2d_write_buffer`: `Queue::write_buffer` (wgpu stages the copy itself);
//! - `h2d_staging`: a MAP_WRITE buffer written while mapped, then
//!   `copy_buffer_to_buffer` to the device buffer (two such buffers in turn,
//!   so filling one overlaps the other's copy, as a loader would);
//! - `d2h`: `copy_buffer_to_buffer` into a MAP_READ buffer, map it; the host
//!   reads the data in place (a copy out of the mapping is host memcpy, not
//!   the link, and is done only for verification).
//!
//! What reached the device is read back after the timed run (untimed) and
//! compared by SHA-256 with what was sent; what came back is hashed the same
//! way. The plateau of the largest sizes is mapped onto the PCIe generation
//! and lane-count table below to say in plain words what the link looks like.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rand::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};

use super::{Ctx, Measured, Scale, SuiteOutput};
use crate::gpu::Gpu;
use crate::stats::Summary;
use crate::timing::TimingMethod;

const MIB: u64 = 1 << 20;
/// GB means 10^9 bytes.
const GB: f64 = 1e9;
/// Size of the buffer copied for the round-trip latency.
const ROUND_TRIP_BYTES: u64 = 256;
/// Queued `write_buffer` staging memory is bounded so a fast link cannot
/// pile up gigabytes of it inside one sample.
const MAX_QUEUED_BYTES: u64 = 64 * MIB;

/// PCIe bandwidth per lane and direction in GB/s, after line encoding
/// (8b/10b for 1.0 and 2.0, 128b/130b from 3.0 on), by generation.
pub const PCIE_GB_PER_LANE: [(&str, f64); 5] = [
    ("1.0", 0.25),
    ("2.0", 0.5),
    ("3.0", 0.985),
    ("4.0", 1.969),
    ("5.0", 3.938),
];

/// Lane counts of the slots and risers GPUs are found on.
pub const PCIE_LANES: [u32; 4] = [1, 4, 8, 16];

/// A link sustains 70-90% of its table figure in practice; a measured
/// plateau is consistent with a link whose table figure lies between the
/// plateau and the plateau divided by this.
pub const PCIE_MIN_EFFICIENCY: f64 = 0.5;

/// How narrow a host link is, judged from its plateau in GB/s: the first
/// row whose bound the plateau is under applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkClass {
    /// Under 2 GB/s: at or below PCIe 4.0 x1, 3.0 x2, 2.0 x4, 1.0 x8; the
    /// x1 risers of mining rigs land here.
    Riser,
    /// Under 7 GB/s: an x4 slot, or x8 of an old generation (CMP cards run
    /// PCIe 1.0 x4 = 1 GB/s and land in the row above).
    Narrow,
    /// 7 GB/s and more: PCIe 3.0 x8 / 4.0 x4 or better.
    Full,
}

/// Upper bounds (exclusive, GB/s) of each class but the last.
pub const LINK_THRESHOLDS_GB: [(LinkClass, f64); 2] =
    [(LinkClass::Riser, 2.0), (LinkClass::Narrow, 7.0)];

/// Size of the example model whose load time the notes quote: 7B
/// parameters in fp16.
pub const EXAMPLE_MODEL_BYTES: f64 = 14e9;

pub fn link_class(bytes_per_s: f64) -> LinkClass {
    let gb = bytes_per_s / GB;
    LINK_THRESHOLDS_GB
        .iter()
        .find(|(_, bound)| gb < *bound)
        .map(|(c, _)| *c)
        .unwrap_or(LinkClass::Full)
}

/// Theoretical bandwidth of a PCIe link in B/s.
pub fn pcie_bytes_per_s(gen: &str, lanes: u32) -> Option<f64> {
    PCIE_GB_PER_LANE
        .iter()
        .find(|(g, _)| *g == gen)
        .map(|(_, per_lane)| per_lane * lanes as f64 * GB)
}

/// The links from the table a measured plateau is consistent with, slowest
/// first, as "PCIe 3.0 x1" strings.
pub fn likely_links(bytes_per_s: f64) -> Vec<String> {
    let mut hits: Vec<(f64, String)> = Vec::new();
    for (gen, per_lane) in PCIE_GB_PER_LANE {
        for lanes in PCIE_LANES {
            let link = per_lane * lanes as f64 * GB;
            if bytes_per_s <= link && bytes_per_s >= link * PCIE_MIN_EFFICIENCY {
                hits.push((link, format!("PCIe {gen} x{lanes}")));
            }
        }
    }
    hits.sort_by(|a, b| a.0.total_cmp(&b.0));
    hits.into_iter().map(|(_, s)| s).collect()
}

/// The smallest table link at least as fast as the plateau, for "at or
/// below" wording.
fn ceiling_link(bytes_per_s: f64) -> Option<String> {
    let mut best: Option<(f64, String)> = None;
    for (gen, per_lane) in PCIE_GB_PER_LANE {
        for lanes in PCIE_LANES {
            let link = per_lane * lanes as f64 * GB;
            if link >= bytes_per_s && best.as_ref().is_none_or(|(b, _)| link < *b) {
                best = Some((link, format!("PCIe {gen} x{lanes}")));
            }
        }
    }
    best.map(|(_, s)| s)
}

/// The note for a host-link plateau, or `None` when the link is not a
/// bottleneck. A CPU adapter's "transfers" are copies within host memory.
pub fn link_note(bytes_per_s: f64, is_cpu: bool, adapter: &str) -> Option<String> {
    let gb = bytes_per_s / GB;
    if is_cpu {
        return Some(format!(
            "host link {gb:.1} GB/s: {adapter} is a CPU adapter, so transfers are copies within host memory (no PCIe link to judge)"
        ));
    }
    let load_s = EXAMPLE_MODEL_BYTES / bytes_per_s;
    let consistent = likely_links(bytes_per_s);
    let links = if consistent.is_empty() {
        String::new()
    } else {
        format!(" (consistent with {})", consistent.join(", "))
    };
    let ceiling = ceiling_link(bytes_per_s)
        .map(|l| format!("at or below {l}"))
        .unwrap_or_else(|| "below PCIe 5.0 x16".into());
    match link_class(bytes_per_s) {
        LinkClass::Riser => Some(format!(
            "host link {gb:.1} GB/s: looks like a PCIe x1 riser or a Gen1/Gen2 link, {ceiling}{links}; \
             a 14 GB model takes about {load_s:.0} s to load; multi-GPU training over this link is impractical"
        )),
        LinkClass::Narrow => Some(format!(
            "host link {gb:.1} GB/s: a narrow link, {ceiling}{links}; a 14 GB model takes about {load_s:.0} s to load; \
             fine for inference once the weights are loaded, slow for multi-GPU training"
        )),
        LinkClass::Full => None,
    }
}

/// Sizes measured: 1 MiB and powers of 4 up to the scale's maximum, capped
/// by the adapter's largest buffer.
pub fn sizes(gpu: &Gpu, scale: Scale) -> Vec<u64> {
    let max = match (gpu.desc.is_cpu(), scale) {
        (true, Scale::Quick) => 16 * MIB,
        (true, Scale::Default) => 64 * MIB,
        (true, Scale::Full) => 256 * MIB,
        (false, Scale::Quick) => 64 * MIB,
        (false, Scale::Default) => 256 * MIB,
        (false, Scale::Full) => 1024 * MIB,
    };
    let max = max.min(gpu.limits.max_buffer_size / 4 * 4);
    let mut out = Vec::new();
    let mut s = MIB;
    while s <= max {
        out.push(s);
        s *= 4;
    }
    if out.last() != Some(&max) && max >= MIB {
        out.push(max);
    }
    if out.is_empty() {
        out.push(max);
    }
    out
}

pub fn checksum(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Random incompressible bytes.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rand::rngs::StdRng::seed_from_u64(seed).fill_bytes(&mut v);
    v
}

fn map_blocking(gpu: &Gpu, buf: &wgpu::Buffer, mode: wgpu::MapMode, size: u64) -> Result<()> {
    map_after(gpu, buf, mode, size, None)
}

/// Maps `buf`, waiting only for submission `after` (the last one that used
/// it) where given, so later submissions keep running meanwhile.
fn map_after(
    gpu: &Gpu,
    buf: &wgpu::Buffer,
    mode: wgpu::MapMode,
    size: u64,
    after: Option<wgpu::SubmissionIndex>,
) -> Result<()> {
    let (tx, rx) = mpsc::channel();
    buf.map_async(mode, 0..size, move |r| {
        let _ = tx.send(r);
    });
    if let Some(index) = after {
        gpu.device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(index),
                timeout: None,
            })
            .context("waiting for the GPU")?;
    }
    let r = match rx.try_recv() {
        Ok(r) => r,
        Err(_) => {
            gpu.wait()?;
            rx.recv_timeout(Duration::from_secs(60))
                .context("buffer map never completed")?
        }
    };
    r.context("mapping a buffer")
}

/// A device buffer with its upload and download staging buffers, all of
/// `capacity` bytes; every transfer uses a prefix of them.
pub struct Link<'g> {
    gpu: &'g Gpu,
    device: wgpu::Buffer,
    /// Two upload buffers in turn: the host fills one while the other's copy
    /// to the device is in flight.
    upload: [wgpu::Buffer; 2],
    upload_done: [Option<wgpu::SubmissionIndex>; 2],
    next_upload: usize,
    download: wgpu::Buffer,
    /// Where verified downloads land on the host.
    pub host: Vec<u8>,
    capacity: u64,
    queued: u64,
}

impl<'g> Link<'g> {
    pub fn new(gpu: &'g Gpu, capacity: u64) -> Result<Self> {
        use wgpu::BufferUsages as U;
        anyhow::ensure!(
            capacity.is_multiple_of(4) && capacity > 0,
            "transfer sizes are whole 4-byte words"
        );
        let upload = || gpu.buffer("transfer upload", capacity, U::MAP_WRITE | U::COPY_SRC);
        Ok(Link {
            gpu,
            device: gpu.buffer(
                "transfer device",
                capacity,
                U::STORAGE | U::COPY_DST | U::COPY_SRC,
            )?,
            upload: [upload()?, upload()?],
            upload_done: [None, None],
            next_upload: 0,
            download: gpu.buffer("transfer download", capacity, U::MAP_READ | U::COPY_DST)?,
            host: vec![0u8; capacity as usize],
            capacity,
            queued: 0,
        })
    }

    fn check(&self, n: u64) -> Result<()> {
        anyhow::ensure!(
            n > 0 && n.is_multiple_of(4) && n <= self.capacity,
            "transfer of {n} bytes: must be a whole number of 4-byte words, at most {}",
            self.capacity
        );
        Ok(())
    }

    /// Queues `data` to the device buffer with `Queue::write_buffer`.
    pub fn h2d_write_buffer(&mut self, data: &[u8]) -> Result<()> {
        self.check(data.len() as u64)?;
        self.gpu.queue.write_buffer(&self.device, 0, data);
        self.gpu.queue.submit([]);
        self.queued += data.len() as u64;
        if self.queued >= MAX_QUEUED_BYTES {
            self.finish()?;
        }
        Ok(())
    }

    /// Writes `data` into a mapped upload buffer and queues its copy to the
    /// device buffer. Mapping waits only for that buffer's previous copy.
    pub fn h2d_staging(&mut self, data: &[u8]) -> Result<()> {
        let n = data.len() as u64;
        self.check(n)?;
        let i = self.next_upload;
        self.next_upload ^= 1;
        let buf = &self.upload[i];
        map_after(
            self.gpu,
            buf,
            wgpu::MapMode::Write,
            n,
            self.upload_done[i].take(),
        )?;
        buf.get_mapped_range_mut(0..n)
            .context("writing the mapped upload buffer")?
            .copy_from_slice(data);
        buf.unmap();
        let mut enc = self.gpu.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(buf, 0, &self.device, 0, n);
        self.upload_done[i] = Some(self.gpu.queue.submit([enc.finish()]));
        Ok(())
    }

    /// Copies the first `n` bytes of the device buffer into the download
    /// buffer and maps it: the host can read them in place. With
    /// `copy_out`, they are also copied to `self.host` (for verification;
    /// a consumer reads the mapping directly, so that copy is not timed).
    pub fn d2h(&mut self, n: u64, copy_out: bool) -> Result<()> {
        self.check(n)?;
        let mut enc = self.gpu.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(&self.device, 0, &self.download, 0, n);
        self.gpu.queue.submit([enc.finish()]);
        map_blocking(self.gpu, &self.download, wgpu::MapMode::Read, n)?;
        {
            let view = self
                .download
                .get_mapped_range(0..n)
                .context("reading the mapped download buffer")?;
            if copy_out {
                self.host[..n as usize].copy_from_slice(&view);
            }
        }
        self.download.unmap();
        Ok(())
    }

    /// Waits for every queued transfer.
    pub fn finish(&mut self) -> Result<()> {
        self.gpu.wait()?;
        self.queued = 0;
        self.upload_done = [None, None];
        self.gpu.check_errors("transferring data")
    }

    /// Checksum of the first `n` bytes of the device buffer, read back
    /// through the generic helper (untimed).
    pub fn device_checksum(&self, n: u64) -> Result<[u8; 32]> {
        Ok(checksum(&self.gpu.read(&self.device, 0, n)?))
    }
}

/// Which paths delivered intact data in [`round_trip`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundTrip {
    pub h2d_write_buffer: bool,
    pub h2d_staging: bool,
    pub d2h: bool,
}

impl RoundTrip {
    pub fn ok(&self) -> bool {
        self.h2d_write_buffer && self.h2d_staging && self.d2h
    }
}

/// Sends `bytes` random bytes (a multiple of 4) up each way and back, and
/// compares checksums.
pub fn round_trip(gpu: &Gpu, bytes: u64) -> Result<RoundTrip> {
    let mut link = Link::new(gpu, bytes)?;
    let first = random_bytes(bytes as usize, 1);
    let second = random_bytes(bytes as usize, 2);
    link.h2d_write_buffer(&first)?;
    link.finish()?;
    let h2d_write_buffer = link.device_checksum(bytes)? == checksum(&first);
    link.h2d_staging(&second)?;
    link.finish()?;
    let h2d_staging = link.device_checksum(bytes)? == checksum(&second);
    link.d2h(bytes, true)?;
    let d2h = checksum(&link.host) == checksum(&second);
    Ok(RoundTrip {
        h2d_write_buffer,
        h2d_staging,
        d2h,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    WriteBuffer,
    Staging,
    Download,
}

impl Path {
    fn kernel(self) -> &'static str {
        match self {
            Path::WriteBuffer => "h2d_write_buffer",
            Path::Staging => "h2d_staging",
            Path::Download => "d2h",
        }
    }
}

struct SizeResult {
    bytes: u64,
    rates: Vec<f64>,
    verified: bool,
}

/// Times `reps` transfers of `n` bytes along `path`, including the wait for
/// the last one.
fn timed_sample(link: &mut Link, path: Path, data: &[u8], n: u64, reps: u32) -> Result<f64> {
    let t0 = Instant::now();
    for _ in 0..reps {
        match path {
            Path::WriteBuffer => link.h2d_write_buffer(&data[..n as usize])?,
            Path::Staging => link.h2d_staging(&data[..n as usize])?,
            Path::Download => link.d2h(n, false)?,
        }
    }
    link.finish()?;
    Ok(t0.elapsed().as_secs_f64())
}

fn measure_size(
    ctx: &Ctx,
    link: &mut Link,
    path: Path,
    data: &[u8],
    n: u64,
) -> Result<(SizeResult, u32)> {
    // Untimed transfers warm the path; the second one sizes the sample.
    timed_sample(link, path, data, n, 1)?;
    let once = timed_sample(link, path, data, n, 1)?;
    let target = ctx.plan.target_s.max(0.02);
    let reps = ((target / once.max(1e-6)).ceil() as u32).clamp(1, 10_000);
    for _ in 0..ctx.plan.warmup {
        timed_sample(link, path, data, n, reps)?;
        ctx.plan.progress.inc(1);
    }
    let mut rates = Vec::with_capacity(ctx.plan.samples as usize);
    for _ in 0..ctx.plan.samples {
        let t = timed_sample(link, path, data, n, reps)?;
        rates.push(n as f64 * reps as f64 / t);
        ctx.plan.progress.inc(1);
    }
    let verified = match path {
        Path::WriteBuffer | Path::Staging => {
            link.device_checksum(n)? == checksum(&data[..n as usize])
        }
        Path::Download => {
            link.d2h(n, true)?;
            checksum(&link.host[..n as usize]) == checksum(&data[..n as usize])
        }
    };
    Ok((
        SizeResult {
            bytes: n,
            rates,
            verified,
        },
        reps,
    ))
}

/// Median over many tiny copy-then-map round trips.
fn round_trip_latency(ctx: &Ctx) -> Result<Measured> {
    use wgpu::BufferUsages as U;
    let gpu = ctx.gpu;
    let pattern = random_bytes(ROUND_TRIP_BYTES as usize, 3);
    let src = gpu.storage_init("round trip source", &pattern)?;
    let dst = gpu.buffer(
        "round trip destination",
        ROUND_TRIP_BYTES,
        U::MAP_READ | U::COPY_DST,
    )?;
    let once = || -> Result<(f64, bool)> {
        let t0 = Instant::now();
        let mut enc = gpu.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(&src, 0, &dst, 0, ROUND_TRIP_BYTES);
        gpu.queue.submit([enc.finish()]);
        map_blocking(gpu, &dst, wgpu::MapMode::Read, ROUND_TRIP_BYTES)?;
        let t = t0.elapsed().as_secs_f64();
        let ok = *dst.get_mapped_range(..).context("reading the round trip")? == *pattern;
        dst.unmap();
        Ok((t, ok))
    };
    for _ in 0..10 {
        once()?;
    }
    let mut times = Vec::new();
    let mut ok = true;
    let started = Instant::now();
    let budget = ctx.plan.target_s.max(0.02) * ctx.plan.samples as f64;
    while times.len() < 50 || (times.len() < 2000 && started.elapsed().as_secs_f64() < budget) {
        let (t, good) = once()?;
        times.push(t);
        ok &= good;
    }
    gpu.check_errors("timing round trips")?;
    ctx.plan.progress.inc(1);
    Ok(Measured {
        kernel: "round_trip".into(),
        params: format!("bytes={ROUND_TRIP_BYTES};round_trips={}", times.len()),
        metric: "latency",
        unit: "s",
        summary: Summary::of(&times).context("no round trips timed")?,
        timing: TimingMethod::Wall,
        verified: ok,
        problems: Vec::new(),
    })
}

/// `run --suite transfer`.
pub fn run(ctx: &Ctx) -> Result<SuiteOutput> {
    let gpu = ctx.gpu;
    let sizes = sizes(gpu, ctx.scale);
    let max = *sizes.last().expect("at least one size");
    ctx.status(&format!(
        "transfer: generating {} of random data",
        crate::units::bytes(2.0 * max as f64)
    ));
    // Each direction gets its own data so a stale buffer cannot pass the
    // checksum; downloads fetch what the staging upload left.
    let up = random_bytes(max as usize, 0x7a11);
    let staged = random_bytes(max as usize, 0x7a12);
    let mut link = Link::new(gpu, max)?;

    let mut out = SuiteOutput::default();
    let mut plateaus: Vec<(Path, f64)> = Vec::new();
    for path in [Path::WriteBuffer, Path::Staging, Path::Download] {
        let data: &[u8] = if path == Path::WriteBuffer {
            &up
        } else {
            &staged
        };
        if path == Path::Download {
            link.h2d_staging(&staged)?;
            link.finish()?;
        }
        let mut results = Vec::new();
        for &n in &sizes {
            ctx.status(&format!(
                "transfer: {} {}",
                path.kernel(),
                crate::units::bytes(n as f64)
            ));
            let (r, reps) = measure_size(ctx, &mut link, path, data, n)?;
            if !r.verified {
                ctx.warn(&format!(
                    "transfer {}: the {} that arrived do not match what was sent (checksum)",
                    path.kernel(),
                    crate::units::bytes(n as f64)
                ));
            }
            out.measured.push(Measured {
                kernel: path.kernel().into(),
                params: format!("bytes={n};transfers_per_sample={reps};checksum=sha256"),
                metric: "bandwidth",
                unit: "B/s",
                summary: Summary::of(&r.rates).context("no transfer samples")?,
                timing: TimingMethod::Wall,
                verified: r.verified,
                problems: Vec::new(),
            });
            results.push(r);
        }
        let top: Vec<&SizeResult> = results.iter().rev().take(2).collect();
        let pooled: Vec<f64> = top.iter().flat_map(|r| r.rates.iter().copied()).collect();
        let summary = Summary::of(&pooled).context("no plateau samples")?;
        let from: Vec<String> = top.iter().rev().map(|r| r.bytes.to_string()).collect();
        out.measured.push(Measured {
            kernel: path.kernel().into(),
            params: format!(
                "bytes={};derived=median of every sample at the {} largest sizes",
                from.join(","),
                top.len()
            ),
            metric: "plateau",
            unit: "B/s",
            summary,
            timing: TimingMethod::Wall,
            verified: top.iter().all(|r| r.verified),
            problems: Vec::new(),
        });
        plateaus.push((path, summary.median));
    }

    ctx.status("transfer: round-trip latency");
    out.measured.push(round_trip_latency(ctx)?);

    // The link carries at least what its fastest direction achieved; a slow
    // direction alone can be a driver's choice of memory, not the link.
    let link_rate = plateaus.iter().map(|p| p.1).fold(0.0, f64::max);
    if let Some(note) = link_note(link_rate, gpu.desc.is_cpu(), &gpu.desc.name) {
        out.notes.push(note);
    }
    Ok(out)
}
