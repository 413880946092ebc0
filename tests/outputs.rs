//! Where `run --csv/--json` and `compare --svg` may write: regular files
//! (through links), new files in writable folders, or stdout with `-`.
//! Everything else is refused before measuring, and left exactly as it was.

mod bounded;
mod common;

use bounded::{is_char_device, is_fifo, is_symlink, mkfifo, refused};
use common::{quick_hash_run, stderr};
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Command;

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
    let rows = hashflops::report::read::read_csv(&p).unwrap();
    assert!(rows[0].verified && rows[0].kernel.to_string() == "sha256d");
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
        hashflops::report::read::read_csv(&real_csv).unwrap().len(),
        2
    );
    assert_eq!(
        entries(d),
        ["out.csv", "out.json", "real.csv", "real.json"],
        "temporary files were left behind"
    );
}

/// A results CSV of `n` rows, as the tool writes them.
fn results_csv(n: usize) -> String {
    let mut text = hashflops::report::files::csv_header_line() + "\n";
    for i in 0..n {
        text.push_str(&format!(
            "r,t,0.1,h,0,card,0x1,0x2,cpu,vulkan,d,i,hash,sha256d,,hash_rate,H/s,{v},{v},{v},0,5,wall,true,,\n",
            v = 1000 + i
        ));
    }
    text
}

/// What a folder holds, file by file: name, kind, mode, inode, bytes and
/// modification time (links are described, never followed).
type Snapshot = Vec<(String, String)>;

fn snapshot(dir: &Path) -> Snapshot {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    for name in entries(dir) {
        let p = dir.join(&name);
        let m = fs::symlink_metadata(&p).unwrap();
        let what = if m.file_type().is_symlink() {
            format!("link to {}", fs::read_link(&p).unwrap().display())
        } else if m.is_dir() {
            format!("folder {:o}: {:?}", m.mode(), snapshot(&p))
        } else {
            format!(
                "file {:o} inode {} links {} modified {:?} bytes {:?}",
                m.mode(),
                m.ino(),
                m.nlink(),
                m.modified().unwrap(),
                fs::read(&p).unwrap()
            )
        };
        out.push((name, what));
    }
    out
}

/// Asserts that `args` is refused (exit 2, one line naming `mentions`) and
/// that every file in `dir` is exactly as it was.
fn refused_untouched(dir: &Path, args: &[&str], mentions: &str) -> String {
    let before = snapshot(dir);
    let line = refused(args, mentions);
    assert_eq!(snapshot(dir), before, "{args:?} changed a file");
    line
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn two_outputs_naming_one_file_are_refused_before_measuring() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = d.join("results.csv");
    fs::write(&csv, results_csv(47)).unwrap();
    let link = d.join("link.json");
    symlink(&csv, &link).unwrap();
    let hard = d.join("hard.json");
    fs::hard_link(&csv, &hard).unwrap();
    let mut run = RUN.to_vec();
    let pairs: [(&str, &Path, &str, &Path); 6] = [
        ("--csv", &csv, "--json", &csv),
        ("--csv", &csv, "--prom", &csv),
        ("--json", &csv, "--prom", &csv),
        ("--csv", &csv, "--json", &link),
        ("--csv", &csv, "--prom", &hard),
        ("--json", &link, "--prom", &hard),
    ];
    for (f1, p1, f2, p2) in pairs {
        run.truncate(RUN.len());
        run.extend([f1, s(p1), f2, s(p2)]);
        let line = refused_untouched(d, &run, "the same file");
        assert!(line.contains(f1) && line.contains(f2), "{line}");
    }
    // A file not yet created, named two ways: neither is created.
    let new = d.join("new.json");
    let other_way = d.join(".").join("new.json");
    refused_untouched(
        d,
        &["run", "--json", s(&new), "--prom", s(&other_way)],
        "the same file",
    );
    assert!(!new.exists());
    for (a, b) in [(&csv, &csv), (&csv, &hard), (&new, &other_way)] {
        refused_untouched(
            d,
            &["health", "--duration", "1s", "--csv", s(a), "--json", s(b)],
            "the same file",
        );
    }
    assert_eq!(fs::read_to_string(&csv).unwrap(), results_csv(47));
}

