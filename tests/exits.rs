//! How the binary ends when its reader goes away or Ctrl-C comes, and what
//! it says on stderr while it runs.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::stderr;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hashflops"))
}

/// Everything left on a child's stderr, once it has ended.
fn rest_of(child: &mut Child) -> String {
    let mut s = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut s);
    }
    s
}

/// Exit 0, and nothing on stderr about a panic or the pipe.
fn assert_quiet_end(args: &[&str], how: &str, status: std::process::ExitStatus, err: &str) {
    assert!(!err.contains("panicked"), "{args:?} ({how}): {err}");
    assert!(!err.contains("Broken pipe"), "{args:?} ({how}): {err}");
    assert!(!err.contains("error"), "{args:?} ({how}): {err}");
    assert_eq!(status.code(), Some(0), "{args:?} ({how}): {err}");
}

/// `hashflops ARGS | head -1`: one line read, then the pipe closed.
fn closed_after_one_line(args: &[&str]) {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(!first.trim().is_empty(), "{args:?}: no first line");
    drop(out);
    let err = rest_of(&mut child);
    let status = child.wait().unwrap();
    assert_quiet_end(args, "closed after one line", status, &err);
}

/// The reader gone before the first byte: every write meets a closed pipe.
fn closed_from_the_start(args: &[&str]) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = bin()
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_quiet_end(args, "closed from the start", out.status, &stderr(&out));
}

#[test]
fn a_closed_stdout_ends_cards_and_list_quietly() {
    for args in [
        &["cards"][..],
        &["cards", "--json"],
        &["list"],
        &["list", "--json"],
    ] {
        closed_after_one_line(args);
        closed_from_the_start(args);
    }
    closed_from_the_start(&["cards", "--ethash", "30"]);
}

#[test]
fn a_closed_stdout_ends_a_run_with_csv_on_stdout_quietly() {
    let _gpu = common::gpu();
    let args = ["run", "--suite", "hash", "--quick", "--quiet", "--csv", "-"];
    closed_after_one_line(&args);
    closed_from_the_start(&args);
}

#[test]
fn a_closed_stdout_still_gets_the_results_files_written() {
    let _gpu = common::gpu();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let csv = dir.path().join("r.csv");
    let (json_s, csv_s) = (json.to_str().unwrap(), csv.to_str().unwrap());
    let args = [
        "run", "--suite", "hash", "--quick", "--quiet", "--json", json_s, "--csv", csv_s,
    ];
    closed_from_the_start(&args);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["rows"][0]["suite"], "hash");
    assert_eq!(hashflops::report::read::read_csv(&csv).unwrap().len(), 1);
}

/// Sends SIGINT to `child` (through kill(1): no libc here).
fn interrupt(child: &Child) {
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success(), "kill -INT failed");
}

#[test]
fn an_interrupted_run_writes_the_finished_suites_and_exits_130() {
    let _gpu = common::gpu();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("r.csv");
    let json = dir.path().join("r.json");
    let mut child = bin()
        .args([
            "run",
            "--suite",
            "hash,stream,llm,peak",
            "--quick",
            "--csv",
            csv.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // stderr is not a terminal: a line as each suite ends.
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = err.read_line(&mut line).unwrap();
        assert!(n > 0, "the run ended before hash was done: {seen}");
        seen += &line;
        if line.starts_with("hashflops: hash done") {
            break;
        }
    }
    interrupt(&child);
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    seen += &rest;
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}");
    assert!(!seen.contains("panicked"), "{seen}");
    assert!(seen.contains("interrupted"), "{seen}");
    let rows = hashflops::report::read::read_csv(&csv).unwrap();
    assert!(
        rows.iter()
            .any(|r| r.suite.to_string() == "hash" && r.verified),
        "no hash row in the CSV: {seen}"
    );
    // It stopped after the suite in progress: the last one never ran.
    assert!(rows.iter().all(|r| r.suite.to_string() != "peak"), "{seen}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["interrupted"], true);
    assert!(doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["suite"] == "hash"));
    // The table of what finished is on the terminal too.
    assert!(stdout.contains("sha256d"), "{stdout}");
}

#[test]
fn an_interrupted_health_never_says_healthy_and_exits_130() {
    let _gpu = common::gpu();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("h.json");
    let child = bin()
        .args([
            "health",
            "--duration",
            "60",
            "--json",
            json.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Past the adapter's start (the handler is set by then), into the test.
    std::thread::sleep(Duration::from_secs(4));
    interrupt(&child);
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    let (stdout, err) = (String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "it did not stop at the interval"
    );
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(!stdout.contains("healthy"), "{stdout}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["interrupted"], true);
    for card in doc["health"].as_array().unwrap() {
        assert_ne!(card["verdict"], "healthy", "{card}");
    }
}

#[test]
fn without_a_terminal_each_suite_says_when_it_is_done() {
    let _gpu = common::gpu();
    let out = bin()
        .args(["run", "--suite", "hash,stream", "--quick"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let done: Vec<&str> = err.lines().filter(|l| l.contains(" done (")).collect();
    assert_eq!(done.len(), 2, "{err}");
    assert!(done[0].starts_with("hashflops: hash done (1/2, "), "{err}");
    assert!(
        done[1].starts_with("hashflops: stream done (2/2, "),
        "{err}"
    );
    assert!(done.iter().all(|l| l.ends_with(" s)")), "{err}");
    // --quiet keeps stderr for problems only.
    let quiet = bin()
        .args(["run", "--suite", "hash", "--quick", "--quiet"])
        .output()
        .unwrap();
    assert!(!stderr(&quiet).contains(" done ("), "{}", stderr(&quiet));
}
