//! Command-line interface. Every flag is documented here and only here.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::gpu::BackendChoice;

mod mine;
pub use mine::{MineAlgo, MineArgs};

/// Measures what a GPU can really do: SHA-256d hash rate (the mining
/// workload) against verified FLOPS and memory bandwidth (the AI workloads),
/// so a retired mining card can be judged for AI work and compared with any
/// other card. Every number is checked against a CPU reference.
#[derive(Parser, Debug)]
#[command(name = "hashflops", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The most characters of what was typed that an error line repeats.
pub const MAX_ECHO_CHARS: usize = 80;

/// Something the user typed, as an error line repeats it: whole when it is
/// at most [`MAX_ECHO_CHARS`] characters, else its start, an ellipsis and
/// its length. `{}` shows it bare, `{:?}` quoted; every error that echoes
/// an argument, a path or a selector goes through [`typed`] or
/// [`typed_path`], so no line grows with the input.
pub struct Typed<'a>(Cow<'a, str>);

/// What was typed, for an error line (see [`Typed`]).
pub fn typed(s: &str) -> Typed<'_> {
    Typed(Cow::Borrowed(s))
}

/// A path that was typed, for an error line (see [`Typed`]).
pub fn typed_path(p: &Path) -> Typed<'_> {
    Typed(p.to_string_lossy())
}

impl Typed<'_> {
    /// The start kept, and the whole length when it was cut.
    fn clipped(&self) -> (Cow<'_, str>, Option<usize>) {
        let n = self.0.chars().count();
        if n <= MAX_ECHO_CHARS {
            return (Cow::Borrowed(&self.0), None);
        }
        let head: String = self.0.chars().take(MAX_ECHO_CHARS).collect();
        (Cow::Owned(head + "…"), Some(n))
    }
}

impl fmt::Display for Typed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.clipped() {
            (s, None) => f.write_str(&s),
            (s, Some(n)) => write!(f, "{s} ({n} characters)"),
        }
    }
}

impl fmt::Debug for Typed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.clipped() {
            (s, None) => write!(f, "{s:?}"),
            (s, Some(n)) => write!(f, "{s:?} ({n} characters)"),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List every adapter wgpu can see, on every backend.
    List(ListArgs),
    /// Measure the adapter(s): every suite by default.
    Run(RunArgs),
    /// Search nonces of an 80-byte Bitcoin block header on the GPU.
    ///
    /// Prints `<nonce> <block hash>` for every nonce whose hash meets the
    /// target, and a summary on stderr. The header's own nonce field is
    /// ignored (overwritten by each tested nonce).
    Mine(MineArgs),
    /// Compare results files (CSV or JSON) from any number of runs, machines and adapters.
    ///
    /// Rows are grouped by adapter (host, adapter index, name, backend); for
    /// each key metric the best verified value of each adapter is shown.
    Compare(CompareArgs),
    /// The built-in reference cards: each figure with its source, marked
    /// vendor spec, community measurement or estimate.
    Cards(CardsArgs),
    /// Check a card's health: VRAM integrity, stability under sustained
    /// load, the PCIe link as trained and power under load; a verdict per
    /// card. Exit 1 when a fault is found. Ctrl-C stops cleanly and gives
    /// the verdict on what ran.
    Health(HealthArgs),
}

#[derive(Args, Debug)]
pub struct CardsArgs {
    /// Print JSON (every figure with its basis and source) instead of a table.
    #[arg(long, conflicts_with = "ethash")]
    pub json: bool,
    /// Instead of the table: estimate a card's memory bandwidth and LLM
    /// decode rate from the Ethash rate it mined at, in MH/s (Ethash reads
    /// 8 KiB per hash). Printed as an estimate.
    #[arg(long, value_name = "MH/s", value_parser = parse_ethash, allow_negative_numbers = true)]
    pub ethash: Option<f64>,
    /// Instead of the table: what each card mined (Ethash, Etchash, KawPow,
    /// Autolykos2, Equihash 144,5, kHeavyHash; the 2miners calculator's
    /// typical tuned rates) and stock and tuned Ethash figures, each with
    /// its source. With --json, as JSON.
    #[arg(long, conflicts_with = "ethash")]
    pub mining: bool,
}

fn parse_ethash(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 1e6 => Ok(v),
        _ => Err(format!(
            "{:?} is not an Ethash rate: give MH/s as a number above 0 and at most 1000000, e.g. 30",
            typed(s)
        )),
    }
}