#[test]
fn a_shader_being_read_is_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shader = d.join("sha256d.wgsl");
    fs::write(&shader, "// a shader under development\n").unwrap();
    let link = d.join("out.json");
    symlink(&shader, &link).unwrap();
    for target in [&shader, &link] {
        for flag in ["--json", "--prom"] {
            let mut args = RUN.to_vec();
            args.extend(["--shader-dir", s(d), flag, s(target)]);
            refused_untouched(d, &args, "is the input");
        }
    }
}

#[test]
fn a_read_only_output_is_refused_even_for_root() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = d.join("in.csv");
    fs::write(&input, results_csv(3)).unwrap();
    let inp = s(&input).to_string();
    let modes = [0o444, 0o400, 0o555, 0o000];
    for mode in modes {
        let ro = d.join(format!("ro-{mode:o}"));
        fs::write(&ro, results_csv(2)).unwrap();
        let link = d.join(format!("link-{mode:o}"));
        symlink(&ro, &link).unwrap();
        fs::set_permissions(&ro, fs::Permissions::from_mode(mode)).unwrap();
        for target in [&ro, &link] {
            let t = s(target);
            let mut cases: Vec<Vec<&str>> = Vec::new();
            for flag in ["--csv", "--json", "--prom"] {
                let mut a = RUN.to_vec();
                a.extend([flag, t]);
                cases.push(a);
            }
            for flag in ["--csv", "--json", "--prom"] {
                cases.push(vec!["health", "--duration", "1s", flag, t]);
            }
            for flag in ["--svg", "--png"] {
                cases.push(vec!["compare", &inp, flag, t]);
            }
            for args in &cases {
                refused_untouched(d, args, "read-only");
            }
        }
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o644)).unwrap();
    }
}

#[test]
fn an_empty_file_name_is_refused() {
    // clap refuses an empty value for any of them before hashflops sees it.
    for flag in ["--csv", "--json", "--prom"] {
        let mut args = RUN.to_vec();
        args.extend([flag, ""]);
        refused(&args, flag);
    }
    for flag in ["--svg", "--png"] {
        refused(&["compare", "x.csv", flag, ""], flag);
    }
}

/// The user the ordinary-user tests run as, created if absent.
const USER: &str = "hashflops-test";

