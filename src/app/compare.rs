//! `hashflops compare`: results files side by side.

use anyhow::Result;

use crate::cli::CompareArgs;
use crate::error::exit;
use crate::usage;

pub fn compare(args: CompareArgs) -> Result<i32> {
    use crate::report::{chart, compare};
    let rows = compare::load(&args.files)?;
    let groups = compare::group(&rows);
    let baseline = match &args.baseline {
        Some(sel) => Some(compare::find_baseline(&groups, sel)?),
        None => None,
    };
    println!("{}", compare::render(&groups, baseline));
    if args.reference {
        println!("{}", compare::render_reference(&groups));
    }
    if let Some(path) = &args.svg {
        chart::draw(&groups, path).map_err(|e| usage!("cannot write {}: {e:#}", path.display()))?;
        eprintln!("hashflops: chart written to {}", path.display());
    }
    Ok(exit::OK)
}
