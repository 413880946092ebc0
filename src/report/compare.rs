//! `hashflops compare`: results CSVs from any number of runs, machines and
//! adapters, grouped by adapter, key metrics side by side.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use anyhow::Result;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use serde::Serialize;

use super::files::read_csv;
use super::summary::{KeyMetrics, Val, FIELDS};
use super::ResultRow;
use crate::reference_cards::{self, Card};
use crate::units::si;
use crate::usage_bail;

/// One adapter on one host, with every row measured on it.
#[derive(Clone, Debug, Serialize)]
pub struct Group {
    pub label: String,
    pub host: String,
    pub adapter: String,
    pub adapter_index: usize,
    pub backend: String,
    pub device_type: String,
    pub runs: usize,
    pub metrics: KeyMetrics,
    /// f32 matmul size (m, n, k) when the rows say it, for the roofline.
    pub matmul_mnk: Option<(f64, f64, f64)>,
}

/// The most adapters one comparison shows side by side: a table or chart
/// wider than this is unreadable, and the work stays bounded.
pub const MAX_GROUPS: usize = 64;

/// The most rows all files together may hold (each file is also limited in
/// bytes by `read_csv`), so memory stays bounded however many are passed.
pub const MAX_ROWS: usize = 200_000;

pub fn load(files: &[PathBuf]) -> Result<Vec<ResultRow>> {
    let mut rows = Vec::new();
    for f in files {
        if rows.len() > MAX_ROWS {
            usage_bail!(
                "{}: the files together hold more than {MAX_ROWS} result rows together; compare fewer",
                f.display()
            );
        }
        let r = read_csv(f)?;
        if r.is_empty() {
            usage_bail!("{}: holds a header but no results", f.display());
        }
        rows.extend(r);
    }
    Ok(rows)
}

/// Groups rows by (host, adapter index, adapter name, backend), in order of
/// first appearance. More than [`MAX_GROUPS`] adapters is a usage error.
pub fn group(rows: &[ResultRow]) -> Result<Vec<Group>> {
    type Key<'a> = (&'a str, usize, &'a str, &'a str);
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut members: Vec<(Key, Vec<&ResultRow>)> = Vec::new();
    for r in rows {
        let k = (
            r.host.as_str(),
            r.adapter_index,
            r.adapter.as_str(),
            r.backend.as_str(),
        );
        let i = *index.entry(k).or_insert_with(|| {
            members.push((k, Vec::new()));
            members.len() - 1
        });
        if members.len() > MAX_GROUPS {
            usage_bail!(
                "the files hold more than {MAX_GROUPS} adapters; compare at most {MAX_GROUPS} at a time"
            );
        }
        members[i].1.push(r);
    }
    let hosts: BTreeSet<&str> = members.iter().map(|(k, _)| k.0).collect();
    let groups = members
        .into_iter()
        .map(|((host, idx, adapter, backend), mine)| {
            let runs: BTreeSet<&str> = mine.iter().map(|r| r.run_id.as_str()).collect();
            let label = if hosts.len() > 1 {
                format!("{adapter} ({backend}, {host} #{idx})")
            } else {
                format!("{adapter} ({backend} #{idx})")
            };
            Group {
                label,
                device_type: mine[0].device_type.clone(),
                runs: runs.len(),
                metrics: KeyMetrics::from_rows(mine.iter().copied()),
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
    }
    let needle = sel.to_lowercase();
    let hits: Vec<usize> = (0..groups.len())
        .filter(|&i| groups[i].label.to_lowercase().contains(&needle))
        .collect();
    match hits.as_slice() {
        [i] => Ok(*i),
        [] => usage_bail!(
            "--baseline {sel:?} matches no adapter; adapters: {}",
            groups
                .iter()
                .enumerate()
                .map(|(i, g)| format!("{i}: {}", g.label))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => usage_bail!(
            "--baseline {sel:?} matches {} adapters; use its number",
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
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    let mut header = vec!["metric".to_string()];
    for (i, g) in groups.iter().enumerate() {
        let mark = if baseline == Some(i) {
            " [baseline]"
        } else {
            ""
        };
        header.push(format!("{i}: {}{mark}", g.label));
    }
    t.set_header(header);
    for (label, unit, get) in FIELDS {
        if groups.iter().all(|g| get(&g.metrics).is_none()) {
            continue;
        }
        let base = baseline.and_then(|b| get(&groups[b].metrics));
        let mut row = vec![Cell::new(label)];
        for g in groups {
            row.push(
                Cell::new(cell(get(&g.metrics), unit, base)).set_alignment(CellAlignment::Right),
            );
        }
        t.add_row(row);
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
