//! CSV and JSON files. Appending never rewrites or corrupts earlier rows:
//! the existing header is checked first, the new rows are rendered in
//! memory, and then added with one write. A target is checked before
//! anything is measured, and again just before it is written: only regular
//! files (through any links) that are not read-only, or new files in a
//! writable folder, are accepted, so a device node, a FIFO, a folder, a
//! read-only file or a link itself is never replaced. [`check_outputs`]
//! also checks a command's outputs against each other and its inputs, so
//! no output overwrites another or a file being read. `-` means standard
//! output.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use super::{schema_of_header, ResultRow, CSV_COLUMNS, SCHEMA_VERSION};
use crate::cli::typed_path;
use crate::{usage, usage_bail};

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
/// in the folder (for a replace or a new file) and by opening an existing
/// file for writing (changing nothing); since root opens any file, an
/// existing file without a single write bit is refused by its mode as well.
fn resolve(arg: &Path, mode: Mode) -> Result<Output> {
    if is_stdout(arg) {
        return Ok(Output::Stdout);
    }
    if arg.as_os_str().is_empty() {
        usage_bail!("an empty file name names no file: give a path, or - for stdout");
    }
    let shown = typed_path(arg);
    let real = match fs::symlink_metadata(arg) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dir = folder_of(arg);
            match fs::metadata(&dir) {
                Ok(m) if m.is_dir() => {}
                _ => usage_bail!(
                    "cannot write {shown}: folder {} does not exist",
                    typed_path(&dir)
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
    // A file that is not writable stays as it is, whether it would be
    // appended to or replaced by a rename (which needs only the folder).
    // Root writes through permission bits, so a file with no write bit at
    // all is refused by its mode; for anyone else, opening it for writing
    // (which changes nothing) asks the kernel, ACLs included.
    if meta.permissions().mode() & 0o222 == 0 {
        usage_bail!(
            "cannot write {shown}: the file is read-only (mode {:04o}); make it writable or name another file",
            meta.permissions().mode() & 0o7777
        );
    }
    match mode {
        Mode::Replace => {
            OpenOptions::new()
                .write(true)
                .open(&real)
                .map_err(|e| usage!("cannot write {shown}: {e}"))?;
            probe_folder(&folder_of(&real), arg)?
        }
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
                typed_path(arg),
                typed_path(dir)
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
        Err(e) => usage_bail!("cannot read {}: {e}", typed_path(path)),
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
        .map_err(|e| usage!("cannot read {}: {e}", typed_path(path)))?;
    let line = first.split(|&c| c == b'\n').next().unwrap_or(&[]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = String::from_utf8_lossy(line);
    let cols: Vec<&str> = line.split(',').collect();
    match schema_of_header(&cols) {
        Some(SCHEMA_VERSION) => {}
        Some(v) => usage_bail!(
            "{}: holds schema {v} rows (its header); this hashflops writes schema {SCHEMA_VERSION}: write to a new file; nothing was written",
            typed_path(path)
        ),
        // A later version's header begins with this one's columns.
        None if cols.len() > CSV_COLUMNS.len() && cols.starts_with(&CSV_COLUMNS) => usage_bail!(
            "{}: holds rows of a newer schema than {SCHEMA_VERSION} (its header has {} columns); this hashflops writes schema {SCHEMA_VERSION}: write to a new file; nothing was written",
            typed_path(path),
            cols.len()
        ),
        None => usage_bail!(
            "{}: not a hashflops results file (its first line is not the expected header); nothing was written",
            typed_path(path)
        ),
    }
    let mut last = [0u8; 1];
    f.seek(SeekFrom::End(-1))
        .and_then(|_| f.read_exact(&mut last))
        .map_err(|e| usage!("cannot read {}: {e}", typed_path(path)))?;
    if last[0] != b'\n' {
        usage_bail!(
            "{}: the last line is incomplete; nothing was written (fix or move the file)",
            typed_path(path)
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

/// How an output of a command is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Result rows appended to a results CSV ([`append_csv`]).
    AppendCsv,
    /// Replaced whole through a temporary file ([`replace_file`]).
    Replace,
}

/// One file a command was asked to write.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// The option that names it, e.g. `--json`.
    pub flag: &'static str,
    pub path: &'a Path,
    pub kind: Kind,
    /// Why `-` (stdout) is refused for it; `None` where stdout is accepted.
    pub no_stdout: Option<&'static str>,
}

impl<'a> Target<'a> {
    /// A target that may be `-`.
    pub fn new(flag: &'static str, path: &'a Path, kind: Kind) -> Self {
        Target {
            flag,
            path,
            kind,
            no_stdout: None,
        }
    }
}

/// Which file a path is: the file itself (through any links) when it
/// exists, else the canonical folder and the name it would be created as.
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    Inode(u64, u64),
    New(PathBuf, std::ffi::OsString),
}

impl Identity {
    /// `None` where the path names nothing that could be told apart (a
    /// missing folder): the target's own check refuses it.
    fn of(p: &Path) -> Option<Identity> {
        match fs::metadata(p) {
            Ok(m) => Some(Identity::Inode(m.dev(), m.ino())),
            Err(_) => {
                let name = p.file_name()?.to_os_string();
                let dir = fs::canonicalize(folder_of(p)).ok()?;
                Some(Identity::New(dir, name))
            }
        }
    }
}

/// Checks every output of one command against the file system, each other
/// and the command's inputs, before anything is measured, read or printed:
/// the one check `run`, `health` and `compare` make. Refused (exit 2, one
/// line), with every file left as it was: `-` where a target cannot take
/// it, two targets on stdout, a target that cannot take what it would get
/// (see [`check_csv_target`], [`check_replace_target`]; read-only files
/// included, for root too), two targets that are one file (through links,
/// hard or symbolic, or as one new name), and a target that is one of
/// `inputs`.
pub fn check_outputs(targets: &[Target], inputs: &[&Path]) -> Result<()> {
    for t in targets {
        if let (true, Some(why)) = (is_stdout(t.path), t.no_stdout) {
            usage_bail!("{why}");
        }
    }
    let on_stdout: Vec<&str> = targets
        .iter()
        .filter(|t| is_stdout(t.path))
        .map(|t| t.flag)
        .collect();
    if let [first, second, ..] = on_stdout.as_slice() {
        usage_bail!(
            "{first} - and {second} - cannot both write to stdout; send one of them to a file"
        );
    }
    for t in targets {
        match t.kind {
            Kind::AppendCsv => check_csv_target(t.path).map(drop),
            Kind::Replace => check_replace_target(t.path),
        }
        .map_err(|e| usage!("{}: {e:#}", t.flag))?;
    }
    let files: Vec<(&Target, Identity)> = targets
        .iter()
        .filter(|t| !is_stdout(t.path))
        .filter_map(|t| Identity::of(t.path).map(|id| (t, id)))
        .collect();
    for (i, (a, id)) in files.iter().enumerate() {
        if let Some((b, _)) = files[..i].iter().find(|(_, other)| other == id) {
            usage_bail!(
                "{} {} and {} {} are the same file: each output needs a file of its own",
                b.flag,
                typed_path(b.path),
                a.flag,
                typed_path(a.path)
            );
        }
    }
    for input in inputs {
        let Ok(m) = fs::metadata(input) else {
            // Not there: reading it says so.
            continue;
        };
        let id = Identity::Inode(m.dev(), m.ino());
        if let Some((t, _)) = files.iter().find(|(_, other)| *other == id) {
            usage_bail!(
                "{} {} is the input {}: an output never replaces an input; name another file",
                t.flag,
                typed_path(t.path),
                typed_path(input)
            );
        }
    }
    Ok(())
}

/// The regular files directly in `dir` (a `--shader-dir`), at most a few
/// thousand: inputs that no output may replace. Nothing for no folder or
/// one that cannot be read (its own check says so).
pub fn files_in(dir: Option<&Path>) -> Vec<PathBuf> {
    let Some(Ok(entries)) = dir.map(fs::read_dir) else {
        return Vec::new();
    };
    entries
        .take(4096)
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect()
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
                .map_err(|e| usage!("cannot open {} for appending: {e}", typed_path(path)))?;
            f.write_all(&bytes)
                .with_context(|| format!("appending to {}", typed_path(path)))?;
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
    let failed = |e: &dyn std::fmt::Display| usage!("cannot write {}: {e}", typed_path(path));
    let mut tmp = tempfile::Builder::new()
        .prefix(".hashflops-json")
        .tempfile_in(folder_of(&real))
        .map_err(|e| failed(&e))?;
    tmp.write_all(bytes).map_err(|e| failed(&e))?;
    // Keep the replaced file's permissions; a new one is world-readable like
    // any report (the temporary file starts private).
    let perms = match fs::metadata(&real) {
        Ok(m) => m.permissions(),
        Err(_) => PermissionsExt::from_mode(0o644),
    };
    tmp.as_file()
        .set_permissions(perms)
        .map_err(|e| failed(&e))?;
    tmp.persist(&real).map_err(|e| failed(&e.error))?;
    Ok(())
}

fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|_| out.flush()).map_err(|e| {
        // A reader that went away (`| head`) is no failure: the kind is
        // kept for main, which ends quietly.
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            anyhow::Error::new(e)
        } else {
            usage!("cannot write to stdout: {e}")
        }
    })
}
