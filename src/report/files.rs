//! CSV and JSON files. Appending never rewrites or corrupts earlier rows:
//! the existing header is checked first, the new rows are rendered in
//! memory, and then added with one write.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use super::{ResultRow, CSV_COLUMNS};
use crate::usage_bail;

pub fn csv_header_line() -> String {
    CSV_COLUMNS.join(",")
}

/// Checks, before anything is measured, that `path` can take result rows:
/// an existing file must be a results CSV whose last line is complete; a new
/// file needs an existing folder. Returns whether the file is new (or empty).
pub fn check_csv_target(path: &Path) -> Result<bool> {
    let existing = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            check_folder(path)?;
            return Ok(true);
        }
        Err(e) => usage_bail!("cannot read {}: {e}", path.display()),
    };
    if existing.is_empty() {
        return Ok(true);
    }
    let first = existing.split(|&c| c == b'\n').next().unwrap_or(&[]);
    let first = String::from_utf8_lossy(first);
    if first.trim_end_matches('\r') != csv_header_line() {
        usage_bail!(
            "{}: not a hashflops results file (its first line is not the expected header); nothing was written",
            path.display()
        );
    }
    if existing.last() != Some(&b'\n') {
        usage_bail!(
            "{}: the last line is incomplete; nothing was written (fix or move the file)",
            path.display()
        );
    }
    Ok(false)
}

/// A file can only be created where its folder exists.
pub fn check_folder(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            usage_bail!(
                "cannot write {}: folder {} does not exist",
                path.display(),
                dir.display()
            );
        }
    }
    Ok(())
}

/// Appends `rows` to `path`, writing the header only if the file is new or
/// empty. Refuses (exit 2) a file whose header differs or whose last line is
/// incomplete, leaving it as it was.
pub fn append_csv(path: &Path, rows: &[ResultRow]) -> Result<()> {
    let fresh = check_csv_target(path)?;
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    if fresh {
        w.write_record(CSV_COLUMNS)?;
    }
    for r in rows {
        w.serialize(r)?;
    }
    let bytes = w.into_inner().context("rendering CSV rows")?;
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| crate::usage!("cannot open {} for appending: {e}", path.display()))?;
    f.write_all(&bytes)
        .with_context(|| format!("appending to {}", path.display()))?;
    Ok(())
}

/// Writes `doc` as pretty JSON to `path` through a temporary file and a
/// rename, so a failure never leaves half a file.
pub fn write_json<T: Serialize>(path: &Path, doc: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(doc)?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let tmp = match dir {
        Some(d) => d.join(format!(".{}.tmp", file_name(path))),
        None => Path::new(&format!(".{}.tmp", file_name(path))).to_path_buf(),
    };
    fs::write(&tmp, text + "\n")
        .map_err(|e| crate::usage!("cannot write {}: {e}", tmp.display()))?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        crate::usage!("cannot write {}: {e}", path.display())
    })?;
    Ok(())
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into())
}

/// Reads a results CSV written by any version with the same columns.
/// Errors name the file and line.
pub fn read_csv(path: &Path) -> Result<Vec<ResultRow>> {
    let text = fs::read_to_string(path)
        .map_err(|e| crate::usage!("cannot read {}: {e}", path.display()))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| crate::usage!("{}:1: {e}", path.display()))?
        .clone();
    let got: Vec<&str> = headers.iter().collect();
    if got != CSV_COLUMNS {
        usage_bail!(
            "{}:1: not a hashflops results file (expected the header `{}`)",
            path.display(),
            csv_header_line()
        );
    }
    let mut rows = Vec::new();
    for rec in rdr.deserialize::<ResultRow>() {
        match rec {
            Ok(r) => rows.push(r),
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                let msg = match e.kind() {
                    csv::ErrorKind::Deserialize { err, .. } => err.to_string(),
                    _ => e.to_string(),
                };
                usage_bail!("{}:{line}: malformed row: {msg}", path.display());
            }
        }
    }
    Ok(rows)
}