fn euid() -> u32 {
    let o = Command::new("id")
        .arg("-u")
        .output()
        .expect("running id -u");
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The uid and gid of [`USER`], after creating it where missing.
fn ordinary_user() -> (u32, u32) {
    let id = |flag: &str| -> Option<u32> {
        let o = Command::new("id").args([flag, USER]).output().ok()?;
        String::from_utf8_lossy(&o.stdout).trim().parse().ok()
    };
    if id("-u").is_none() {
        assert!(
            have("useradd"),
            "creating the test user {USER} needs useradd: install it (Debian/Ubuntu: apt-get install passwd)"
        );
        let o = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                USER,
            ])
            .output()
            .expect("running useradd");
        // Another test may have created it meanwhile.
        assert!(
            o.status.success() || id("-u").is_some(),
            "useradd {USER} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    (id("-u").unwrap(), id("-g").unwrap())
}

/// Runs a copy of the binary, put in `bin_dir` (open to everyone), as an
/// ordinary user: [`USER`] when the tests run as root (as in CI), else the
/// user running them. Never a silent pass: without runuser or setpriv the
/// test fails saying what to install.
fn as_ordinary_user(bin_dir: &Path, args: &[&str]) -> std::process::Output {
    let bin = bin_dir.join("hashflops");
    if !bin.exists() {
        fs::copy(env!("CARGO_BIN_EXE_hashflops"), &bin).unwrap();
        fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut cmd = if euid() != 0 {
        Command::new(&bin)
    } else {
        let (uid, gid) = ordinary_user();
        if have("runuser") {
            let mut c = Command::new("runuser");
            c.args(["-u", USER, "--"]).arg(&bin);
            c
        } else if have("setpriv") {
            let mut c = Command::new("setpriv");
            c.arg(format!("--reuid={uid}"))
                .arg(format!("--regid={gid}"))
                .arg("--clear-groups")
                .arg(&bin);
            c
        } else {
            panic!("running as an ordinary user needs runuser or setpriv: install util-linux");
        }
    };
    let o = cmd
        .args(args)
        .output()
        .expect("running hashflops as an ordinary user");
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// A folder everyone may use, for the ordinary user's files (in /tmp, so
/// that no private folder above it bars the way).
fn open_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir_in("/tmp").unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

/// Hands `p` to the ordinary user (when the tests run as root).
fn give_to_user(p: &Path) {
    if euid() == 0 {
        let (uid, gid) = ordinary_user();
        std::os::unix::fs::lchown(p, Some(uid), Some(gid)).unwrap();
    }
}

/// As [`refused_untouched`], run by an ordinary user with the binary in
/// `bin_dir`.
fn refused_as_user(bin_dir: &Path, dir: &Path, args: &[&str], mentions: &str) {
    let before = snapshot(dir);
    let o = as_ordinary_user(bin_dir, args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(
        err.contains(mentions),
        "{args:?}: expected {mentions:?} in {err}"
    );
    assert!(o.stdout.is_empty(), "{args:?} wrote to stdout");
    assert_eq!(snapshot(dir), before, "{args:?} changed a file");
}

#[test]
fn an_ordinary_user_cannot_replace_a_file_it_may_not_write() {
    let bin = open_folder();
    let dir = open_folder();
    let d = dir.path();
    let o = as_ordinary_user(bin.path(), &["--version"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let input = d.join("in.csv");
    fs::write(&input, results_csv(3)).unwrap();
    fs::set_permissions(&input, fs::Permissions::from_mode(0o644)).unwrap();
    let inp = s(&input).to_string();
    // Its own file, made read-only; and someone else's file it can read.
    let own = d.join("own.out");
    fs::write(&own, results_csv(2)).unwrap();
    give_to_user(&own);
    fs::set_permissions(&own, fs::Permissions::from_mode(0o444)).unwrap();
    let theirs = d.join("theirs.out");
    fs::write(&theirs, results_csv(2)).unwrap();
    fs::set_permissions(&theirs, fs::Permissions::from_mode(0o644)).unwrap();
    let mentions = if euid() == 0 {
        ["read-only", "Permission denied"]
    } else {
        // Run by an ordinary user, the other file is its own too.
        ["read-only", "read-only"]
    };
    if euid() != 0 {
        fs::set_permissions(&theirs, fs::Permissions::from_mode(0o444)).unwrap();
    }
    for (target, mentions) in [(&own, mentions[0]), (&theirs, mentions[1])] {
        let t = s(target);
        for flag in ["--csv", "--json", "--prom"] {
            let mut args = RUN.to_vec();
            args.extend([flag, t]);
            refused_as_user(bin.path(), d, &args, mentions);
        }
        for flag in ["--csv", "--json", "--prom"] {
            refused_as_user(
                bin.path(),
                d,
                &["health", "--duration", "1s", flag, t],
                mentions,
            );
        }
        for flag in ["--svg", "--png"] {
            refused_as_user(bin.path(), d, &["compare", &inp, flag, t], mentions);
        }
    }
    // A folder it may not add files to (as root it would, so the folder
    // test above checks this only where the runner is no root).
    let closed = d.join("closed");
    fs::create_dir(&closed).unwrap();
    fs::set_permissions(&closed, fs::Permissions::from_mode(0o555)).unwrap();
    let inside = closed.join("r.out");
    for flag in ["--csv", "--json", "--prom"] {
        let mut args = RUN.to_vec();
        args.extend([flag, s(&inside)]);
        refused_as_user(bin.path(), d, &args, "does not take new files");
    }
    refused_as_user(
        bin.path(),
        d,
        &["compare", &inp, "--png", s(&inside)],
        "does not take new files",
    );
    // The same file twice, and an input as output, as that user too.
    let new = d.join("new.json");
    let mut args = RUN.to_vec();
    args.extend(["--json", s(&new), "--prom", s(&new)]);
    refused_as_user(bin.path(), d, &args, "the same file");
    // Its own input, which it may write: only being the input bars it.
    give_to_user(&input);
    let link = d.join("link.svg");
    symlink(&input, &link).unwrap();
    refused_as_user(
        bin.path(),
        d,
        &["compare", &inp, "--svg", s(&link)],
        "is the input",
    );
}
