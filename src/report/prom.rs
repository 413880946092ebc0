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
//! - the bounded dimensions of a kernel named in [`DIMENSIONS`], taken from
//!   the row's `params`, and nothing else of them (`reps_per_sample`,
//!   repetitions, what the check covered, timings and the like change from
//!   run to run).
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
use crate::gpu::identity::hex_id;
use crate::gpu::AdapterDesc;
use crate::telemetry::Telemetry;
use crate::workloads::{soak, vram};

type Labels = Vec<(String, String)>;
type F64Gauge = Gauge<f64, AtomicU64>;

/// The only parts of a row's `params` that become labels: `(suite, key)`,
/// the label named as the key. Each must take a handful of values on a
/// card, the same on every run with the same flags; anything else in
/// `params` stays out. This is the one place to change (until rows carry
/// typed dimensions of their own); a kernel that gains a bounded dimension
/// (a context length, an epoch) adds it here.
pub const DIMENSIONS: [(&str, &str); 4] = [
    // The size of one transfer: a fixed ladder (1 MiB times 4 up to a cap
    // set by --quick/--full, the adapter kind and its buffer limit), and
    // 256 B for the round trip. Not the VRAM test's `bytes`: that is what
    // was free on the card, different every run.
    ("transfer", "bytes"),
    // One of the model shapes compiled in (`llama2-7b`, ...).
    ("llm", "model"),
    // One of the weight formats compiled in (`q4_0`, `q8_0`, `f16`).
    ("llm", "format"),
    // Prompt tokens per prefill batch: fixed per scale and adapter kind.
    ("llm", "batch"),
];

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
        sanitize(&row.metric),
        unit_name(&row.unit)
    )
}

/// A lower value is the better one (latencies); otherwise higher is.
fn lower_is_better(unit: &str) -> bool {
    unit == "s"
}

