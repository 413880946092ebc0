//! VRAM integrity, in the manner of memtest_vulkan: as much of the
//! adapter's memory as it can safely take, holding a pattern derived from
//! each word's address and the write passes so far, read back by a shader
//! that counts and records every mismatch. Buffer 0 is written once and
//! re-read on every check (retention); the others get a new step on every
//! write pass. Between repetitions the host plants canaries the check
//! shader is not told about; each check must report exactly them.

mod mem;
pub mod pattern;
mod sizing;

use anyhow::Result;
use serde::Serialize;

use super::{Ctx, Measured, SuiteOutput};
use crate::catalogue::{Fact, Kernel, Metric, Params};
use crate::harness::{measure, Check, Reps, Spec, Workload};
use crate::timing::Timed;
use mem::TestMemory;
pub use sizing::{plan, Plan};

pub const WGSL: &str = include_str!("../../../shaders/vram.wgsl");

/// Blocks per buffer the host reads back to cross-check the shader.
const CPU_BLOCKS: u32 = 8;

/// The memory verdict of one adapter, for the health report.
#[derive(Clone, Debug, Serialize)]
pub struct Memory {
    /// `OK` or `faulty`.
    pub status: String,
    pub bytes_tested: u64,
    pub coverage_gib: f64,
    /// Share of the reported VRAM, where it is known.
    pub coverage_share: Option<f64>,
    pub coverage_note: String,
    pub write_passes: u64,
    pub check_runs: u64,
    /// Planted canaries the checks reported (not counted as errors).
    pub canaries_reported: u64,
    pub errors: u64,
    pub lowest_fail_byte: Option<u64>,
    pub highest_fail_byte: Option<u64>,
    /// Flipped bits per bit position, 0 (least significant) to 31.
    pub flipped_bits: Vec<u64>,
    pub first_mismatches: Vec<pattern::Mismatch>,
    /// The plain finding, e.g. "VRAM: 3 words with flipped bits ...".
    pub finding: String,
}

/// Rows and verdict of one VRAM test.
pub struct Outcome {
    pub measured: Vec<Measured>,
    pub memory: Memory,
}

fn gib(b: u64) -> f64 {
    b as f64 / (1u64 << 30) as f64
}

/// Adds a new step to the pattern per repetition and plants new canaries;
/// verified by an untimed check of the final state, which depends on every
/// repetition's step, and a host read-back sample.
struct WritePasses<'a, 'g> {
    t: &'a TestMemory<'g>,
}

impl Workload for WritePasses<'_, '_> {
    fn spec(&self) -> Spec {
        Spec {
            kernel: Kernel::VramWrite,
            params: Params::new()
                .with(Fact::Bytes(
                    self.t.bytes() - self.t.chunks[0].words as u64 * 4,
                ))
                .detail("read_modify_write", "yes"),
            metric: Metric::Bandwidth,
            latency: false,
        }
    }
    fn work_per_rep(&self) -> f64 {
        (self.t.bytes() - self.t.chunks[0].words as u64 * 4) as f64
    }
    fn max_reps(&self) -> u32 {
        mem::MAX_REPS
    }
    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        self.t.encode_writes(pass, reps);
    }
    fn verify(self, timed: &Timed) -> Result<Check> {
        let t = self.t;
        let mut check = Check::default();
        t.check_once()?;
        let f = t.findings()?;
        judge(t, &f, &mut check)?;
        check.fact("write_passes", t.passes.get());
        if t.passes.get() == timed.total_reps && f.runs == 1 {
            // The state checked is the sum of every pass's step.
            check.account(timed.total_reps);
        }
        t.reset_report()?;
        Ok(check)
    }
}

/// Plants new canaries and re-reads everything per repetition, each
/// repetition into its own report slot.
struct CheckRuns<'a, 'g> {
    t: &'a TestMemory<'g>,
    found: &'a std::cell::RefCell<Option<pattern::Findings>>,
}

impl Workload for CheckRuns<'_, '_> {
    fn spec(&self) -> Spec {
        Spec {
            kernel: Kernel::VramCheck,
            params: Params::new().with(Fact::Bytes(self.t.bytes())),
            metric: Metric::Bandwidth,
            latency: false,
        }
    }
    fn work_per_rep(&self) -> f64 {
        self.t.bytes() as f64
    }
    fn max_reps(&self) -> u32 {
        mem::MAX_REPS
    }
    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, reps: Reps) {
        self.t.encode_checks(pass, reps);
    }
    fn verify(self, timed: &Timed) -> Result<Check> {
        let t = self.t;
        let mut check = Check::default();
        let f = t.findings()?;
        judge(t, &f, &mut check)?;
        check.fact("check_runs", t.runs.get());
        if f.runs != timed.total_reps {
            check.fail(format!(
                "VRAM check: {} of {} repetitions had a report slot",
                f.runs, timed.total_reps
            ));
        }
        // Each repetition's report is compared with its own canaries.
        check.account(f.runs);
        *self.found.borrow_mut() = Some(f);
        Ok(check)
    }
}

