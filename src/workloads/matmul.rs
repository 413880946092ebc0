//! Suite `matmul`: not built yet.

use anyhow::Result;

use super::{Ctx, SuiteOutput};

pub fn run(_ctx: &Ctx) -> Result<SuiteOutput> {
    Err(crate::usage!("suite matmul is not built yet"))
}
