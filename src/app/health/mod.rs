//! `hashflops health`: the VRAM test, a soak and the link and power
//! readings on each card, ending with a verdict per card ([`verdict`]).

mod verdict;

use std::time::{Duration, Instant};

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::catalogue::Quantity;
use crate::cli::HealthArgs;
use crate::error::exit;
use crate::gpu::{AdapterDesc, Adapters, Gpu};
use crate::report::{files, prom, table, ResultRow, RunMeta};
use crate::telemetry::{LinkState, Sampler, Telemetry};
use crate::timing::TimingPlan;
use crate::workloads::{soak, vram, Ctx, Scale, Shaders, SizeOptions};
use verdict::{judge, Facts, Reading, Verdict};

/// The shortest soak whose stability is judged: throttling from heat or
/// power takes a while to show.
const MIN_SOAK_S: f64 = 60.0;
/// The fewest intervals of each load in a soak that is judged, so that its
/// first and last windows are different intervals.
const MIN_INTERVALS_PER_LOAD: usize = 3;

/// The verdict on one card, as the JSON's `health` holds it.
#[derive(Serialize)]
struct CardHealth {
    adapter_index: usize,
    adapter: String,
    memory: serde_json::Value,
    stability: serde_json::Value,
    link: String,
    power: String,
    /// `healthy`, `incomplete`, `faulty`, or `interrupted` (Ctrl-C came
    /// before a fault was found or the card was fully tested).
    verdict: Verdict,
    /// What was covered and what was not, in a line or two.
    verdict_detail: String,
}

#[derive(Serialize)]
struct AdapterTelemetry {
    adapter_index: usize,
    #[serde(flatten)]
    telemetry: Telemetry,
}

#[derive(Serialize)]
struct HealthDoc<'a> {
    tool: &'static str,
    schema_version: u32,
    #[serde(flatten)]
    meta: &'a RunMeta,
    adapters: Vec<AdapterDesc>,
    rows: &'a [ResultRow],
    health: &'a [CardHealth],
    telemetry: &'a [AdapterTelemetry],
    interrupted: bool,
    failures: &'a [String],
    wrong_answers: &'a [String],
}