/// Turns the shader's reports and a host sample into problems and facts.
fn judge(t: &TestMemory, f: &pattern::Findings, check: &mut Check) -> Result<()> {
    if f.errors > 0 {
        check.fail(finding(t.gpu.desc.is_cpu(), f));
        for m in f.records.iter().take(4) {
            check.fail(format!(
                "VRAM: word at byte {} read {:08x}, expected {:08x} (check repetition {})",
                m.address, m.got, m.expected, m.run
            ));
        }
    }
    for p in f.problems.iter().take(4) {
        check.fail(p.clone());
    }
    if f.problems.len() > 4 {
        check.fail(format!(
            "VRAM check: {} more repetitions failed their canaries",
            f.problems.len() - 4
        ));
    }
    // Chosen now, after the report was read back.
    let (compared, bad) = t.cpu_sample(CPU_BLOCKS)?;
    for b in bad {
        check.fail(b);
    }
    check.fact("errors", f.errors);
    if let (Some(lo), Some(hi)) = (f.lowest, f.highest) {
        check.fact("lowest_fail_byte", lo);
        check.fact("highest_fail_byte", hi);
    }
    check.fact("flipped_bits", f.histogram());
    check.fact("chunk_bytes", t.chunks[1].words as u64 * 4);
    check.fact("canaries_per_rep", t.per_rep);
    check.fact("canaries_reported", f.canaries);
    check.fact("cpu_checked_words", compared);
    check.fact(
        "cpu_checked_share",
        format!("{:.5}", compared as f64 / (t.bytes() / 4) as f64),
    );
    Ok(())
}

/// The plain sentence a card's owner reads.
fn finding(cpu: bool, f: &pattern::Findings) -> String {
    let whose = if cpu {
        "this adapter's memory (host RAM: it is a CPU adapter)"
    } else {
        "this card's memory"
    };
    format!(
        "VRAM: {} word{} with flipped bits between {:.1} and {:.1} GiB — {whose} is faulty",
        f.errors,
        if f.errors == 1 { "" } else { "s" },
        gib(f.lowest.unwrap_or(0)),
        gib(f.highest.unwrap_or(0)),
    )
}

/// Allocates, measures the write and check passes and judges the memory.
pub fn test(ctx: &Ctx, plan: &Plan) -> Result<Outcome> {
    let gpu = ctx.gpu;
    ctx.status(&format!("vram: allocating {:.2} GiB", gib(plan.target)));
    let mut bufs = Vec::new();
    let mut stop_note = String::new();
    for &size in &plan.chunks {
        match gpu.buffer(
            "vram",
            size,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        ) {
            Ok(b) => bufs.push((size, b)),
            Err(e) => {
                stop_note = format!("; allocation stopped at the first failure ({e:#})");
                break;
            }
        }
    }
    if bufs.len() < 2 {
        anyhow::bail!(
            "vram: could not allocate two test buffers of {} each on {}{stop_note}",
            crate::units::bytes(plan.chunks[0] as f64),
            gpu.desc.name
        );
    }
    let wgsl = ctx.shaders.get("vram", WGSL)?;
    // One report slot per check repetition: calibration (at most 4 runs),
    // warm-up and samples, each at most MAX_REPS repetitions.
    let slots = (ctx.plan.samples + ctx.plan.warmup + 4) * mem::MAX_REPS;
    let t = TestMemory::new(gpu, &wgsl, bufs, slots)?;
    let mut measured = measure(ctx, WritePasses { t: &t })?;
    let found = std::cell::RefCell::new(None);
    measured.extend(measure(
        ctx,
        CheckRuns {
            t: &t,
            found: &found,
        },
    )?);
    let f = found.into_inner().unwrap_or_default();
    let bytes = t.bytes();
    let write_faulty = measured.iter().any(|m| !m.verified);
    let errors = f.errors;
    let memory = Memory {
        status: if errors == 0 && !write_faulty {
            "OK".into()
        } else {
            "faulty".into()
        },
        bytes_tested: bytes,
        coverage_gib: gib(bytes),
        coverage_share: gpu.desc.usable_memory().map(|v| bytes as f64 / v as f64),
        coverage_note: format!("{}{stop_note}", plan.note),
        write_passes: t.passes.get(),
        check_runs: t.runs.get(),
        canaries_reported: f.canaries,
        errors,
        lowest_fail_byte: f.lowest,
        highest_fail_byte: f.highest,
        flipped_bits: f.bits.to_vec(),
        first_mismatches: f.records.clone(),
        finding: if errors > 0 {
            finding(gpu.desc.is_cpu(), &f)
        } else if write_faulty {
            "VRAM: the written pattern did not read back intact (see the vram_write row)".into()
        } else {
            "VRAM: no errors".into()
        },
    };
    Ok(Outcome { measured, memory })
}

/// A one-line summary of the coverage, for the terminal.
pub fn coverage_line(m: &Memory) -> String {
    let share = match m.coverage_share {
        Some(s) => format!("{:.0}% of the reported VRAM", s * 100.0),
        None => "share of VRAM unknown".into(),
    };
    format!(
        "VRAM tested: {:.2} GiB ({share}; {}), {} write passes, {} check runs, {} errors",
        m.coverage_gib, m.coverage_note, m.write_passes, m.check_runs, m.errors
    )
}

/// `run --suite vram`.
pub fn run(ctx: &Ctx) -> Result<SuiteOutput> {
    let plan = plan(ctx.gpu, ctx.scale);
    let out = test(ctx, &plan)?;
    let mut notes = vec![coverage_line(&out.memory)];
    if out.memory.status != "OK" {
        notes.push(out.memory.finding.clone());
    }
    Ok(SuiteOutput {
        measured: out.measured,
        notes,
        ..Default::default()
    })
}