/// A price per kWh: a positive number, whatever the currency.
fn parse_power_price(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "{:?} is not a power price: give the price of a kWh as a number above 0, e.g. 0.30",
            typed(s)
        )),
    }
}

#[derive(Args, Debug)]
pub struct HealthArgs {
    /// How long to test each card: seconds (60) or units (90s, 1m30s, 5m,
    /// 2h): the VRAM test, then a soak for the rest of the time.
    #[arg(long, value_name = "D", default_value = "5m", value_parser = parse_duration)]
    pub duration: std::time::Duration,
    #[command(flatten)]
    pub adapter: AdapterArgs,
    /// Test every adapter in turn (each card once, on the preferred API).
    #[arg(long, conflicts_with = "adapter")]
    pub all_adapters: bool,
    /// Append result rows to this CSV file (as `run --csv`).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Write rows, the verdict per card (`health`) and telemetry to this
    /// JSON file, replacing it atomically.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the verified rows and each card's health figures (memory,
    /// stability, soak rates, link, power where read) as a Prometheus text
    /// exposition to FILE, replacing it atomically (as `run --prom`).
    #[arg(long, value_name = "FILE")]
    pub prom: Option<PathBuf>,
    /// Load shaders from this directory instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub shader_dir: Option<PathBuf>,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `--adapter SEL`: an empty or blank selector would match every name (an
/// empty string is part of each), so it is refused rather than taken to
/// mean the first adapter.
fn parse_adapter_sel(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err(
            "an empty selector names no adapter: give an index from `hashflops list` or part of a name"
                .into(),
        );
    }
    Ok(s.to_string())
}

/// `--baseline SEL`: refused when empty or blank, like `--adapter`.
fn parse_baseline_sel(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err(
            "an empty selector names no adapter: give a column number of the table or part of its label"
                .into(),
        );
    }
    Ok(s.to_string())
}

/// A duration as people type it: a bare number of seconds (`60`), or
/// units as `humantime` reads them (`90s`, `1m30s`, `5m`, `2h`, `1h 30m`).
/// More than 0 and at most a week.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let bad = || {
        format!(
            "{:?} is not a duration: give seconds or units, e.g. 60, 30s, 1m30s, 5m, 2h",
            typed(s)
        )
    };
    if t.is_empty() {
        return Err(bad());
    }
    let d = if t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse::<u64>()
            .map(std::time::Duration::from_secs)
            .map_err(|_| format!("{:?} is too long: at most a week (168h)", typed(s)))?
    } else {
        match humantime::parse_duration(t) {
            Ok(d) => d,
            Err(humantime::DurationError::NumberOverflow) => {
                return Err(format!("{:?} is too long: at most a week (168h)", typed(s)))
            }
            Err(_) => return Err(bad()),
        }
    };
    if d.is_zero() {
        return Err("the duration must be more than 0".into());
    }
    if d > std::time::Duration::from_secs(7 * 24 * 3600) {
        return Err(format!("{:?} is too long: at most a week (168h)", typed(s)));
    }
    Ok(d)
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Results CSV files written by `hashflops run --csv`: regular files of
    /// at most 64 MiB each. A value, min, max or cv_pct that is not a finite,
    /// non-negative number makes a file malformed (exit 2, naming file:line).
    /// At most 200000 rows and 64 adapters in one comparison.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Show ratios to this adapter: its number in the table (from 0) or a
    /// case-insensitive part of its label.
    #[arg(long, value_name = "SEL", value_parser = parse_baseline_sel)]
    pub baseline: Option<String>,
    /// Add the built-in table of published figures for well-known cards.
    #[arg(long)]
    pub reference: bool,
    /// Draw the chart (a roofline per adapter with its float and integer
    /// roofs, log-scale bars of hash rate, FLOPS and bandwidth, and an LLM
    /// panel of tokens/s and VRAM fit) into this SVG file, replaced atomically like `run --json`
    /// (a link is written through; devices, FIFOs, folders, read-only files,
    /// the other chart's file and the files compared are refused).
    /// `-` writes the SVG to stdout; the tables then go to stderr.
    #[arg(long, value_name = "OUT.svg")]
    pub svg: Option<PathBuf>,
    /// The same chart as a PNG image (text in a font built into hashflops,
    /// so no fonts need be installed), with the same target rules as
    /// --svg; `-` writes the PNG to stdout. With --reference, the published
    /// cards are drawn beside the measured adapters.
    #[arg(long, value_name = "OUT.png")]
    pub png: Option<PathBuf>,
    /// Combine several runs of one adapter into one column: the best value
    /// of each metric, or the median over the runs. Default: every run is
    /// its own column, headed by its run id.
    #[arg(long, value_enum, value_name = "HOW")]
    pub merge: Option<crate::report::compare::Merge>,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The adapter profiles HASHFLOPS_PROFILE can name, one line each,
    /// instead of the adapters (with --json: every figure and its source).
    #[arg(long)]
    pub profiles: bool,
    /// The model catalogue instead of the adapters: each model's
    /// parameters, KV cache and sizes in every weight format (with --json:
    /// its shape and the sources).
    #[arg(long, conflicts_with_all = ["profiles", "backend"])]
    pub models: bool,
    /// Only this backend.
    #[arg(long, value_enum)]
    pub backend: Option<BackendChoice>,
}

