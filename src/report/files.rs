//! CSV and JSON files. Appending never rewrites or corrupts earlier rows:
//! the existing header is checked first, the new rows are rendered in
//! memory, and then added with one write. A target is checked before
//! anything is measured, and again just before it is written: only regular
//! files (through any links) or new files in a writable folder are accepted,
//! so a device node, a FIFO, a folder or a link itself is never replaced.
//! `-` means standard output.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use super::{schema_of_header, ResultRow, CSV_COLUMNS, SCHEMA_VERSION};
use crate::{usage, usage_bail};

/// The most `compare` reads from one results file. Checked before reading,
/// and enforced while reading (the file may grow meanwhile), so memory stays
/// bounded whatever is passed.
pub const MAX_INPUT_BYTES: u64 = 64 << 20;

/// How much of an existing CSV is read to find its header line.
const MAX_HEADER_BYTES: u64 = 4096;

pub fn csv_header_line() -> String {
    CSV_COLUMNS.join(",")
}

/// Where result rows go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout,
    /// A regular file, links resolved, or a new file in an existing folder.
    File(PathBuf),
}

/// Whether `arg` is `-`, standard output.
pub fn is_stdout(arg: &Path) -> bool {
    arg.as_os_str() == "-"
}

/// How the target will be written: appended to in place, or replaced by a
/// rename from a temporary file beside it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Append,
    Replace,
}

/// Resolves `arg` to a target that can take results, or refuses it (exit 2).
/// Links are followed to a regular file; anything else that exists is
/// refused. Writability is proven by creating and removing a temporary file
/// in the folder (for a replace or a new file) or by opening the file for
/// appending (for an existing CSV): permission bits alone say nothing to root.
fn resolve(arg: &Path, mode: Mode) -> Result<Output> {
    if is_stdout(arg) {
        return Ok(Output::Stdout);
    }
    let shown = arg.display();
    let real = match fs::symlink_metadata(arg) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dir = folder_of(arg);
            match fs::metadata(&dir) {
                Ok(m) if m.is_dir() => {}
                _ => usage_bail!(
                    "cannot write {shown}: folder {} does not exist",
                    dir.display()
                ),
            }
            probe_folder(&dir, arg)?;
            return Ok(Output::File(arg.to_path_buf()));
        }
        Err(e) => usage_bail!("cannot use {shown}: {e}"),
        Ok(_) => fs::canonicalize(arg).map_err(|e| {
            usage!(
                "cannot write {shown}: it is a link to nothing usable ({e}); name the file itself"
            )
        })?,
    };
    let meta = fs::metadata(&real).map_err(|e| usage!("cannot use {shown}: {e}"))?;
    if meta.is_dir() {
        usage_bail!("cannot write {shown}: it is a folder; name a file in it");
    }
    if !meta.is_file() {
        usage_bail!(
            "cannot write {shown}: not a regular file (a device, FIFO or socket); results go to regular files, or to stdout with -"
        );
    }
    match mode {
        Mode::Replace => probe_folder(&folder_of(&real), arg)?,
        Mode::Append => {
            OpenOptions::new()
                .append(true)
                .open(&real)
                .map_err(|e| usage!("cannot append to {shown}: {e}"))?;
        }
    }
    Ok(Output::File(real))
}

fn folder_of(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates and removes a temporary file in `dir`: the only test of
/// writability that holds for every user and file system.
fn probe_folder(dir: &Path, arg: &Path) -> Result<()> {
    tempfile::Builder::new()
        .prefix(".hashflops-probe")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| {
            usage!(
                "cannot write {}: folder {} does not take new files ({e})",
                arg.display(),
                dir.display()
            )
        })
}

/// Checks, before anything is measured, that `path` can take result rows:
/// an existing file must be a results CSV whose last line is complete; a new
/// file needs a writable folder. Returns whether the header must be written.
pub fn check_csv_target(path: &Path) -> Result<bool> {
    Ok(csv_target(path)?.1)
}

