//! The expositions of rows and health figures, parsed back.

use super::health::MEMORY_STATES;
use super::*;
use crate::telemetry::Telemetry;
use crate::workloads::soak;

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

fn row(suite: &str, kernel: &str, metric: &str, unit: &str, value: f64, params: &str) -> ResultRow {
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
        suite: suite.parse().unwrap(),
        kernel: kernel.parse().unwrap(),
        params: params.parse().unwrap(),
        metric: metric.parse().unwrap(),
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
        row("transfer", "h2d_staging", "bandwidth", "B/s", 1.0e9, &format!("bytes=1048576;data=random, window rotating per transfer;{checked}")),
        row("transfer", "h2d_staging", "bandwidth", "B/s", 3.0e9, &format!("bytes=268435456;data=random, window rotating per transfer;plateau=median;{checked}")),
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
        .filter(|s| s.labels.get("kernel") == Some("h2d_staging"))
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
            kernel: "soak_hash".parse().unwrap(),
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
    let dims = |suite: &str, kernel: &str, params: &str| {
        dimensions(&row(suite, kernel, "bandwidth", "B/s", 1.0, params))
    };
    assert_eq!(
        dims("transfer", "d2h", "bytes=4096;reps_per_sample=9;data=a, b"),
        vec![("bytes".to_string(), "4096".to_string())]
    );
    assert!(dims("vram", "vram_check", "bytes=4096").is_empty());
    assert!(dims("hash", "sha256d", "model=x;format=y").is_empty());
}