#[derive(Args, Debug, Clone)]
pub struct AdapterArgs {
    /// Adapter: an index from `hashflops list` or a case-insensitive part of
    /// its name. Default: the fastest kind present (discrete > integrated >
    /// virtual > CPU).
    #[arg(long, value_name = "SEL", value_parser = parse_adapter_sel)]
    pub adapter: Option<String>,
    /// Only look at adapters of this backend.
    #[arg(long, value_enum)]
    pub backend: Option<BackendChoice>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub adapter: AdapterArgs,
    /// Measure every adapter in turn (each card once, on the preferred API).
    #[arg(long, conflicts_with = "adapter")]
    pub all_adapters: bool,
    #[arg(long, value_name = "LIST", value_parser = crate::workloads::parse_suites,
          help = suites_help())]
    pub suite: Option<crate::workloads::SuiteList>,
    /// Small problems and short samples: seconds instead of minutes.
    #[arg(long, conflicts_with = "full")]
    pub quick: bool,
    /// Larger problems and more samples than the default.
    #[arg(long)]
    pub full: bool,
    /// Timed samples per kernel (5 to 1000).
    #[arg(long, value_name = "N", value_parser = parse_samples,
          allow_negative_numbers = true)]
    pub samples: Option<u32>,
    /// Append result rows to this CSV file (the header is written only when
    /// the file is new; a file with another header or a torn last line is
    /// left untouched). `-` writes the CSV to stdout; the tables then go to
    /// stderr. The file must be a regular file (a link to one is appended
    /// to through the link) or a new file in an existing, writable folder:
    /// checked before measuring. Devices, FIFOs, folders, read-only files
    /// (for root too), a file another output names and a shader being read
    /// are refused.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Write the rows (and adapter details) to this JSON file, replacing it
    /// atomically (a temporary file beside it, then a rename). `-` writes
    /// the JSON to stdout; the tables then go to stderr. The file must be a
    /// regular file (a link to one is written through: the file it points
    /// to is replaced, never the link) or a new file in an existing,
    /// writable folder: checked before measuring. Devices, FIFOs, folders,
    /// read-only files (for root too), a file another output names and a
    /// shader being read are refused.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the rows as a Prometheus text exposition to FILE (for
    /// node_exporter's textfile collector), replacing it atomically; the
    /// same target rules as --json, but not `-`.
    #[arg(long, value_name = "FILE")]
    pub prom: Option<PathBuf>,
    /// Matrix rows M for the matmul suite.
    #[arg(long, value_parser = parse_dim,
          allow_negative_numbers = true)]
    pub m: Option<u32>,
    /// Matrix columns N for the matmul suite.
    #[arg(long, value_parser = parse_dim,
          allow_negative_numbers = true)]
    pub n: Option<u32>,
    /// Inner dimension K for the matmul suite.
    #[arg(long, value_parser = parse_dim,
          allow_negative_numbers = true)]
    pub k: Option<u32>,
    /// Bytes per stream array (suffixes K, M, G: binary, e.g. 256M).
    /// Default: 256 MiB on a GPU (1 GiB with --full), 64 MiB on a CPU
    /// adapter (8 MiB with --quick, 128 MiB with --full), capped by the
    /// adapter's limits. A size the adapter cannot bind is an error (exit 2),
    /// never silently reduced; sizes are rounded down to a multiple of 16 bytes.
    #[arg(long, value_name = "BYTES", value_parser = parse_size,
          allow_negative_numbers = true)]
    pub size: Option<u64>,
    /// The Ethash rate, in MH/s, this card mined as its owner remembers
    /// it: the verdict sets the measured rate beside it instead of beside
    /// the tuned rate miners reached on the same model.
    #[arg(long, value_name = "MH/s", value_parser = parse_ethash,
          allow_negative_numbers = true, conflicts_with = "all_adapters")]
    pub expect_ethash: Option<f64>,
    /// The price of a kWh, in any currency (e.g. 0.30): where power was
    /// read, the verdict, summary, energy line and JSON give each model's
    /// power cost per million tokens.
    #[arg(long, value_name = "PER_KWH", value_parser = parse_power_price,
          allow_negative_numbers = true)]
    pub power_price: Option<f64>,
    /// The Ethash epoch the ethash suite hashes over (0 to 2047). Default:
    /// 517, the last Ethereum mined, where the adapter holds its 5.0 GiB
    /// dataset, else the largest epoch it holds; 0 on a software adapter.
    #[arg(long, value_name = "N", value_parser = crate::workloads::ethash::plan::parse_epoch,
          allow_negative_numbers = true)]
    pub epoch: Option<crate::workloads::ethash::epoch::Epoch>,
    /// As --epoch, given an Ethereum block number (epoch = B / 30000).
    #[arg(long, value_name = "B", value_parser = crate::workloads::ethash::plan::parse_block,
          allow_negative_numbers = true, conflicts_with = "epoch")]
    pub block: Option<crate::workloads::ethash::epoch::Epoch>,
    /// Comma-separated weight formats the llm suite's decode_<format> and
    /// prefill_<format> time, instead of the scale's (q4_0, q8_0, f16,
    /// q4_k, q5_k, q6_k, mxfp4; a CPU adapter times only the first three
    /// unless --full). The MoE, attention and whole-model rows are as the
    /// scale has them.
    #[arg(long, value_name = "LIST", value_parser = crate::workloads::llm::parse_formats)]
    pub llm_formats: Option<crate::workloads::llm::Formats>,
    /// Load shaders from this directory instead of the built-in ones, where
    /// a file of the same name exists (kernel development).
    #[arg(long, value_name = "DIR")]
    pub shader_dir: Option<PathBuf>,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `--suite`'s help, from the registry of suites.
