//! `hashflops run`: every selected suite on every selected adapter.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::catalogue::{Kernel, Suite};
use crate::report::energy::{self, Energy, Window};
use crate::report::rig::Rig;
use crate::report::verdict::{self, AdapterVerdict};
use crate::telemetry::{self, Sampler, Telemetry};
use crate::workloads::transfer;

use anyhow::Result;
use serde::Serialize;

use crate::cli::RunArgs;
use crate::error::exit;
use crate::gpu::{AdapterDesc, Adapters, Gpu};
use crate::report::summary::{self, AdapterSummary, KeyMetrics, RigTotals};
use crate::report::{files, table, ResultRow, RunMeta};
use crate::timing::TimingPlan;
use crate::workloads::{self, Ctx, Scale, Shaders, SizeOptions, Skipped};

/// Everything one `run` produced, as written to `--json`.
#[derive(Serialize)]
struct RunDoc<'a> {
    tool: &'static str,
    /// Bumped when a field changes meaning or a column is added.
    schema_version: u32,
    #[serde(flatten)]
    meta: &'a RunMeta,
    adapters: Vec<AdapterDesc>,
    rows: &'a [ResultRow],
    skipped: &'a [Skipped],
    notes: &'a [String],
    /// Ctrl-C stopped the run: the rows are the suites that finished.
    interrupted: bool,
    failures: &'a [String],
    wrong_answers: &'a [String],
    /// Energy per unit of work, one per adapter in `adapters` order.
    energy: &'a [Energy],
    summaries: &'a [AdapterSummary],
    rig: Option<&'a Rig>,
    /// Per adapter: findings with stable codes, each naming its figure.
    verdict: &'a [AdapterVerdict],
}

