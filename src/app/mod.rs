//! The commands: `list`, `run`, `mine`, `compare`; one module each.

mod cards;
mod compare;
mod health;
mod mine;
mod run;

pub use cards::cards;
pub use compare::compare;
pub use health::health;
pub use mine::mine;
pub use run::run;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

use crate::cli::ListArgs;
use crate::error::exit;
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

pub fn list(args: ListArgs) -> Result<i32> {
    let adapters = Adapters::enumerate(args.backend);
    let descs = adapters.descs();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&descs)?);
    } else if descs.is_empty() {
        return Err(usage!("{}", crate::gpu::NO_ADAPTER_HELP));
    } else {
        println!("{}", table::adapters_table(&descs));
        if let Ok(best) = adapters.select(None, false) {
            let d = &descs[best[0]];
            println!("default adapter: {} ({})", d.index, d.name);
        }
    }
    Ok(exit::OK)
}
