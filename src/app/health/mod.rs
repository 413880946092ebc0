//! `hashflops health`: the VRAM test, a soak and the link and power
//! readings on each card, ending with a verdict per card ([`verdict`]).

mod verdict;

use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;

use super::measure::{self, AdapterOutcome};
use super::settings::Settings;
use crate::catalogue::{Quantity, Suite};
use crate::cli::HealthArgs;
use crate::error::exit;
use crate::gpu::AdapterDesc;
use crate::report::{files, prom, table, ResultRow, RunMeta};
use crate::telemetry::{LinkState, Telemetry};
use crate::workloads::{soak, vram, Ctx, Scale, SuiteOutput};
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

/// Everything one `health` produced, as written to `--json`.
#[derive(Serialize)]
struct HealthDoc<'a> {
    #[serde(flatten)]
    head: super::DocHead<'a>,
    health: &'a [CardHealth],
    telemetry: &'a [AdapterTelemetry],
}

pub fn health(args: HealthArgs) -> Result<i32> {
    let s = Settings::for_health(&args)?;
    super::catch_interrupts("the current interval");
    let meta = RunMeta::now();
    let mut all = Gathered::default();
    for &idx in &s.selected {
        if super::interrupted() {
            break;
        }
        all.used.push(s.desc(idx).clone());
        let Some(gpu) = measure::open(&s, idx, &mut all.failures) else {
            continue;
        };
        // A CPU adapter checks memory at tens of MB/s: the small size keeps
        // the VRAM test to a fraction of a short health run.
        let vram_scale = if gpu.desc.is_cpu() {
            Scale::Quick
        } else {
            Scale::Default
        };
        let mut parts = Parts {
            started: Instant::now(),
            duration: args.duration,
            vram_plan: vram::plan(&gpu, vram_scale),
            memory: None,
            vram_s: 0.0,
            stability: None,
        };
        let got = measure::adapter(&s, &meta, &gpu, &mut all.failures, &mut |suite, ctx| {
            parts.run(suite, ctx)
        });
        all.add(&s, &gpu.desc, got, parts)?;
    }
    let interrupted = super::interrupted();
    if interrupted {
        eprintln!("hashflops: interrupted: the verdict covers what ran");
    }
    write_files(&s, &meta, &all, interrupted)?;
    if interrupted {
        all.failures.print_all();
        return Ok(exit::INTERRUPTED);
    }
    all.failures.finish()?;
    // `incomplete` is no fault: exit 0, the verdict says what was not covered.
    let faulty = all.cards.iter().any(|c| c.verdict == Verdict::Faulty)
        || all.rows.iter().any(|r| !r.verified);
    Ok(if faulty { exit::UNVERIFIED } else { exit::OK })
}

/// Health's two suites on one card, and what each found beside its rows.
struct Parts {
    started: Instant,
    duration: Duration,
    vram_plan: vram::Plan,
    memory: Option<vram::Memory>,
    /// How long the VRAM test took, for the soak's judgement.
    vram_s: f64,
    stability: Option<soak::Stability>,
}

impl Parts {
    fn run(&mut self, suite: Suite, ctx: &Ctx) -> Result<SuiteOutput> {
        let measured = if suite == Suite::Vram {
            let out = vram::test(ctx, &self.vram_plan);
            self.vram_s = self.started.elapsed().as_secs_f64();
            let out = out?;
            self.memory = Some(out.memory);
            out.measured
        } else {
            // The soak takes what the VRAM test left of the duration.
            let left = self.duration.saturating_sub(self.started.elapsed());
            let out = soak::soak(ctx, &soak::Plan::for_duration(left), &super::STOP)?;
            self.stability = Some(out.stability);
            out.measured
        };
        Ok(SuiteOutput {
            measured,
            ..Default::default()
        })
    }
}

/// What the cards gave, in the order they were tested.
#[derive(Default)]
struct Gathered {
    rows: Vec<ResultRow>,
    cards: Vec<CardHealth>,
    tele: Vec<AdapterTelemetry>,
    failures: super::Failures,
    wrong: Vec<String>,
    used: Vec<AdapterDesc>,
    prom_cards: Vec<prom::CardHealth>,
}

impl Gathered {
    /// One card's verdict, printed and kept for the files.
    fn add(
        &mut self,
        s: &Settings,
        desc: &AdapterDesc,
        got: AdapterOutcome,
        p: Parts,
    ) -> Result<()> {
        let telemetry = got.telemetry;
        self.rows.extend(got.rows);
        let card = card_health(
            desc,
            &p.vram_plan,
            p.memory.as_ref(),
            p.stability.as_ref(),
            p.vram_s,
            &telemetry,
            super::interrupted(),
        );
        if let Some(st) = p.stability.as_ref().filter(|st| st.status == "unstable") {
            self.wrong
                .push(format!("soak on adapter {}: {}", desc.index, st.finding));
        }
        print_card(
            desc,
            &self.rows,
            &card,
            p.memory.as_ref(),
            p.stability.as_ref(),
            &telemetry,
        )?;
        if s.outputs.prom.is_some() {
            self.prom_cards.push(prom::CardHealth {
                adapter: desc.clone(),
                healthy: card.verdict == Verdict::Healthy,
                memory: p.memory,
                stability: p.stability,
                telemetry: telemetry.clone(),
            });
        }
        self.cards.push(card);
        self.tele.push(AdapterTelemetry {
            adapter_index: desc.index,
            telemetry,
        });
        Ok(())
    }
}

/// The results files asked for, after every card's verdict was printed.
fn write_files(s: &Settings, meta: &RunMeta, all: &Gathered, interrupted: bool) -> Result<()> {
    let o = &s.outputs;
    if let Some(path) = &o.csv {
        files::append_csv(path, &all.rows)?;
    }
    if let Some(path) = &o.prom {
        let text = prom::render_health(meta, &all.prom_cards);
        files::replace_file(path, text.as_bytes())?;
    }
    if let Some(path) = &o.json {
        let doc = HealthDoc {
            head: super::DocHead {
                tool: "hashflops",
                schema_version: crate::report::SCHEMA_VERSION,
                meta,
                adapters: &all.used,
                rows: &all.rows,
                interrupted,
                failures: all.failures.lines(),
                wrong_answers: &all.wrong,
            },
            health: &all.cards,
            telemetry: &all.tele,
        };
        files::write_json(path, &doc)?;
    }
    Ok(())
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
    match crate::telemetry::power_draw(t, f64::MIN, f64::MAX) {
        Some(p) => format!(
            "{:.0} W average, {:.0} W peak under load ({} readings)",
            p.mean, p.peak, p.readings
        ),
        None => format!("unavailable: {}", why(t, Quantity::Power)),
    }
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
