//! The commands: `list`, `run`, `mine`, `compare`, `cards`, `health`; one
//! module each, with the settings and the measuring of one adapter that
//! `run` and `health` share.

mod cards;
mod compare;
mod health;
mod measure;
mod mine;
mod mine_ethash;
mod models;
mod run;
mod settings;

pub use cards::cards;
pub use compare::compare;
pub use health::health;
pub use mine::mine;
pub use run::run;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};

use std::sync::atomic::{AtomicBool, Ordering};

use crate::cli::ListArgs;
use crate::error::{exit, is_usage, UsageError};
use crate::gpu::Adapters;
use crate::report::table;
use crate::usage;

/// A progress line on stderr, or nothing when stderr is not a terminal or
/// the user asked for quiet.
pub(crate) fn progress(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {prefix} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    pb
}

/// Set by the first Ctrl-C: `run` stops after the suite in progress,
/// `health` after the interval in progress; both write what finished and
/// exit 130.
pub(crate) static STOP: AtomicBool = AtomicBool::new(false);

/// Catches Ctrl-C (SIGINT): the first sets [`STOP`] and says so, naming
/// where the command stops (`what`); a second ends the process at once
/// with exit 130. A second handler (tests calling twice in one process) is
/// not installed, which is harmless.
pub(crate) fn catch_interrupts(what: &'static str) {
    let _ = ctrlc::set_handler(move || {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(exit::INTERRUPTED);
        }
        eprintln!("\nhashflops: stopping after {what} (Ctrl-C again to quit now)");
    });
}

/// Whether Ctrl-C was pressed.
pub(crate) fn interrupted() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// What failed while a command went on with the rest: one line each, and
/// whether every one was the user's to fix (exit 2) or any was a device,
/// driver or internal failure (exit 1).
#[derive(Default)]
pub(crate) struct Failures {
    lines: Vec<String>,
    all_usage: bool,
}

impl Failures {
    /// `what` failed with `e` ("hash on adapter 0", "adapter 1").
    pub(crate) fn push(&mut self, what: impl std::fmt::Display, e: &anyhow::Error) {
        let usage = is_usage(e);
        self.all_usage = usage && (self.lines.is_empty() || self.all_usage);
        self.lines.push(format!("{what}: {e:#}"));
    }

    pub(crate) fn lines(&self) -> &[String] {
        &self.lines
    }

    /// Prints every failure but the last on stderr, one line each, and
    /// returns the last as the error that ends the command (main prints it
    /// and exits 2 if all were usage errors, else 1).
    pub(crate) fn finish(&self) -> Result<()> {
        let Some((last, earlier)) = self.lines.split_last() else {
            return Ok(());
        };
        for f in earlier {
            eprintln!("hashflops: error: {}", one_line(f));
        }
        Err(if self.all_usage {
            anyhow::Error::new(UsageError(last.clone()))
        } else {
            anyhow::anyhow!("{last}")
        })
    }

    /// Prints every failure on stderr, one line each (an interrupted
    /// command, whose exit code says it was interrupted).
    pub(crate) fn print_all(&self) {
        for f in &self.lines {
            eprintln!("hashflops: error: {}", one_line(f));
        }
    }
}

/// The tables people read, for a reader that may leave early (`run | head`):
/// once a write finds the pipe closed, the rest is dropped without an error,
/// so that the command still writes its results files and ends as it would
/// have.
pub(crate) struct ReaderMayLeave<W> {
    inner: W,
    gone: bool,
}

impl<W: Write> ReaderMayLeave<W> {
    pub(crate) fn new(inner: W) -> Self {
        ReaderMayLeave { inner, gone: false }
    }

    fn lenient(&mut self, r: std::io::Result<usize>, len: usize) -> std::io::Result<usize> {
        match r {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.gone = true;
                Ok(len)
            }
            r => r,
        }
    }
}

impl<W: Write> Write for ReaderMayLeave<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.gone {
            return Ok(buf.len());
        }
        let r = self.inner.write(buf);
        self.lenient(r, buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.gone {
            return Ok(());
        }
        let r = self.inner.flush().map(|_| 0);
        self.lenient(r, 0).map(|_| ())
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn list(args: ListArgs) -> Result<i32> {
    if args.profiles {
        return list_profiles(args.json);
    }
    if args.models {
        return models::list_models(args.json);
    }
    crate::gpu::profile::active()?;
    let adapters = Adapters::enumerate(args.backend);
    let descs = adapters.descs();
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&descs)?)?;
    } else if descs.is_empty() {
        return Err(usage!("{}", crate::gpu::NO_ADAPTER_HELP));
    } else {
        writeln!(out, "{}", table::adapters_table(&descs))?;
        if let Ok(best) = adapters.select(None, false) {
            let d = &descs[best[0]];
            writeln!(out, "default adapter: {} ({})", d.index, d.name)?;
        }
    }
    out.flush()?;
    Ok(exit::OK)
}

/// `list --profiles`: each profile's name and what it stands for; with
/// `--json`, every figure with its source.
fn list_profiles(json: bool) -> Result<i32> {
    let profiles = crate::gpu::profile::all();
    let mut out = std::io::stdout().lock();
    if json {
        let all: Vec<serde_json::Value> = profiles
            .iter()
            .map(|p| {
                serde_json::json!({
                    "name": p.name,
                    "about": p.about,
                    "figures": p.figures.iter().map(|f| serde_json::json!({
                        "field": f.field, "value": f.value, "source": f.source,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?;
    } else {
        let width = profiles.iter().map(|p| p.name.len()).max().unwrap_or(0);
        for p in profiles {
            writeln!(out, "{:width$}  {}", p.name, p.about)?;
        }
    }
    out.flush()?;
    Ok(exit::OK)
}

/// What the JSON of `run` and of `health` begin with: the tool, the schema,
/// the invocation, the adapters and their rows, and how the command ended.
#[derive(serde::Serialize)]
struct DocHead<'a> {
    tool: &'static str,
    /// Bumped when a field changes meaning or a column is added.
    schema_version: u32,
    #[serde(flatten)]
    meta: &'a crate::report::RunMeta,
    adapters: &'a [crate::gpu::AdapterDesc],
    rows: &'a [crate::report::ResultRow],
    /// Ctrl-C stopped the command: the rows are of what finished.
    interrupted: bool,
    failures: &'a [String],
    wrong_answers: &'a [String],
}
