//! `hashflops compare`: results CSVs from any number of runs, machines and
//! adapters, grouped by adapter identity and run, key metrics side by side.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use anyhow::Result;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use serde::Serialize;

use super::files::read_csv;
use super::summary::{KeyMetrics, Val, FIELDS};
use super::ResultRow;
use crate::cli::{typed, typed_path};
use crate::reference_cards::{self, Card};
use crate::units::si;
use crate::usage_bail;

/// One adapter on one host, with every row measured on it.
#[derive(Clone, Debug, Serialize)]
pub struct Group {
    pub label: String,
    /// The run these rows came from; `None` when runs were merged.
    pub run_id: Option<String>,
    pub host: String,
    pub adapter: String,
    pub adapter_index: usize,
    pub backend: String,
    pub device_type: String,
    /// The adapter's identity, empty where the rows do not carry it.
    pub bus_id: String,
    pub device_uuid: String,
    pub runs: usize,
    pub metrics: KeyMetrics,
    /// f32 matmul size (m, n, k) when the rows say it, for the roofline.
    pub matmul_mnk: Option<(f64, f64, f64)>,
}

/// The most adapters one comparison shows side by side: a table or chart
/// wider than this is unreadable, and the work stays bounded.
pub const MAX_GROUPS: usize = 1000;

/// Above this many columns the table turns: one row per adapter and run.
pub const MAX_COLUMNS: usize = 6;

/// How runs of one adapter are combined: kept apart unless asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Merge {
    /// The best verified value of each metric over the runs.
    Best,
    /// The median over the runs of each metric.
    Median,
}

/// The most rows all files together may hold (each file is also limited in
/// bytes by `read_csv`), so memory stays bounded however many are passed.
pub const MAX_ROWS: usize = 200_000;

pub fn load(files: &[PathBuf]) -> Result<Vec<ResultRow>> {
    let mut rows = Vec::new();
    for f in files {
        if rows.len() > MAX_ROWS {
            usage_bail!(
                "{}: the files together hold more than {MAX_ROWS} result rows; compare fewer",
                typed_path(f)
            );
        }
        let r = read_csv(f)?;
        if r.is_empty() {
            usage_bail!("{}: holds a header but no results", typed_path(f));
        }
        rows.extend(r);
    }
    Ok(rows)
}

/// Which adapter a row was measured on, as stably as the row can say: the
/// Vulkan device UUID, else the PCI bus id on its host, else the host,
/// index, name and API (schema-1 rows, and adapters without a bus id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Identity<'a> {
    Uuid(&'a str),
    Bus(&'a str, &'a str),
    Listed(&'a str, usize, &'a str, &'a str),
}

impl<'a> Identity<'a> {
    fn of(r: &'a ResultRow) -> Identity<'a> {
        // A software driver's UUID names the driver build, the same on
        // every host that has it, not a device: it cannot tell hosts apart.
        if !r.device_uuid.is_empty() && r.device_type != "cpu" {
            Identity::Uuid(&r.device_uuid)
        } else if !r.bus_id.is_empty() {
            Identity::Bus(&r.host, &r.bus_id)
        } else {
            Identity::Listed(&r.host, r.adapter_index, &r.adapter, &r.backend)
        }
    }
}

/// Groups rows by adapter identity (see [`Identity`]) and, unless `merge`
/// says how to combine them, by run; in order of first appearance. More
/// than [`MAX_GROUPS`] groups is a usage error.
pub fn group(rows: &[ResultRow], merge: Option<Merge>) -> Result<Vec<Group>> {
    type Key<'a> = (Identity<'a>, &'a str);
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut members: Vec<(&str, Vec<&ResultRow>)> = Vec::new();
    for r in rows {
        let run = if merge.is_some() {
            ""
        } else {
            r.run_id.as_str()
        };
        let i = *index.entry((Identity::of(r), run)).or_insert_with(|| {
            members.push((run, Vec::new()));
            members.len() - 1
        });
        if members.len() > MAX_GROUPS {
            usage_bail!(
                "the files hold more than {MAX_GROUPS} adapter runs; compare at most {MAX_GROUPS} at a time (or --merge)"
            );
        }
        members[i].1.push(r);
    }
    let hosts: BTreeSet<&str> = rows.iter().map(|r| r.host.as_str()).collect();
    let groups = members
        .into_iter()
        .map(|(run, mine)| {
            // Named after its first row: a card that moved keeps one column.
            let first = mine[0];
            let (host, idx, adapter, backend) = (
                first.host.as_str(),
                first.adapter_index,
                first.adapter.as_str(),
                first.backend.as_str(),
            );
            let runs: BTreeSet<&str> = mine.iter().map(|r| r.run_id.as_str()).collect();
            let mut label = if hosts.len() > 1 {
                format!("{adapter} ({backend}, {host} #{idx})")
            } else {
                format!("{adapter} ({backend} #{idx})")
            };
            if !run.is_empty() {
                label += &format!(" run {run}");
            }
            let chosen = match merge {
                Some(Merge::Median) => median_rows(&mine),
                _ => mine.clone(),
            };
            Group {
                label,
                run_id: (!run.is_empty()).then(|| run.to_string()),
                device_type: first.device_type.clone(),
                bus_id: first.bus_id.clone(),
                device_uuid: first.device_uuid.clone(),
                runs: runs.len(),
                metrics: KeyMetrics::from_rows(chosen.iter().copied()),
                matmul_mnk: matmul_size(&mine),
                host: host.to_string(),
                adapter: adapter.to_string(),
                adapter_index: idx,
                backend: backend.to_string(),
            }
        })
        .collect();
    Ok(groups)
}

/// For every (suite, kernel, metric), the row whose value is the median
/// over the runs (the lower middle one for an even count).
fn median_rows<'a>(rows: &[&'a ResultRow]) -> Vec<&'a ResultRow> {
    let mut by: HashMap<(&str, &str, &str), Vec<&'a ResultRow>> = HashMap::new();
    for r in rows.iter().copied().filter(|r| r.verified) {
        by.entry((&r.suite, &r.kernel, &r.metric))
            .or_default()
            .push(r);
    }
    by.into_values()
        .map(|mut v| {
            v.sort_by(|a, b| a.value.total_cmp(&b.value));
            v[(v.len() - 1) / 2]
        })
        .collect()
}

