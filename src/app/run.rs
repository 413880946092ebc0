//! `hashflops run`: every selected suite on every selected adapter.

use std::io::Write;

use crate::report::energy::{self, Energy};
use crate::report::facts::Facts;
use crate::report::models::{self, LlmEntry};
use crate::report::rig::Rig;
use crate::report::verdict::{self, AdapterVerdict};
use crate::telemetry::{self, Telemetry};
use crate::workloads::transfer;

use anyhow::Result;
use serde::Serialize;

use super::measure::{self, AdapterOutcome};
use super::settings::Settings;
use crate::catalogue::{Kernel, Suite};
use crate::cli::RunArgs;
use crate::error::exit;
use crate::gpu::{AdapterDesc, Adapters, Gpu};
use crate::report::summary::{self, AdapterSummary, RigTotals};
use crate::report::{files, table, ResultRow, RunMeta};
use crate::workloads::{self, Scale, Skipped};

/// Everything one `run` produced, as written to `--json`.
#[derive(Serialize)]
struct RunDoc<'a> {
    #[serde(flatten)]
    head: super::DocHead<'a>,
    skipped: &'a [Skipped],
    notes: &'a [String],
    /// Energy per unit of work, one per adapter in `adapters` order.
    energy: &'a [Energy],
    /// Every catalogue model in every format on each adapter: fit, decode
    /// rate (measured or derived), energy and cost per token.
    llm: &'a [LlmEntry],
    summaries: &'a [AdapterSummary],
    rig: Option<&'a Rig>,
    /// Per adapter: findings with stable codes, each naming its figure.
    verdict: &'a [AdapterVerdict],
}

pub fn run(args: RunArgs) -> Result<i32> {
    let s = Settings::for_run(&args)?;
    // The verdict and summary close a run of several suites or adapters.
    let summarised = s.suites.len() > 1 || s.selected.len() > 1;
    let meta = RunMeta::now();
    let mut all = Gathered::default();
    super::catch_interrupts("the suite in progress");
    for &idx in &s.selected {
        if super::interrupted() {
            break;
        }
        let desc = s.desc(idx);
        all.used.push(desc.clone());
        if s.chatty() {
            eprintln!(
                "hashflops: adapter {}: {} ({}, {})",
                desc.index, desc.name, desc.backend, desc.device_type
            );
        }
        let Some(gpu) = measure::open(&s, idx, &mut all.failures) else {
            continue;
        };
        let got = measure::adapter(&s, &meta, &gpu, &mut all.failures, &mut |suite, ctx| {
            workloads::run_suite(suite, ctx)
        });
        all.add(&s, &meta, desc, got, summarised)?;
    }
    let closing = close(&s, &mut all, summarised)?;
    write_files(&s, &meta, &all, &closing)?;
    ending(&all, &closing)
}

/// What the adapters gave, in the order they were measured.
#[derive(Default)]
struct Gathered {
    rows: Vec<ResultRow>,
    skipped: Vec<Skipped>,
    notes: Vec<String>,
    failures: super::Failures,
    wrong: Vec<String>,
    energies: Vec<Energy>,
    used: Vec<AdapterDesc>,
    /// Each measured adapter's facts, by its index: computed once, read by
    /// its energy line, summary and verdict.
    facts: Vec<(usize, Facts)>,
}

/// What closes a run: the verdict, summary and rig links over all adapters.
struct Closing {
    summaries: Vec<AdapterSummary>,
    llm: Vec<LlmEntry>,
    rig: Option<Rig>,
    verdicts: Vec<AdapterVerdict>,
}

impl Gathered {
    /// One adapter's outcome, with its telemetry as rows, printed as its
    /// block of the output and kept for the summary and the files.
    fn add(
        &mut self,
        s: &Settings,
        meta: &RunMeta,
        desc: &AdapterDesc,
        got: AdapterOutcome,
        summarised: bool,
    ) -> Result<()> {
        let AdapterOutcome {
            mut rows,
            mut skipped,
            notes,
            wrong,
            telemetry,
            windows,
        } = got;
        let facts = Facts::of(desc, &rows)
            .expecting_ethash(s.expect_ethash_hs)
            .with_power(energy::suite_watts(&telemetry, &windows), s.power_price);
        let adapter_energy = energy::energy(&telemetry, &windows, &facts);
        add_telemetry(meta, desc, telemetry, &mut rows, &mut skipped);
        let mut out = s.human();
        // Before anything else: a software adapter measures the CPU.
        if desc.is_cpu() {
            writeln!(out, "{}", cpu_adapter_line(desc))?;
        }
        writeln!(
            out,
            "\n{} ({}, {}, {} {})",
            desc.name, desc.backend, desc.device_type, desc.driver, desc.driver_info
        )?;
        if !rows.is_empty() {
            writeln!(out, "{}", table::results_table(&rows))?;
        }
        // The summary says these again, so only a run without one gets them.
        if !summarised {
            for line in derived_lines(&facts) {
                writeln!(out, "{line}")?;
            }
        }
        for line in skipped_lines(&skipped) {
            writeln!(out, "{line}")?;
        }
        writeln!(out, "{}", energy::render(&adapter_energy))?;
        for n in &notes {
            writeln!(out, "{n}")?;
        }
        self.energies.push(adapter_energy);
        self.facts.push((desc.index, facts));
        self.rows.extend(rows);
        self.skipped.extend(skipped);
        self.notes.extend(notes);
        self.wrong.extend(wrong);
        Ok(())
    }
}

