//! `hashflops compare`: results files side by side.

use std::io::Write;

use anyhow::Result;

use crate::cli::CompareArgs;
use crate::error::exit;
use crate::report::files;

pub fn compare(args: CompareArgs) -> Result<i32> {
    use crate::report::{chart, compare};
    // The charts' targets are checked before anything is read or printed.
    let targets: Vec<&std::path::Path> = [&args.svg, &args.png]
        .into_iter()
        .flatten()
        .map(|p| p.as_path())
        .collect();
    for path in &targets {
        files::check_replace_target(path)?;
    }
    let to_stdout = targets.iter().filter(|p| files::is_stdout(p)).count();
    if to_stdout > 1 {
        crate::usage_bail!("--svg - and --png - cannot both write to stdout; give one a file");
    }
    let rows = compare::load(&args.files)?;
    let groups = compare::group(&rows, args.merge)?;
    let baseline = match &args.baseline {
        Some(sel) => Some(compare::find_baseline(&groups, sel)?),
        None => None,
    };
    // With a chart on stdout, the tables go to stderr.
    let mut out: Box<dyn Write> = if to_stdout > 0 {
        Box::new(std::io::stderr().lock())
    } else {
        Box::new(std::io::stdout().lock())
    };
    writeln!(out, "{}", compare::render(&groups, baseline))?;
    if args.reference {
        writeln!(out, "{}", compare::render_reference(&groups))?;
    }
    drop(out);
    if targets.is_empty() {
        return Ok(exit::OK);
    }
    let chart = chart::Chart::new(&groups, &rows, args.reference);
    for (path, bytes) in [
        (
            &args.svg,
            chart_bytes(&args.svg, || chart.svg().map(String::into_bytes))?,
        ),
        (&args.png, chart_bytes(&args.png, || chart.png())?),
    ] {
        let (Some(path), Some(bytes)) = (path, bytes) else {
            continue;
        };
        files::replace_file(path, &bytes)?;
        if !files::is_stdout(path) {
            eprintln!("hashflops: chart written to {}", path.display());
        }
    }
    Ok(exit::OK)
}

/// The chart drawn by `draw` when `target` asks for it.
fn chart_bytes(
    target: &Option<std::path::PathBuf>,
    draw: impl FnOnce() -> Result<Vec<u8>>,
) -> Result<Option<Vec<u8>>> {
    target.as_ref().map(|_| draw()).transpose()
}
