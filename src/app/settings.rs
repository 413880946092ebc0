//! What a measuring command is to do, derived once from its parsed flags
//! (as ripgrep derives its settings from the low-level arguments): `run`
//! and `health` both start here, so a bad output target, an unknown adapter
//! or a missing shader folder is refused (exit 2) the same way, in the same
//! order, before a second of measuring.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use crate::catalogue::Suite;
use crate::cli::{AdapterArgs, HealthArgs, RunArgs};
use crate::gpu::{AdapterDesc, Adapters};
use crate::report::files;
use crate::workloads::{self, Scale, Shaders, SizeOptions};

/// Which command the settings are for, with what only that command has.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Command {
    Run,
    /// The VRAM test, then a soak for what is left of `duration`.
    Health {
        duration: Duration,
    },
}

/// The results files asked for (`-` is stdout where the command allows it).
#[derive(Debug, Default)]
pub(crate) struct Outputs {
    pub csv: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub prom: Option<PathBuf>,
}

/// Everything `run` or `health` needs, checked.
pub(crate) struct Settings {
    pub command: Command,
    pub adapters: Adapters,
    /// Positions in `adapters.list`, in the order they are measured.
    pub selected: Vec<usize>,
    /// The suites measured on each adapter, in order.
    pub suites: Vec<Suite>,
    pub scale: Scale,
    /// Timed samples per kernel and the shortest sample, in seconds.
    pub samples: u32,
    pub target_s: f64,
    pub sizes: SizeOptions,
    pub shaders: Shaders,
    pub outputs: Outputs,
    pub quiet: bool,
    /// The owner's Ethash rate, H/s (`run --expect-ethash`).
    pub expect_ethash_hs: Option<f64>,
    /// The price of a kWh (`run --power-price`).
    pub power_price: Option<f64>,
}

/// The flags both commands share, before anything is checked.
struct Flags<'a> {
    command: Command,
    adapter: &'a AdapterArgs,
    all_adapters: bool,
    outputs: Outputs,
    shader_dir: Option<PathBuf>,
    suites: Vec<Suite>,
    scale: Scale,
    samples: u32,
    target_s: f64,
    sizes: SizeOptions,
    quiet: bool,
}

impl Settings {
    pub(crate) fn for_run(args: &RunArgs) -> Result<Settings> {
        let scale = if args.quick {
            Scale::Quick
        } else if args.full {
            Scale::Full
        } else {
            Scale::Default
        };
        let (samples, target_s) = match scale {
            Scale::Quick => (5, 0.1),
            Scale::Default => (10, 0.1),
            Scale::Full => (20, 0.25),
        };
        let s = Settings::derive(Flags {
            command: Command::Run,
            adapter: &args.adapter,
            all_adapters: args.all_adapters,
            outputs: Outputs {
                csv: args.csv.clone(),
                json: args.json.clone(),
                prom: args.prom.clone(),
            },
            shader_dir: args.shader_dir.clone(),
            suites: args
                .suite
                .clone()
                .unwrap_or_else(workloads::default_suites)
                .0,
            scale,
            samples: args.samples.unwrap_or(samples),
            target_s,
            sizes: SizeOptions {
                m: args.m,
                n: args.n,
                k: args.k,
                size: args.size,
                ethash_epoch: args.epoch.or(args.block),
                llm_formats: args.llm_formats.clone().map(|f| f.0),
            },
            quiet: args.quiet,
        })?;
        Ok(Settings {
            expect_ethash_hs: args.expect_ethash.map(|mhs| mhs * 1e6),
            power_price: args.power_price,
            ..s
        })
    }

    pub(crate) fn for_health(args: &HealthArgs) -> Result<Settings> {
        Settings::derive(Flags {
            command: Command::Health {
                duration: args.duration,
            },
            adapter: &args.adapter,
            all_adapters: args.all_adapters,
            outputs: Outputs {
                csv: args.csv.clone(),
                json: args.json.clone(),
                prom: args.prom.clone(),
            },
            shader_dir: args.shader_dir.clone(),
            suites: vec![Suite::Vram, Suite::Soak],
            scale: Scale::Default,
            samples: 5,
            target_s: 0.1,
            sizes: SizeOptions::default(),
            quiet: args.quiet,
        })
    }

    /// The one place the flags are checked. A results file that cannot take
    /// the rows is found out before minutes of measuring, not after; so are
    /// outputs that would overwrite each other or a shader being read.
    fn derive(f: Flags) -> Result<Settings> {
        let shader_files = files::files_in(f.shader_dir.as_deref());
        let inputs: Vec<&Path> = shader_files.iter().map(|p| p.as_path()).collect();
        files::check_outputs(&f.outputs.targets(f.command), &inputs)?;
        let adapters = Adapters::enumerate(f.adapter.backend);
        let selected = adapters.select(f.adapter.adapter.as_deref(), f.all_adapters)?;
        let shaders = Shaders::from_dir(f.shader_dir)?;
        Ok(Settings {
            command: f.command,
            adapters,
            selected,
            suites: f.suites,
            scale: f.scale,
            samples: f.samples,
            target_s: f.target_s,
            sizes: f.sizes,
            shaders,
            outputs: f.outputs,
            quiet: f.quiet,
            expect_ethash_hs: None,
            power_price: None,
        })
    }

    /// The adapter at position `idx` of the list.
    pub(crate) fn desc(&self, idx: usize) -> &AdapterDesc {
        &self.adapters.list[idx].1
    }

    /// Status lines are for people watching a terminal, like the progress.
    pub(crate) fn chatty(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }

    /// Where the tables people read go: stderr when rows are on stdout, so
    /// that the CSV or JSON stays parseable. A reader that leaves early
    /// (`| head`) does not stop the results files from being written.
    pub(crate) fn human(&self) -> Box<dyn Write> {
        if self.outputs.rows_on_stdout() {
            Box::new(super::ReaderMayLeave::new(std::io::stderr().lock()))
        } else {
            Box::new(super::ReaderMayLeave::new(std::io::stdout().lock()))
        }
    }
}

impl Outputs {
    /// Each file as [`files::check_outputs`] checks it: `health` prints its
    /// verdict on stdout, so only `run` may send rows there.
    fn targets(&self, command: Command) -> Vec<files::Target<'_>> {
        let rows_stdout = match command {
            Command::Run => None,
            Command::Health { .. } => {
                Some("health prints its verdict on stdout: give --csv/--json a file, not -")
            }
        };
        let mut targets = Vec::new();
        if let Some(p) = &self.csv {
            targets.push(files::Target {
                no_stdout: rows_stdout,
                ..files::Target::new("--csv", p, files::Kind::AppendCsv)
            });
        }
        if let Some(p) = &self.json {
            targets.push(files::Target {
                no_stdout: rows_stdout,
                ..files::Target::new("--json", p, files::Kind::Replace)
            });
        }
        if let Some(p) = &self.prom {
            targets.push(files::Target {
                no_stdout: Some("--prom writes a file for node_exporter: give a path, not -"),
                ..files::Target::new("--prom", p, files::Kind::Replace)
            });
        }
        targets
    }

    /// Whether the CSV or the JSON goes to stdout.
    fn rows_on_stdout(&self) -> bool {
        let stdout = |p: &Option<PathBuf>| p.as_deref().is_some_and(files::is_stdout);
        stdout(&self.csv) || stdout(&self.json)
    }
}
