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
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    // A software adapter says so first: it measures this CPU, and how to
    // get the GPU's driver.
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap();
    if doc["adapters"][0]["device_type"] == "cpu" {
        assert!(
            first.contains("CPU implementation") && first.contains("driver"),
            "{first}"
        );
        assert!(
            !text.contains("VRAM"),
            "a CPU adapter has host memory:\n{text}"
        );
    } else {
        assert!(!text.contains("CPU implementation"), "{text}");
    }
    // Stream ran: its rows are never "not measured", cache-sized or not.
    let bandwidth = text
        .lines()
        .find(|l| l.trim_start().starts_with("memory bandwidth"))
        .expect("a memory bandwidth line");
    assert!(!bandwidth.contains("not measured"), "{bandwidth}");
    let verdict_at = text.find("== Verdict").expect("a verdict in the terminal");
    let summary_at = text.find("== Summary").expect("a summary");
    assert!(verdict_at < summary_at, "the verdict comes first");

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
        // Its figures as data: no program reads the sentence.
        let figures = f["figures"].as_array().expect("figures in the JSON");
        assert!(!figures.is_empty(), "{code} carries no figures");
        for x in figures {
            assert!(x["value"].is_f64() && x["unit"].is_string(), "{x}");
            assert!(
                ["measured", "derived", "published", "reported"]
                    .contains(&x["basis"].as_str().unwrap()),
                "{x}"
            );
            assert!(!x["source"].as_str().unwrap().is_empty(), "{x}");
        }
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
        codes.iter().any(|c| c.starts_with("llm.decode")),
        comparable,
        "{codes:?}"
    );
    // The catalogue lines judge the fit; a decode rate only from a figure.
    for f in findings
        .iter()
        .filter(|f| f["code"].as_str().unwrap().starts_with("llm.model_"))
    {
        let decode = f["figures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["name"] == "decode");
        assert!(comparable || !decode, "{}", f["text"]);
    }
    // The JSON's llm list: every catalogue model in every format it is
    // run in, and in the Q4_K_M mix where its rows hold K-quants.
    let llm = doc["llm"].as_array().expect("an llm list");
    let formats: usize = hashflops::domain::models::catalogue()
        .iter()
        .map(|m| hashflops::domain::quant::Quant::offered(m).len())
        .sum();
    assert_eq!(llm.len(), formats);
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

// The answer from fixed rows: a CPU adapter whose decode kernels read
// weights faster than its (cache-sized) stream, and a discrete card shaped
// like an H100. The verdict, the summary and the energy line are rendered as
// `run` prints them and serialised as its JSON carries them.

use common::runs::{answer, cpu, h100, row, F16_7B};
use hashflops::gpu::AdapterDesc;
use hashflops::report::ResultRow;

/// llvmpipe with its driver's 2 GiB heap, on a host with 23 GB available:
/// stream over cache-sized arrays at 667 MB/s copy, decode_f16 reading its
/// weights at 2.01 GB/s (3x the stream figure), and an unverified, faster
/// read that must be no bound.
fn cpu_run() -> (AdapterDesc, Vec<ResultRow>) {
    let (d, mut rows) = cpu();
    rows.push(ResultRow {
        verified: false,
        ..row(&d, "decode_f16", "bandwidth", 9e9, F16_7B)
    });
    (d, rows)
}

/// Figures before `unit` (e.g. "tok/s") in `s`, in order.
fn figures(s: &str, unit: &str) -> Vec<f64> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(at) = rest.find(unit) {
        let before = rest[..at].trim_end();
        let n: String = before
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if let Ok(v) = n.parse() {
            out.push(v);
        }
        rest = &rest[at + unit.len()..];
    }
    out
}

fn line<'a>(text: &'a str, start: &str) -> &'a str {
    text.lines()
        .find(|l| l.trim_start().starts_with(start))
        .unwrap_or_else(|| panic!("no line starting {start}:\n{text}"))
}

/// No figure is printed above a bound it is printed under: every share of
/// the bound is at most 100 %, the verdict's measured decode is at most the
/// ceiling beside it, and each measured decode at most its table ceiling.
fn no_figure_above_its_bound(text: &str) {
    for (at, _) in text.match_indices("% of the bound") {
        let share = figures(&text[..at + 1], "%");
        let share = *share.last().unwrap();
        assert!(share <= 100.0, "{share}% of the bound:\n{text}");
    }
    assert!(
        !text.contains("% of stream"),
        "a share of a lower figure:\n{text}"
    );
    let decode = line(text, "- LLM inference");
    let rates = figures(decode, "tok/s");
    assert_eq!(rates.len(), 2, "measured and ceiling: {decode}");
    assert!(rates[0] <= rates[1], "{decode}");
    for (format, table) in [("q4_0", "│ 7B q4_0 "), ("f16", "│ 7B f16 ")] {
        let Some(measured) = text.lines().find(|l| {
            l.trim_start()
                .starts_with(&format!("LLM decode 7B {format}"))
        }) else {
            continue;
        };
        let measured = figures(measured, "tok/s")[0];
        let row = line(text, table);
        let ceiling: f64 = row.split('┆').nth(3).unwrap().trim().parse().unwrap();
        assert!(measured <= ceiling, "{measured} above {ceiling}:\n{text}");
    }
}

