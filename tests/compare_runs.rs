//! `compare` across several runs of one adapter (medians, baselines) and on
//! the JSON `run` writes beside its CSV.

mod bounded;
mod common;

use bounded::refused;
use common::{hashflops, quick_hash_run, stderr};
use std::fs;

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/compare/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The line of `table` whose first cell is `label`.
fn table_line<'a>(table: &'a str, label: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.trim_start_matches('│').trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no {label:?} row: {table}"))
}

/// Three runs of one card: per run the upload figure (the better of the
/// two upload paths' plateaus) is 9.69, 10.5 and 3.04 GB/s, the paths'
/// own medians 3.04 and 3.73; the second run's download plateau is
/// unverified (and fastest); stream's cache-sized arrays are marked
/// `comparable=no` and are the fastest rows.
#[test]
fn a_median_over_runs_is_of_each_runs_figure_from_verified_rows() {
    let runs: Vec<String> = (1..=3)
        .map(|i| fixture(&format!("rtx3060-run{i}.csv")))
        .collect();
    let mut args = vec!["compare", "--merge", "median"];
    args.extend(runs.iter().map(String::as_str));
    let o = hashflops(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let t = String::from_utf8_lossy(&o.stdout);
    for (label, want) in [
        ("host link upload", "9.69 GB/s"),
        // The verified runs' 6.10 and 5.20: the worse of an even count.
        ("host link download", "5.20 GB/s"),
        ("stream triad", "338 GB/s"),
        ("stream copy", "350 GB/s"),
        ("round trip (lower is better)", "45.0 µs"),
        ("SHA-256d hash rate", "1.10 GH/s"),
        ("VRAM write", "290 GB/s"),
        ("VRAM check", "305 GB/s"),
        ("LLM decode llama2-7b q4_0", "48.2 tok/s"),
        ("LLM prefill llama2-7b q4_0", "1502 tok/s"),
    ] {
        let line = table_line(&t, label);
        assert!(line.contains(want), "{label}: want {want}: {line}");
    }
    assert!(!t.contains("3.73") && !t.contains("25.0"), "{t}");
    assert!(!t.contains("UNVERIFIED"), "{t}");
    assert!(!t.contains("ratios are"), "no baseline, no ratio note: {t}");
    assert!(t.contains("median of 3 runs"), "{t}");

    // Best: the best verified figure of any run.
    args[2] = "best";
    let t = String::from_utf8_lossy(&hashflops(&args).stdout).into_owned();
    assert!(
        table_line(&t, "host link upload").contains("10.5 GB/s"),
        "{t}"
    );
    assert!(
        table_line(&t, "host link download").contains("6.10 GB/s"),
        "{t}"
    );
    assert!(table_line(&t, "round trip").contains("40.0 µs"), "{t}");
}

#[test]
fn a_ratio_to_the_baseline_reads_the_right_way_round_for_times() {
    let mut args = vec!["compare", "--baseline", "0"];
    let files = [fixture("rtx3060-run1.csv"), fixture("cmp170hx.csv")];
    args.extend(files.iter().map(String::as_str));
    let o = hashflops(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let t = String::from_utf8_lossy(&o.stdout);
    // Twice the hash rate is 2x; twice the latency is half as good.
    assert!(
        table_line(&t, "SHA-256d").contains("2.20 GH/s (2.00x)"),
        "{t}"
    );
    let rt = table_line(&t, "round trip (lower is better)");
    assert!(rt.contains("90.0 µs (0.50x)"), "{rt}");
    assert!(t.contains(">1x better"), "{t}");
    assert!(
        t.contains("ratios are to the baseline adapter, above 1.00x is better"),
        "{t}"
    );
    // Without a baseline: no ratios, and no note about them.
    let o = hashflops(&["compare", &files[0], &files[1]]);
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(!t.contains("x)") && !t.contains("ratio"), "{t}");
}

#[test]
fn the_json_run_writes_gives_the_same_table_as_its_csv() {
    let _gpu = common::gpu();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("run.csv");
    let json = dir.path().join("run.json");
    let o = quick_hash_run(&[
        "--csv",
        csv.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let from_csv = hashflops(&["compare", csv.to_str().unwrap()]);
    let from_json = hashflops(&["compare", json.to_str().unwrap()]);
    assert_eq!(from_json.status.code(), Some(0), "{}", stderr(&from_json));
    assert_eq!(from_csv.status.code(), Some(0), "{}", stderr(&from_csv));
    let t = String::from_utf8_lossy(&from_json.stdout);
    assert!(t.contains("SHA-256d hash rate") && t.contains("H/s"), "{t}");
    assert_eq!(t, String::from_utf8_lossy(&from_csv.stdout));
    // Side by side with itself as a CSV: one run of one adapter, once each.
    let both = hashflops(&[
        "compare",
        json.to_str().unwrap(),
        csv.to_str().unwrap(),
        "--merge",
        "median",
    ]);
    assert_eq!(both.status.code(), Some(0), "{}", stderr(&both));
}

#[test]
fn a_bad_json_is_refused_in_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |name: &str, text: &str| {
        let p = d.join(name);
        fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let row = r#"{"run_id":"r","timestamp_utc":"t","tool_version":"0","host":"h","adapter_index":0,"adapter":"card","vendor_id":"0x10de","device_id":"0x0001","device_type":"cpu","backend":"vulkan","driver":"","driver_info":"","suite":"hash","kernel":"sha256d","params":"","metric":"hash_rate","unit":"H/s","value":VALUE,"min":1,"max":1,"cv_pct":0,"samples":5,"timing":"wall","verified":true,"bus_id":"","device_uuid":""}"#;
    let doc = |rows: &str| {
        format!("\n  {{\"tool\":\"hashflops\",\"schema_version\":2,\"rows\":[{rows}]}}")
    };
    let good = write("good.json", &doc(&row.replace("VALUE", "5e6")));
    let o = hashflops(&["compare", &good]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("5.00 MH/s"));
    let cases = [
        (
            "null.json",
            doc(&row.replace("VALUE", "null")),
            "null.json: rows[0]: malformed row: value is null",
        ),
        (
            "neg.json",
            doc(&row.replace("VALUE", "-1")),
            "neg.json: rows[0]: malformed row: value is -1",
        ),
        (
            "cut.json",
            doc(&row.replace("VALUE", "5")).replace("]}", ""),
            "cut.json:2: not valid JSON",
        ),
        (
            "other.json",
            "{\"name\": \"x\"}".into(),
            "other.json: not a hashflops results JSON",
        ),
        (
            "newer.json",
            "{\"tool\":\"hashflops\",\"schema_version\":99,\"rows\":[]}".into(),
            "newer.json: holds schema 99",
        ),
        (
            "empty.json",
            doc(""),
            "empty.json: holds a header but no results",
        ),
        (
            "many.json",
            doc(&vec!["{}"; hashflops::report::compare::MAX_ROWS + 1].join(",")),
            "more than 200000 result rows",
        ),
    ];
    for (name, text, want) in cases {
        let p = write(name, &text);
        refused(&["compare", &good, &p], want);
    }
    let big = d.join("big.json");
    fs::write(&big, "{").unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(hashflops::report::read::MAX_INPUT_BYTES + 1)
        .unwrap();
    refused(
        &["compare", big.to_str().unwrap()],
        "big.json: larger than 64 MiB",
    );
}

/// `run --suite hash --quick --csv F --json G` on the software adapter,
/// kept as written (the host renamed): the JSON and the CSV of one run give
/// one table, and together they are one run of one adapter.
#[test]
fn a_run_json_fixture_reads_as_its_csv() {
    let json = fixture("lavapipe-hash-quick.json");
    let csv = fixture("lavapipe-hash-quick.csv");
    let from_json = hashflops(&["compare", &json]);
    let from_csv = hashflops(&["compare", &csv]);
    assert_eq!(from_json.status.code(), Some(0), "{}", stderr(&from_json));
    let t = String::from_utf8_lossy(&from_json.stdout);
    assert!(table_line(&t, "SHA-256d hash rate").contains("MH/s"), "{t}");
    assert_eq!(t, String::from_utf8_lossy(&from_csv.stdout));
    let both = hashflops(&["compare", &json, &csv, "--baseline", "0"]);
    let t = String::from_utf8_lossy(&both.stdout);
    assert_eq!(both.status.code(), Some(0), "{}", stderr(&both));
    assert!(
        t.contains("(1.00x)") && !t.contains("1: "),
        "one column: {t}"
    );
}
