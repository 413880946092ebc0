//! The real binary, end to end: exit codes, one-line errors, result files.

mod common;

use common::{hashflops, quick_hash_run, stderr};
use std::fs;
use std::path::Path;

const GENESIS: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";

/// Exit code 2 with exactly one non-empty line on stderr and no panic.
fn assert_usage_error(args: &[&str], mentions: &str) {
    let o = hashflops(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{args:?} printed more than one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.to_lowercase().contains(&mentions.to_lowercase()),
        "{args:?}: expected {mentions:?} in {err:?}"
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    assert_usage_error(&["run", "--epoch", "2048"], "not an Ethash epoch");
    assert_usage_error(&["run", "--epoch", "-1"], "not an Ethash epoch");
    assert_usage_error(&["run", "--block", "61440000"], "epoch 2048");
    assert_usage_error(&["run", "--block", "1e6"], "not a block number");
    assert_usage_error(&["run", "--epoch", "3", "--block", "5"], "--block");
    assert_usage_error(
        &["run", "--llm-formats", "q4_k,q4_k_m"],
        "not a weight format",
    );
    assert_usage_error(&["run", "--llm-formats", ""], "not a weight format");
    for bad in ["0", "-0.3", "nan", "inf", "abc", ""] {
        assert_usage_error(&["run", "--power-price", bad], "not a power price");
    }
    let bad_hex = format!("zz{}", &GENESIS[2..]);
    assert_usage_error(&["mine", "--header", &bad_hex], "hex");
    assert_usage_error(&["mine", "--header", &GENESIS[..150]], "160 hex digits");
    assert_usage_error(
        &["mine", "--header", GENESIS, "--count", "0"],
        "1..=4294967296",
    );
    assert_usage_error(
        &[
            "mine",
            "--header",
            GENESIS,
            "--start",
            "4294967000",
            "--count",
            "1000",
        ],
        "past the last nonce",
    );
    assert_usage_error(
        &["mine", "--header", GENESIS, "--target", "12"],
        "64 hex digits",
    );
    assert_usage_error(
        &[
            "mine",
            "--header",
            GENESIS,
            "--adapter",
            "no-such-card-xyz",
            "--count",
            "5",
        ],
        "no adapter matches",
    );
    assert_usage_error(
        &["run", "--adapter", "999", "--suite", "hash"],
        "no adapter with index",
    );
    assert_usage_error(&["run", "--suite", "hash,bogus"], "unknown suite");
    assert_usage_error(&["run", "--samples", "2"], "samples");
    // A missing argument is named, and every range is the real one, even
    // for a number too large for any integer type.
    assert_usage_error(&["mine"], "--header");
    assert_usage_error(&["compare"], "FILE");
    for n in ["0", "256", "99999999999", "999999999999999999999999"] {
        assert_usage_error(
            &["mine", "--header", GENESIS, "--share-bits", n],
            "--share-bits <N>': \"",
        );
        assert_usage_error(&["mine", "--header", GENESIS, "--share-bits", n], "1..=255");
    }
    assert_usage_error(
        &["mine", "--header", GENESIS, "--start", "-1"],
        "0..=4294967295",
    );
    assert_usage_error(&["run", "--samples", "-5"], "5..=1000");
    assert_usage_error(
        &[
            "mine",
            "--header",
            GENESIS,
            "--count",
            "99999999999999999999",
        ],
        "1..=4294967296",
    );
    assert_usage_error(&["run", "--samples", "99999999999999999999"], "5..=1000");
    assert_usage_error(&["run", "--m", "0"], "1..=4294967295");
    // Headers are counted and located in characters, not bytes.
    assert_usage_error(&["mine", "--header", &"é".repeat(80)], "got 80 characters");
    let one_bad = format!("{}é{}", &GENESIS[..7], &GENESIS[8..]);
    assert_usage_error(&["mine", "--header", &one_bad], "'é' at position 7");
    assert_usage_error(
        &[
            "run",
            "--suite",
            "hash",
            "--shader-dir",
            "/no-such-folder-hashflops",
        ],
        "no such folder",
    );
    // Result files that cannot take the rows are refused before measuring.
    assert_usage_error(
        &["run", "--csv", "/no-such-folder-hashflops/r.csv"],
        "does not exist",
    );
}

fn header_of(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn csv_appends_under_one_header_and_json_carries_the_rows() {
    let _gpu = common::gpu();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("r.csv");
    let json = dir.path().join("r.json");
    for _ in 0..2 {
        let o = quick_hash_run(&[
            "--csv",
            csv.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let text = fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "one header and one row per run:\n{text}");
    assert_eq!(header_of(&csv), hashflops::report::files::csv_header_line());
    let rows = hashflops::report::read::read_csv(&csv).unwrap();
    assert_eq!(rows.len(), 2);
    assert_ne!(rows[0].run_id, rows[1].run_id);
    for r in &rows {
        assert_eq!(
            (
                r.suite.name(),
                r.kernel.to_string().as_str(),
                r.unit.as_str()
            ),
            ("hash", "sha256d", "H/s")
        );
        assert!(r.verified);
        assert!(r.value > 0.0 && r.min <= r.value && r.value <= r.max);
        assert!(r.samples >= 5);
        assert!(r.timing == "gpu-timestamp" || r.timing == "wall");
    }
    let doc: serde_json::Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["rows"].as_array().unwrap().len(), 1);
    assert_eq!(doc["rows"][0]["verified"], serde_json::Value::Bool(true));
}

#[test]
fn a_foreign_csv_is_left_untouched() {
    let _gpu = common::gpu();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("other.csv");
    fs::write(&csv, "name,score\nalice,3\n").unwrap();
    let o = quick_hash_run(&["--csv", csv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a hashflops results file"));
    assert_eq!(fs::read_to_string(&csv).unwrap(), "name,score\nalice,3\n");
}

#[test]
fn a_broken_shader_gives_unverified_rows_and_exit_1() {
    let _gpu = common::gpu();
    let dir = tempfile::tempdir().unwrap();
    let src =
        fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders/sha256d.wgsl")).unwrap();
    let broken = src.replace("0x2de92c6fu", "0x2de92c6eu");
    assert_ne!(src, broken);
    fs::write(dir.path().join("sha256d.wgsl"), broken).unwrap();
    let csv = dir.path().join("r.csv");
    let o = quick_hash_run(&[
        "--shader-dir",
        dir.path().to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let rows = hashflops::report::read::read_csv(&csv).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].verified);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("unverified"), "{out}");
}

#[test]
fn mine_finds_real_blocks_from_below() {
    let _gpu = common::gpu();
    for b in &hashflops::reference::KNOWN_BLOCKS {
        let start = b.nonce() - 3_000_000;
        let o = hashflops(&[
            "mine",
            "--quiet",
            "--header",
            b.header_hex,
            "--start",
            &start.to_string(),
            "--count",
            "4000000",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        let want = format!("{} {}", b.nonce(), b.hash_hex);
        assert!(out.lines().any(|l| l == want), "block {}: {out}", b.height);
        assert!(
            stderr(&o).contains("searched 4000000 nonces"),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn mine_genesis_prints_the_published_line() {
    let _gpu = common::gpu();
    let o = hashflops(&[
        "mine",
        "--header",
        GENESIS,
        "--start",
        "2083000000",
        "--count",
        "1000000",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "2083236893 000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f\n"
    );
}

#[test]
fn mine_with_many_hits_loses_none() {
    let _gpu = common::gpu();
    // 1 in 16 nonces meets this share target: far more hits than one chunk's
    // buffer holds, so chunking and splitting must keep every one.
    let o = hashflops(&[
        "mine",
        "--quiet",
        "--header",
        GENESIS,
        "--count",
        "200000",
        "--share-bits",
        "4",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let header = hashflops::sha::parse_header(GENESIS).unwrap();
    let t = hashflops::sha::Target::from_share_bits(4).unwrap();
    let want: Vec<String> = (0u32..200_000)
        .filter_map(|n| {
            let h = hashflops::sha::block_hash(&header, n);
            t.is_met_by(&h)
                .then(|| format!("{n} {}", hashflops::sha::display_hex(&h)))
        })
        .collect();
    let got: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want);
}

#[test]
fn list_shows_an_adapter() {
    let _gpu = common::gpu();
    let o = hashflops(&["list", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let list = v.as_array().unwrap();
    assert!(!list.is_empty());
    for key in [
        "index",
        "name",
        "backend",
        "device_type",
        "driver",
        "timestamps",
        "f16",
        "max_buffer_size",
    ] {
        assert!(list[0].get(key).is_some(), "missing {key}");
    }
}

#[test]
fn an_empty_selector_is_refused_not_taken_for_the_first_adapter() {
    for sel in ["", " ", "\t"] {
        assert_usage_error(
            &["run", "--suite", "hash", "--adapter", sel],
            "empty selector",
        );
        assert_usage_error(
            &["health", "--duration", "1s", "--adapter", sel],
            "empty selector",
        );
        assert_usage_error(
            &[
                "mine",
                "--header",
                GENESIS,
                "--count",
                "5",
                "--adapter",
                sel,
            ],
            "empty selector",
        );
        assert_usage_error(&["compare", "x.csv", "--baseline", sel], "empty selector");
    }
}

#[test]
fn a_long_argument_is_cut_to_its_start_in_the_error_line() {
    let long = "x".repeat(10 * 1024);
    let joined = format!("hash,{long}");
    let flag_eq = format!("--samples={long}");
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("r.csv");
    fs::write(
        &csv,
        format!("{}\n", hashflops::report::files::csv_header_line()),
    )
    .unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["run", "--samples", &long],
        vec!["run", &flag_eq],
        vec!["run", "--suite", &long],
        vec!["run", "--suite", &joined],
        vec!["run", "--backend", &long],
        vec!["run", "--size", &long],
        vec!["run", "--m", &long],
        vec!["run", "--suite", "hash", "--adapter", &long],
        vec!["run", "--suite", "hash", "--csv", &long],
        vec!["run", "--suite", "hash", "--json", &long],
        vec!["run", "--suite", "hash", "--shader-dir", &long],
        vec!["health", "--duration", &long],
        vec!["mine", "--header", &long],
        vec!["mine", "--header", GENESIS, "--target", &long],
        vec!["cards", "--ethash", &long],
        vec!["compare", &long],
        vec!["compare", csv.to_str().unwrap(), "--svg", &long],
        vec!["compare", csv.to_str().unwrap(), "--baseline", &long],
        vec![&long],
    ];
    for args in &cases {
        let o = hashflops(args);
        let err = stderr(&o);
        let shown: Vec<&str> = args.iter().map(|a| &a[..a.len().min(20)]).collect();
        assert_eq!(
            o.status.code(),
            Some(2),
            "{shown:?}: {}",
            &err[..err.len().min(500)]
        );
        assert_eq!(err.lines().count(), 1, "{shown:?}");
        assert!(
            err.chars().count() < 600,
            "{shown:?}: {} characters: {}",
            err.chars().count(),
            &err[..err.len().min(500)]
        );
        assert!(!err.contains(&"x".repeat(81)), "{shown:?}: {err}");
        // Where the input is quoted at all, the cut is marked.
        assert!(
            !err.contains("xxxx") || (err.contains("x…") && err.contains("characters)")),
            "{shown:?}: the cut is not marked with its length: {err}"
        );
    }
    // Short input is repeated whole, as typed.
    assert_usage_error(
        &["run", "--samples", "abc"],
        "\"abc\" is not a sample count",
    );
}

#[test]
fn the_exit_code_follows_the_cause() {
    use hashflops::error::{exit, exit_code};
    use std::io::{Error, ErrorKind};
    let usage = hashflops::usage!("--m must be at least 1");
    assert_eq!(exit_code(&usage), exit::USAGE);
    assert_eq!(
        exit_code(&usage.context("matmul on adapter 0")),
        exit::USAGE
    );
    let device = anyhow::anyhow!("device lost while running sha256d");
    assert_eq!(exit_code(&device), 1);
    let io = anyhow::Error::new(Error::new(ErrorKind::PermissionDenied, "no"));
    assert_eq!(exit_code(&io), 1);
    let closed = anyhow::Error::new(Error::from(ErrorKind::BrokenPipe)).context("writing rows");
    assert_eq!(exit_code(&closed), exit::OK);
}

#[test]
fn a_kernel_that_fails_to_build_is_exit_1_not_a_usage_error() {
    let _gpu = common::gpu();
    let dir = tempfile::tempdir().unwrap();
    // Passes the suite's own check of the source, then fails in the
    // shader compiler: a failure of the kernel, not of the command line.
    fs::write(
        dir.path().join("sha256d.wgsl"),
        "const LANES: u32 = 1u;\nthis is not a shader\n",
    )
    .unwrap();
    let csv = dir.path().join("r.csv");
    let o = quick_hash_run(&[
        "--shader-dir",
        dir.path().to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let errors: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("hashflops: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("hash on adapter"), "{err}");
}