/// The bound is named with the same kernel and value in the verdict, the
/// summary and the energy line, and in the JSON's summary and energy.
fn one_bound_everywhere(text: &str, json: &serde_json::Value, kernel: &str, rate: &str) {
    let named = format!("{kernel} {rate}");
    assert!(line(text, "- LLM inference").contains(&named), "{text}");
    assert!(
        line(text, "LLM decode ceiling").contains(&format!("{rate} (measured, {kernel})")),
        "{text}"
    );
    assert!(
        line(text, "energy per work").contains(&format!("({named})")),
        "{text}"
    );
    assert!(line(text, "- memory bandwidth").contains(&format!("({kernel}) {rate}")));
    let bound = &json["summaries"][0]["decode_bound"];
    assert_eq!(bound["kernel"], kernel);
    assert_eq!(json["energy"][0]["ceiling_bound"], kernel);
    assert_eq!(
        json["energy"][0]["ceiling_bandwidth_bs"],
        bound["bytes_per_s"]
    );
}

#[test]
fn a_cpu_adapter_is_bounded_by_its_fastest_verified_read_and_judged_by_host_memory() {
    let (d, rows) = cpu_run();
    let (text, json) = answer(&d, &rows);
    no_figure_above_its_bound(&text);
    one_bound_everywhere(&text, &json, "decode_f16's own weight read", "2.01 GB/s");
    // The note says why the bound is not a stream figure.
    assert!(text.contains("stream arrays were cache-sized"), "{text}");
    // Measured rows are never "not measured": cache-sized, and named so.
    let bw = line(&text, "memory bandwidth");
    assert!(!bw.contains("not measured"), "{bw}");
    assert!(
        bw.contains("triad 1.20 GB/s (cache-sized, not a memory figure)")
            && bw.contains("copy 667 MB/s (cache-sized"),
        "{bw}"
    );
    let m = &json["summaries"][0]["metrics"];
    assert_eq!(m["stream_triad"], serde_json::Value::Null);
    assert_eq!(m["stream_triad_cache_sized"]["value"], 1.2e9);
    // Host memory, not VRAM: 23 GB available holds a 13B at Q4_0 (the
    // reference cards' sources may still name their VRAM).
    assert!(
        !text.lines().any(|l| l.trim_start().starts_with("VRAM")
            || l.contains("fits VRAM")
            || l.contains("[vram.")),
        "{text}"
    );
    let codes: Vec<&str> = json["verdict"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"host_memory.fit"), "{codes:?}");
    let m = hashflops::report::verdict::largest_q4_fit(23_000_000_000).unwrap();
    assert!(
        text.contains(&format!(
            "host memory 23.0 GB available (a CPU adapter computes in the host's memory): {} Q4_0 ({}) fits",
            m.name,
            hashflops::report::verdict::q4_needed(&m)
        )),
        "{text}"
    );
    assert!(text.contains("fits host memory"), "{text}");
}

#[test]
fn an_h100_is_bounded_by_its_stream_copy_everywhere() {
    let (d, rows) = h100();
    let (text, json) = answer(&d, &rows);
    no_figure_above_its_bound(&text);
    one_bound_everywhere(&text, &json, "stream copy", "3.00 TB/s");
    assert!(
        !line(&text, "memory bandwidth").contains("not measured"),
        "{text}"
    );
    assert!(!text.contains("cache-sized"), "{text}");
    assert!(!text.contains("under-read"), "{text}");
    assert!(
        text.contains("[vram.fit]") && !text.contains("host memory"),
        "{text}"
    );
    // FMA at twice mul+add is normal, said the same in verdict and summary.
    assert!(!text.contains("throttled") && line(&text, "FMA : unfused").contains("normal"));
}

#[test]
fn a_faster_llm_read_than_stream_on_a_gpu_is_said_to_under_read() {
    let (d, mut rows) = h100();
    // The llm kernels read faster than stream: the bound is theirs.
    for r in rows
        .iter_mut()
        .filter(|r| r.kernel.to_string() == "decode_q4_0")
    {
        r.value = match r.metric.name() {
            "bandwidth" => 3.2e12,
            _ => 3.2e12 / 3642753024.0,
        };
    }
    let (text, json) = answer(&d, &rows);
    no_figure_above_its_bound(&text);
    one_bound_everywhere(&text, &json, "decode_q4_0's own weight read", "3.20 TB/s");
    assert!(
        text.contains("the stream kernels under-read this adapter: stream copy reached 3.00 TB/s"),
        "{text}"
    );
}
