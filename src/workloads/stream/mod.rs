//! Suite `stream`: BabelStream-style memory bandwidth (`shaders/stream.wgsl`).
//!
//! Three f32 arrays far larger than any cache, five kernels (copy, mul, add,
//! triad, dot), each timed on its own through the harness. Bytes moved per
//! element come from [`KERNELS`], the one table every rate is derived from.
//! Unlike BabelStream's uniform gold values, every element starts at its own
//! value (see [`check`]); after each kernel's timed samples the host replays
//! the recorded applications element by element and compares every element
//! of all three arrays, and for `dot` each workgroup's partial sum and the
//! result against f64 sums of the values read back.

pub mod check;
pub mod kernels;

use anyhow::Result;

use super::{Ctx, Scale, SuiteOutput};
use crate::catalogue::{self, Fact, Metric, Params};
use crate::gpu::Gpu;
use crate::harness::{self, Check, Reps, Spec, Workload};
use crate::timing::Timed;

pub use check::{Replay, ARRAY_TOLERANCE};
pub use kernels::{default_groups, dot_on_gpu, dot_tolerance, DotCheck, StreamKernels};

pub const WGSL: &str = include_str!("../../../shaders/stream.wgsl");

/// Invocations per workgroup where the device allows; the shader's `WG`
/// is set to what it does (`kernels::workgroup`).
pub const WORKGROUP: u32 = 256;
/// BabelStream's scalar.
pub const SCALAR: f32 = 0.4;

/// What a repetition of even or odd index uses (`shaders/stream.wgsl`).
#[derive(Clone, Copy, Debug)]
pub struct RepParams {
    pub mul_scalar: f32,
    pub triad_scalar: f32,
    /// vec4 elements the copy rotates by.
    pub rot: u32,
}

/// Even repetitions, then odd ones. Mul's pair multiplies by 1 + 2^-16
/// (well clear of rounding, which would otherwise make the pair an exact
/// round trip), so a value never returns to one it held, and after even a
/// million repetitions has grown less than 2^11-fold. Triad's pair grows
/// each element by about 1.4 b, so it never settles on a fixed point that a
/// skipped repetition would share.
pub const REP_PARAMS: [RepParams; 2] = [
    RepParams {
        mul_scalar: SCALAR,
        triad_scalar: 1.0 / SCALAR,
        rot: 1,
    },
    RepParams {
        mul_scalar: 1.0 / SCALAR * (1.0 + 1.0 / 65536.0),
        triad_scalar: SCALAR,
        rot: 2,
    },
];
pub const BYTES_PER_F32: u64 = 4;
/// Largest array on a GPU unless `--full` or `--size` asks for more.
const GPU_DEFAULT_BYTES: u64 = 256 << 20;
const GPU_FULL_BYTES: u64 = 1 << 30;
/// A CPU adapter's "device memory" is host RAM behind the CPU caches; 64 MiB
/// arrays are several times a large L3, 8 MiB keeps `--quick` quick.
const CPU_DEFAULT_BYTES: u64 = 64 << 20;
const CPU_QUICK_BYTES: u64 = 8 << 20;
const CPU_FULL_BYTES: u64 = 128 << 20;
/// Dispatches per timed sample at most; one dispatch moves a whole array, so
/// even at several TB/s this covers 0.1 s samples.
const MAX_REPS: u32 = 4096;

/// The suite's kernels are the catalogue's.
pub use crate::catalogue::Stream as Kernel;

/// One row of the kernel table.
#[derive(Clone, Copy, Debug)]
pub struct KernelInfo {
    pub kernel: Kernel,
    /// f32 values read plus written per element (BabelStream's counting).
    pub words_moved: u64,
}

impl KernelInfo {
    pub fn bytes_per_element(&self) -> u64 {
        self.words_moved * BYTES_PER_F32
    }
}

/// The kernels in the order they run, with the traffic each one causes.
pub const KERNELS: [KernelInfo; 5] = [
    KernelInfo {
        kernel: Kernel::Copy,
        words_moved: 2,
    },
    KernelInfo {
        kernel: Kernel::Mul,
        words_moved: 2,
    },
    KernelInfo {
        kernel: Kernel::Add,
        words_moved: 3,
    },
    KernelInfo {
        kernel: Kernel::Triad,
        words_moved: 3,
    },
    KernelInfo {
        kernel: Kernel::Dot,
        words_moved: 2,
    },
];

/// Bytes per array: `--size` when given (an error when the adapter cannot
/// bind it), else the scale's default capped by the adapter's limits.
/// Rounded down to whole vec4<f32>s.
/// The largest cache the arrays could sit in: the CPU's last-level cache
/// for a CPU adapter (from sysfs), else the largest GPU L2 shipped so far.
pub fn largest_cache_bytes(gpu: &Gpu) -> u64 {
    const GPU_L2_MAX: u64 = 96 << 20;
    if !gpu.desc.is_cpu() {
        return GPU_L2_MAX;
    }
    let base = std::path::Path::new("/sys/devices/system/cpu/cpu0/cache");
    let sizes = (0..8).filter_map(|i| {
        let t = std::fs::read_to_string(base.join(format!("index{i}/size"))).ok()?;
        let t = t.trim();
        let (n, mul) = match t.strip_suffix('K') {
            Some(n) => (n, 1u64 << 10),
            None => match t.strip_suffix('M') {
                Some(n) => (n, 1 << 20),
                None => (t, 1),
            },
        };
        n.parse::<u64>().ok().map(|n| n * mul)
    });
    // Unreadable: assume a large server L3.
    sizes.max().unwrap_or(64 << 20)
}