/// The summaries, the rig's links (several cards, not interrupted) and the
/// verdicts; printed when the run is `summarised`.
fn close(s: &Settings, all: &mut Gathered, summarised: bool) -> Result<Closing> {
    // An adapter that failed to open measured nothing: its facts are empty.
    let facts: Vec<Facts> = all
        .used
        .iter()
        .map(|d| match all.facts.iter().find(|(i, _)| *i == d.index) {
            Some((_, f)) => f.clone(),
            None => Facts::of(d, &[]),
        })
        .collect();
    let summaries: Vec<AdapterSummary> = all
        .used
        .iter()
        .zip(&facts)
        .map(|(d, f)| AdapterSummary::from_facts(d, f.clone()))
        .collect();
    let rig = if summaries.len() > 1 && !super::interrupted() {
        let totals = summary::rig_totals(&summaries);
        let progress = super::progress(s.quiet);
        progress.set_message("rig: host links alone and all at once, card to card");
        let r = measure_rig(&s.adapters, &s.selected, s.scale, totals, &summaries);
        progress.finish_and_clear();
        match r {
            Ok(r) => Some(r),
            Err(e) => {
                all.failures.push("rig links", &e);
                None
            }
        }
    } else {
        None
    };
    let verdicts: Vec<AdapterVerdict> = all
        .used
        .iter()
        .zip(&facts)
        .map(|(d, f)| AdapterVerdict {
            adapter_index: d.index,
            adapter: d.name.clone(),
            findings: verdict::findings(f, &[]),
        })
        .collect();
    if summarised {
        let mut out = s.human();
        for v in &verdicts {
            write!(out, "{}", verdict::render(v))?;
        }
        for summary in &summaries {
            write!(out, "{}", summary.render())?;
        }
        if let Some(r) = &rig {
            write!(out, "{}", r.render())?;
        }
    }
    let llm = all
        .used
        .iter()
        .zip(&facts)
        .flat_map(|(d, f)| models::entries(d.index, f))
        .collect();
    Ok(Closing {
        summaries,
        llm,
        rig,
        verdicts,
    })
}

/// The results files asked for, after everything was printed.
fn write_files(s: &Settings, meta: &RunMeta, all: &Gathered, c: &Closing) -> Result<()> {
    let o = &s.outputs;
    if let Some(path) = &o.csv {
        files::append_csv(path, &all.rows)?;
    }
    if let Some(path) = &o.prom {
        files::replace_file(
            path,
            crate::report::prom::render(meta, &all.used, &all.rows).as_bytes(),
        )?;
    }
    if let Some(path) = &o.json {
        let doc = RunDoc {
            head: super::DocHead {
                tool: "hashflops",
                schema_version: crate::report::SCHEMA_VERSION,
                meta,
                adapters: &all.used,
                rows: &all.rows,
                interrupted: super::interrupted(),
                failures: all.failures.lines(),
                wrong_answers: &all.wrong,
            },
            skipped: &all.skipped,
            notes: &all.notes,
            energy: &all.energies,
            llm: &c.llm,
            summaries: &c.summaries,
            rig: c.rig.as_ref(),
            verdict: &c.verdicts,
        };
        files::write_json(path, &doc)?;
    }
    Ok(())
}

/// The exit code, after the last lines on stderr.
fn ending(all: &Gathered, c: &Closing) -> Result<i32> {
    let unverified = all.rows.iter().filter(|r| !r.verified).count()
        + c.rig.as_ref().map_or(0, |r| usize::from(!r.verified));
    // Interrupted: what finished was printed and written; the code says
    // the run is incomplete, whatever else happened.
    if super::interrupted() {
        all.failures.print_all();
        eprintln!("hashflops: interrupted: the results cover the suites that finished");
        return Ok(exit::INTERRUPTED);
    }
    // One line per failure; the last goes back to main, which prints it and
    // exits 2 or 1 by its cause (after the results that did work were
    // printed and written).
    all.failures.finish()?;
    let wrong = &all.wrong;
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
fn derived_lines(facts: &Facts) -> Vec<String> {
    let m = &facts.metrics;
    let mut out = Vec::new();
    if let (Some(mm), Some(p)) = (m.sgemm, m.fp32_fma) {
        out.push(format!(
            "matmul efficiency: f32 matmul is {:.0}% of this adapter's measured f32 FMA peak",
            100.0 * mm.value / p.value
        ));
    }
    // The verdict's rule, from verified rows.
    if let Some(j) = facts.fma {
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
        .filter_map(|s| s.facts.metrics.round_trip_s)
        .filter(|v| v.verified)
        .map(|v| v.value)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let cards = crate::report::rig::cards_of(summaries);
    Ok(Rig::new(
        totals, bytes, alone, together, c2c, round_trip, cards,
    ))
}
