//! `hashflops compare`: results files side by side.

use std::io::Write;

use anyhow::Result;

use crate::cli::CompareArgs;
use crate::error::exit;
use crate::report::files;

pub fn compare(args: CompareArgs) -> Result<i32> {
    use crate::report::{chart, compare};
    // The chart's target is checked before anything is read or printed.
    if let Some(path) = &args.svg {
        files::check_replace_target(path)?;
    }
    let svg_stdout = args.svg.as_deref().is_some_and(files::is_stdout);
    let rows = compare::load(&args.files)?;
    let groups = compare::group(&rows, args.merge)?;
    let baseline = match &args.baseline {
        Some(sel) => Some(compare::find_baseline(&groups, sel)?),
        None => None,
    };
    // With the SVG on stdout, the tables go to stderr.
    let mut out: Box<dyn Write> = if svg_stdout {
        Box::new(std::io::stderr().lock())
    } else {
        Box::new(std::io::stdout().lock())
    };
    writeln!(out, "{}", compare::render(&groups, baseline))?;
    if args.reference {
        writeln!(out, "{}", compare::render_reference(&groups))?;
    }
    drop(out);
    if let Some(path) = &args.svg {
        let svg = chart::draw(&groups)?;
        files::replace_file(path, svg.as_bytes())?;
        if !svg_stdout {
            eprintln!("hashflops: chart written to {}", path.display());
        }
    }
    Ok(exit::OK)
}