/// [`Fact::CacheSized`] when the three arrays together are under four
/// times the largest cache: such a rate is the cache's, not the memory's,
/// and the summary derives nothing from it.
pub fn cache_note(bytes: u64, cache: u64) -> Option<Fact> {
    (3 * bytes < 4 * cache).then(|| {
        Fact::CacheSized(format!(
            "working set {} under 4x a {} cache",
            3 * bytes,
            cache
        ))
    })
}

pub fn array_bytes(gpu: &Gpu, scale: Scale, requested: Option<u64>) -> Result<u64> {
    let limit = gpu
        .limits
        .max_storage_buffer_binding_size
        .min(gpu.limits.max_buffer_size);
    let unit = 4 * BYTES_PER_F32;
    if let Some(req) = requested {
        if req > limit {
            return Err(crate::usage!(
                "--size {req} bytes is beyond adapter {}: it binds at most {limit} bytes ({}) per array; use --size {} or less",
                gpu.desc.name,
                crate::units::bytes(limit as f64),
                limit / unit * unit
            ));
        }
        if req < unit {
            return Err(crate::usage!(
                "--size {req} bytes is too small for the stream suite: at least {unit} bytes"
            ));
        }
        return Ok(req / unit * unit);
    }
    let want = match (gpu.desc.is_cpu(), scale) {
        (true, Scale::Quick) => CPU_QUICK_BYTES,
        (true, Scale::Default) => CPU_DEFAULT_BYTES,
        (true, Scale::Full) => CPU_FULL_BYTES,
        (false, Scale::Full) => GPU_FULL_BYTES,
        (false, _) => GPU_DEFAULT_BYTES,
    };
    // The three arrays within three quarters of what the adapter holds, so
    // a small card's --full still allocates.
    let fits = gpu.desc.usable_memory().map_or(u64::MAX, |m| m / 4);
    Ok(want.min(limit).min(fits).max(unit) / unit * unit)
}

/// One kernel's measurement: it records its applications on the shared
/// arrays and, once timed, checks them against the replay of everything
/// recorded so far (calibration and warm-up included).
struct Step<'r, 'g> {
    kernels: &'r StreamKernels<'g>,
    info: KernelInfo,
    bytes: u64,
    /// When the arrays may fit in a cache.
    cache_note: Option<Fact>,
    /// The next repetition index expected; encoding must be contiguous.
    next: u64,
    replay: &'r mut Replay,
}

impl Workload for Step<'_, '_> {
    fn spec(&self) -> Spec {
        let k = self.kernels;
        Spec {
            kernel: catalogue::Kernel::Stream(self.info.kernel),
            params: Params(
                [
                    Fact::ArrayBytes(self.bytes),
                    Fact::detail("elements", k.elements),
                    Fact::detail("bytes_per_element", self.info.bytes_per_element()),
                    Fact::detail("workgroups", format!("{}x{}", k.groups, k.wg)),
                ]
                .into_iter()
                .chain(self.cache_note.clone())
                .collect(),
            ),
            metric: Metric::Bandwidth,
            latency: false,
        }
    }

    fn work_per_rep(&self) -> f64 {
        (self.info.bytes_per_element() * self.kernels.elements) as f64
    }

    fn max_reps(&self) -> u32 {
        MAX_REPS
    }

    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        debug_assert_eq!(reps.first, self.next, "repetitions are recorded in order");
        for rep in reps.indices() {
            self.kernels.encode(pass, self.info.kernel, rep);
        }
        self.next = reps.first + reps.count as u64;
    }

    fn verify(self, timed: &Timed) -> Result<Check> {
        // The replay applies exactly the harness's count, so a workload
        // that recorded fewer or more leaves arrays the replay disagrees with.
        self.replay.record(self.info.kernel, timed.total_reps);
        let dot = self.info.kernel == Kernel::Dot;
        let mut check = check::check_arrays(self.kernels, self.replay, dot)?;
        check.account(timed.total_reps);
        check.fact("applications", timed.total_reps);
        Ok(check)
    }
}

/// `run --suite stream`.
pub fn run(ctx: &Ctx) -> Result<SuiteOutput> {
    let gpu = ctx.gpu;
    let wgsl = ctx.shaders.get("stream", WGSL)?;
    let bytes = array_bytes(gpu, ctx.scale, ctx.sizes.size)?;
    let elements = bytes / BYTES_PER_F32;
    ctx.status(&format!(
        "stream: uploading 3 arrays of {}",
        crate::units::bytes(bytes as f64)
    ));
    let groups = default_groups(gpu, elements);
    let kernels = StreamKernels::new(gpu, &wgsl, elements, check::initial, groups)?;
    let mut replay = Replay::new(elements);
    let mut out = SuiteOutput::default();
    for info in KERNELS {
        let step = Step {
            kernels: &kernels,
            info,
            bytes,
            cache_note: cache_note(bytes, largest_cache_bytes(gpu)),
            next: 0,
            replay: &mut replay,
        };
        out.measured.extend(harness::measure(ctx, step)?);
    }
    Ok(out)
}
