//! `hashflops compare`: results files side by side.

use std::io::Write;

use anyhow::Result;

use crate::cli::CompareArgs;
use crate::error::exit;
use crate::report::files;

pub fn compare(args: CompareArgs) -> Result<i32> {
    use crate::report::{chart, compare};
    // The charts' targets are checked before anything is read or printed,
    // against each other and against the files compared.
    let mut targets = Vec::new();
    if let Some(p) = &args.svg {
        targets.push(files::Target::new("--svg", p, files::Kind::Replace));
    }
    if let Some(p) = &args.png {
        targets.push(files::Target::new("--png", p, files::Kind::Replace));
    }
    let inputs: Vec<&std::path::Path> = args.files.iter().map(|p| p.as_path()).collect();
    files::check_outputs(&targets, &inputs)?;
    let to_stdout = targets.iter().filter(|t| files::is_stdout(t.path)).count();
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