fn matmul_size(rows: &[&ResultRow]) -> Option<(f64, f64, f64)> {
    let r = rows
        .iter()
        .filter(|r| r.suite == "matmul" && r.kernel == "sgemm")
        .max_by(|a, b| a.value.total_cmp(&b.value))?;
    let get = |key: &str| {
        r.params.split(';').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k.trim() == key)
                .then(|| v.trim().parse::<f64>().ok())
                .flatten()
        })
    };
    Some((get("m")?, get("n")?, get("k")?))
}

/// `--baseline SEL`: a group number (from 0, in the table's order) or a
/// case-insensitive part of its label.
pub fn find_baseline(groups: &[Group], sel: &str) -> Result<usize> {
    if let Ok(i) = sel.trim().parse::<usize>() {
        if i < groups.len() {
            return Ok(i);
        }
        // A number is an index, never part of a name.
        usage_bail!(
            "--baseline {i}: there is no column {i}; columns are 0..={}",
            groups.len().saturating_sub(1)
        );
    }
    let needle = sel.to_lowercase();
    let hits: Vec<usize> = (0..groups.len())
        .filter(|&i| groups[i].label.to_lowercase().contains(&needle))
        .collect();
    match hits.as_slice() {
        [i] => Ok(*i),
        [] => usage_bail!(
            "--baseline {:?} matches no adapter; adapters: {}",
            typed(sel),
            groups
                .iter()
                .enumerate()
                .map(|(i, g)| format!("{i}: {}", g.label))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => usage_bail!(
            "--baseline {:?} matches {} adapters; use its number",
            typed(sel),
            hits.len()
        ),
    }
}

fn cell(v: Option<Val>, unit: &str, base: Option<Val>) -> String {
    let Some(v) = v else {
        return "-".into();
    };
    let mut s = si(v.value, unit);
    if !v.verified {
        s.push_str(" UNVERIFIED");
    }
    if let Some(b) = base.filter(|b| b.value > 0.0) {
        s.push_str(&format!(" ({:.2}x)", v.value / b.value));
    }
    s
}

pub fn render(groups: &[Group], baseline: Option<usize>) -> String {
    let fields: Vec<_> = FIELDS
        .iter()
        .filter(|(_, _, get)| groups.iter().any(|g| get(&g.metrics).is_some()))
        .collect();
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    let mark = |i: usize| {
        if baseline == Some(i) {
            " [baseline]"
        } else {
            ""
        }
    };
    if groups.len() <= MAX_COLUMNS {
        let mut header = vec!["metric".to_string()];
        for (i, g) in groups.iter().enumerate() {
            header.push(format!("{i}: {}{}", g.label, mark(i)));
        }
        t.set_header(header);
        for (label, unit, get) in &fields {
            let base = baseline.and_then(|b| get(&groups[b].metrics));
            let mut row = vec![Cell::new(label)];
            for g in groups {
                row.push(
                    Cell::new(cell(get(&g.metrics), unit, base))
                        .set_alignment(CellAlignment::Right),
                );
            }
            t.add_row(row);
        }
    } else {
        // Many adapters: one row each, so hundreds still read top to bottom.
        let mut header = vec!["#".to_string(), "adapter".to_string()];
        header.extend(fields.iter().map(|(label, _, _)| label.to_string()));
        t.set_header(header);
        for (i, g) in groups.iter().enumerate() {
            let mut row = vec![Cell::new(i), Cell::new(format!("{}{}", g.label, mark(i)))];
            for (_, unit, get) in &fields {
                let base = baseline.and_then(|b| get(&groups[b].metrics));
                row.push(
                    Cell::new(cell(get(&g.metrics), unit, base))
                        .set_alignment(CellAlignment::Right),
                );
            }
            t.add_row(row);
        }
    }
    let mut out = t.to_string();
    out.push_str("\nratios are to the baseline adapter; UNVERIFIED values disagreed with the CPU reference\n");
    out
}

/// Measured adapters beside the built-in published cards.
pub fn render_reference(groups: &[Group]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "card",
        "figures",
        "SHA-256d",
        "f32 peak",
        "bandwidth",
        "VRAM",
        "notes / source",
    ]);
    let opt = |v: Option<f64>, unit: &str| v.map(|x| si(x, unit)).unwrap_or_else(|| "-".into());
    for g in groups {
        let m = &g.metrics;
        t.add_row([
            g.label.clone(),
            "measured".into(),
            opt(m.hash_rate.map(|v| v.value), "H/s"),
            opt(m.fp32_fma.map(|v| v.value), "FLOP/s"),
            opt(m.bandwidth().map(|v| v.value), "B/s"),
            "-".into(),
            "this tool".into(),
        ]);
    }
    for c in reference_cards::cards() {
        t.add_row(reference_row(&c));
    }
    t.to_string()
}