/// The labels [`DIMENSIONS`] takes from a row's params, in params order.
pub fn dimensions(suite: &str, params: &str) -> Labels {
    params
        .split(';')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| DIMENSIONS.contains(&(suite, k.trim())))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
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
    /// [`DIMENSIONS`].
    fn rows(&mut self, rows: &[ResultRow]) {
        for row in rows.iter().filter(|r| r.verified) {
            let mut labels = self.identity_labels(Identity::of_row(row), row.adapter_index);
            labels.push(("suite".into(), row.suite.clone()));
            labels.push(("kernel".into(), row.kernel.clone()));
            labels.extend(dimensions(&row.suite, &row.params));
            let help = format!(
                "hashflops {} in {}, verified (median of the timed samples; the best of rows with the same labels)",
                row.metric, row.unit
            );
            self.set(
                &metric_name(row),
                &help,
                labels,
                row.value,
                lower_is_better(&row.unit),
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

/// What `health` found on one card, for [`render_health`].
pub struct CardHealth {
    pub adapter: AdapterDesc,
    /// The card's verdict is `healthy`.
    pub healthy: bool,
    /// `None`: the VRAM test failed or was interrupted.
    pub memory: Option<vram::Memory>,
    /// `None`: the soak failed or was interrupted.
    pub stability: Option<soak::Stability>,
    pub telemetry: Telemetry,
}

/// The states `hashflops_health_memory_status` always lists (a state set:
/// one series per state, 1 for the card's), so that the series stay the
/// same whatever the outcome.
const MEMORY_STATES: [&str; 3] = ["OK", "faulty", "not run"];
/// The same for `hashflops_health_stability_status`.
const STABILITY_STATES: [&str; 5] = [
    "stable",
    "unstable",
    "results differ",
    "not judged",
    "not run",
];

/// The exposition of `health --prom`: per card its verdict, the VRAM test,
/// the soak, the link and the power drawn where they were read, as
/// `hashflops_health_*` gauges with the identity labels of [`render`]. Only
/// those: node_exporter's textfile collector merges every file in its
/// folder and fails on a series two files both hold, so the rows and
/// `hashflops_adapter_info` stay in `run`'s file and a `health` file can
/// sit beside it.
pub fn render_health(meta: &RunMeta, cards: &[CardHealth]) -> String {
    let adapters: Vec<AdapterDesc> = cards.iter().map(|c| c.adapter.clone()).collect();
    let mut x = Exposition::new(meta, &adapters, &[]);
    for c in cards {
        x.card(meta, c);
    }
    x.encode()
}

impl Exposition {
    fn card(&mut self, meta: &RunMeta, c: &CardHealth) {
        let id = self.identity_labels(Identity::of_desc(meta, &c.adapter), c.adapter.index);
        let with = |extra: &[(&str, &str)]| -> Labels {
            let mut l = id.clone();
            l.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            l
        };
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        self.set(
            "hashflops_health_healthy",
            "1 when health's verdict on the card is healthy, else 0",
            id.clone(),
            flag(c.healthy),
            false,
        );

        let memory = c.memory.as_ref().map_or("not run", |m| m.status.as_str());
        for state in states(&MEMORY_STATES, memory) {
            self.set(
                "hashflops_health_memory_status",
                "the VRAM test's outcome: 1 for the card's status, 0 for the others",
                with(&[("status", state)]),
                flag(state == memory),
                false,
            );
        }
        if let Some(m) = &c.memory {
            self.set(
                "hashflops_health_memory_errors",
                "words the VRAM test found with flipped bits",
                id.clone(),
                m.errors as f64,
                false,
            );
            self.set(
                "hashflops_health_memory_tested_bytes",
                "bytes of VRAM the test covered",
                id.clone(),
                m.bytes_tested as f64,
                false,
            );
            if let Some(share) = m.coverage_share {
                self.set(
                    "hashflops_health_memory_coverage_ratio",
                    "the share of the reported VRAM the test covered",
                    id.clone(),
                    share,
                    false,
                );
            }
        }

        let stability = c
            .stability
            .as_ref()
            .map_or("not run", |s| s.status.as_str());
        for state in states(&STABILITY_STATES, stability) {
            self.set(
                "hashflops_health_stability_status",
                "the soak's outcome: 1 for the card's status, 0 for the others",
                with(&[("status", state)]),
                flag(state == stability),
                false,
            );
        }
        if let Some(s) = &c.stability {
            self.set(
                "hashflops_health_soak_seconds",
                "how long the soak ran",
                id.clone(),
                s.seconds,
                false,
            );
            // Rates of a soak whose results differed are no verified figures.
            if !s.results_differ {
                if let Some(r) = s.worst_over_best {
                    self.set(
                        "hashflops_health_soak_worst_over_best_ratio",
                        "the soak's worst interval over its best, the lowest of its loads",
                        id.clone(),
                        r,
                        false,
                    );
                }
                if let Some(d) = s.worst_drop_pct {
                    self.set(
                        "hashflops_health_soak_drop_percent",
                        "the drop from the soak's first window to its last, the largest of its loads",
                        id.clone(),
                        d,
                        false,
                    );
                }
                for series in &s.series {
                    let name = format!("hashflops_health_soak_rate_{}", unit_name(&series.unit));
                    let help = format!(
                        "a soak load's mean rate in {} over its first and last window",
                        series.unit
                    );
                    for (window, v) in
                        [("first", series.first_window), ("last", series.last_window)]
                    {
                        self.set(
                            &name,
                            &help,
                            with(&[("kernel", &series.kernel), ("window", window)]),
                            v,
                            false,
                        );
                    }
                }
            }
        }

        if let Some(link) = &c.telemetry.link {
            for (state, gts, width) in [
                ("current", link.current_gts, link.current_width),
                ("max", link.max_gts, link.max_width),
            ] {
                if let Some(g) = gts {
                    self.set(
                        "hashflops_health_link_speed_transfers_per_second",
                        "the PCIe link's rate per lane: as trained (current) and what card and slot are capable of (max)",
                        with(&[("state", state)]),
                        g * 1e9,
                        false,
                    );
                }
                if let Some(w) = width {
                    self.set(
                        "hashflops_health_link_width_lanes",
                        "the PCIe link's lanes: as trained (current) and what card and slot are capable of (max)",
                        with(&[("state", state)]),
                        w as f64,
                        false,
                    );
                }
            }
        }

        let watts: Vec<f64> = c
            .telemetry
            .readings
            .iter()
            .filter(|r| r.quantity == "power")
            .map(|r| r.value)
            .collect();
        if !watts.is_empty() {
            let mean = watts.iter().sum::<f64>() / watts.len() as f64;
            let peak = watts.iter().cloned().fold(f64::MIN, f64::max);
            self.set(
                "hashflops_health_power_mean_watts",
                "the card's mean power draw over the health run",
                id.clone(),
                mean,
                false,
            );
            self.set(
                "hashflops_health_power_peak_watts",
                "the card's highest power reading over the health run",
                id.clone(),
                peak,
                false,
            );
        }
    }
}

/// `known`, and `actual` after them if it is none of them.
fn states<'a>(known: &[&'a str], actual: &'a str) -> Vec<&'a str> {
    let mut out = known.to_vec();
    if !out.contains(&actual) {
        out.push(actual);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "deadbeef-0001-0203-0405-06070809abcd";

    fn meta() -> RunMeta {
        RunMeta {
            run_id: "r1".into(),
            timestamp_utc: "2026-01-01T00:00:00Z".into(),
            tool_version: "0.1.0".into(),
            host: "rig-07".into(),
        }
    }

    fn desc(index: usize, bus: &str, uuid: &str) -> AdapterDesc {
        AdapterDesc {
            index,
            name: "GeForce \"GTX\" 1070".into(),
            device_id: 0x1b81,
            driver: "nvidia".into(),
            driver_info: "535.1".into(),
            pci_bus_id: bus.into(),
            device_uuid: uuid.into(),
            vram_source: "test".into(),
            ..crate::report::summary::fixtures::desc(Some(8 << 30))
        }
    }

    fn row(
        suite: &str,
        kernel: &str,
        metric: &str,
        unit: &str,
        value: f64,
        params: &str,
    ) -> ResultRow {
        ResultRow {
            run_id: "r1".into(),
            timestamp_utc: "2026-01-01T00:00:00Z".into(),
            tool_version: "0.1.0".into(),
            host: "rig-07".into(),
            adapter_index: 0,
            adapter: "GeForce \"GTX\" 1070".into(),
            vendor_id: "0x10de".into(),
            device_id: "0x1b81".into(),
            device_type: "discrete".into(),
            backend: "vulkan".into(),
            driver: "nvidia".into(),
            driver_info: "".into(),
            suite: suite.into(),
            kernel: kernel.into(),
            params: params.into(),
            metric: metric.into(),
            unit: unit.into(),
            value,
            min: value,
            max: value,
            cv_pct: 1.0,
            samples: 5,
            timing: "gpu-timestamp".into(),
            verified: true,
            bus_id: "0000:01:00.0".into(),
            device_uuid: UUID.into(),
        }
    }

    fn parse(text: &str) -> prometheus_parse::Scrape {
        prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect(text)
    }

    /// Metric names with their labels, sorted: what a Prometheus server
    /// would keep as series.
    fn series(text: &str) -> BTreeSet<(String, Vec<(String, String)>)> {
        parse(text)
            .samples
            .iter()
            .map(|s| {
                let mut l: Vec<(String, String)> = s
                    .labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                l.sort();
                (s.metric.clone(), l)
            })
            .collect()
    }

    fn value(s: &prometheus_parse::Sample) -> f64 {
        match s.value {
            prometheus_parse::Value::Gauge(v) => v,
            ref other => panic!("{other:?}"),
        }
    }

    /// One run's rows; `n` stands for everything that changes from run to
    /// run (repetitions, what the check covered).
    fn run_rows(n: u32) -> Vec<ResultRow> {
        let checked = format!(
            "reps_per_sample={n};repetitions={};checked_share=0.{n}",
            n * 7
        );
        vec![
            row("hash", "sha256d", "hash_rate", "H/s", 1.1e9 + n as f64, &format!("nonces_per_dispatch=360448;share_bits=16;{checked}")),
            row("stream", "triad", "bandwidth", "B/s", 2.3e11, &format!("array_bytes=268435456;{checked}")),
            row("transfer", "h2d", "bandwidth", "B/s", 1.0e9, &format!("bytes=1048576;data=random, window rotating per transfer;{checked}")),
            row("transfer", "h2d", "bandwidth", "B/s", 3.0e9, &format!("bytes=268435456;data=random, window rotating per transfer;plateau=median;{checked}")),
            row("transfer", "round_trip", "latency", "s", 2.5e-5, &format!("bytes=256;{checked}")),
            row("llm", "prefill_q4_0", "token_rate", "tok/s", 900.0, &format!("model=llama2-7b;format=q4_0;layout=row_per_lane;batch=512;token_share=0.0{n}")),
            row("llm", "decode_q4_0", "token_rate", "tok/s", 40.0, &format!("model=llama2-7b;format=q4_0;layers_resident={n};layers_per_rep={n}")),
            row("llm", "decode_q4_0", "token_rate", "tok/s", 9.0, &format!("model=llama2-13b;format=q4_0;layers_resident={n}")),
            row("vram", "vram_write", "bandwidth", "B/s", 2.0e11, &format!("bytes={};read_modify_write=yes", 7_000_000_000u64 + n as u64)),
        ]
    }

    #[test]
    fn two_runs_give_the_same_series() {
        let adapters = [desc(0, "0000:01:00.0", UUID)];
        let a = render(&meta(), &adapters, &run_rows(3));
        let b = render(&meta(), &adapters, &run_rows(453));
        assert_eq!(series(&a), series(&b), "{a}\n{b}");
        // Every row is a series of its own, with the info metric beside them.
        assert_eq!(series(&a).len(), run_rows(3).len() + 1, "{a}");
    }

    #[test]
    fn labels_are_the_identity_the_kernel_and_its_dimensions() {
        let text = render(&meta(), &[desc(0, "0000:01:00.0", UUID)], &run_rows(3));
        let scrape = parse(&text);
        for s in &scrape.samples {
            assert!(s.metric.starts_with("hashflops_"));
            assert_eq!(s.labels.get("host"), Some("rig-07"));
            // The quotes were escaped (the parser returns values as written),
            // so they could not end the label early.
            assert_eq!(s.labels.get("adapter"), Some(r#"GeForce \"GTX\" 1070"#));
            assert_eq!(s.labels.get("bus_id"), Some("0000:01:00.0"));
            assert_eq!(s.labels.get("uuid"), Some(UUID));
            for gone in ["variant", "verified", "adapter_index", "params"] {
                assert!(s.labels.get(gone).is_none(), "{gone} in {text}");
            }
            if s.metric == "hashflops_adapter_info" {
                continue;
            }
            let mut names: Vec<&str> = s.labels.keys().map(|k| k.as_str()).collect();
            names.sort();
            let mut want = vec!["adapter", "bus_id", "host", "kernel", "suite", "uuid"];
            match s.labels.get("suite") {
                Some("transfer") => want.push("bytes"),
                Some("llm") if s.labels.get("kernel") == Some("prefill_q4_0") => {
                    want.extend(["batch", "format", "model"])
                }
                Some("llm") => want.extend(["format", "model"]),
                _ => {}
            }
            want.sort();
            assert_eq!(names, want, "{text}");
        }
        let h2d: Vec<_> = scrape
            .samples
            .iter()
            .filter(|s| s.labels.get("kernel") == Some("h2d"))
            .collect();
        assert_eq!(h2d.len(), 2, "two sizes stay two series");
        assert!(h2d.iter().any(|s| s.labels.get("bytes") == Some("1048576")));
        let hash = scrape
            .samples
            .iter()
            .find(|s| s.metric == "hashflops_hash_rate_hashes_per_second")
            .unwrap();
        assert_eq!(value(hash), 1.1e9 + 3.0);
    }

    #[test]
    fn unverified_rows_are_left_out() {
        let mut rows = run_rows(3);
        rows[0].verified = false;
        let text = render(&meta(), &[desc(0, "0000:01:00.0", UUID)], &rows);
        assert!(!text.contains("hashflops_hash_rate"), "{text}");
        assert_eq!(series(&text).len(), rows.len(), "{text}");
    }

    #[test]
    fn rows_sharing_every_label_keep_the_best_verified_value() {
        let mut rows = vec![
            row(
                "soak",
                "soak_hash",
                "hash_rate",
                "H/s",
                5.0,
                "interval=0;t_s=0.0",
            ),
            row(
                "soak",
                "soak_hash",
                "hash_rate",
                "H/s",
                7.0,
                "interval=1;t_s=3.0",
            ),
            row(
                "soak",
                "soak_hash",
                "hash_rate",
                "H/s",
                9.0,
                "interval=2;t_s=6.0",
            ),
            row("transfer", "round_trip", "latency", "s", 3e-5, "bytes=256"),
            row("transfer", "round_trip", "latency", "s", 2e-5, "bytes=256"),
            row("transfer", "round_trip", "latency", "s", 1e-5, "bytes=256"),
        ];
        // The fastest of each is unverified: it is no figure.
        rows[2].verified = false;
        rows[5].verified = false;
        let scrape = parse(&render(&meta(), &[], &rows));
        assert_eq!(scrape.samples.len(), 2);
        for s in &scrape.samples {
            let want = if s.metric == "hashflops_latency_seconds" {
                2e-5
            } else {
                7.0
            };
            assert_eq!(value(s), want, "{}", s.metric);
        }
    }

    #[test]
    fn the_info_metric_describes_each_adapter_once() {
        let adapters = [desc(0, "0000:01:00.0", UUID), desc(1, "0000:02:00.0", "")];
        let scrape = parse(&render(&meta(), &adapters, &run_rows(3)));
        let info: Vec<_> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == "hashflops_adapter_info")
            .collect();
        assert_eq!(info.len(), 2);
        let first = info
            .iter()
            .find(|s| s.labels.get("bus_id") == Some("0000:01:00.0"))
            .unwrap();
        assert_eq!(value(first), 1.0);
        assert_eq!(first.labels.get("uuid"), Some(UUID));
        assert_eq!(first.labels.get("driver"), Some("nvidia"));
        assert_eq!(first.labels.get("driver_info"), Some("535.1"));
        assert_eq!(first.labels.get("vram_bytes"), Some("8589934592"));
        assert_eq!(first.labels.get("tool_version"), Some("0.1.0"));
        assert_eq!(first.labels.get("backend"), Some("vulkan"));
        assert_eq!(first.labels.get("vendor_id"), Some("0x10de"));
    }

    #[test]
    fn adapters_nothing_else_tells_apart_get_their_index() {
        // Two identical cards with no bus id or UUID (a GL driver, say).
        let adapters = [desc(0, "", ""), desc(1, "", "")];
        let mut rows = Vec::new();
        for d in &adapters {
            let mut r = row(
                "hash",
                "sha256d",
                "hash_rate",
                "H/s",
                1e9 + d.index as f64,
                "",
            );
            r.adapter_index = d.index;
            r.bus_id.clear();
            r.device_uuid.clear();
            rows.push(r);
        }
        let scrape = parse(&render(&meta(), &adapters, &rows));
        assert_eq!(scrape.samples.len(), 4, "two rows, two info");
        for s in &scrape.samples {
            assert!(s.labels.get("adapter_index").is_some(), "{s:?}");
        }
        // Cards with a bus id never carry one.
        let scrape = parse(&render(
            &meta(),
            &[desc(0, "0000:01:00.0", UUID)],
            &run_rows(1),
        ));
        assert!(scrape
            .samples
            .iter()
            .all(|s| s.labels.get("adapter_index").is_none()));
    }

    #[test]
    fn health_figures_are_gauges_with_the_same_identity() {
        let d = desc(0, "0000:01:00.0", UUID);
        let stability = soak::Stability {
            status: "stable".into(),
            seconds: 30.0,
            intervals: 10,
            window_s: 6.0,
            worst_over_best: Some(0.99),
            worst_drop_pct: Some(0.5),
            results_differ: false,
            interrupted: false,
            series: vec![soak::Series {
                kernel: "soak_hash".into(),
                unit: "H/s".into(),
                points: vec![(0.0, 1e9), (3.0, 0.99e9)],
                first_window: 1e9,
                last_window: 0.99e9,
                drop_pct: 1.0,
                worst_over_best: 0.99,
            }],
            finding: "soak: stable".into(),
        };
        let telemetry = Telemetry {
            readings: vec![],
            unavailable: vec![],
            link: Some(crate::telemetry::LinkState {
                current_gts: Some(2.5),
                current_width: Some(1),
                max_gts: Some(8.0),
                max_width: Some(16),
                source: "sysfs",
            }),
        };
        let card = CardHealth {
            adapter: d.clone(),
            healthy: true,
            memory: None,
            stability: Some(stability),
            telemetry,
        };
        let text = render_health(&meta(), &[card]);
        let scrape = parse(&text);
        let names: BTreeSet<&str> = scrape.samples.iter().map(|s| s.metric.as_str()).collect();
        for want in [
            "hashflops_health_healthy",
            "hashflops_health_memory_status",
            "hashflops_health_stability_status",
            "hashflops_health_soak_seconds",
            "hashflops_health_soak_rate_hashes_per_second",
            "hashflops_health_link_speed_transfers_per_second",
            "hashflops_health_link_width_lanes",
        ] {
            assert!(names.contains(want), "{want} in {text}");
        }
        // Not read, not run: absent; and nothing a run's file holds too.
        assert!(!names.contains("hashflops_health_power_mean_watts"));
        assert!(names.iter().all(|n| n.starts_with("hashflops_health_")));
        assert!(!names.contains("hashflops_health_memory_errors"));
        for s in &scrape.samples {
            assert_eq!(s.labels.get("uuid"), Some(UUID));
            assert_eq!(s.labels.get("bus_id"), Some("0000:01:00.0"));
        }
        let status: Vec<_> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == "hashflops_health_memory_status")
            .collect();
        assert_eq!(status.len(), MEMORY_STATES.len());
        for s in status {
            let on = s.labels.get("status") == Some("not run");
            assert_eq!(value(s), if on { 1.0 } else { 0.0 });
        }
        let max = scrape
            .samples
            .iter()
            .find(|s| {
                s.metric == "hashflops_health_link_speed_transfers_per_second"
                    && s.labels.get("state") == Some("max")
            })
            .unwrap();
        assert_eq!(value(max), 8e9);
    }

    #[test]
    fn dimensions_come_only_from_the_list() {
        assert_eq!(
            dimensions("transfer", "bytes=4096;reps_per_sample=9;data=a, b"),
            vec![("bytes".to_string(), "4096".to_string())]
        );
        assert!(dimensions("vram", "bytes=4096").is_empty());
        assert!(dimensions("hash", "model=x;format=y").is_empty());
    }
}
