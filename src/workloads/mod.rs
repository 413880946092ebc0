//! The workloads. Each suite module sets up its buffers and pipelines
//! (untimed), measures through [`Gpu::time_compute`](crate::gpu::Gpu) or the
//! wall clock, and verifies against a CPU reference (untimed) before it
//! returns a row.

pub mod ethash;
pub mod hash;
pub mod llm;
pub mod matmul;
pub mod peak;
pub mod soak;
pub mod stream;
pub mod transfer;
pub mod vram;

use std::borrow::Cow;
use std::path::PathBuf;

use anyhow::{Context, Result};
use indicatif::ProgressBar;

use crate::catalogue::Suite as Id;
use crate::gpu::Gpu;
use crate::timing::TimingPlan;

/// One suite: its name on the command line, what it measures, whether a
/// plain `run` includes it, the function that runs it, and the shader
/// sources it compiles (each composition, for validation without a GPU).
pub struct Suite {
    pub id: Id,
    /// Its share of a run's time, relative to the others at the same scale
    /// (matmul autotunes, llm runs three weight formats, peak has many
    /// kernels), for the time-left estimate.
    pub eta_weight: f64,
    pub about: &'static str,
    pub in_default_run: bool,
    pub run: fn(&Ctx) -> Result<SuiteOutput>,
    /// `(label, WGSL)` for every shader the suite can compile, built-in.
    pub shaders: fn() -> Vec<(String, String)>,
}

/// The single list of suites, in the order `run` measures them.
pub const REGISTRY: &[Suite] = &[
    Suite {
        id: Id::Hash,
        eta_weight: 1.0,
        about: "SHA-256d hash loop (the mining workload)",
        in_default_run: true,
        run: hash::run,
        shaders: || vec![("sha256d".into(), hash::WGSL.into())],
    },
    Suite {
        id: Id::Ethash,
        eta_weight: 2.0,
        about: "Ethash: the dataset generated on the GPU, then the hashimoto search (cut dataset on a CPU adapter)",
        in_default_run: true,
        run: ethash::measure::run,
        shaders: || vec![(ethash::kernel::SHADER.into(), ethash::kernel::WGSL.into())],
    },
    Suite {
        id: Id::Matmul,
        eta_weight: 3.0,
        about: "tiled f32 and f16 matrix multiply",
        in_default_run: true,
        run: matmul::run,
        shaders: matmul::shader_sources,
    },
    Suite {
        id: Id::Peak,
        eta_weight: 2.0,
        about: "arithmetic peaks: f64/f32/f16 FMA, unfused multiply+add, int8 dot4, i32, SHA-256 rounds",
        in_default_run: true,
        run: peak::run,
        shaders: peak::shader_sources,
    },
    Suite {
        id: Id::Stream,
        eta_weight: 1.5,
        about: "BabelStream copy, mul, add, triad, dot",
        in_default_run: true,
        run: stream::run,
        shaders: || vec![("stream".into(), stream::WGSL.into())],
    },
    Suite {
        id: Id::Transfer,
        eta_weight: 1.0,
        about: "host-device uploads, downloads and round-trip latency",
        in_default_run: true,
        run: transfer::run,
        shaders: Vec::new,
    },
    Suite {
        id: Id::Llm,
        eta_weight: 3.0,
        about: "LLM decode and prefill on Q4_0, Q8_0, f16, K-quant and MXFP4 weights (Llama-2 shapes); MoE gathers; attention at 512 to 32k tokens; whole decode steps of Llama-3.1-8B and Qwen3-30B-A3B Q4_K_M and gpt-oss-20b MXFP4 at batch 1, 4 and 16",
        in_default_run: true,
        run: llm::run,
        shaders: llm::shader_sources,
    },
    Suite {
        id: Id::Vram,
        eta_weight: 4.0,
        about: "VRAM integrity: address-derived patterns over most of the memory, checked in the shader",
        in_default_run: false,
        run: vram::run,
        shaders: || vec![("vram".into(), vram::WGSL.into())],
    },
    Suite {
        id: Id::Soak,
        eta_weight: 4.0,
        about: "sustained hash, FMA and copy load, verified every interval; stability over time",
        in_default_run: false,
        run: soak::run,
        shaders: || vec![("soak".into(), soak::WGSL.into())],
    },
];

/// Every suite's name, in registry order.
pub fn suite_names() -> Vec<&'static str> {
    REGISTRY.iter().map(|s| s.id.name()).collect()
}

/// The suites a plain `run` measures.
pub fn default_suites() -> SuiteList {
    SuiteList(
        REGISTRY
            .iter()
            .filter(|s| s.in_default_run)
            .map(|s| s.id)
            .collect(),
    )
}

/// The registry's entry for `id`.
pub fn suite(id: Id) -> Option<&'static Suite> {
    REGISTRY.iter().find(|s| s.id == id)
}

/// How big the problems are: `--quick`, default, `--full`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Quick,
    Default,
    Full,
}