fn csv_target(path: &Path) -> Result<(Output, bool)> {
    let out = resolve(path, Mode::Append)?;
    let Output::File(real) = &out else {
        return Ok((out, true));
    };
    let mut f = match File::open(real) {
        Ok(f) => f,
        // A new file: resolve proved its folder takes files.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((out, true)),
        Err(e) => usage_bail!("cannot read {}: {e}", path.display()),
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return Ok((out, true));
    }
    // Only the first line and the last byte matter: a huge file is not read.
    let mut first = Vec::new();
    (&mut f)
        .take(MAX_HEADER_BYTES)
        .read_to_end(&mut first)
        .map_err(|e| usage!("cannot read {}: {e}", path.display()))?;
    let line = first.split(|&c| c == b'\n').next().unwrap_or(&[]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = String::from_utf8_lossy(line);
    let cols: Vec<&str> = line.split(',').collect();
    match schema_of_header(&cols) {
        Some(SCHEMA_VERSION) => {}
        Some(v) => usage_bail!(
            "{}: holds schema {v} rows (its header); this hashflops writes schema {SCHEMA_VERSION}: write to a new file; nothing was written",
            path.display()
        ),
        // A later version's header begins with this one's columns.
        None if cols.len() > CSV_COLUMNS.len() && cols.starts_with(&CSV_COLUMNS) => usage_bail!(
            "{}: holds rows of a newer schema than {SCHEMA_VERSION} (its header has {} columns); this hashflops writes schema {SCHEMA_VERSION}: write to a new file; nothing was written",
            path.display(),
            cols.len()
        ),
        None => usage_bail!(
            "{}: not a hashflops results file (its first line is not the expected header); nothing was written",
            path.display()
        ),
    }
    let mut last = [0u8; 1];
    f.seek(SeekFrom::End(-1))
        .and_then(|_| f.read_exact(&mut last))
        .map_err(|e| usage!("cannot read {}: {e}", path.display()))?;
    if last[0] != b'\n' {
        usage_bail!(
            "{}: the last line is incomplete; nothing was written (fix or move the file)",
            path.display()
        );
    }
    Ok((out, false))
}

/// Checks, before anything is measured or drawn, that `path` can be
/// replaced by [`replace_file`]: stdout, a regular file (through links) in a
/// writable folder, or a new file in a writable folder.
pub fn check_replace_target(path: &Path) -> Result<()> {
    resolve(path, Mode::Replace).map(drop)
}

/// Appends `rows` to `path` (`-`: stdout), writing the header only if the
/// file is new or empty. Refuses (exit 2) a file whose header differs or
/// whose last line is incomplete, leaving it as it was.
pub fn append_csv(path: &Path, rows: &[ResultRow]) -> Result<()> {
    let (out, fresh) = csv_target(path)?;
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
    match out {
        Output::Stdout => write_stdout(&bytes),
        Output::File(real) => {
            let mut f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&real)
                .map_err(|e| usage!("cannot open {} for appending: {e}", path.display()))?;
            f.write_all(&bytes)
                .with_context(|| format!("appending to {}", path.display()))?;
            Ok(())
        }
    }
}

/// Writes `doc` as pretty JSON to `path` (`-`: stdout). A file is replaced
/// through a temporary file beside it and a rename, so a failure never
/// leaves half a file; a link is written through, never replaced.
pub fn write_json<T: Serialize>(path: &Path, doc: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(doc)?;
    text.push('\n');
    replace_file(path, text.as_bytes())
}

/// Puts `bytes` at `path` (`-`: stdout) by writing a temporary file beside
/// the target and renaming it over the target, after checking the target
/// again: a link is written through, never replaced.
pub fn replace_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let real = match resolve(path, Mode::Replace)? {
        Output::Stdout => return write_stdout(bytes),
        Output::File(real) => real,
    };
    let failed = |e: &dyn std::fmt::Display| usage!("cannot write {}: {e}", path.display());
    let mut tmp = tempfile::Builder::new()
        .prefix(".hashflops-json")
        .tempfile_in(folder_of(&real))
        .map_err(|e| failed(&e))?;
    tmp.write_all(bytes).map_err(|e| failed(&e))?;
    // Keep the replaced file's permissions; a new one is world-readable like
    // any report (the temporary file starts private).
    let perms = match fs::metadata(&real) {
        Ok(m) => m.permissions(),
        Err(_) => std::os::unix::fs::PermissionsExt::from_mode(0o644),
    };
    tmp.as_file()
        .set_permissions(perms)
        .map_err(|e| failed(&e))?;
    tmp.persist(&real).map_err(|e| failed(&e.error))?;
    Ok(())
}

fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|_| out.flush())
        .map_err(|e| usage!("cannot write to stdout: {e}"))
}

/// Reads a results CSV of any schema version this one knows (columns a
/// version did not write read as empty): a regular file of at most
/// [`MAX_INPUT_BYTES`]. Errors name the file and
/// line; a value, min, max or cv_pct that is not a finite, non-negative
/// number makes the file malformed.
pub fn read_csv(path: &Path) -> Result<Vec<ResultRow>> {
    let shown = path.display();
    // Checked before opening: opening a FIFO would wait for a writer.
    let meta = fs::metadata(path).map_err(|e| usage!("cannot read {shown}: {e}"))?;
    if !meta.is_file() {
        usage_bail!("cannot read {shown}: not a regular file; compare reads results CSVs only");
    }
    let too_big = || {
        usage!(
            "{shown}: larger than {} MiB, the limit for one results file",
            MAX_INPUT_BYTES >> 20
        )
    };
    if meta.len() > MAX_INPUT_BYTES {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| f.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| usage!("cannot read {shown}: {e}"))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_big());
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes.as_slice());
    let headers = rdr.headers().map_err(|e| usage!("{shown}:1: {e}"))?.clone();
    let got: Vec<&str> = headers.iter().collect();
    if schema_of_header(&got).is_none() {
        usage_bail!(
            "{shown}:1: not a hashflops results file of schema 1 to {SCHEMA_VERSION} (expected the header `{}`)",
            csv_header_line()
        );
    }
    let mut rows = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                usage_bail!("{shown}:{line}: malformed row: {e}");
            }
        }
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let row: ResultRow = rec
            .deserialize(Some(&headers))
            .map_err(|e| usage!("{shown}:{line}: malformed row: {e}"))?;
        if let Some(bad) = bad_number(&row) {
            usage_bail!("{shown}:{line}: malformed row: {bad}");
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Medians, extremes and spreads are finite and non-negative in every row
/// the tool writes; anything else would print as NaN or stall the chart.
fn bad_number(r: &ResultRow) -> Option<String> {
    [
        ("value", r.value),
        ("min", r.min),
        ("max", r.max),
        ("cv_pct", r.cv_pct),
    ]
    .into_iter()
    .find(|(_, v)| !v.is_finite() || *v < 0.0)
    .map(|(name, v)| format!("{name} is {v}, not a finite non-negative number"))
}
