//! The workloads. Each suite module sets up its buffers and pipelines
//! (untimed), measures through [`Gpu::time_compute`](crate::gpu::Gpu) or the
//! wall clock, and verifies against a CPU reference (untimed) before it
//! returns a row.

pub mod hash;
pub mod matmul;
pub mod peak;
pub mod stream;
pub mod transfer;

use std::borrow::Cow;
use std::path::PathBuf;

use anyhow::{Context, Result};
use indicatif::ProgressBar;

use crate::gpu::Gpu;
use crate::stats::Summary;
use crate::timing::{TimingMethod, TimingPlan};

/// Every suite, in the order `run` measures them.
pub const SUITES: [&str; 5] = ["hash", "matmul", "peak", "stream", "transfer"];

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
}

/// The shaders compiled into the binary, or a directory that replaces them
/// (`--shader-dir`, for kernel development).
#[derive(Clone, Debug, Default)]
pub struct Shaders {
    pub dir: Option<PathBuf>,
}

impl Shaders {
    /// The source of shader `name`: `DIR/name.wgsl` when `--shader-dir` has
    /// one, else `builtin` (the module's `include_str!` of `shaders/name.wgsl`).
    pub fn get(&self, name: &str, builtin: &'static str) -> Result<Cow<'static, str>> {
        if let Some(dir) = &self.dir {
            let path = dir.join(format!("{name}.wgsl"));
            if path.exists() {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading shader {}", path.display()))?;
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

/// One measured metric, before it becomes a result row.
#[derive(Clone, Debug)]
pub struct Measured {
    pub kernel: String,
    pub params: String,
    pub metric: &'static str,
    pub unit: &'static str,
    pub summary: Summary,
    pub timing: TimingMethod,
    pub verified: bool,
}

/// A kernel the adapter cannot run, reported instead of a number.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Skipped {
    pub suite: String,
    pub kernel: String,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct SuiteOutput {
    pub measured: Vec<Measured>,
    pub skipped: Vec<Skipped>,
    /// Plain-language findings for the terminal (e.g. a narrow host link).
    pub notes: Vec<String>,
}

/// Runs one suite by name.
pub fn run_suite(name: &str, ctx: &Ctx) -> Result<SuiteOutput> {
    match name {
        "hash" => hash::run(ctx),
        "matmul" => matmul::run(ctx),
        "peak" => peak::run(ctx),
        "stream" => stream::run(ctx),
        "transfer" => transfer::run(ctx),
        other => Err(crate::usage!(
            "suite {other} is not built into this version of hashflops"
        )),
    }
}

/// The suites asked for with `--suite`, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuiteList(pub Vec<String>);

/// Parses `--suite a,b,c`, rejecting unknown names.
pub fn parse_suites(s: &str) -> Result<SuiteList, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let p = part.to_lowercase();
        if !SUITES.contains(&p.as_str()) {
            return Err(format!(
                "unknown suite {part:?}; suites are {}",
                SUITES.join(",")
            ));
        }
        if !out.contains(&p) {
            out.push(p);
        }
    }
    if out.is_empty() {
        return Err(format!("no suite given; suites are {}", SUITES.join(",")));
    }
    Ok(SuiteList(out))
}