pub fn run(args: RunArgs) -> Result<i32> {
    // A results file that cannot take the rows is found out before minutes
    // of measuring, not after; so are outputs that would overwrite each
    // other or a shader being read.
    let mut targets = Vec::new();
    if let Some(p) = &args.csv {
        targets.push(files::Target::new("--csv", p, files::Kind::AppendCsv));
    }
    if let Some(p) = &args.json {
        targets.push(files::Target::new("--json", p, files::Kind::Replace));
    }
    if let Some(p) = &args.prom {
        targets.push(files::Target {
            no_stdout: Some("--prom writes a file for node_exporter: give a path, not -"),
            ..files::Target::new("--prom", p, files::Kind::Replace)
        });
    }
    let shader_files = files::files_in(args.shader_dir.as_deref());
    let inputs: Vec<&std::path::Path> = shader_files.iter().map(|p| p.as_path()).collect();
    files::check_outputs(&targets, &inputs)?;
    let csv_stdout = args.csv.as_deref().is_some_and(files::is_stdout);
    let json_stdout = args.json.as_deref().is_some_and(files::is_stdout);
    // With rows on stdout, the tables people read go to stderr, so that the
    // CSV or JSON stays parseable.
    // A reader that leaves early (`| head`) does not stop the results
    // files from being written.
    let human = || -> Box<dyn Write> {
        if csv_stdout || json_stdout {
            Box::new(super::ReaderMayLeave::new(std::io::stderr().lock()))
        } else {
            Box::new(super::ReaderMayLeave::new(std::io::stdout().lock()))
        }
    };
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
    let shaders = Shaders::from_dir(args.shader_dir.clone())?;
    let sizes = SizeOptions {
        m: args.m,
        n: args.n,
        k: args.k,
        size: args.size,
    };
    let suites = args.suite.clone().unwrap_or_else(workloads::default_suites);
    // The verdict and summary close a run of several suites or adapters.
    let summarised = suites.0.len() > 1 || selected.len() > 1;
    let meta = RunMeta::now();
    let mut rows: Vec<ResultRow> = Vec::new();
    let mut skipped: Vec<Skipped> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut failures = super::Failures::default();
    let mut wrong: Vec<String> = Vec::new();
    let mut energies: Vec<Energy> = Vec::new();
    let mut used: Vec<AdapterDesc> = Vec::new();

    // Status lines are for people watching a terminal, like the progress.
    let chatty = !args.quiet && std::io::stderr().is_terminal();
    super::catch_interrupts("the suite in progress");
    for &idx in &selected {
        if super::interrupted() {
            break;
        }
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
                failures.push(format_args!("adapter {}", desc.index), &e);
                continue;
            }
        };
        let first_row = rows.len();
        let first_skip = skipped.len();
        let first_note = notes.len();
        // Power, clocks and the link are read while the suites run.
        let sampler = Sampler::start(desc, Duration::from_secs(1));
        let mut windows: Vec<Window> = Vec::new();
        let adapter_start = Instant::now();
        for (done, suite) in suites.0.iter().enumerate() {
            if super::interrupted() {
                break;
            }
            let pb = super::progress(args.quiet);
            pb.set_prefix(suite_progress(&suites.0, done, adapter_start.elapsed()));
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
            let t0_s = sampler.elapsed_s();
            let result = workloads::run_suite(*suite, &ctx);
            windows.push(Window {
                suite: *suite,
                t0_s,
                t1_s: sampler.elapsed_s(),
            });
            pb.finish_and_clear();
            let ended = if result.is_ok() { "done" } else { "failed" };
            match result {
                Ok(out) => {
                    for m in &out.measured {
                        rows.push(ResultRow::new(&meta, desc, m));
                    }
                    skipped.extend(out.skipped);
                    notes.extend(out.notes);
                    for w in out.wrong {
                        eprintln!(
                            "hashflops: wrong answer: {suite} on adapter {}: {w}",
                            desc.index
                        );
                        wrong.push(format!("{suite} on adapter {}: {w}", desc.index));
                    }
                }
                Err(e) => {
                    // Reported once, after every suite has had its turn.
                    failures.push(format_args!("{suite} on adapter {}", desc.index), &e);
                }
            }
            // One line per suite as it ends, terminal or not (a log, CI):
            // the progress bar shows only on a terminal.
            if !args.quiet {
                let on = if selected.len() > 1 {
                    format!(" on adapter {}", desc.index)
                } else {
                    String::new()
                };
                eprintln!(
                    "hashflops: {suite}{on} {ended} ({}/{}, {:.0} s)",
                    done + 1,
                    suites.0.len(),
                    started.elapsed().as_secs_f64()
                );
            }
        }
        let tele = sampler.stop();
        let adapter_energy = energy::energy(&tele, &windows, &rows[first_row..]);
        add_telemetry(&meta, desc, tele, &mut rows, &mut skipped);
        let mine = &rows[first_row..];
        let mut out = human();
        // Before anything else: a software adapter measures the CPU.
        if desc.is_cpu() {
            writeln!(out, "{}", cpu_adapter_line(desc))?;
        }
        writeln!(
            out,
            "\n{} ({}, {}, {} {})",
            desc.name, desc.backend, desc.device_type, desc.driver, desc.driver_info
        )?;
        if !mine.is_empty() {
            writeln!(out, "{}", table::results_table(mine))?;
        }
        // The summary says these again, so only a run without one gets them.
        if !summarised {
            for line in derived_lines(mine) {
                writeln!(out, "{line}")?;
            }
        }
        for line in skipped_lines(&skipped[first_skip..]) {
            writeln!(out, "{line}")?;
        }
        writeln!(out, "{}", energy::render(&adapter_energy))?;
        energies.push(adapter_energy);
        for n in &notes[first_note..] {
            writeln!(out, "{n}")?;
        }
    }

    let summaries: Vec<AdapterSummary> =
        used.iter().map(|d| AdapterSummary::new(d, &rows)).collect();
    let rig = if summaries.len() > 1 && !super::interrupted() {
        let totals = summary::rig_totals(&summaries);
        let progress = super::progress(args.quiet);
        progress.set_message("rig: host links alone and all at once, card to card");
        let r = measure_rig(&adapters, &selected, scale, totals, &summaries);
        progress.finish_and_clear();
        match r {
            Ok(r) => Some(r),
            Err(e) => {
                failures.push("rig links", &e);
                None
            }
        }
    } else {
        None
    };
    let verdicts: Vec<AdapterVerdict> = used
        .iter()
        .map(|d| AdapterVerdict {
            adapter_index: d.index,
            adapter: d.name.clone(),
            findings: verdict::verdict(d, &rows, &[]),
        })
        .collect();
    if summarised {
        let mut out = human();
        for v in &verdicts {
            write!(out, "{}", verdict::render(v))?;
        }
        for s in &summaries {
            write!(out, "{}", s.render())?;
        }
        if let Some(r) = &rig {
            write!(out, "{}", r.render())?;
        }
    }

    if let Some(path) = &args.csv {
        files::append_csv(path, &rows)?;
    }
    if let Some(path) = &args.prom {
        files::replace_file(
            path,
            crate::report::prom::render(&meta, &used, &rows).as_bytes(),
        )?;
    }
    if let Some(path) = &args.json {
        let doc = RunDoc {
            tool: "hashflops",
            schema_version: crate::report::SCHEMA_VERSION,
            meta: &meta,
            adapters: used,
            rows: &rows,
            skipped: &skipped,
            notes: &notes,
            interrupted: super::interrupted(),
            failures: failures.lines(),
            wrong_answers: &wrong,
            energy: &energies,
            summaries: &summaries,
            rig: rig.as_ref(),
            verdict: &verdicts,
        };
        files::write_json(path, &doc)?;
    }
    let unverified = rows.iter().filter(|r| !r.verified).count()
        + rig.as_ref().map_or(0, |r| usize::from(!r.verified));
    // Interrupted: what finished was printed and written; the code says
    // the run is incomplete, whatever else happened.
    if super::interrupted() {
        failures.print_all();
        eprintln!("hashflops: interrupted: the results cover the suites that finished");
        return Ok(exit::INTERRUPTED);
    }
    // One line per failure; the last goes back to main, which prints it and
    // exits 2 or 1 by its cause (after the results that did work were
    // printed and written).
    failures.finish()?;
    if !wrong.is_empty() {
        eprintln!(
            "hashflops: {} wrong answer(s) from GPU kernels (listed above)",
            wrong.len()
        );
    }
    if unverified > 0 || !wrong.is_empty() {
        eprintln!(
            "hashflops: {unverified} result(s) disagreed with the CPU reference and are marked unverified"
        );
        return Ok(exit::UNVERIFIED);
    }
    Ok(exit::OK)
}

