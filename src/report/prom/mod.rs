//! Result rows and health figures as a Prometheus text exposition, for
//! node_exporter's textfile collector, which farms already scrape into
//! Prometheus and Grafana.
//!
//! Only verified figures are exported, and every label is stable from one
//! run to the next, so a farm that writes the file every night keeps one
//! series per figure instead of a new one per run:
//!
//! - the adapter's identity: `host`, `adapter`, `bus_id`, `uuid` (the rows'
//!   `device_uuid`), plus `adapter_index` only for adapters the others
//!   cannot tell apart (same host, name, bus id and UUID: identical
//!   software adapters, or cards on an API that reports neither id);
//! - `suite` and `kernel`;
//! - the bounded dimensions the catalogue declares for a kernel
//!   ([`crate::catalogue::Kernel::dimensions`]), and nothing else of its
//!   params (`reps_per_sample`, repetitions, what the check covered,
//!   timings and the like change from run to run).
//!
//! Row figures are gauges named `hashflops_<metric>_<unit>`. Rows that
//! still share every label (the intervals of a soak, one kernel measured
//! at sizes that are no dimension) keep the best verified value: the
//! highest rate, the lowest latency. `hashflops_adapter_info` (value 1,
//! one per adapter) carries what describes a card but is no identity:
//! backend, driver, VRAM, the tool's version. `health --prom` writes the
//! `hashflops_health_*` gauges of [`render_health`], and only those.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::{ResultRow, RunMeta};
use crate::catalogue::Direction;
use crate::gpu::identity::hex_id;
use crate::gpu::AdapterDesc;

type Labels = Vec<(String, String)>;
type F64Gauge = Gauge<f64, AtomicU64>;

/// `H/s` -> `hashes_per_second`, as Prometheus names units (base units,
/// spelled out).
pub fn unit_name(unit: &str) -> String {
    match unit {
        "H/s" => "hashes_per_second".into(),
        "FLOP/s" => "flop_per_second".into(),
        "OP/s" => "ops_per_second".into(),
        "B/s" => "bytes_per_second".into(),
        "tok/s" => "tokens_per_second".into(),
        "s" => "seconds".into(),
        "B" => "bytes".into(),
        "W" => "watts".into(),
        "J" => "joules".into(),
        "C" | "°C" => "celsius".into(),
        "Hz" => "hertz".into(),
        "%" => "percent".into(),
        other => sanitize(other),
    }
}

/// Keeps `[a-zA-Z0-9_]`, everything else becomes `_`.
fn sanitize(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    while out.contains("__") {
        out = out.replace("__", "_");
    }
    out.trim_matches('_').to_string()
}

/// The metric name a row is exported under.
pub fn metric_name(row: &ResultRow) -> String {
    format!(
        "hashflops_{}_{}",
        sanitize(row.metric.name()),
        unit_name(&row.unit)
    )
}

/// The labels the catalogue declares for a row's kernel.
pub fn dimensions(row: &ResultRow) -> Labels {
    row.kernel
        .dimensions(&row.params)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// What names an adapter in the exposition.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Identity {
    host: String,
    adapter: String,
    bus_id: String,
    uuid: String,
}

impl Identity {
    fn of_row(r: &ResultRow) -> Identity {
        Identity {
            host: r.host.clone(),
            adapter: r.adapter.clone(),
            bus_id: r.bus_id.clone(),
            uuid: r.device_uuid.clone(),
        }
    }

    fn of_desc(meta: &RunMeta, d: &AdapterDesc) -> Identity {
        Identity {
            host: meta.host.clone(),
            adapter: d.name.clone(),
            bus_id: d.pci_bus_id.clone(),
            uuid: d.device_uuid.clone(),
        }
    }
}

/// The series of one exposition, collected before encoding so that rows
/// sharing every label can be resolved rather than overwrite each other.
struct Exposition {
    /// Identities that more than one adapter index has.
    ambiguous: BTreeSet<Identity>,
    /// name -> (help, labels -> value).
    families: BTreeMap<String, (String, BTreeMap<Labels, f64>)>,
}

