//! `--prom` through the real binary: the series a farm's Prometheus keeps
//! are the same from one run to the next, only verified figures are
//! exported, and `health --prom` writes the health figures.

mod common;
use common::{hashflops, mutate, run_with_shaders, stderr};

use std::collections::BTreeSet;
use std::path::Path;

type Series = BTreeSet<(String, Vec<(String, String)>)>;

fn scrape(path: &Path) -> (String, prometheus_parse::Scrape) {
    let text = std::fs::read_to_string(path).expect("the exposition was written");
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .unwrap_or_else(|e| panic!("{e}: {text}"));
    (text, scrape)
}

/// Metric names with their label sets: what Prometheus keeps as series.
fn series(s: &prometheus_parse::Scrape) -> Series {
    s.samples
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

fn names(s: &prometheus_parse::Scrape) -> BTreeSet<&str> {
    s.samples.iter().map(|s| s.metric.as_str()).collect()
}

#[test]
fn two_runs_give_the_same_series() {
    let _gpu = common::gpu();
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for name in ["a.prom", "b.prom"] {
        let prom = dir.path().join(name);
        let o = hashflops(&[
            "run",
            "--quick",
            "--quiet",
            "--suite",
            "hash,transfer",
            "--prom",
            prom.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        runs.push(scrape(&prom));
    }
    let (text, first) = &runs[0];
    assert_eq!(series(first), series(&runs[1].1), "{text}\n{}", runs[1].0);
    let n = names(first);
    for want in [
        "hashflops_adapter_info",
        "hashflops_hash_rate_hashes_per_second",
        "hashflops_bandwidth_bytes_per_second",
        "hashflops_latency_seconds",
    ] {
        assert!(n.contains(want), "{want} in {text}");
    }
    for s in &first.samples {
        // Nothing that changes from run to run, and no verified flag: only
        // verified figures are there.
        for gone in ["variant", "params", "verified", "run_id"] {
            assert!(s.labels.get(gone).is_none(), "{gone} in {text}");
        }
        if s.labels.get("suite") == Some("transfer") {
            let bytes = s.labels.get("bytes").expect("a transfer's size");
            assert!(bytes.parse::<u64>().is_ok(), "{bytes}");
        }
    }
    let info: Vec<_> = first
        .samples
        .iter()
        .filter(|s| s.metric == "hashflops_adapter_info")
        .collect();
    assert_eq!(info.len(), 1, "{text}");
    assert_eq!(info[0].value, prometheus_parse::Value::Gauge(1.0));
    for label in ["driver", "vram_bytes", "tool_version", "backend"] {
        assert!(info[0].labels.get(label).is_some(), "{label} in {text}");
    }
}

#[test]
fn an_unverified_hash_rate_is_not_exported() {
    let _gpu = common::gpu();
    let dir = tempfile::tempdir().unwrap();
    let prom = dir.path().join("r.prom");
    // Work on every second repetition only: the coverage check fails the
    // row, which is then unverified.
    let broken = mutate(
        hashflops::workloads::hash::WGSL,
        "let target_top = job.wc.x;",
        "let target_top = job.wc.x;\n    if ((first / count) % 2u == 1u) { return; }",
    );
    let run = run_with_shaders(
        "hash",
        &[("sha256d", broken)],
        &["--samples", "5", "--prom", prom.to_str().unwrap()],
    );
    assert_eq!(run.output.status.code(), Some(1), "{}", stderr(&run.output));
    assert!(run.rows().iter().any(|r| r["verified"] == false));
    let (text, s) = scrape(&prom);
    assert_eq!(
        names(&s),
        BTreeSet::from(["hashflops_adapter_info"]),
        "{text}"
    );
}

#[test]
fn health_writes_its_figures() {
    let _gpu = common::gpu();
    let dir = tempfile::tempdir().unwrap();
    let prom = dir.path().join("health.prom");
    let o = hashflops(&[
        "health",
        "--duration",
        "1s",
        "--quiet",
        "--prom",
        prom.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (text, s) = scrape(&prom);
    let n = names(&s);
    for want in [
        "hashflops_health_healthy",
        "hashflops_health_memory_status",
        "hashflops_health_memory_errors",
        "hashflops_health_memory_tested_bytes",
        "hashflops_health_stability_status",
        "hashflops_health_soak_seconds",
        "hashflops_health_soak_rate_hashes_per_second",
    ] {
        assert!(n.contains(want), "{want} in {text}");
    }
    // Only health's own families: node_exporter fails on a series that
    // two files in its folder both hold, and `run --prom` writes the rest.
    assert!(
        n.iter().all(|m| m.starts_with("hashflops_health_")),
        "{text}"
    );
    let uuid = s.samples[0].labels.get("uuid");
    assert!(uuid.is_some());
    for sample in &s.samples {
        assert_eq!(sample.labels.get("uuid"), uuid, "{text}");
        assert!(sample.labels.get("host").is_some(), "{text}");
    }
    // One state of each status set is the card's.
    for family in [
        "hashflops_health_memory_status",
        "hashflops_health_stability_status",
    ] {
        let on = s
            .samples
            .iter()
            .filter(|x| x.metric == family && x.value == prometheus_parse::Value::Gauge(1.0))
            .count();
        assert_eq!(on, 1, "{family} in {text}");
    }
}

#[test]
fn health_prom_takes_the_same_target_checks_as_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = hashflops(&["health", "--duration", "1s", "--prom", "-"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--prom"), "{}", stderr(&o));
    // A folder, and one file named by two outputs: refused before any test.
    let same = d.join("same.out");
    for args in [
        vec!["--prom", d.to_str().unwrap()],
        vec![
            "--json",
            same.to_str().unwrap(),
            "--prom",
            same.to_str().unwrap(),
        ],
    ] {
        let mut a = vec!["health", "--duration", "1s"];
        a.extend(args);
        let o = hashflops(&a);
        assert_eq!(o.status.code(), Some(2), "{a:?}: {}", stderr(&o));
        assert!(!same.exists());
    }
}
