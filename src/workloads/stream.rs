//! Suite `stream`: not built yet.

use anyhow::Result;

use super::{Ctx, SuiteOutput};

pub fn run(_ctx: &Ctx) -> Result<SuiteOutput> {
    Err(crate::usage!("suite stream is not built yet"))
}
