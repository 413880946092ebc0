//! Which epoch the suite hashes, and how much of its dataset. Rates fall
//! with the dataset's size on many cards (address translation), so the
//! epoch is part of the result: by default the last one Ethereum mined
//! where the adapter holds it, else the largest it holds, said so; epoch 0
//! on a CPU adapter, whose generation of a gigabyte takes minutes.

use super::epoch::Epoch;
use super::kernel::page_shift;
use super::pages::bound_pages;
use super::reference::{EPOCHS, MIX_BYTES};
use crate::gpu::Gpu;
use crate::units::bytes as si_bytes;
use crate::workloads::{Ctx, Scale};

/// Ethereum's last Ethash epoch: The Merge came at block 15,537,394.
pub const FINAL_EPOCH: u64 = 517;
/// Memory left beside the dataset for the light cache, the search's
/// buffers and what the driver keeps.
const HEADROOM: u64 = 256 << 20;

/// What the suite measures on this adapter at this scale.
pub struct Plan {
    pub epoch: Epoch,
    /// Why this epoch, where the user did not name it.
    pub chosen: Option<String>,
    pub rows: u32,
    /// Why only the dataset's first rows, where it is cut.
    pub cut: Option<String>,
    pub groups: u32,
    pub iterations: u32,
}

/// Why the adapter cannot hold `epoch`'s whole dataset, if it cannot.
pub fn unfit(gpu: &Gpu, epoch: Epoch) -> Option<String> {
    let bytes = epoch.dataset_bytes();
    let rows = bytes / MIX_BYTES;
    let bound = bound_pages(gpu.limits.max_storage_buffers_per_shader_stage)?;
    if let Err(e) = page_shift(rows, gpu.limits.max_storage_buffer_binding_size, bound) {
        return Some(format!("{}: {e}", epoch.label()));
    }
    let usable = gpu.desc.usable_memory()?;
    let need = bytes + epoch.cache_bytes() + HEADROOM;
    (need > usable).then(|| {
        format!(
            "{}'s dataset of {} needs {} with the cache and headroom; the adapter has {}",
            epoch.label(),
            si_bytes(bytes as f64),
            si_bytes(need as f64),
            si_bytes(usable as f64)
        )
    })
}

/// The final epoch where it fits, else the largest that does, with why.
fn default_epoch(gpu: &Gpu) -> (Epoch, Option<String>) {
    if gpu.desc.is_cpu() {
        let why = "epoch 0: a software adapter generates a gigabyte in minutes";
        return (Epoch::ethash(0), Some(why.into()));
    }
    let Some(why_not) = unfit(gpu, Epoch::ethash(FINAL_EPOCH)) else {
        let why = format!("epoch {FINAL_EPOCH}, the last Ethereum mined");
        return (Epoch::ethash(FINAL_EPOCH), Some(why));
    };
    let e = (0..FINAL_EPOCH)
        .rev()
        .map(Epoch::ethash)
        .find(|&e| unfit(gpu, e).is_none())
        .unwrap_or(Epoch::ethash(0));
    let why = format!("{}, the largest this adapter holds ({why_not})", e.label());
    (e, Some(why))
}

pub fn plan(ctx: &Ctx) -> Plan {
    let (epoch, chosen) = match ctx.sizes.ethash_epoch {
        Some(e) => (e, None),
        None => default_epoch(ctx.gpu),
    };
    let full = (epoch.dataset_bytes() / MIX_BYTES) as u32;
    let cpu = ctx.gpu.desc.is_cpu();
    // lavapipe generates about 50,000 items a second: a whole dataset
    // takes over five minutes, so only --full generates it there.
    let rows = match (ctx.scale, cpu) {
        (Scale::Quick, _) => 1 << 14,
        (Scale::Default, true) => 1 << 19,
        _ => full,
    };
    let cut = (rows < full).then(|| {
        format!(
            "dataset cut to its first {} MiB of {}'s {} MiB",
            (rows as u64 * MIX_BYTES) >> 20,
            epoch.label(),
            epoch.dataset_bytes() >> 20
        )
    });
    let (groups, iterations) = if cpu { (64, 1) } else { (4096, 4) };
    Plan {
        epoch,
        chosen,
        rows,
        cut,
        groups,
        iterations,
    }
}

/// `--epoch N`: an Ethereum epoch the size tables cover.
pub fn parse_epoch(s: &str) -> Result<Epoch, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n < EPOCHS => Ok(Epoch::ethash(n)),
        _ => Err(format!(
            "{:?} is not an Ethash epoch: give a whole number from 0 to {} (the last Ethereum mined is {FINAL_EPOCH})",
            crate::cli::typed(s),
            EPOCHS - 1
        )),
    }
}

/// `--block N`: the epoch of an Ethereum block.
pub fn parse_block(s: &str) -> Result<Epoch, String> {
    let Ok(block) = s.trim().parse::<u64>() else {
        return Err(format!(
            "{:?} is not a block number: give a whole number, e.g. 15537393",
            crate::cli::typed(s)
        ));
    };
    Epoch::of_block(super::epoch::Chain::Ethash, block)
}
