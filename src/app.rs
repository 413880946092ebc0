//! The commands: `list`, `run`, `mine`.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::cli::{CompareArgs, ListArgs, MineArgs, RunArgs};
use crate::error::{exit, UsageError};
use crate::gpu::{AdapterDesc, Adapters, Gpu};
use crate::report::summary::{self, AdapterSummary, KeyMetrics, RigTotals};
use crate::report::{files, table, ResultRow, RunMeta};
use crate::sha::{self, Target};
use crate::timing::TimingPlan;
use crate::units::si;
use crate::usage;
use crate::workloads::hash::{self, HashKernel, NonceRange};
use crate::workloads::{self, Ctx, Scale, Shaders, SizeOptions, Skipped};

/// A progress line on stderr, or nothing when stderr is not a terminal or
/// the user asked for quiet.
fn progress(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    pb
}

pub fn list(args: ListArgs) -> Result<i32> {
    let adapters = Adapters::enumerate(args.backend);
    let descs = adapters.descs();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&descs)?);
    } else if descs.is_empty() {
        return Err(usage!("{}", crate::gpu::NO_ADAPTER_HELP));
    } else {
        println!("{}", table::adapters_table(&descs));
        if let Ok(best) = adapters.select(None, false) {
            println!("default adapter: {} ({})", best[0], descs[best[0]].name);
        }
    }
    Ok(exit::OK)
}

/// Everything one `run` produced, as written to `--json`.
#[derive(Serialize)]
struct RunDoc<'a> {
    tool: &'static str,
    #[serde(flatten)]
    meta: &'a RunMeta,
    adapters: Vec<AdapterDesc>,
    rows: &'a [ResultRow],
    skipped: &'a [Skipped],
    notes: &'a [String],
    failures: &'a [String],
    summaries: &'a [AdapterSummary],
    rig: Option<RigTotals>,
}

