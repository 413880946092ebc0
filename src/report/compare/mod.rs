//! `hashflops compare`: results files (CSV or `run`'s JSON) from any
//! number of runs, machines and adapters, grouped by adapter identity and
//! run, key metrics side by side.

mod figures;
mod load;
mod render;

use std::collections::{BTreeSet, HashMap};

use anyhow::Result;
use serde::Serialize;

use super::summary::KeyMetrics;
use super::ResultRow;
use crate::catalogue::Kernel;
use crate::cli::typed;
use crate::usage_bail;

pub use figures::Figure;
pub use load::{load, read_json, read_results, MAX_ROWS};
pub use render::{render, render_reference};

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
    /// The key metrics of [`Group::figures`], for the charts.
    pub metrics: KeyMetrics,
    /// Every row of the table for this column, in table order.
    pub figures: Vec<Figure>,
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
    /// The median over the runs of each run's own figure, verified ones only.
    Median,
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
            // Each run's own figures, as its column would show them, then
            // combined: a median never pairs one run's fast path or size
            // with another's slow one.
            let figures = group_figures(&mine, merge);
            if merge.is_some() && runs.len() > 1 {
                let how = match merge {
                    Some(Merge::Median) => "median",
                    _ => "best",
                };
                label += &format!(" {how} of {} runs", runs.len());
            }
            let mut metrics = figures::key_metrics(&figures);
            // Cache-sized stream rates are no figure of the column, but the
            // chart names them rather than calling them not measured.
            let cached = KeyMetrics::from_rows(mine.iter().copied());
            metrics.stream_triad_cache_sized = cached.stream_triad_cache_sized;
            metrics.stream_copy_cache_sized = cached.stream_copy_cache_sized;
            metrics.ethash_cut = cached.ethash_cut;
            Group {
                label,
                run_id: (!run.is_empty()).then(|| run.to_string()),
                device_type: first.device_type.clone(),
                bus_id: first.bus_id.clone(),
                device_uuid: first.device_uuid.clone(),
                runs: runs.len(),
                metrics,
                figures,
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

/// A group's figures: its rows', or each run's combined as `merge` says.
fn group_figures(mine: &[&ResultRow], merge: Option<Merge>) -> Vec<Figure> {
    let Some(how) = merge else {
        return figures::figures(mine);
    };
    let mut at: HashMap<&str, usize> = HashMap::new();
    let mut by_run: Vec<Vec<&ResultRow>> = Vec::new();
    for r in mine {
        let i = *at.entry(&r.run_id).or_insert_with(|| {
            by_run.push(Vec::new());
            by_run.len() - 1
        });
        by_run[i].push(r);
    }
    let per_run: Vec<Vec<Figure>> = by_run.iter().map(|rows| figures::figures(rows)).collect();
    figures::combine(&per_run, how)
}

fn matmul_size(rows: &[&ResultRow]) -> Option<(f64, f64, f64)> {
    let r = rows
        .iter()
        .filter(|r| r.kernel == Kernel::Sgemm)
        .max_by(|a, b| a.value.total_cmp(&b.value))?;
    let (m, n, k) = r.params.gemm()?;
    Some((m as f64, n as f64, k as f64))
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