fn suites_help() -> String {
    let list: Vec<String> = crate::workloads::REGISTRY
        .iter()
        .map(|s| format!("{} ({})", s.id, s.about))
        .collect();
    format!(
        "Comma-separated suites: {}. Default: {}",
        list.join("; "),
        crate::workloads::default_suites().joined()
    )
}

/// A whole number in `lo..=hi`; the error names the range whatever the
/// input (clap's own parser names the type's range for a number too large).
pub(crate) fn in_range(s: &str, lo: u64, hi: u64, what: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        _ => Err(format!(
            "{:?} is not {what}: must be a whole number in {lo}..={hi}",
            typed(s)
        )),
    }
}

pub(crate) fn parse_u32_arg(s: &str) -> Result<u32, String> {
    in_range(s, 0, u32::MAX.into(), "a nonce").map(|n| n as u32)
}

fn parse_samples(s: &str) -> Result<u32, String> {
    in_range(s, 5, 1000, "a sample count").map(|n| n as u32)
}

fn parse_dim(s: &str) -> Result<u32, String> {
    in_range(s, 1, u32::MAX.into(), "a matrix size").map(|n| n as u32)
}

/// `256M`, `1G`, `4096` (bytes; K/M/G are binary).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mul) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{:?} is not a size (e.g. 4096, 64M, 1G)", typed(s)))?;
    let bytes = n
        .checked_mul(mul)
        .ok_or_else(|| format!("{:?} is too large", typed(s)))?;
    if bytes == 0 {
        return Err("size must be more than 0 bytes".into());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_input_is_whole_up_to_the_limit_then_cut_with_its_length() {
        let short = "é".repeat(MAX_ECHO_CHARS);
        assert_eq!(typed(&short).to_string(), short);
        assert_eq!(format!("{:?}", typed("a\"b")), "\"a\\\"b\"");
        let long = "é".repeat(MAX_ECHO_CHARS + 1);
        let want = format!("{}… ({} characters)", short, MAX_ECHO_CHARS + 1);
        assert_eq!(typed(&long).to_string(), want);
        assert_eq!(
            format!("{:?}", typed(&long)),
            format!("\"{short}…\" ({} characters)", MAX_ECHO_CHARS + 1)
        );
        assert_eq!(
            typed_path(Path::new(&long)).to_string(),
            typed(&long).to_string()
        );
    }
}