fn reference_row(c: &Card) -> [String; 7] {
    let opt = |v: Option<f64>, unit: &str| v.map(|x| si(x, unit)).unwrap_or_else(|| "-".into());
    let fp32 = match (c.fp32_fma_flops, c.fp32_flops) {
        (Some(fma), Some(plain)) => format!(
            "{} FMA / {} without",
            si(fma, "FLOP/s"),
            si(plain, "FLOP/s")
        ),
        (None, p) => opt(p, "FLOP/s"),
        (f, None) => opt(f, "FLOP/s"),
    };
    let hash = match (c.sha256d_hs, c.sha256_hs) {
        (Some(d), _) => si(d, "H/s"),
        (None, Some(s)) => format!("- (SHA-256 {})", si(s, "H/s")),
        _ => "-".into(),
    };
    let notes = if c.notes.is_empty() {
        c.source.clone()
    } else {
        format!("{}; {}", c.notes, c.source)
    };
    [
        c.card.clone(),
        "published spec".into(),
        hash,
        fp32,
        opt(c.bandwidth_bs, "B/s"),
        opt(c.vram_bytes, "B"),
        notes,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(run: &str, host: &str, index: usize, kind: &str, bus: &str, uuid: &str) -> ResultRow {
        serde_json::from_value(serde_json::json!({
            "run_id": run, "timestamp_utc": "t", "tool_version": "0", "host": host,
            "adapter_index": index, "adapter": "card", "vendor_id": "0x10de",
            "device_id": "0x0001", "device_type": kind, "backend": "vulkan", "driver": "",
            "driver_info": "", "suite": "hash", "kernel": "sha256d", "params": "",
            "metric": "hash_rate", "unit": "H/s", "value": 1.0, "min": 1.0, "max": 1.0,
            "cv_pct": 0.0, "samples": 5, "timing": "wall", "verified": true,
            "bus_id": bus, "device_uuid": uuid,
        }))
        .unwrap()
    }

    fn count(rows: &[ResultRow]) -> usize {
        group(rows, Some(Merge::Best)).unwrap().len()
    }

    #[test]
    fn a_card_is_known_by_its_uuid_wherever_it_moved() {
        let u = "deadbeef-0001-0203-0405-06070809abcd";
        let moved = [
            row("r", "rig-1", 0, "discrete", "0000:01:00.0", u),
            row("r2", "rig-2", 3, "discrete", "0000:05:00.0", u),
        ];
        assert_eq!(count(&moved), 1);
        // Kept apart by run unless merged.
        assert_eq!(group(&moved, None).unwrap().len(), 2);
        let two_cards = [
            row("r", "rig-1", 0, "discrete", "0000:01:00.0", u),
            row(
                "r",
                "rig-1",
                0,
                "discrete",
                "0000:01:00.0",
                &u.replace('d', "e"),
            ),
        ];
        assert_eq!(count(&two_cards), 2);
    }

    #[test]
    fn without_a_uuid_the_bus_id_on_its_host_then_the_listing() {
        // Same slot, index changed (a card added): one card.
        let slot = [
            row("r", "rig-1", 0, "discrete", "0000:01:00.0", ""),
            row("r2", "rig-1", 1, "discrete", "0000:01:00.0", ""),
        ];
        assert_eq!(count(&slot), 1);
        // The same slot on two hosts: two cards.
        let hosts = [
            row("r", "rig-1", 0, "discrete", "0000:01:00.0", ""),
            row("r", "rig-2", 0, "discrete", "0000:01:00.0", ""),
        ];
        assert_eq!(count(&hosts), 2);
        // A software driver's UUID is the same on every host: not used.
        let soft = "6d657361-3232-2e33-2e36-000000000000";
        let cpus = [
            row("r", "a", 0, "cpu", "", soft),
            row("r", "b", 0, "cpu", "", soft),
            row("r2", "a", 0, "cpu", "", soft),
        ];
        assert_eq!(count(&cpus), 2);
        // Schema-1 rows (no identity): host, index, name and API.
        let old = [
            row("r", "a", 0, "discrete", "", ""),
            row("r", "a", 1, "discrete", "", ""),
        ];
        assert_eq!(count(&old), 2);
    }
}