pub fn run(args: RunArgs) -> Result<i32> {
    // A results file that cannot take the rows is found out before minutes
    // of measuring, not after.
    if let Some(path) = &args.csv {
        files::check_csv_target(path)?;
    }
    if let Some(path) = &args.json {
        files::check_folder(path)?;
    }
    let adapters = Adapters::enumerate(args.adapter.backend);
    let selected = adapters.select(args.adapter.adapter.as_deref(), args.all_adapters)?;
    let scale = if args.quick {
        Scale::Quick
    } else if args.full {
        Scale::Full
    } else {
        Scale::Default
    };
    let (samples, target_s) = match scale {
        Scale::Quick => (5, 0.1),
        Scale::Default => (10, 0.1),
        Scale::Full => (20, 0.25),
    };
    let samples = args.samples.unwrap_or(samples);
    let shaders = Shaders {
        dir: args.shader_dir.clone(),
    };
    let sizes = SizeOptions {
        m: args.m,
        n: args.n,
        k: args.k,
        size: args.size,
    };
    let meta = RunMeta::now();
    let mut rows: Vec<ResultRow> = Vec::new();
    let mut skipped: Vec<Skipped> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let mut used: Vec<AdapterDesc> = Vec::new();

    // Status lines are for people watching a terminal, like the progress.
    let chatty = !args.quiet && std::io::stderr().is_terminal();
    for idx in selected {
        let (adapter, desc) = &adapters.list[idx];
        used.push(desc.clone());
        if chatty {
            eprintln!(
                "hashflops: adapter {}: {} ({}, {})",
                desc.index, desc.name, desc.backend, desc.device_type
            );
        }
        let gpu = match Gpu::open(adapter, desc) {
            Ok(g) => g,
            Err(e) => {
                failures.push(format!("adapter {}: {e:#}", desc.index));
                continue;
            }
        };
        let first_row = rows.len();
        let first_skip = skipped.len();
        let first_note = notes.len();
        for suite in &args.suite.0 {
            let pb = progress(args.quiet);
            pb.set_message(format!("{suite}: setting up"));
            let mut plan = TimingPlan::new(samples, target_s);
            plan.progress = pb.clone();
            let ctx = Ctx {
                gpu: &gpu,
                scale,
                plan,
                shaders: &shaders,
                sizes: &sizes,
                progress: pb.clone(),
            };
            let started = Instant::now();
            let result = workloads::run_suite(suite, &ctx);
            pb.finish_and_clear();
            match result {
                Ok(out) => {
                    for m in &out.measured {
                        rows.push(ResultRow::new(&meta, desc, suite, m));
                    }
                    skipped.extend(out.skipped);
                    notes.extend(out.notes);
                    if chatty {
                        eprintln!(
                            "hashflops: {suite} done in {:.1} s",
                            started.elapsed().as_secs_f64()
                        );
                    }
                }
                Err(e) => {
                    // Reported once, after every suite has had its turn.
                    failures.push(format!("{suite} on adapter {}: {e:#}", desc.index));
                }
            }
        }
        let mine = &rows[first_row..];
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "\n{} ({}, {}, {} {})",
            desc.name, desc.backend, desc.device_type, desc.driver, desc.driver_info
        )?;
        if !mine.is_empty() {
            writeln!(out, "{}", table::results_table(mine))?;
        }
        for line in derived_lines(&KeyMetrics::from_rows(mine.iter())) {
            writeln!(out, "{line}")?;
        }
        for s in &skipped[first_skip..] {
            writeln!(out, "skipped {}/{}: {}", s.suite, s.kernel, s.reason)?;
        }
        for n in &notes[first_note..] {
            writeln!(out, "{n}")?;
        }
    }

    let summaries: Vec<AdapterSummary> =
        used.iter().map(|d| AdapterSummary::new(d, &rows)).collect();
    let rig = (summaries.len() > 1).then(|| summary::rig_totals(&summaries));
    if args.suite.0.len() > 1 || summaries.len() > 1 {
        let mut out = std::io::stdout().lock();
        for s in &summaries {
            write!(out, "{}", s.render())?;
        }
        if let Some(r) = &rig {
            write!(out, "{}", summary::render_rig(r))?;
        }
    }

    if let Some(path) = &args.csv {
        files::append_csv(path, &rows)?;
    }
    if let Some(path) = &args.json {
        let doc = RunDoc {
            tool: "hashflops",
            meta: &meta,
            adapters: used,
            rows: &rows,
            skipped: &skipped,
            notes: &notes,
            failures: &failures,
            summaries: &summaries,
            rig,
        };
        files::write_json(path, &doc)?;
    }
    let unverified = rows.iter().filter(|r| !r.verified).count();
    // One line per failure; the last goes back to main, which prints it and
    // exits 2 (after the results that did work were printed and written).
    if let Some((last, earlier)) = failures.split_last() {
        for f in earlier {
            eprintln!(
                "hashflops: error: {}",
                f.split_whitespace().collect::<Vec<_>>().join(" ")
            );
        }
        return Err(anyhow::Error::new(UsageError(last.clone())));
    }
    if unverified > 0 {
        eprintln!(
            "hashflops: {unverified} result(s) disagreed with the CPU reference and are marked unverified"
        );
        return Ok(exit::UNVERIFIED);
    }
    Ok(exit::OK)
}

/// The two ratios a mining card's owner must see at a glance, under the table.
fn derived_lines(m: &KeyMetrics) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(mm), Some(p)) = (m.sgemm, m.fp32_fma) {
        out.push(format!(
            "matmul efficiency: f32 matmul is {:.0}% of this adapter's measured f32 FMA peak",
            100.0 * mm.value / p.value
        ));
    }
    if let (Some(f), Some(u)) = (m.fp32_fma, m.fp32_mul_add) {
        let r = f.value / u.value;
        let verdict = if r < summary::FMA_CRIPPLE_RATIO {
            "CRIPPLED: fused multiply-add is throttled"
        } else {
            "normal"
        };
        out.push(format!("FMA : unfused = {r:.2} ({verdict})"));
    }
    out
}