pub fn health(args: HealthArgs) -> Result<i32> {
    const NO_STDOUT: Option<&str> =
        Some("health prints its verdict on stdout: give --csv/--json a file, not -");
    let mut targets = Vec::new();
    if let Some(p) = &args.csv {
        targets.push(files::Target {
            no_stdout: NO_STDOUT,
            ..files::Target::new("--csv", p, files::Kind::AppendCsv)
        });
    }
    if let Some(p) = &args.json {
        targets.push(files::Target {
            no_stdout: NO_STDOUT,
            ..files::Target::new("--json", p, files::Kind::Replace)
        });
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
    let adapters = Adapters::enumerate(args.adapter.backend);
    let selected = adapters.select(args.adapter.adapter.as_deref(), args.all_adapters)?;
    let shaders = Shaders::from_dir(args.shader_dir.clone())?;
    super::catch_interrupts("the current interval");
    let sizes = SizeOptions::default();
    let meta = RunMeta::now();
    let mut rows = Vec::new();
    let mut cards = Vec::new();
    let mut tele = Vec::new();
    let mut failures = super::Failures::default();
    let mut wrong = Vec::new();
    let mut used = Vec::new();
    let mut prom_cards = Vec::new();
    for idx in selected {
        if super::interrupted() {
            break;
        }
        let (adapter, desc) = &adapters.list[idx];
        used.push(desc.clone());
        let gpu = match Gpu::open(adapter, desc) {
            Ok(g) => g,
            Err(e) => {
                failures.push(format_args!("adapter {}", desc.index), &e);
                continue;
            }
        };
        let started = Instant::now();
        let sampler = Sampler::start(desc, Duration::from_secs(1));
        let pb = progress(args.quiet);
        let mut plan = TimingPlan::new(5, 0.1);
        plan.progress = pb.clone();
        let ctx = Ctx {
            gpu: &gpu,
            scale: Scale::Default,
            plan,
            shaders: &shaders,
            sizes: &sizes,
            progress: pb.clone(),
        };
        pb.set_prefix(format!("vram: {} s left", args.duration.as_secs()));
        // A CPU adapter checks memory at tens of MB/s: the small size keeps
        // the VRAM test to a fraction of a short health run.
        let vram_scale = if desc.is_cpu() {
            Scale::Quick
        } else {
            Scale::Default
        };
        let vram_plan = vram::plan(&gpu, vram_scale);
        let memory = match vram::test(&ctx, &vram_plan) {
            Ok(out) => {
                rows.extend(out.measured.iter().map(|m| ResultRow::new(&meta, desc, m)));
                Some(out.memory)
            }
            Err(e) => {
                failures.push(format_args!("vram on adapter {}", desc.index), &e);
                None
            }
        };
        let vram_s = started.elapsed().as_secs_f64();
        let stability = if super::interrupted() {
            None
        } else {
            // The soak takes what the VRAM test left of the duration.
            let left = args.duration.saturating_sub(started.elapsed());
            match soak::soak(&ctx, &soak::Plan::for_duration(left), &super::STOP) {
                Ok(out) => {
                    rows.extend(out.measured.iter().map(|m| ResultRow::new(&meta, desc, m)));
                    Some(out.stability)
                }
                Err(e) => {
                    failures.push(format_args!("soak on adapter {}", desc.index), &e);
                    None
                }
            }
        };
        pb.finish_and_clear();
        let telemetry = sampler.stop();
        let card = card_health(
            desc,
            &vram_plan,
            memory.as_ref(),
            stability.as_ref(),
            vram_s,
            &telemetry,
            super::interrupted(),
        );
        if let Some(s) = stability.as_ref().filter(|s| s.status == "unstable") {
            wrong.push(format!("soak on adapter {}: {}", desc.index, s.finding));
        }
        print_card(
            desc,
            &rows,
            &card,
            memory.as_ref(),
            stability.as_ref(),
            &telemetry,
        )?;
        if args.prom.is_some() {
            prom_cards.push(prom::CardHealth {
                adapter: desc.clone(),
                healthy: card.verdict == Verdict::Healthy,
                memory: memory.clone(),
                stability: stability.clone(),
                telemetry: telemetry.clone(),
            });
        }
        cards.push(card);
        tele.push(AdapterTelemetry {
            adapter_index: desc.index,
            telemetry,
        });
    }
    let interrupted = super::interrupted();
    if interrupted {
        eprintln!("hashflops: interrupted: the verdict covers what ran");
    }
    if let Some(path) = &args.csv {
        files::append_csv(path, &rows)?;
    }
    if let Some(path) = &args.prom {
        let text = prom::render_health(&meta, &prom_cards);
        files::replace_file(path, text.as_bytes())?;
    }
    if let Some(path) = &args.json {
        let doc = HealthDoc {
            tool: "hashflops",
            schema_version: crate::report::SCHEMA_VERSION,
            meta: &meta,
            adapters: used,
            rows: &rows,
            health: &cards,
            telemetry: &tele,
            interrupted,
            failures: failures.lines(),
            wrong_answers: &wrong,
        };
        files::write_json(path, &doc)?;
    }
    if interrupted {
        failures.print_all();
        return Ok(exit::INTERRUPTED);
    }
    failures.finish()?;
    // `incomplete` is no fault: exit 0, the verdict says what was not covered.
    let faulty =
        cards.iter().any(|c| c.verdict == Verdict::Faulty) || rows.iter().any(|r| !r.verified);
    Ok(if faulty { exit::UNVERIFIED } else { exit::OK })
}

fn progress(quiet: bool) -> ProgressBar {
    let pb = super::progress(quiet);
    if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {prefix}: {msg}")
    {
        pb.set_style(style);
    }
    pb
}

/// The PCIe generation of a per-lane rate.
fn generation(gts: f64) -> String {
    let g = match gts {
        x if x < 3.0 => "1.0",
        x if x < 6.0 => "2.0",
        x if x < 10.0 => "3.0",
        x if x < 20.0 => "4.0",
        x if x < 40.0 => "5.0",
        _ => "6.0",
    };
    format!("PCIe {g}")
}

fn link_text(link: Option<&LinkState>, t: &Telemetry) -> String {
    let part = |gts: Option<f64>, w: Option<u32>| {
        format!(
            "{} x{}",
            gts.map_or("PCIe ?".into(), generation),
            w.map_or("?".into(), |w| w.to_string())
        )
    };
    match link {
        Some(l) => format!(
            "{} as trained (card and slot capable of {}; {})",
            part(l.current_gts, l.current_width),
            part(l.max_gts, l.max_width),
            l.source
        ),
        None => format!("unavailable: {}", why(t, Quantity::Link)),
    }
}

fn why(t: &Telemetry, quantity: Quantity) -> String {
    t.unavailable
        .iter()
        .find(|(q, _)| *q == quantity)
        .map_or_else(|| "no source reported it".into(), |(_, w)| w.clone())
}

fn power_text(t: &Telemetry) -> String {
    let watts: Vec<f64> = t
        .readings
        .iter()
        .filter(|r| r.quantity == Quantity::Power)
        .map(|r| r.value)
        .collect();
    if watts.is_empty() {
        return format!("unavailable: {}", why(t, Quantity::Power));
    }
    let mean = watts.iter().sum::<f64>() / watts.len() as f64;
    let max = watts.iter().cloned().fold(f64::MIN, f64::max);
    format!(
        "{mean:.0} W average, {max:.0} W peak under load ({} readings)",
        watts.len()
    )
}

/// The soak's finding as a fact for the verdict: stable only over a soak
/// long enough to judge. `vram_s` is how long the VRAM test took before it,
/// to suggest a `--duration` that leaves the soak enough.
fn stability_fact(s: &soak::Stability, vram_s: f64) -> verdict::Stability {
    use verdict::Stability as S;
    match s.status.as_str() {
        "stable" => {
            let fewest = s.series.iter().map(|x| x.points.len()).min().unwrap_or(0);
            if s.interrupted {
                S::NotJudged("the soak was cut short".into())
            } else if s.seconds < MIN_SOAK_S || fewest < MIN_INTERVALS_PER_LOAD {
                let minutes = ((vram_s + MIN_SOAK_S + 10.0) / 60.0).ceil().max(2.0);
                S::NotJudged(format!(
                    "a soak of {:.0} s is too short to judge: it needs {MIN_SOAK_S:.0} s and \
                     {MIN_INTERVALS_PER_LOAD} intervals of each load; give --duration {minutes:.0}m or more",
                    s.seconds
                ))
            } else {
                S::Stable { seconds: s.seconds }
            }
        }
        "not judged" => S::NotJudged(
            "throughput is not judged on a CPU adapter, which shares its cores with the system"
                .into(),
        ),
        _ => S::Faulty,
    }
}

fn reading(t: &Telemetry, quantity: Quantity, read: bool) -> Reading {
    if read {
        Reading::Read
    } else {
        Reading::NotAvailable(why(t, quantity))
    }
}

fn card_health(
    desc: &AdapterDesc,
    plan: &vram::Plan,
    memory: Option<&vram::Memory>,
    stability: Option<&soak::Stability>,
    vram_s: f64,
    t: &Telemetry,
    interrupted: bool,
) -> CardHealth {
    let facts = Facts {
        memory: match memory {
            None => verdict::Memory::NotRun,
            Some(m) if m.status != "OK" => verdict::Memory::Faulty,
            Some(m) => verdict::Memory::Clean {
                tested: m.bytes_tested,
                full: plan.full,
                rule: plan.full_rule.clone(),
            },
        },
        stability: stability.map_or(verdict::Stability::NotRun, |s| stability_fact(s, vram_s)),
        link: reading(t, Quantity::Link, t.link.is_some()),
        power: reading(
            t,
            Quantity::Power,
            t.readings.iter().any(|r| r.quantity == Quantity::Power),
        ),
        interrupted,
    };
    let judgement = judge(&facts);
    let not_run = |what: &str| serde_json::json!({ "status": format!("not run ({what})") });
    CardHealth {
        adapter_index: desc.index,
        adapter: desc.name.clone(),
        memory: memory.map_or_else(
            || not_run("failed or interrupted"),
            |m| serde_json::to_value(m).unwrap_or_default(),
        ),
        stability: stability.map_or_else(
            || not_run("failed or interrupted"),
            |s| serde_json::to_value(s).unwrap_or_default(),
        ),
        link: link_text(t.link.as_ref(), t),
        power: power_text(t),
        verdict: judgement.verdict,
        verdict_detail: judgement.detail,
    }
}

fn print_card(
    desc: &AdapterDesc,
    rows: &[ResultRow],
    card: &CardHealth,
    memory: Option<&vram::Memory>,
    stability: Option<&soak::Stability>,
    t: &Telemetry,
) -> Result<()> {
    use std::io::Write;
    let mine: Vec<ResultRow> = rows
        .iter()
        .filter(|r| r.adapter_index == desc.index)
        .cloned()
        .collect();
    // A reader that leaves early does not stop the results files.
    let mut out = super::ReaderMayLeave::new(std::io::stdout().lock());
    writeln!(
        out,
        "\n{} ({}, {})",
        desc.name, desc.backend, desc.device_type
    )?;
    if !mine.is_empty() {
        writeln!(
            out,
            "{}",
            table::results_table_for(&mine, table::Command::Health)
        )?;
    }
    writeln!(out, "health verdict: {}", card.verdict.as_str())?;
    writeln!(out, "  {}", card.verdict_detail)?;
    match memory {
        Some(m) => writeln!(
            out,
            "  memory:    {} — {}\n             {}",
            m.status,
            m.finding,
            vram::coverage_line(m)
        )?,
        None => writeln!(out, "  memory:    not run")?,
    }
    match stability {
        Some(s) => writeln!(out, "  stability: {} — {}", s.status, s.finding)?,
        None => writeln!(out, "  stability: not run")?,
    }
    writeln!(out, "  link:      {}", card.link)?;
    let power = if card.power == card.link {
        "unavailable, for the same reason"
    } else {
        &card.power
    };
    writeln!(out, "  power:     {power}")?;
    // Quantities sharing a reason share it, said once; a reason the link
    // or power line gave already is not repeated.
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (q, why) in &t.unavailable {
        match groups.iter_mut().find(|(w, _)| w == why) {
            Some(g) => g.1.push(q.name()),
            None => groups.push((why, vec![q.name()])),
        }
    }
    for (why, quantities) in groups {
        let why = if card.link.contains(why) || card.power.contains(why) {
            "as above"
        } else {
            why
        };
        writeln!(
            out,
            "  telemetry unavailable: {}: {why}",
            quantities.join(", ")
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