/// Size overrides from the command line.
#[derive(Clone, Debug, Default)]
pub struct SizeOptions {
    pub m: Option<u32>,
    pub n: Option<u32>,
    pub k: Option<u32>,
    /// Stream array size in bytes.
    pub size: Option<u64>,
    /// The Ethash epoch (`run --epoch` or `--block`).
    pub ethash_epoch: Option<ethash::epoch::Epoch>,
    /// Formats llm decode and prefill time (`run --llm-formats`).
    pub llm_formats: Option<Vec<llm::formats::Format>>,
}

/// The shaders compiled into the binary, or a directory that replaces them
/// (`--shader-dir`, for kernel development and for the mutation tests).
#[derive(Debug, Default)]
pub struct Shaders {
    pub dir: Option<PathBuf>,
    /// Names already reported as replaced, so each is named once.
    announced: std::sync::Mutex<Vec<String>>,
}

impl Shaders {
    /// The built-in shaders only.
    pub fn builtin() -> Shaders {
        Shaders::default()
    }

    /// `--shader-dir DIR`: refused (exit 2) unless DIR is a readable folder.
    pub fn from_dir(dir: Option<PathBuf>) -> Result<Shaders> {
        if let Some(d) = &dir {
            if !d.is_dir() {
                crate::usage_bail!(
                    "--shader-dir {}: no such folder (give a folder holding NAME.wgsl files)",
                    d.display()
                );
            }
            std::fs::read_dir(d)
                .map_err(|e| crate::usage!("--shader-dir {}: cannot read it: {e}", d.display()))?;
        }
        Ok(Shaders {
            dir,
            announced: Default::default(),
        })
    }

    /// The source of shader `name`: `DIR/name.wgsl` when `--shader-dir` has
    /// one (named on stderr the first time), else `builtin` (the module's
    /// `include_str!` of `shaders/name.wgsl`).
    pub fn get(&self, name: &str, builtin: &'static str) -> Result<Cow<'static, str>> {
        if let Some(dir) = &self.dir {
            let path = dir.join(format!("{name}.wgsl"));
            if path.exists() {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading shader {}", path.display()))?;
                let mut seen = self.announced.lock().unwrap_or_else(|e| e.into_inner());
                if !seen.iter().any(|n| n == name) {
                    seen.push(name.to_string());
                    eprintln!(
                        "hashflops: shader {name}: using {} instead of the built-in one",
                        path.display()
                    );
                }
                return Ok(Cow::Owned(text));
            }
        }
        Ok(Cow::Borrowed(builtin))
    }
}

/// What a suite gets to work with.
pub struct Ctx<'a> {
    pub gpu: &'a Gpu,
    pub scale: Scale,
    pub plan: TimingPlan,
    pub shaders: &'a Shaders,
    pub sizes: &'a SizeOptions,
    pub progress: ProgressBar,
}

impl Ctx<'_> {
    /// What is being done now, on the progress line.
    pub fn status(&self, msg: &str) {
        self.progress.set_message(msg.to_string());
    }

    /// A problem worth a line on stderr even when progress is hidden.
    pub fn warn(&self, msg: &str) {
        self.progress
            .suspend(|| eprintln!("hashflops: warning: {msg}"));
    }
}

pub use crate::harness::Measured;

/// A kernel the adapter cannot run, reported instead of a number.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Skipped {
    pub suite: crate::catalogue::Suite,
    pub kernel: crate::catalogue::Kernel,
    pub reason: String,
}

impl Skipped {
    pub fn new(kernel: crate::catalogue::Kernel, reason: impl Into<String>) -> Skipped {
        Skipped {
            suite: kernel.suite(),
            kernel,
            reason: reason.into(),
        }
    }
}

#[derive(Debug, Default)]
pub struct SuiteOutput {
    pub measured: Vec<Measured>,
    pub skipped: Vec<Skipped>,
    /// Plain-language findings for the terminal (e.g. a narrow host link).
    pub notes: Vec<String>,
    /// Wrong answers outside the measured rows (a kernel variant that
    /// disagreed with the CPU while autotuning, a health fault): each is
    /// named on stderr and in the JSON, and the run exits 1.
    pub wrong: Vec<String>,
}

/// Runs one suite.
pub fn run_suite(id: Id, ctx: &Ctx) -> Result<SuiteOutput> {
    match suite(id) {
        Some(s) => (s.run)(ctx),
        None => Err(crate::usage!(
            "suite {id} is not built into this version of hashflops"
        )),
    }
}

/// The suites asked for with `--suite`, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuiteList(pub Vec<Id>);

impl SuiteList {
    /// Names, comma-separated.
    pub fn joined(&self) -> String {
        let names: Vec<&str> = self.0.iter().map(|s| s.name()).collect();
        names.join(",")
    }
}

/// Parses `--suite a,b,c`, rejecting unknown names.
pub fn parse_suites(s: &str) -> Result<SuiteList, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let p = part.to_lowercase();
        let Some(p) = REGISTRY.iter().map(|s| s.id).find(|id| id.name() == p) else {
            return Err(format!(
                "unknown suite {part:?}; suites are {}",
                suite_names().join(",")
            ));
        };
        if !out.contains(&p) {
            out.push(p);
        }
    }
    if out.is_empty() {
        return Err(format!(
            "no suite given; suites are {}",
            suite_names().join(",")
        ));
    }
    Ok(SuiteList(out))
}