/// The first line of a CPU adapter's output: what was measured, and how
/// to measure the GPU instead.
fn cpu_adapter_line(desc: &AdapterDesc) -> String {
    format!(
        "hashflops: adapter {} \"{}\" is a CPU implementation of {} (a software adapter): these figures measure this computer's CPU and host memory, not a GPU. \
To measure the GPU, install its driver (NVIDIA: the proprietary driver; AMD and Intel: Mesa's Vulkan drivers, on Debian/Ubuntu apt-get install mesa-vulkan-drivers), then `hashflops list` shows it",
        desc.index, desc.name, desc.backend
    )
}

/// The two ratios a mining card's owner must see at a glance, under the table.
fn derived_lines(rows: &[ResultRow]) -> Vec<String> {
    let m = &KeyMetrics::from_rows(rows.iter());
    let mut out = Vec::new();
    if let (Some(mm), Some(p)) = (m.sgemm, m.fp32_fma) {
        out.push(format!(
            "matmul efficiency: f32 matmul is {:.0}% of this adapter's measured f32 FMA peak",
            100.0 * mm.value / p.value
        ));
    }
    // The verdict's rule, from verified rows.
    if let Some(j) = summary::fma_judgment(rows) {
        let verdict = if j.throttled {
            "CRIPPLED: fused multiply-add is throttled"
        } else {
            "normal"
        };
        out.push(format!("FMA : unfused = {:.2} ({verdict})", j.ratio));
    }
    out
}

/// Telemetry as rows (what was read) and skips (what was not, with why).
fn add_telemetry(
    meta: &RunMeta,
    desc: &AdapterDesc,
    t: Telemetry,
    rows: &mut Vec<ResultRow>,
    skipped: &mut Vec<Skipped>,
) {
    for q in telemetry::summarize(&t) {
        rows.push(ResultRow::from_telemetry(meta, desc, &q));
    }
    for (quantity, why) in t.unavailable {
        skipped.push(Skipped::new(
            Kernel::Reading(quantity),
            format!("unavailable: {why}"),
        ));
    }
}

/// One line per skipped kernel; unavailable telemetry quantities that share
/// a reason share a line.
fn skipped_lines(skipped: &[Skipped]) -> Vec<String> {
    let mut out = Vec::new();
    let mut tele: Vec<(&str, Vec<String>)> = Vec::new();
    for s in skipped {
        if s.suite != Suite::Telemetry {
            out.push(format!("skipped {}/{}: {}", s.suite, s.kernel, s.reason));
        } else if let Some(g) = tele.iter_mut().find(|(r, _)| *r == s.reason) {
            g.1.push(s.kernel.to_string());
        } else {
            tele.push((&s.reason, vec![s.kernel.to_string()]));
        }
    }
    for (reason, quantities) in tele {
        out.push(format!("telemetry {}: {reason}", quantities.join(", ")));
    }
    out
}

/// How long each suite takes next to `hash`, roughly (the same ratio at
/// each scale), as the registry states it.
fn suite_weight(suite: Suite) -> f64 {
    workloads::suite(suite).map_or(1.0, |s| s.eta_weight)
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

/// Opens every selected card at once and measures the links between them.
fn measure_rig(
    adapters: &Adapters,
    selected: &[usize],
    scale: Scale,
    totals: RigTotals,
    summaries: &[AdapterSummary],
) -> Result<Rig> {
    let gpus: Vec<Gpu> = selected
        .iter()
        .map(|&p| {
            let (a, d) = &adapters.list[p];
            Gpu::open(a, d)
        })
        .collect::<Result<_>>()?;
    let refs: Vec<&Gpu> = gpus.iter().collect();
    let cpu = gpus.iter().all(|g| g.desc.is_cpu());
    let bytes: u64 = match (cpu, scale) {
        (_, Scale::Quick) | (true, _) => 16 << 20,
        (false, Scale::Default) => 64 << 20,
        (false, Scale::Full) => 256 << 20,
    };
    let (alone, together) = transfer::rig::measure_links(&refs, bytes, 4)?;
    let c2c = transfer::rig::card_to_card(&refs, bytes)?;
    // The slowest card's measured round trip bounds each hop's latency.
    let round_trip = summaries
        .iter()
        .filter_map(|s| s.metrics.round_trip_s)
        .filter(|v| v.verified)
        .map(|v| v.value)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    Ok(Rig::new(totals, bytes, alone, together, c2c, round_trip))
}
