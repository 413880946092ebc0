//! Where `run --csv/--json` and `compare --svg` may write: regular files
//! (through links), new files in writable folders, or stdout with `-`.
//! Everything else is refused before measuring, and left exactly as it was.

mod bounded;
mod common;

use bounded::{is_char_device, is_fifo, is_symlink, mkfifo, refused};
use common::{quick_hash_run, stderr};
use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

const RUN: [&str; 5] = ["run", "--suite", "hash", "--quick", "--quiet"];

fn run_refused(flag: &str, target: &Path, mentions: &str) -> String {
    let mut args = RUN.to_vec();
    let t = target.to_str().unwrap();
    args.extend([flag, t]);
    refused(&args, mentions)
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn device_nodes_are_refused_and_stay_devices() {
    // Only the refused path touches real devices: nothing is written.
    for dev in ["/dev/null", "/dev/zero", "/dev/full"] {
        let p = Path::new(dev);
        assert!(is_char_device(p), "{dev} is not a character device here");
        for flag in ["--json", "--csv"] {
            run_refused(flag, p, "not a regular file");
            assert!(is_char_device(p), "{flag} {dev} replaced the device node");
        }
    }
}

#[test]
fn fifos_folders_and_dangling_links_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fifo = d.join("pipe");
    mkfifo(&fifo);
    let to_fifo = d.join("to-pipe.json");
    symlink(&fifo, &to_fifo).unwrap();
    let dangling = d.join("dangling.json");
    symlink(d.join("nowhere.json"), &dangling).unwrap();
    let sub = d.join("sub");
    fs::create_dir(&sub).unwrap();
    let before = entries(d);
    for flag in ["--json", "--csv"] {
        run_refused(flag, &fifo, "not a regular file");
        run_refused(flag, &to_fifo, "not a regular file");
        run_refused(flag, &dangling, "link to nothing");
        run_refused(flag, &sub, "is a folder");
        run_refused(flag, &d.join("missing/r.out"), "does not exist");
    }
    assert!(is_fifo(&fifo), "the FIFO was replaced");
    assert!(
        is_symlink(&to_fifo) && is_symlink(&dangling),
        "a link was replaced"
    );
    assert!(
        !d.join("nowhere.json").exists(),
        "a dangling link's target was created"
    );
    assert!(sub.is_dir() && entries(&sub).is_empty());
    assert_eq!(entries(d), before, "the probe left a file behind");
    // compare --svg goes through the same checks.
    let csv = d.join("r.csv");
    fs::write(&csv, "x").unwrap();
    for target in [&fifo, &to_fifo, &sub] {
        refused(
            &[
                "compare",
                csv.to_str().unwrap(),
                "--svg",
                target.to_str().unwrap(),
            ],
            "cannot write",
        );
    }
    assert!(is_fifo(&fifo) && is_symlink(&to_fifo));
}

#[test]
fn a_folder_that_takes_no_files_is_found_before_measuring() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    fs::create_dir(&ro).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o500)).unwrap();
    // Root writes through permission bits (tests run as root in CI), so the
    // read-only case is only checked where the folder really refuses files.
    if fs::write(ro.join("probe"), "x").is_ok() {
        fs::remove_file(ro.join("probe")).unwrap();
    } else {
        run_refused("--json", &ro.join("r.json"), "does not take new files");
        run_refused("--csv", &ro.join("r.csv"), "does not take new files");
        assert!(entries(&ro).is_empty());
    }
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o700)).unwrap();
}

#[test]
fn a_csv_that_cannot_take_rows_is_left_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let header = hashflops::report::files::csv_header_line();
    let cases = [
        (
            "foreign.csv",
            "name,score\nalice,3\n".to_string(),
            "not a hashflops results file",
        ),
        ("torn.csv", format!("{header}\nr,t,0.1,h,0"), "incomplete"),
        ("torn-header.csv", header.clone(), "incomplete"),
    ];
    for (name, text, mentions) in &cases {
        let p = dir.path().join(name);
        fs::write(&p, text).unwrap();
        run_refused("--csv", &p, mentions);
        // Through a link too: the link's target is the file that is checked.
        let link = dir.path().join(format!("link-{name}"));
        symlink(&p, &link).unwrap();
        run_refused("--csv", &link, mentions);
        assert_eq!(&fs::read_to_string(&p).unwrap(), text, "{name} changed");
        assert!(is_symlink(&link));
    }
}

#[test]
fn csv_and_json_cannot_both_take_stdout() {
    refused(
        &["run", "--suite", "hash", "--csv", "-", "--json", "-"],
        "both write to stdout",
    );
}

#[test]
fn json_and_csv_on_stdout_leave_the_tables_on_stderr() {
    let _gpu = common::gpu();
    let o = quick_hash_run(&["--json", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("stdout is exactly one JSON document");
    assert_eq!(doc["rows"].as_array().unwrap().len(), 1);
    assert!(
        stderr(&o).contains("sha256d"),
        "the table is on stderr: {}",
        stderr(&o)
    );

    let o = quick_hash_run(&["--csv", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "a header and one row, nothing else:\n{text}"
    );
    assert_eq!(lines[0], hashflops::report::files::csv_header_line());
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("stdout.csv");
    fs::write(&p, &text).unwrap();
    let rows = hashflops::report::files::read_csv(&p).unwrap();
    assert!(rows[0].verified && rows[0].kernel == "sha256d");
}

#[test]
fn links_are_written_through_and_stay_links() {
    let _gpu = common::gpu();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let real_json = d.join("real.json");
    fs::write(&real_json, "old\n").unwrap();
    let json_link = d.join("out.json");
    symlink("real.json", &json_link).unwrap();
    let real_csv = d.join("real.csv");
    let csv_link = d.join("out.csv");
    symlink("real.csv", &csv_link).unwrap();
    let first = quick_hash_run(&["--csv", real_csv.to_str().unwrap()]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let earlier = fs::read(&real_csv).unwrap();

    let o = quick_hash_run(&[
        "--json",
        json_link.to_str().unwrap(),
        "--csv",
        csv_link.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        is_symlink(&json_link) && is_symlink(&csv_link),
        "a link was replaced"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&real_json).unwrap()).unwrap();
    assert_eq!(doc["rows"].as_array().unwrap().len(), 1);
    let now = fs::read(&real_csv).unwrap();
    assert!(now.starts_with(&earlier), "earlier rows were rewritten");
    assert_eq!(
        hashflops::report::files::read_csv(&real_csv).unwrap().len(),
        2
    );
    assert_eq!(
        entries(d),
        ["out.csv", "out.json", "real.csv", "real.json"],
        "temporary files were left behind"
    );
}
