//! `compare` on result files the tool wrote, on malformed input, and its SVG.

mod bounded;
mod common;

use bounded::{bounded, is_fifo, mkfifo, refused};
use common::{hashflops, quick_hash_run, stderr};
use std::fs;
use std::path::Path;

#[test]
fn compare_two_adapters_and_draw_the_chart() {
    let _gpu = common::gpu();
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    let o = quick_hash_run(&["--csv", a.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A second machine of a rig: the tool's own rows, as another host wrote them.
    let mut rows = hashflops::report::read::read_csv(&a).unwrap();
    for r in &mut rows {
        r.host = "rig-2".into();
        r.value *= 2.0;
        r.min *= 2.0;
        r.max *= 2.0;
    }
    hashflops::report::files::append_csv(&b, &rows).unwrap();

    let svg = dir.path().join("out.svg");
    let o = hashflops(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--baseline",
        "0",
        "--reference",
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("rig-2"), "{out}");
    assert!(
        out.contains("(2.00x)"),
        "ratio to the baseline missing: {out}"
    );
    assert!(
        out.contains("CMP 170HX") && out.contains("published spec"),
        "{out}"
    );

    // The SVG is well-formed XML and holds both adapters' series.
    let text = fs::read_to_string(&svg).unwrap();
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut texts = Vec::new();
    let mut rects = 0;
    loop {
        match reader.read_event().expect("SVG parses as XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Text(t) => texts.push(t.unescape().unwrap().into_owned()),
            quick_xml::events::Event::Empty(e) | quick_xml::events::Event::Start(e)
                if e.name().as_ref() == b"rect" =>
            {
                rects += 1
            }
            _ => {}
        }
    }
    let all = texts.join("\n");
    assert!(all.contains("rig-2"), "legend lacks the second adapter");
    assert!(all.contains("SHA-256d hash rate"));
    assert!(
        all.matches("SHA-256d").count() >= 3,
        "both hash points and the bar group: {all}"
    );
    assert!(rects >= 3, "bars missing");
}

#[test]
fn malformed_csv_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.csv");
    let header = hashflops::report::files::csv_header_line();
    fs::write(&p, format!("{header}\nr,t,0.1,h,0,card,0x1,0x2,cpu,vulkan,d,i,hash,sha256d,,hash_rate,H/s,not-a-number,1,1,0,5,wall,true,,\n")).unwrap();
    let o = hashflops(&["compare", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("bad.csv:2"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");

    let foreign = dir.path().join("foreign.csv");
    fs::write(&foreign, "a,b\n1,2\n").unwrap();
    let o = hashflops(&["compare", foreign.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("foreign.csv:1"), "{}", stderr(&o));

    let o = hashflops(&["compare", dir.path().join("missing.csv").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("panicked"));
}

/// A results row as the tool writes it, with the given suite, kernel,
/// metric and value, min, max, cv_pct.
fn row(host: &str, suite: &str, kernel: &str, metric: &str, nums: [&str; 4]) -> String {
    let [v, lo, hi, cv] = nums;
    format!("r,t,0.1,{host},0,card,0x1,0x2,cpu,vulkan,d,i,{suite},{kernel},m=64;n=64;k=64,{metric},u,{v},{lo},{hi},{cv},5,wall,true,,\n")
}

fn results_file(dir: &Path, name: &str, rows: &[String]) -> String {
    let p = dir.join(name);
    let mut text = hashflops::report::files::csv_header_line() + "\n";
    for r in rows {
        text.push_str(r);
    }
    fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn non_finite_or_negative_numbers_are_malformed_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = row("h", "hash", "sha256d", "hash_rate", ["5", "4", "6", "1"]);
    for bad in ["inf", "-inf", "NaN", "nan", "-1", "-1e-300", "1e999"] {
        for col in 0..4 {
            let mut nums = ["5", "4", "6", "1"];
            nums[col] = bad;
            let rows = [good.clone(), row("h", "stream", "triad", "bandwidth", nums)];
            let f = results_file(dir.path(), "bad.csv", &rows);
            let line = refused(&["compare", &f, "--svg", "-"], "bad.csv:3");
            let name = ["value", "min", "max", "cv_pct"][col];
            assert!(line.contains(name), "{bad} in {name}: {line}");
        }
    }
}

#[test]
fn extreme_finite_values_stay_bounded_and_draw() {
    let dir = tempfile::tempdir().unwrap();
    let big = "1e308";
    let tiny = "1e-300";
    let rows = [
        row("a", "hash", "sha256d", "hash_rate", [big, big, big, "0"]),
        row("a", "stream", "triad", "bandwidth", [tiny, tiny, tiny, "0"]),
        row("a", "peak", "fp32_fma", "peak_rate", [big, "0", big, big]),
        row("a", "matmul", "sgemm", "flops", ["0", "0", "0", "0"]),
        row("b", "hash", "sha256d", "hash_rate", ["0", "0", "0", "0"]),
        row("b", "stream", "triad", "bandwidth", [big, big, big, "0"]),
        row(
            "b",
            "peak",
            "fp32_fma",
            "peak_rate",
            [tiny, tiny, tiny, "0"],
        ),
    ];
    let f = results_file(dir.path(), "extreme.csv", &rows);
    let svg = dir.path().join("x.svg");
    let o = bounded(&[
        "compare",
        &f,
        "--baseline",
        "1",
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains("NaN"), "{out}");
    let text = fs::read_to_string(&svg).unwrap();
    let mut reader = quick_xml::Reader::from_str(&text);
    while reader.read_event().expect("SVG parses as XML") != quick_xml::events::Event::Eof {}
    assert!(
        !text.contains("NaN") && !text.contains("inf"),
        "non-finite coordinates in the SVG"
    );
}

#[test]
fn only_regular_files_of_bounded_size_are_read() {
    let dir = tempfile::tempdir().unwrap();
    refused(&["compare", "/dev/zero"], "not a regular file");
    let fifo = dir.path().join("pipe.csv");
    mkfifo(&fifo);
    refused(&["compare", fifo.to_str().unwrap()], "not a regular file");
    assert!(is_fifo(&fifo));
    refused(
        &["compare", dir.path().to_str().unwrap()],
        "not a regular file",
    );
    let big = dir.path().join("big.csv");
    let f = fs::File::create(&big).unwrap();
    f.set_len(hashflops::report::read::MAX_INPUT_BYTES + 1)
        .unwrap();
    refused(&["compare", big.to_str().unwrap()], "64 MiB");
}

#[test]
fn too_many_adapters_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<String> = (0..=hashflops::report::compare::MAX_GROUPS)
        .map(|i| {
            row(
                &format!("host{i}"),
                "hash",
                "sha256d",
                "hash_rate",
                ["5", "4", "6", "1"],
            )
        })
        .collect();
    let f = results_file(dir.path(), "farm.csv", &rows);
    refused(&["compare", &f], "at most 1000");
}

#[test]
fn two_hundred_rigs_read_as_one_row_per_adapter() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<String> = (0..200)
        .map(|i| {
            let rows = vec![
                row(
                    &format!("rig{i:03}"),
                    "hash",
                    "sha256d",
                    "hash_rate",
                    [&format!("{}", 1e9 + i as f64 * 1e6), "1", "2", "1"],
                ),
                row(
                    &format!("rig{i:03}"),
                    "stream",
                    "triad",
                    "bandwidth",
                    ["2.5e11", "2e11", "3e11", "1"],
                ),
            ];
            results_file(dir.path(), &format!("rig{i:03}.csv"), &rows)
        })
        .collect();
    let mut args = vec!["compare"];
    args.extend(files.iter().map(String::as_str));
    let started = std::time::Instant::now();
    let out = hashflops(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        started.elapsed().as_secs() < 20,
        "compare of 200 files is slow"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // One line per adapter, each naming its host, under one header.
    for i in [0, 99, 199] {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("rig{i:03} ")))
            .unwrap_or_else(|| panic!("rig{i:03} has no row"));
        assert!(line.contains("GH/s") && line.contains("GB/s"), "{line}");
    }
    let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest < 200, "a row is {widest} characters wide");
}

#[test]
fn two_runs_of_one_adapter_stay_apart_unless_merged() {
    let dir = tempfile::tempdir().unwrap();
    let a = results_file(
        dir.path(),
        "a.csv",
        &[row(
            "h",
            "hash",
            "sha256d",
            "hash_rate",
            ["5e6", "4e6", "6e6", "1"],
        )],
    );
    let b_rows = vec![row(
        "h",
        "hash",
        "sha256d",
        "hash_rate",
        ["7e6", "6e6", "8e6", "1"],
    )
    .replacen("r,t,", "r2,t,", 1)];
    let b = results_file(dir.path(), "b.csv", &b_rows);
    let out = hashflops(&["compare", &a, &b]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("run r ") || text.contains("run r│") || text.contains("run r\n"),
        "{text}"
    );
    assert!(text.contains("run r2"), "{text}");
    assert!(
        text.contains("5.00 MH/s") && text.contains("7.00 MH/s"),
        "{text}"
    );
    let merged = hashflops(&["compare", &a, &b, "--merge", "best"]);
    let text = String::from_utf8_lossy(&merged.stdout);
    assert!(!text.contains("run r"), "{text}");
    assert!(
        text.contains("7.00 MH/s") && !text.contains("5.00 MH/s"),
        "{text}"
    );
    let median = hashflops(&["compare", &a, &b, "--merge", "median"]);
    assert!(String::from_utf8_lossy(&median.stdout).contains("5.00 MH/s"));
}

#[test]
fn a_baseline_number_that_is_no_column_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let a = results_file(
        dir.path(),
        "a.csv",
        &[row(
            "h",
            "hash",
            "sha256d",
            "hash_rate",
            ["5e6", "4e6", "6e6", "1"],
        )],
    );
    refused(&["compare", &a, "--baseline", "7"], "no column 7");
}

#[test]
fn a_chart_never_replaces_a_file_being_compared() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rows = [row(
        "h",
        "hash",
        "sha256d",
        "hash_rate",
        ["5", "4", "6", "1"],
    )];
    let a = results_file(d, "a.csv", &rows);
    let b = results_file(d, "b.csv", &rows);
    let link = d.join("chart.svg");
    symlink(&a, &link).unwrap();
    let hard = d.join("chart.png");
    fs::hard_link(&b, &hard).unwrap();
    let dotted = d.join(".").join("a.csv");
    let dotted = dotted.to_str().unwrap();
    let (link, hard) = (link.to_str().unwrap(), hard.to_str().unwrap());
    let cases: [&[&str]; 7] = [
        &["compare", &a, "--svg", &a],
        &["compare", &a, &b, "--png", &b],
        &["compare", &a, "--svg", dotted],
        &["compare", &a, "--svg", link],
        &["compare", &a, &b, "--png", hard],
        &["compare", &a, &b, "--svg", "-", "--png", hard],
        &["compare", &a, &b, "--svg", link, "--png", link],
    ];
    for args in cases {
        let before: Vec<_> = [&a, &b]
            .iter()
            .map(|p| {
                let m = fs::metadata(p).unwrap();
                (fs::read(p).unwrap(), m.modified().unwrap())
            })
            .collect();
        let line = refused(args, "--");
        assert!(
            line.contains("is the input") || line.contains("the same file"),
            "{line}"
        );
        let after: Vec<_> = [&a, &b]
            .iter()
            .map(|p| {
                let m = fs::metadata(p).unwrap();
                (fs::read(p).unwrap(), m.modified().unwrap())
            })
            .collect();
        assert!(before == after, "{args:?} changed an input");
        assert!(fs::symlink_metadata(link).unwrap().file_type().is_symlink());
    }
    // A chart beside the inputs is written.
    let svg = d.join("chart-new.svg");
    let o = hashflops(&["compare", &a, "--svg", svg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn errors_name_the_line_as_an_editor_counts_it() {
    let dir = tempfile::tempdir().unwrap();
    let header = hashflops::report::files::csv_header_line();
    let good = row("h", "hash", "sha256d", "hash_rate", ["5", "4", "6", "1"]);
    let not_bool = good.replace(",true,", ",maybe,");
    let negative = row("h", "hash", "sha256d", "hash_rate", ["-5", "4", "6", "1"]);
    let short = "r,t,short\n".to_string();
    let quoted = good.replacen(",card,", ",\"two\nlines\",", 1);
    // (file text, the line of the bad row)
    let cases: Vec<(String, usize)> = vec![
        (format!("{header}\n{not_bool}"), 2),
        (format!("{header}\n{good}{negative}"), 3),
        (format!("{header}\n{good}{short}"), 3),
        (format!("{header}\n{good}{good}{not_bool}"), 4),
        // CRLF line ends, blank lines and a field over two lines.
        (
            format!(
                "{header}\r\n{}{}",
                good.replace('\n', "\r\n"),
                negative.replace('\n', "\r\n")
            ),
            3,
        ),
        (format!("{header}\r\n{}", not_bool.replace('\n', "\r\n")), 2),
        (format!("{header}\n\n{good}\n{not_bool}"), 5),
        (format!("\n{header}\n{negative}"), 3),
        (format!("{header}\n{quoted}{negative}"), 4),
        (format!("{header}\n{quoted}{short}"), 4),
    ];
    for (i, (text, line)) in cases.iter().enumerate() {
        let name = format!("case{i}.csv");
        let p = dir.path().join(&name);
        fs::write(&p, text).unwrap();
        let err = refused(&["compare", p.to_str().unwrap()], "malformed row");
        assert!(
            err.contains(&format!("{name}:{line}: ")),
            "case {i}: the bad row is on line {line}: {err}"
        );
        // The csv crate's own record and line counts are not repeated.
        assert!(!err.contains("record "), "case {i}: {err}");
    }
    let p = dir.path().join("late-header.csv");
    fs::write(&p, "\n\nname,score\n").unwrap();
    refused(&["compare", p.to_str().unwrap()], "late-header.csv:3: ");
}
