//! The answer through the real binary: a verdict whose every claim names a
//! measured figure, in the terminal and in the JSON with its schema version.

mod common;
use common::{hashflops, stderr};

#[test]
fn run_ends_with_a_verdict_naming_its_figures() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = hashflops(&[
        "run",
        "--quick",
        "--quiet",
        "--suite",
        "hash,stream",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let verdict_at = text.find("== Verdict").expect("a verdict in the terminal");
    let summary_at = text.find("== Summary").expect("a summary");
    assert!(verdict_at < summary_at, "the verdict comes first");

    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["schema_version"], hashflops::report::SCHEMA_VERSION);
    let v = doc["verdict"].as_array().expect("verdict in the JSON");
    assert_eq!(v.len(), 1);
    let findings = v[0]["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        let code = f["code"].as_str().unwrap();
        assert!(
            code.contains('.')
                && code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_'),
            "{code}"
        );
        let text = f["text"].as_str().unwrap();
        assert!(
            text.chars().any(|c| c.is_ascii_digit()),
            "{code} names no figure: {text}"
        );
    }
    let codes: Vec<&str> = findings
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    // A decode ceiling comes from stream bandwidth, unless the arrays were
    // cache-sized (then no figure may be derived from it).
    let comparable = doc["rows"].as_array().unwrap().iter().any(|r| {
        r["suite"] == "stream" && !r["params"].as_str().unwrap().contains("comparable=no")
    });
    assert_eq!(
        codes.iter().any(|c| c.starts_with("llm.")),
        comparable,
        "{codes:?}"
    );
    assert!(codes.contains(&"standing.sha256d"), "{codes:?}");
}

#[test]
fn a_rig_gets_concurrent_links_and_the_network_arithmetic() {
    let listed = hashflops(&["list", "--json"]);
    let adapters: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).unwrap();
    assert!(!adapters.is_empty(), "{}", common::NO_ADAPTER);
    if adapters.len() < 2 {
        // One adapter is no rig; nothing to measure between cards.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("rig.json");
    let out = hashflops(&[
        "run",
        "--all-adapters",
        "--quick",
        "--quiet",
        "--suite",
        "transfer",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rig = &doc["rig"];
    assert_eq!(rig["verified"], true, "{rig}");
    let concurrent = rig["links_concurrent"]
        .as_array()
        .expect("concurrent links");
    assert_eq!(concurrent.len(), doc["adapters"].as_array().unwrap().len());
    for l in concurrent {
        assert!(l["upload_bs"].as_f64().unwrap() > 0.0 && l["download_bs"].as_f64().unwrap() > 0.0);
        assert_eq!(l["verified"], true);
    }
    assert!(!rig["card_to_card"].as_array().unwrap().is_empty());
    let network = rig["network"].as_array().unwrap();
    assert!(network
        .iter()
        .any(|r| r["link"].as_str().unwrap().contains("NVLink")));
    let verdict: Vec<&str> = rig["verdict"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        verdict
            .iter()
            .any(|v| v.starts_with("data-parallel training")),
        "{verdict:?}"
    );
}

#[test]
fn prom_export_parses_and_names_the_hash_rate() {
    let dir = tempfile::tempdir().unwrap();
    let prom = dir.path().join("hashflops.prom");
    let out = hashflops(&[
        "run",
        "--quick",
        "--quiet",
        "--suite",
        "hash",
        "--prom",
        prom.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&prom).unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    let hash = scrape
        .samples
        .iter()
        .find(|s| s.metric == "hashflops_hash_rate_hashes_per_second")
        .expect("the hash rate is exported");
    assert_eq!(hash.labels.get("suite"), Some("hash"));
    assert_eq!(hash.labels.get("kernel"), Some("sha256d"));
    // Only verified figures are exported, so no label says so.
    assert_eq!(hash.labels.get("verified"), None);
    match hash.value {
        prometheus_parse::Value::Gauge(v) => assert!(v > 0.0),
        ref other => panic!("{other:?}"),
    }
    let refused = hashflops(&["run", "--quick", "--suite", "hash", "--prom", "-"]);
    assert_eq!(refused.status.code(), Some(2));
}
