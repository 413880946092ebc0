//! Runs the real binary with its memory and time capped, for inputs that
//! once made it grow without bound or wait forever: a regression shows up
//! as a failure, not as a machine that runs out of memory.
#![allow(dead_code)]

use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::{Command, Output};

/// Address space for runs that never open an adapter (GPU drivers map far
/// more than this, so only refusals and `compare` run under it).
const MEMORY_KIB: u64 = 1 << 20;
/// A hang guard, not a timing: every refusal happens before any measuring.
const SECONDS: u32 = 20;

/// `hashflops ARGS` under a 1 GiB address-space limit and a 20 s kill.
pub fn bounded(args: &[&str]) -> Output {
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {MEMORY_KIB} && exec timeout -s KILL {SECONDS} \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_hashflops"))
        .args(args)
        .output()
        .expect("running hashflops under sh, ulimit and timeout");
    assert!(
        !matches!(o.status.code(), Some(124) | Some(137) | None),
        "{args:?} ran past {SECONDS} s or was killed: {:?}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Exit 2, one line on stderr naming `mentions`, no panic, memory and time
/// bounded. Returns the line.
pub fn refused(args: &[&str], mentions: &str) -> String {
    let o = bounded(args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{args:?} printed more than one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.to_lowercase().contains(&mentions.to_lowercase()),
        "{args:?}: expected {mentions:?} in {err:?}"
    );
    assert!(
        o.stdout.is_empty(),
        "{args:?} wrote to stdout before refusing"
    );
    err
}

/// Makes a FIFO at `path` with the system's `mkfifo`.
pub fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("running mkfifo")
        .success();
    assert!(ok, "mkfifo {} failed", path.display());
    assert!(is_fifo(path));
}

pub fn is_fifo(path: &Path) -> bool {
    std::fs::symlink_metadata(path)
        .map(|m| m.file_type().is_fifo())
        .unwrap_or(false)
}

pub fn is_char_device(path: &Path) -> bool {
    std::fs::symlink_metadata(path)
        .map(|m| m.file_type().is_char_device())
        .unwrap_or(false)
}

pub fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false)
}