pub fn mine(args: MineArgs) -> Result<i32> {
    let start = args.start as u64;
    let count = args.count.unwrap_or((1u64 << 32) - start);
    if start + count > 1 << 32 {
        return Err(usage!(
            "--start {start} --count {count} runs past the last nonce 4294967295 (nonces do not wrap around)"
        ));
    }
    let target = match (&args.target, args.share_bits) {
        (Some(hex), _) => Target::from_hex(hex),
        (None, Some(n)) => Target::from_share_bits(n),
        (None, None) => Target::from_bits(sha::header_bits(&args.header)),
    }
    .map_err(|e| usage!("{e}"))?;
    let adapters = Adapters::enumerate(args.adapter.backend);
    let idx = adapters.select(args.adapter.adapter.as_deref(), false)?[0];
    let (adapter, desc) = &adapters.list[idx];
    let gpu = Gpu::open(adapter, desc)?;
    let shaders = Shaders {
        dir: args.shader_dir.clone(),
    };
    let wgsl = shaders.get("sha256d", hash::WGSL)?;
    let hits_cap = 4096u32;
    let kernel = HashKernel::new(&gpu, &wgsl, 1, hits_cap)?;

    let self_test = hash::self_test(&kernel);
    for p in &self_test.problems {
        eprintln!("hashflops: known-answer test failed: {p}");
    }

    let target_top = target.top_word();
    // Chunks short enough for a watchdog and sparse enough that expected
    // candidates stay far below the hit buffer; an overflowing chunk is
    // split and searched again, so no hit is ever dropped.
    let max_chunk = kernel.groups as u64 * 256 * 64;
    let by_hits = (hits_cap as f64 / 8.0 / target.top_word_probability()) as u64;
    let chunk = max_chunk.min(by_hits).max(1);
    let header = args.header;
    let prep = [sha::prepare(&header)];

    let pb = if args.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let pb = ProgressBar::with_draw_target(Some(count), ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template(
                "{bar:40} {percent}% {human_pos}/{human_len} nonces, eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb
    };
    let t0 = Instant::now();
    let mut pending: Vec<(u64, u64)> = Vec::new();
    let mut next = start;
    let end = start + count;
    let mut found = 0u64;
    let mut candidates = 0u64;
    let mut check = hash::Check::default();
    let mut out = std::io::stdout().lock();
    while next < end || !pending.is_empty() {
        let (first, n) = match pending.pop() {
            Some(p) => p,
            None => {
                let n = chunk.min(end - next);
                let p = (next, n);
                next += n;
                p
            }
        };
        let range = NonceRange {
            variant: 0,
            first: first as u32,
            count: n as u32,
        };
        let hits = kernel.search(&prep, &[range], target_top)?;
        if hits.overflowed() && n > 1 {
            // Search the two halves again, lower half first.
            let half = n / 2;
            pending.push((first + half, n - half));
            pending.push((first, half));
            continue;
        }
        hash::check_candidates(&[header], &[range], &hits, target_top, &mut check);
        candidates += hits.items.len() as u64;
        let mut winners: Vec<(u32, [u8; 32])> = hits
            .items
            .iter()
            .map(|&(_, nonce)| (nonce, sha::block_hash(&header, nonce)))
            .filter(|(_, h)| target.is_met_by(h))
            .collect();
        winners.sort();
        for (nonce, h) in winners {
            found += 1;
            pb.suspend(|| writeln!(out, "{nonce} {}", sha::display_hex(&h)))?;
        }
        pb.inc(n);
    }
    pb.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "hashflops: searched {count} nonces ({start}..={}) in {secs:.2} s, {} on {} ({}); {found} hit(s) for target {}; {candidates} candidate(s) from the GPU's 32-bit filter, all re-hashed on the CPU",
        end - 1,
        si(count as f64 / secs, "H/s"),
        desc.name,
        desc.backend,
        target.hex()
    );
    if !check.ok() || !self_test.ok() {
        for p in &check.problems {
            eprintln!("hashflops: GPU disagrees with the CPU: {p}");
        }
        return Ok(exit::UNVERIFIED);
    }
    Ok(exit::OK)
}

pub fn compare(args: CompareArgs) -> Result<i32> {
    use crate::report::{chart, compare};
    let rows = compare::load(&args.files)?;
    let groups = compare::group(&rows);
    let baseline = match &args.baseline {
        Some(sel) => Some(compare::find_baseline(&groups, sel)?),
        None => None,
    };
    println!("{}", compare::render(&groups, baseline));
    if args.reference {
        println!("{}", compare::render_reference(&groups));
    }
    if let Some(path) = &args.svg {
        chart::draw(&groups, path).map_err(|e| usage!("cannot write {}: {e:#}", path.display()))?;
        eprintln!("hashflops: chart written to {}", path.display());
    }
    Ok(exit::OK)
}