impl Exposition {
    fn new(meta: &RunMeta, adapters: &[AdapterDesc], rows: &[ResultRow]) -> Exposition {
        let mut seen: BTreeMap<Identity, BTreeSet<usize>> = BTreeMap::new();
        for d in adapters {
            seen.entry(Identity::of_desc(meta, d))
                .or_default()
                .insert(d.index);
        }
        for r in rows {
            seen.entry(Identity::of_row(r))
                .or_default()
                .insert(r.adapter_index);
        }
        Exposition {
            ambiguous: seen
                .into_iter()
                .filter(|(_, ix)| ix.len() > 1)
                .map(|(id, _)| id)
                .collect(),
            families: BTreeMap::new(),
        }
    }

    fn identity_labels(&self, id: Identity, index: usize) -> Labels {
        let ambiguous = self.ambiguous.contains(&id);
        let mut labels: Labels = vec![
            ("host".into(), id.host),
            ("adapter".into(), id.adapter),
            ("bus_id".into(), id.bus_id),
            ("uuid".into(), id.uuid),
        ];
        if ambiguous {
            labels.push(("adapter_index".into(), index.to_string()));
        }
        labels
    }

    /// Sets a series; one already there keeps the better value.
    fn set(&mut self, name: &str, help: &str, labels: Labels, value: f64, lower_better: bool) {
        if !value.is_finite() {
            return;
        }
        let (_, series) = self
            .families
            .entry(name.to_string())
            .or_insert_with(|| (help.to_string(), BTreeMap::new()));
        series
            .entry(labels)
            .and_modify(|v| {
                if (lower_better && value < *v) || (!lower_better && value > *v) {
                    *v = value;
                }
            })
            .or_insert(value);
    }

    /// Every verified row, labelled by identity, suite, kernel and its
    /// dimensions (the catalogue's).
    fn rows(&mut self, rows: &[ResultRow]) {
        for row in rows.iter().filter(|r| r.verified) {
            let mut labels = self.identity_labels(Identity::of_row(row), row.adapter_index);
            labels.push(("suite".into(), row.suite.to_string()));
            labels.push(("kernel".into(), row.kernel.to_string()));
            labels.extend(dimensions(row));
            let help = format!(
                "hashflops {} in {}, verified (median of the timed samples; the best of rows with the same labels)",
                row.metric, row.unit
            );
            self.set(
                &metric_name(row),
                &help,
                labels,
                row.value,
                row.metric.direction() == Direction::Lower,
            );
        }
    }

    /// `hashflops_adapter_info`, one per adapter.
    fn info(&mut self, meta: &RunMeta, adapters: &[AdapterDesc]) {
        for d in adapters {
            let mut labels = self.identity_labels(Identity::of_desc(meta, d), d.index);
            labels.extend([
                ("backend".into(), d.backend.clone()),
                ("device_type".into(), d.device_type.clone()),
                ("vendor_id".into(), hex_id(d.vendor_id)),
                ("device_id".into(), hex_id(d.device_id)),
                ("driver".into(), d.driver.clone()),
                ("driver_info".into(), d.driver_info.clone()),
                (
                    "vram_bytes".into(),
                    d.vram_bytes.map_or(String::new(), |b| b.to_string()),
                ),
                ("tool_version".into(), meta.tool_version.clone()),
            ]);
            self.set(
                "hashflops_adapter_info",
                "the adapter measured: what describes it beyond its identity labels (always 1)",
                labels,
                1.0,
                false,
            );
        }
    }

    fn encode(self) -> String {
        let mut registry = Registry::default();
        for (name, (help, series)) in self.families {
            let family = Family::<Labels, F64Gauge>::default();
            for (labels, value) in series {
                family.get_or_create(&labels).set(value);
            }
            // The registry's prefix is empty, so the name is kept whole.
            registry.register(name, help, family);
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &registry);
        out
    }
}

/// The exposition of `run --prom`: the verified rows and one info metric
/// per adapter.
pub fn render(meta: &RunMeta, adapters: &[AdapterDesc], rows: &[ResultRow]) -> String {
    let mut x = Exposition::new(meta, adapters, rows);
    x.rows(rows);
    x.info(meta, adapters);
    x.encode()
}

mod health;
#[cfg(test)]
mod tests;

pub use health::{render_health, CardHealth};
